"""Benchmark: the timeline report of 10,000 events, end to end with `ballotbook run`: time, peak memory, HTML bytes.

Run ``python benchmarks/bench_scale_timeline.py``. It writes a seeded events file of 10,000 events (30 actors, seven
kinds, 2000-2023, one in ten dated only to the year and one in seven only to the month, a source each) to a
temporary folder, runs ``ballotbook run notebooks/04_timeline.ipynb -p events FILE -o OUT.html`` once with the
report's default parameters (its closer look at 2007-2008 included), and prints:

- wall time of the command (kernel start, the notebook, the HTML);
- peak resident memory of the command and every process it started (the kernel included), sampled every 50 ms
  (:func:`bench_pipeline.timed`);
- the HTML page's size in bytes, and how many charts it holds.

The issue's budget: under 30 s, under 1.5 MB of HTML, peak memory under 1 GB.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import BIN, ROOT, timed  # noqa: E402

EVENTS = 10_000
BUDGET = {"wall_s": 30.0, "peak_mb": 1024.0, "html_bytes": 1_500_000}


def write_events(path: Path, n: int = EVENTS, seed: int = 0) -> Path:
    """A seeded events file of `n` events in the events format (:mod:`helpers.data.events`)."""
    rng = random.Random(seed)
    actors = [f"Actor {i:02d}" for i in range(30)]
    weights = [1 / (i + 1) for i in range(len(actors))]
    kinds = ["election", "primary", "cabinet", "party", "court", "poll", "scandal"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["date", "date_precision", "date_note", "actors", "category", "label", "description",
                      "source"])
        for i in range(n):
            year, month, day = rng.randint(2000, 2023), rng.randint(1, 12), rng.randint(1, 28)
            r = rng.random()
            date, precision = ((f"{year}", "year") if r < 0.1 else (f"{year}-{month:02d}", "month") if r < 0.24
                               else (f"{year}-{month:02d}-{day:02d}", "day"))
            names = list(dict.fromkeys(rng.choices(actors, weights, k=rng.choice([1, 1, 2, 3]))))
            out.writerow([date, precision, "approximate" if rng.random() < 0.03 else "", "; ".join(names),
                          rng.choice(kinds), f"Event {i}", f"Something numbered {i} happened.",
                          f"https://example.org/events/{i}"])
    return path


def main(events: int = EVENTS) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        source = write_events(Path(tmp) / "events.csv", events)
        out = Path(tmp) / "timeline.html"
        wall, peak_kb, proc = timed([str(BIN / "ballotbook"), "run", "notebooks/04_timeline.ipynb", "-p", "events",
                                     str(source), "-o", str(out)], cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"ballotbook run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        page = out.read_bytes()
    result = {
        "events": events,
        "wall_s": round(wall, 2),
        "peak_mb": round(peak_kb / 1024, 1),
        "html_bytes": len(page),
        "charts": page.count(b"<figure"),
    }
    print(f"timeline report of {events:,} events, `ballotbook run` end to end:")
    print(f"  wall time:                 {result['wall_s']:.1f} s (budget {BUDGET['wall_s']:.0f} s)")
    print(f"  peak memory (process tree): {result['peak_mb']:.0f} MB (budget {BUDGET['peak_mb']:.0f} MB)")
    print(f"  HTML:                      {result['html_bytes']:,} bytes (budget {BUDGET['html_bytes']:,}), "
          f"{result['charts']} charts")
    return result


if __name__ == "__main__":
    main()
