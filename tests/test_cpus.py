"""The CPUs a build may use (helpers.core.cpus): the cgroup files are read as the kernel writes them, from a
folder laid out like /sys/fs/cgroup, and /proc/self/cgroup's format."""

from __future__ import annotations

import os

import pytest

from helpers.core.cpus import cgroup_cpu_limit, usable_cpus


def cgroups(tmp_path, membership: str, files: dict[str, str]):
    """A cgroup mount at tmp_path/cgroup holding `files` (path -> text), and a /proc/self/cgroup file."""
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text(membership, encoding="utf-8")
    return root, self_cgroup


V1 = "12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n0::/\n"


@pytest.mark.parametrize("membership, files, expected", [
    ("0::/\n", {"cpu.max": "200000 100000\n"}, 2),                       # docker --cpus 2 (cgroup v2)
    ("0::/\n", {"cpu.max": "150000 100000\n"}, 2),                       # 1.5 CPUs: rounded up
    ("0::/\n", {"cpu.max": "50000 100000\n"}, 1),                        # half a CPU: still 1
    ("0::/\n", {"cpu.max": "max 100000\n"}, None),                       # no limit
    ("0::/kubepods/pod1/c1\n", {"cpu.max": "max 100000\n", "kubepods/pod1/cpu.max": "300000 100000\n",
                                "kubepods/pod1/c1/cpu.max": "max 100000\n"}, 3),  # a parent's limit applies
    ("0::/a/b\n", {"cpu.max": "400000 100000\n", "a/cpu.max": "800000 100000\n",
                   "a/b/cpu.max": "600000 100000\n"}, 4),                 # the tightest of them
    ("0::/host/side/path\n", {"cpu.max": "100000 100000\n"}, 1),       # in a container: only the mount exists
    (V1, {"cpu,cpuacct/cpu.cfs_quota_us": "250000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 3),
    (V1, {"cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, None),
    ("1:cpu:/\n2:cpuacct:/\n", {"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "50000\n"}, 2),
    ("0::/\n", {"cpu.max": "garbage\n"}, None),                          # unreadable: no limit claimed
    ("0::/\n", {}, None),                                                # no cgroup files at all
])
def test_the_cgroup_quota_in_whole_cpus(tmp_path, membership, files, expected):
    root, self_cgroup = cgroups(tmp_path, membership, files)
    assert cgroup_cpu_limit(root, self_cgroup) == expected


def test_usable_cpus_is_the_affinity_capped_by_the_quota_and_at_least_one(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    root, self_cgroup = cgroups(tmp_path, "0::/\n", {"cpu.max": "100000 100000\n"})
    assert usable_cpus(root, self_cgroup) == 1
    none_root, none_self = cgroups(tmp_path / "none", "0::/\n", {"cpu.max": "max 100000\n"})
    assert usable_cpus(none_root, none_self) == affinity
    big_root, big_self = cgroups(tmp_path / "big", "0::/\n", {"cpu.max": f"{(affinity + 8) * 100000} 100000\n"})
    assert usable_cpus(big_root, big_self) == affinity  # a quota above the CPUs it may run on does not add any


def test_build_jobs_help_names_the_default(cli):
    proc = cli("build", "--help")
    assert proc.returncode == 0
    assert f"default: the CPUs this process may use ({usable_cpus()} here" in " ".join(proc.stdout.split())
