"""Polls at scale: the thresholds report on 100x the 2022 Knesset polls against 1x; poll of polls, 5,000 polls vs 50.

Run ``python benchmarks/bench_scale_polls.py``. It writes a polls file holding 100 copies of every poll of
``data/polls/knesset-2022.csv`` (4,900 polls, 63,700 rows; each copy with its own poll ids and its own pollster,
"Camil Fuchs 17", dated 0-3 days earlier within the file's range) and measures:

- the whole ``ballotbook run notebooks/01_poll_thresholds.ipynb -p polls FILE`` (kernel start included) at 1x
  and 100x: median wall seconds of 3 runs each, run alternately, the ratio, the peak resident memory of the
  command and every process it started, and the size of the page;
- ``helpers.models.polls.poll_of_polls`` in-process on the first 50 and the first 5,000 polls of repeated
  copies of the 2022 polls (best of 5), and the ratio.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))
from test_many_polls_page import write_copies  # noqa: E402 - the tests' copier, one copy

POLLS = ROOT / "data" / "polls" / "knesset-2022.csv"
NOTEBOOK = ROOT / "notebooks" / "01_poll_thresholds.ipynb"
COPIES = 100
RUNS = 3


def _timed():
    """`timed` of bench_pipeline.py (wall seconds and peak memory of a process tree)."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", Path(__file__).with_name("bench_pipeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.timed


def report_runs(files: dict[str, Path], out: Path) -> dict[str, tuple[float, int]]:
    """Each file's thresholds report with `ballotbook run`, RUNS times, alternating: (median s, peak KiB)."""
    timed = _timed()
    walls: dict[str, list[float]] = {k: [] for k in files}
    peaks: dict[str, int] = dict.fromkeys(files, 0)
    for i in range(RUNS):
        for name, path in files.items():
            wall, peak, proc = timed([str(BIN / "ballotbook"), "run", str(NOTEBOOK), "-p", "polls", str(path),
                                      "-o", str(out / f"{name}-{i}.html")], cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(f"ballotbook run failed on {path}: {proc.stderr[-2000:]}")
            walls[name].append(wall)
            peaks[name] = max(peaks[name], peak)
    return {k: (statistics.median(walls[k]), peaks[k]) for k in files}


def poll_of_polls_times(sizes=(50, 5000), repeat: int = 5) -> dict[int, float]:
    """Best-of-`repeat` seconds of poll_of_polls on the first n polls of repeated copies of the 2022 polls."""
    import pandas as pd

    from helpers.data.polls import load_polls
    from helpers.models import polls

    one = load_polls(str(POLLS))
    per_copy = one["poll_id"].nunique()
    k = -(-max(sizes) // per_copy)
    table = pd.concat([one.assign(poll_id=one["poll_id"] + f"-{c}", pollster=one["pollster"] + f" {c}")
                       for c in range(k)], ignore_index=True)
    order = pd.unique(table["poll_id"])
    out = {}
    for n in sizes:
        part = table[table["poll_id"].isin(order[:n])]
        polls.poll_of_polls(part, threshold=3.25)  # warm
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            polls.poll_of_polls(part, threshold=3.25)
            best = min(best, time.perf_counter() - start)
        out[n] = best
    return out


def main() -> dict:
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / f"knesset-2022-x{COPIES}.csv"
        n_big = write_copies(POLLS, big, COPIES)
        runs = report_runs({"1x": POLLS, f"{COPIES}x": big}, tmp)
        page_kb = {name: (tmp / f"{name}-0.html").stat().st_size / 1000 for name in ("1x", f"{COPIES}x")}
    one, many = runs["1x"], runs[f"{COPIES}x"]
    figures[f"polls at 1x / {COPIES}x"] = f"{n_big // COPIES:,} / {n_big:,}"
    figures["thresholds report at 1x, s (ballotbook run, median of 3)"] = one[0]
    figures[f"thresholds report at {COPIES}x, s (ballotbook run, median of 3)"] = many[0]
    figures[f"report time ratio, {COPIES}x / 1x (target: under 2)"] = many[0] / one[0]
    figures["peak memory at 1x, MiB (ballotbook run and its kernel)"] = one[1] / 1024
    figures[f"peak memory at {COPIES}x, MiB (ballotbook run and its kernel)"] = many[1] / 1024
    figures[f"page at 1x / {COPIES}x, KB (limit: 250)"] = f"{page_kb['1x']:.1f} / {page_kb[f'{COPIES}x']:.1f}"
    pop = poll_of_polls_times()
    figures["poll_of_polls, 50 polls, ms (best of 5)"] = pop[50] * 1000
    figures["poll_of_polls, 5,000 polls, ms (best of 5)"] = pop[5000] * 1000
    figures["poll_of_polls time ratio, 5,000 / 50 polls"] = pop[5000] / pop[50]
    for key, value in figures.items():
        print(f"  {key}: {value:,.3f}" if isinstance(value, float) else f"  {key}: {value}")
    return figures


if __name__ == "__main__":
    main()
