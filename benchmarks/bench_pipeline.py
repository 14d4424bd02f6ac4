"""Report builds: `ballotbook build --force` of the default set against the plain papermill + nbconvert chain
(one CLI call each per report, the way such reports are usually scripted), a no-op rebuild against a full one,
HTML bytes per report, and peak memory of a build."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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


def plain_chain(jobs, out: Path) -> float:
    import yaml

    start = time.perf_counter()
    for job in jobs:
        nb_out = out / f"{job.name}.ipynb"
        params = yaml.safe_dump(job.parameters) if job.parameters else "{}"
        subprocess.run([str(BIN / "papermill"), str(job.notebook_path), str(nb_out), "-y", params, "--cwd",
                        str(ROOT), "-k", "python3", "--no-progress-bar"], check=True, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb_out)],
                       check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> dict:
    from helpers import reports

    jobs = reports.load_config(ROOT / "reports.yml")
    n = len(jobs)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "plain").mkdir()
        plain = plain_chain(jobs, tmp / "plain")
        cmd = [str(BIN / "ballotbook"), "build", "--force", "--out", str(tmp / "ours")]
        full, peak, proc = timed(cmd, cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"build failed: {proc.stderr}")
        noop, _, _ = timed(cmd[:2] + cmd[3:], cwd=ROOT)
        sizes = {p.stem: p.stat().st_size for p in (tmp / "ours").glob("*.html") if p.name != "index.html"}
    figures = {
        "reports in the default set": n,
        "plain chain, s per report (papermill CLI + nbconvert CLI, sequential)": plain / n,
        "ballotbook build --force, s per report (default --jobs)": full / n,
        "speed-up per report (plain / ballotbook)": plain / full,
        "no-op rebuild, s": noop,
        "no-op rebuild as a fraction of a full build": noop / full,
        "peak memory of a build, MiB (all processes)": peak / 1024,
        "largest report, KB": max(sizes.values()) / 1000,
        "smallest report, KB": min(sizes.values()) / 1000,
    }
    for name, size in sorted(sizes.items()):
        figures[f"HTML bytes: {name}"] = size
    for k, v in figures.items():
        print(f"  {k}: {v:,.3f}" if isinstance(v, float) else f"  {k}: {v:,}")
    return figures


if __name__ == "__main__":
    main()
