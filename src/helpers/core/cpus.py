"""How many CPUs this process may really use: the default of ``ballotbook build --jobs`` and of a local dask
cluster's workers.

``os.cpu_count()`` counts the machine's CPUs, not this process's share: a container limited to 2 CPUs on a
64-CPU node would start 64 workers and 64 kernels, which then fight over 2 CPUs (and their memory). The share is
the smallest of

- the CPUs the process may be scheduled on (``os.sched_getaffinity``: ``taskset``, ``docker --cpuset-cpus``);
- its cgroup's CPU quota, rounded up: cgroup v2 ``cpu.max`` (``"200000 100000"`` is 2 CPUs, ``"max 100000"``
  no limit), cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (a quota of -1 is no limit), read for the
  process's own cgroup (``/proc/self/cgroup``) and each cgroup above it, as the kernel applies them all
  (``docker --cpus``, a Kubernetes CPU limit, systemd's ``CPUQuota``);

and never below 1. Standard library only.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = "/sys/fs/cgroup"
SELF_CGROUP = "/proc/self/cgroup"


def usable_cpus(cgroup_root: str | os.PathLike = CGROUP_ROOT, self_cgroup: str | os.PathLike = SELF_CGROUP) -> int:
    """The CPUs this process may use: its CPU affinity, capped by its cgroup's quota (:func:`cgroup_cpu_limit`),
    at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cgroup_root, self_cgroup)
    if limit is not None:
        count = min(count, limit)
    return max(1, count)


def cgroup_cpu_limit(cgroup_root: str | os.PathLike = CGROUP_ROOT,
                     self_cgroup: str | os.PathLike = SELF_CGROUP) -> int | None:
    """The CPU quota of this process's cgroups in whole CPUs (rounded up), the tightest of its own cgroup and
    every one above it, cgroup v2 or v1; None when there is none (or no cgroup file can be read).

    `cgroup_root` is where the cgroup file system is mounted and `self_cgroup` the process's cgroup membership
    file (``/proc/self/cgroup``)."""
    root = Path(cgroup_root)
    memberships = _memberships(Path(self_cgroup))
    limits = []
    # cgroup v2: one hierarchy ("0::/path"), cpu.max in each folder
    for folder in _folders(root, memberships.get("", "/")):
        limits.append(_v2_limit(folder / "cpu.max"))
    # cgroup v1: the cpu controller's own hierarchy, mounted as cpu,cpuacct (or cpu)
    for name in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
        if (root / name).is_dir():
            path = next((p for c, p in memberships.items() if "cpu" in c.split(",")), "/")
            for folder in _folders(root / name, path):
                limits.append(_v1_limit(folder / "cpu.cfs_quota_us", folder / "cpu.cfs_period_us"))
            break
    found = [n for n in limits if n is not None]
    return min(found) if found else None


def _memberships(self_cgroup: Path) -> dict[str, str]:
    """``/proc/self/cgroup``: controllers ("" for cgroup v2) -> the process's cgroup path."""
    out: dict[str, str] = {}
    try:
        text = self_cgroup.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            out[parts[1]] = parts[2].strip() or "/"
    return out


def _folders(mount: Path, path: str) -> list[Path]:
    """The cgroup folders of `path` under `mount` that exist, from the process's own up to the mount. In a
    container the mount is often the container's own cgroup while `path` names it from the host's side; then
    only the mount itself is found."""
    folders = []
    parts = [p for p in path.split("/") if p and p not in (".", "..")]
    while parts:
        folder = mount.joinpath(*parts)
        if folder.is_dir():
            folders.append(folder)
        parts.pop()
    folders.append(mount)
    return folders


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _cpus(quota: int, period: int) -> int | None:
    return math.ceil(quota / period) if quota > 0 and period > 0 else None


def _v2_limit(cpu_max: Path) -> int | None:
    """``cpu.max``: ``"<quota> <period>"`` in microseconds, or ``"max <period>"`` (no limit)."""
    text = _read(cpu_max)
    fields = text.split() if text else []
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        return _cpus(int(fields[0]), int(fields[1]))
    except ValueError:
        return None


def _v1_limit(quota_file: Path, period_file: Path) -> int | None:
    """``cpu.cfs_quota_us`` (-1: no limit) over ``cpu.cfs_period_us``."""
    quota, period = _read(quota_file), _read(period_file)
    try:
        return _cpus(int(quota), int(period)) if quota and period else None
    except ValueError:
        return None
