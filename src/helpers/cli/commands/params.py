"""ballotbook params NOTEBOOK: the notebook's parameters with type, default and help."""

from __future__ import annotations


def run(args) -> int:
    from helpers.core import paths
    from helpers.pipeline.parameters import read_parameters

    declared = read_parameters(args.notebook)
    if not declared:
        print(f"{paths.display(paths.resolve(args.notebook))} has no cell tagged 'parameters'.")
        return 0
    width = max(len(n) for n in declared)
    twidth = max(len(p.type) for p in declared.values())
    for p in declared.values():
        print(f"{p.name:<{width}}  {p.type:<{twidth}}  {p.default!r:<28}  {p.help}".rstrip())
    return 0
