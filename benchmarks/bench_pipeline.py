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


def plain_chain(jobs, out: Path) -> dict[str, float]:
    """Each report the usual scripted way: `papermill NB OUT.ipynb -y PARAMS`, then `jupyter nbconvert --to html
    --no-input OUT.ipynb`. Seconds per report."""
    import yaml

    times = {}
    for job in jobs:
        start = time.perf_counter()
        nb_out = out / f"{job.name}.ipynb"
        params = yaml.safe_dump(job.parameters) if job.parameters else "{}"
        subprocess.run([str(BIN / "papermill"), str(job.notebook_path), str(nb_out), "-y", params, "--cwd",
                        str(ROOT), "-k", "python3", "--no-progress-bar"], check=True, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb_out)],
                       check=True, capture_output=True)
        times[job.name] = time.perf_counter() - start
    return times


def ours(config: Path, out: Path) -> tuple[float, int, dict]:
    """`ballotbook build --force` of a batch file: wall seconds, peak memory (KiB), manifests."""
    import json

    wall, peak, proc = timed([str(BIN / "ballotbook"), "build", "--force", "--config", str(config), "--out",
                              str(out)], cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {proc.stderr}")
    manifests = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return wall, peak, manifests


COPIES = 4  # reports per notebook in the per-notebook comparison


def main() -> dict:
    from helpers.pipeline.config import load_config

    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # (a) The default set of reports.yml: the plain chain, one report at a time, against one build.
        default_set = load_config(ROOT / "reports.yml")
        (tmp / "plain").mkdir()
        plain = plain_chain(default_set, tmp / "plain")
        full, peak, manifests = ours(ROOT / "reports.yml", tmp / "ours")
        n = len(default_set)
        figures["reports in the default set"] = n
        figures["plain chain, s per report (papermill CLI then nbconvert CLI, one report at a time)"] = \
            sum(plain.values()) / n
        figures["ballotbook build --force, s per report (default --jobs)"] = full / n
        figures["speed-up per report, default set (plain / ballotbook)"] = sum(plain.values()) / full
        # Each notebook at its defaults: the plain chain on it against a build of COPIES reports of it.
        for nb in sorted({j.notebook for j in default_set}):
            stem = Path(nb).stem
            config = tmp / f"{stem}.yml"
            config.write_text("reports:\n" + "".join(
                f"  - {{name: {stem}-{i}, notebook: {nb}}}\n" for i in range(COPIES)))
            job = load_config(config)[0]
            (tmp / f"plain-{stem}").mkdir()
            plain_one = plain_chain([job], tmp / f"plain-{stem}")[job.name]
            wall, _, _ = ours(config, tmp / f"ours-{stem}")
            figures[f"{nb} at its defaults: plain chain, s per report"] = plain_one
            figures[f"{nb} at its defaults: ballotbook, s per report ({COPIES} reports in one build)"] = \
                wall / COPIES
            figures[f"{nb} at its defaults: speed-up per report"] = plain_one / (wall / COPIES)
        # (b) A no-op rebuild (nothing changed) against the full one: the median of 5 (one is noise).
        from statistics import median

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
        print(f"  {key}: {value:,.3f}" if isinstance(value, float) else f"  {key}: {value:,}")
    return figures


if __name__ == "__main__":
    main()
