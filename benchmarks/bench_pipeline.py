"""Report builds of the default set, locally and on a local dask cluster; a no-op rebuild; memory; bytes per page.

`ballotbook build --force` locally and on a local dask cluster (``PAIRS`` alternating pairs: the median of each,
and the median of the pairs' ratios, which a slower or faster spell of the machine moves less than the ratio of
the medians), a no-op rebuild against a full one, HTML bytes per report, and peak memory of a build. (The peers a
user would pick instead, and the floor, are bench_build's.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: Alternating pairs of a local and a dask build.
PAIRS = 5


def _descendant_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (kernels included), in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def timed(cmd: list[str], **kw) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time, peak resident memory of the process tree (KiB), and the result."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _descendant_rss_kb(proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    return elapsed, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def ours(config: Path, out: Path, executor: str = "local") -> tuple[float, int, dict]:
    """`ballotbook build --force --jobs 2` of a batch file: wall seconds, peak memory (KiB), manifests."""
    import json

    wall, peak, proc = timed([str(BIN / "ballotbook"), "build", "--force", "--jobs", "2", "--executor", executor,
                              "--config", str(config), "--out", str(out)], cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {proc.stderr}")
    manifests = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return wall, peak, manifests


def main() -> dict:
    from statistics import median

    from helpers.pipeline.config import load_config

    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # (a) The default set of reports.yml, built locally and on a local dask cluster of as many workers,
        # alternating (the peers and the floor are bench_build's).
        n = len(load_config(ROOT / "reports.yml"))
        local_walls, dask_walls, peak, manifests = [], [], 0, {}
        for r in range(PAIRS):
            for executor in (("local", "dask") if r % 2 == 0 else ("dask", "local")):
                out = tmp / f"{executor}-{r}"
                wall, used, got = ours(ROOT / "reports.yml", out, executor)
                (local_walls if executor == "local" else dask_walls).append(wall)
                if executor == "local":
                    peak, manifests = max(peak, used), got
                print(f"  pair {r + 1}: {executor}: {wall:.2f} s", flush=True)
        full = median(local_walls)
        ratios = [d / lo for d, lo in zip(dask_walls, local_walls, strict=True)]
        figures["reports in the default set"] = n
        figures[f"ballotbook build --force --jobs 2, s (median of {PAIRS})"] = full
        figures[f"ballotbook build --force --jobs 2 --executor dask, s (median of {PAIRS})"] = median(dask_walls)
        figures[f"dask / local (median of the {PAIRS} pairs' ratios)"] = median(ratios)
        figures["dask / local (ratio of the medians)"] = median(dask_walls) / full
        figures["dask / local, each pair"] = ", ".join(f"{x:.3f}" for x in ratios)
        shutil.copytree(tmp / "local-0", tmp / "ours")
        # (b) A no-op rebuild (nothing changed) against the full one: the median of 5 (one is noise).
        noops = []
        for _ in range(10):  # a run that rebuilt something (the kit edited meanwhile) is not counted
            wall, _, proc = timed([str(BIN / "ballotbook"), "build", "--out", str(tmp / "ours")], cwd=ROOT)
            if proc.returncode == 0 and "ok (" not in proc.stderr:
                noops.append(wall)
            if len(noops) == 5:
                break
        else:
            raise SystemExit(f"only {len(noops)} of 10 rebuilds were no-ops; the last said:\n{proc.stderr}")
        noop = median(noops)
        figures["no-op rebuild, s (median of 5)"] = noop
        figures["no-op rebuild as a fraction of a full build"] = noop / full
        # (e) HTML bytes, (f) peak memory.
        sizes = {name: m["html_bytes"] for name, m in manifests.items() if "html_bytes" in m}
        figures["peak memory of a build, MiB (the build and every process it started)"] = peak / 1024
        figures["largest report, KB"] = max(sizes.values()) / 1000
        for name, size in sorted(sizes.items()):
            figures[f"HTML bytes: {name}"] = size
    for key, value in figures.items():
        print(f"  {key}: {value:,.3f}" if isinstance(value, float) else
              f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")
    return figures


if __name__ == "__main__":
    main()
