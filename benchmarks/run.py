"""`make bench`: run every benchmarks/bench_*.py (each has main() -> dict of figures), print the figures, and
write benchmarks/RESULTS.md with the machine they were measured on.

Figures are ratios against baselines measured in the same run, on the same machine, so they travel; absolute
times are printed too, for the record."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs{mem}; Python {platform.python_version()} on {platform.system()}"


def main(only: list[str] | None = None) -> int:
    sections = []
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {path.stem}", flush=True)
        figures = module.main()
        sections.append((path.stem, module.__doc__.strip().splitlines()[0] if module.__doc__ else "", figures))
    lines = ["# Benchmark results", "", f"Measured {dt.date.today().isoformat()} by `make bench` on: {machine()}.",
             "Ratios compare runs made side by side in the same process; rerun `make bench` to refresh.", ""]
    for name, doc, figures in sections:
        lines += [f"## {name}", "", doc, "", "| figure | value |", "|---|---|"]
        for k, v in figures.items():
            lines.append(f"| {k} | {v:,.4g} |" if isinstance(v, float) else f"| {k} | {v} |")
        lines.append("")
    if not only:
        (HERE / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
