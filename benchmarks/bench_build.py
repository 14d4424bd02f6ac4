"""Report builds against the peers a user would pick, and against the floor: the five notebooks at their defaults.

Contenders, each building the same five reports (notebooks 01-05 at their defaults) from scratch into its own
folder, on the same two workers where it can use two:

- **ballotbook**: ``ballotbook build --force --jobs 2``.
- **in-process pool**: the ~30-line script a competent user would write instead (``PEER`` below): a
  ``ProcessPoolExecutor`` of 2 workers, each report run with papermill's API in a fresh kernel and rendered with
  nbconvert's ``HTMLExporter`` (code hidden).
- **CLI chain, serial** and **CLI chain, two at a time**: ``papermill NB OUT.ipynb -y PARAMS`` then
  ``jupyter nbconvert --to html --no-input OUT.ipynb`` per report.

The kit starts reports longest first from its record of earlier builds (``.ballotbook-cache/durations.json``,
as it does for a user who rebuilds; the first round of a fresh checkout has no record and starts them in the
batch's order). The peers start them in the batch's order, as their scripts would.

Every contender gets the same import fix the kit has (``sys.modules["rfc3987_syntax"] = None``: jsonschema would
otherwise build a grammar at import, about 1.5 s a process), so the comparison is of the work, not of that.
A warm-up build by the kit and by the pool comes first and is not counted. Rounds alternate the contenders'
order; each figure is the median of ``ROUNDS`` rounds; the 1-minute load average
is recorded before each run. CPU seconds are those of the contender's whole process tree (``RUSAGE_CHILDREN``:
every process it started and waited for, kernels included).

The floor is the notebooks' own work, measured once a round: each notebook in a fresh kernel that has made the
notebook's imports first (not counted: a kernel's start and imports are what a runner can avoid), its cells'
durations as papermill records them, two notebooks at a time as the builds run them (and, as a second figure,
one at a time with nothing competing), plus rendering each executed notebook to the kit's page, timed in this
process after a warm-up.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
NOTEBOOKS = ["notebooks/01_poll_thresholds.ipynb", "notebooks/02_coalition_scenarios.ipynb",
             "notebooks/03_leadership_race.ipynb", "notebooks/04_timeline.ipynb", "notebooks/05_backtest.ipynb"]
FIX = "import sys; sys.modules['rfc3987_syntax'] = None; "

#: The in-process pool peer, as a user would write it (plus the import fix).
PEER = '''
import sys; sys.modules["rfc3987_syntax"] = None
import json, os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def one(notebook, out, root):
    import papermill as pm
    from nbconvert import HTMLExporter
    name = Path(notebook).stem
    nb = pm.execute_notebook(os.path.join(root, notebook), os.path.join(out, name + ".ipynb"), parameters={},
                             kernel_name="python3", cwd=root, progress_bar=False)
    html, _ = HTMLExporter(exclude_input=True).from_notebook_node(nb)
    Path(out, name + ".html").write_text(html, encoding="utf-8")
    return name

if __name__ == "__main__":
    notebooks, out, root = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    with ProcessPoolExecutor(2) as pool:
        for name in pool.map(one, notebooks, [out] * len(notebooks), [root] * len(notebooks)):
            print(name, flush=True)
'''


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(commands: list[list[str]], parallel: int = 1) -> tuple[float, float]:
    """Run `commands` (each a list of argv lists run in order), `parallel` at a time: (wall s, CPU s)."""
    cpu, start = _children_cpu(), time.perf_counter()

    def chain(argvs):
        for argv in argvs:
            proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"{argv[:4]} failed: {proc.stderr[-2000:]}")

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(chain, commands))
    return time.perf_counter() - start, _children_cpu() - cpu


def kit(out: Path, config: Path) -> tuple[float, float]:
    return _run([[[str(Path(PYTHON).with_name("ballotbook")), "build", "--force", "--jobs", "2", "--config",
                   str(config), "--out", str(out)]]])


def pool_peer(out: Path, script: Path) -> tuple[float, float]:
    return _run([[[PYTHON, str(script), json.dumps(NOTEBOOKS), str(out), str(ROOT)]]])


def _chain_commands(out: Path) -> list[list[list[str]]]:
    commands = []
    for nb in NOTEBOOKS:
        executed = str(out / f"{Path(nb).stem}.ipynb")
        commands.append([
            [PYTHON, "-c", FIX + "from papermill.cli import papermill; sys.argv[0] = 'papermill'; papermill()",
             str(ROOT / nb), executed, "-k", "python3", "--cwd", str(ROOT), "--no-progress-bar"],
            [PYTHON, "-c", FIX + "from nbconvert.nbconvertapp import main; sys.argv[0] = 'jupyter-nbconvert'; main()",
             "--to", "html", "--no-input", executed],
        ])
    return commands


def chain_serial(out: Path) -> tuple[float, float]:
    return _run(_chain_commands(out), parallel=1)


def chain_parallel(out: Path) -> tuple[float, float]:
    return _run(_chain_commands(out), parallel=2)


def _imports_first(nb) -> None:
    """Put the notebook's own imports (every top-level ``import`` and ``from ... import`` of its code cells) in
    a first cell, tagged ``bench-imports``: run, but not counted in the floor."""
    import ast

    import nbformat

    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    first = nbformat.v4.new_code_cell("\n".join(dict.fromkeys(lines)))
    first.metadata["tags"] = ["bench-imports"]
    nb.cells.insert(0, first)


def _cells_of(notebook: str) -> tuple[float, str]:
    """Run `notebook` in a fresh kernel that has made the notebook's imports first, in a cell not counted:
    (seconds of its own cells, as papermill records them; the executed notebook without that cell, as JSON)."""
    import nbformat
    import papermill as pm

    from helpers.pipeline.kernels import kernel_manager_class

    nb = nbformat.read(str(ROOT / notebook), as_version=4)
    _imports_first(nb)
    nb = pm.execute_notebook(nb, None, kernel_name="python3", cwd=str(ROOT), progress_bar=False,
                             kernel_manager_class=kernel_manager_class())  # the kit's: Unix sockets, quiet
    own = [c for c in nb.cells if "bench-imports" not in c.metadata.get("tags", [])]
    nb.cells = own
    return sum(float((c.metadata.get("papermill") or {}).get("duration") or 0.0) for c in own), nbformat.writes(nb)


def floor() -> tuple[float, float, float]:
    """(cell seconds two at a time, cell seconds alone, render seconds): the notebooks' own work. Starting a
    kernel and importing are the overhead a runner can avoid, not the notebook's work, so each notebook runs in
    a fresh kernel that has made its imports first (:func:`_cells_of`). The floor's cell work is measured as
    the builds run them, two at a time on the two workers (two notebooks computing at once on two cores each
    run a little slower than alone); the same notebooks one at a time, with nothing competing, give the second
    figure. Render seconds: the kit's rendering of each executed notebook to its page, timed here (best of 3,
    after a warm-up)."""
    import nbformat

    from helpers.pipeline.render import render_html

    with ThreadPoolExecutor(2) as pool:
        paired = list(pool.map(_cells_of, NOTEBOOKS))
    alone = [_cells_of(notebook)[0] for notebook in NOTEBOOKS]
    render = 0.0
    for notebook, (_, text) in zip(NOTEBOOKS, paired, strict=True):
        meta = {"title": Path(notebook).stem, "as_of": None, "parameters": {}, "seed": None, "sources": [],
                "built": "", "version": "", "commit": "", "notebook": Path(notebook).name, "inputs": []}
        render_html(nbformat.reads(text, as_version=4), meta)  # warm-up
        best = float("inf")
        for _ in range(3):
            copy = nbformat.reads(text, as_version=4)
            t = time.perf_counter()
            render_html(copy, meta)
            best = min(best, time.perf_counter() - t)
        render += best
    return sum(cells for cells, _ in paired), sum(alone), render


def main() -> dict:
    figures: dict = {}
    runs: dict[str, list[tuple[float, float, float]]] = {"ballotbook": [], "in-process pool": [],
                                                         "CLI chain, serial": [], "CLI chain, two at a time": []}
    floors = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = tmp / "five.yml"
        config.write_text("reports:\n" + "".join(f"  - {{name: {Path(nb).stem}, notebook: {nb}}}\n"
                                                 for nb in NOTEBOOKS), encoding="utf-8")
        script = tmp / "peer.py"
        script.write_text(PEER, encoding="utf-8")
        contenders = [("ballotbook", lambda out: kit(out, config)),
                      ("in-process pool", lambda out: pool_peer(out, script)),
                      ("CLI chain, serial", chain_serial),
                      ("CLI chain, two at a time", chain_parallel)]
        # A warm-up, not counted: the kit and the pool once each. The first build after another benchmark ran
        # slow for both (in CPU seconds too: 19 and 22 against 14 and 19 in the rounds after it).
        for name, fn in contenders[:2]:
            out = tmp / f"warm-up-{name.replace(' ', '_')}"
            out.mkdir()
            wall, cpu = fn(out)
            print(f"  warm-up: {name}: {wall:.2f} s wall, {cpu:.2f} CPU s (not counted)", flush=True)
        for r in range(ROUNDS):
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            if r % 2:
                order.reverse()
            for name, fn in order:
                out = tmp / f"{r}-{name.replace(' ', '_').replace(',', '')}"
                out.mkdir()
                load = os.getloadavg()[0]
                wall, cpu = fn(out)
                runs[name].append((wall, cpu, load))
                print(f"  round {r + 1}: {name}: {wall:.2f} s wall, {cpu:.2f} CPU s (load {load:.2f})", flush=True)
            floors.append(floor())
            print(f"  round {r + 1}: floor: {floors[-1][0]:.2f} s of cells two at a time ({floors[-1][1]:.2f} s "
                  f"alone), {floors[-1][2]:.2f} s of rendering", flush=True)
    med = {name: (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v))
           for name, v in runs.items()}
    cells = statistics.median(c for c, _, _ in floors)
    alone = statistics.median(a for _, a, _ in floors)
    render = statistics.median(r for _, _, r in floors)
    floor_s = cells + render
    kit_wall, kit_cpu = med["ballotbook"]
    figures["reports"] = len(NOTEBOOKS)
    figures["rounds (median of)"] = ROUNDS
    for name, (wall, cpu) in med.items():
        figures[f"{name}: wall s"] = wall
        figures[f"{name}: CPU s"] = cpu
    for name, (wall, _) in med.items():
        if name != "ballotbook":
            figures[f"speed-up against {name} (its wall / ballotbook's)"] = wall / kit_wall
    pairs = [p / k for (k, _, _), (p, _, _) in zip(runs["ballotbook"], runs["in-process pool"], strict=True)]
    figures["speed-up against the in-process pool, per round"] = ", ".join(f"{x:.2f}" for x in pairs)
    figures["floor: cell work two at a time, s"] = cells
    figures["floor: rendering, CPU s"] = render
    figures["floor, CPU s"] = floor_s
    figures["ballotbook CPU s / floor"] = kit_cpu / floor_s
    figures["floor with the cells run alone, CPU s"] = alone + render
    figures["ballotbook CPU s / floor with the cells run alone"] = kit_cpu / (alone + render)
    figures["ballotbook wall s / (floor / 2 workers)"] = kit_wall / (floor_s / 2)
    figures["load average before runs (min-max)"] = (f"{min(x for v in runs.values() for _, _, x in v):.2f}-"
                                                     f"{max(x for v in runs.values() for _, _, x in v):.2f}")
    for key, value in figures.items():
        print(f"  {key}: {value:,.3f}" if isinstance(value, float) else f"  {key}: {value}")
    return figures


if __name__ == "__main__":
    main()
