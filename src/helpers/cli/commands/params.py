"""list a notebook's parameters: name, kind, default and help

One line per parameter of the notebook's cell tagged 'parameters': its name, its kind (as the
cell declares it, or the kind of its default), its default and its help. These are the names
-p NAME VALUE (ballotbook run) and reports.yml's parameters accept.
"""

from __future__ import annotations

EXAMPLES = """\
ballotbook params notebooks/04_timeline.ipynb
ballotbook params notebooks/01_poll_thresholds.ipynb
"""


def configure(p) -> None:
    from helpers.cli import path

    path(p, "notebook", metavar="NOTEBOOK", help="the notebook (.ipynb) to read")


def run(args) -> int:
    from helpers.core import paths
    from helpers.pipeline.parameters import read_parameters

    declared = read_parameters(args.notebook)
    if not declared:
        print(f"{paths.display(paths.resolve(args.notebook))} has no cell tagged 'parameters'.")
        return 0
    width = max(len(n) for n in declared)
    kwidth = min(max(len(p.declaration) for p in declared.values()), 36)
    for p in declared.values():
        print(f"{p.name:<{width}}  {p.declaration:<{kwidth}}  {p.default!r:<28}  {p.help}".rstrip())
    return 0
