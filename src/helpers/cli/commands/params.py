"""ballotbook params NOTEBOOK: the notebook's parameters, one a line: name, kind (as the parameters cell declares
it, or the kind of its default), default and help."""

from __future__ import annotations


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
