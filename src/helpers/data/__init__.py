"""Inputs: every file the kit reads is loaded and validated here.

Loaders return DataFrames with fixed dtypes. A problem raises :class:`DataError` whose message names file, row
(spreadsheet numbering: the header is row 1) and column, and what was expected.

Each kind of file has its own module; this package re-exports the loaders so that callers write
``from helpers import data; data.load_events(path)``. The loaders are imported on first use, so that the
command line can check parameters without importing pandas.
"""

from __future__ import annotations

import importlib

#: Notebook parameters that name a data file, and the loader that validates it ("module:function" in this
#: package). The pipeline loads such a file before any kernel starts, so a bad file is exit 2 with the
#: loader's message. A parameter with one of these names means the same kind of file in every notebook.
FILE_LOADERS = {
    "events": "events:load_events",
    "polls": "polls:load_polls",
    "results": "knesset:load_votes",
    "agreements": "knesset:load_pairs",
    "candidates": "primaries:load_candidates",
    "scenario": "scenarios:load_scenario",
    "transfers": "primaries:load_transfers",
    "contests": "primaries:load_contests",
    "rounds": "primaries:load_rounds",
    "calibration_polls": "primaries:load_poll",   # a list of files
    "elections": "knesset:load_elections",
}

#: Every public loader: name -> module of this package.
_LOADERS = {
    "load_events": "events",
    "load_polls": "polls", "load_parties": "polls",
    "load_round": "primaries", "load_candidates": "primaries", "load_contests": "primaries",
    "load_rounds": "primaries", "load_transfers": "primaries", "load_poll": "primaries",
    "load_votes": "knesset", "load_pairs": "knesset", "load_seats": "knesset", "load_elections": "knesset",
    "load_scenario": "scenarios",
}


def __getattr__(name: str):
    module = _LOADERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__():
    return sorted(list(globals()) + list(_LOADERS))


def loader_for(parameter: str):
    """The loader function for a file parameter, or None when the parameter does not name a data file (or
    that kind of file has no loader in this version)."""
    spec = FILE_LOADERS.get(parameter)
    if spec is None:
        return None
    module, func = spec.split(":")
    try:
        return getattr(importlib.import_module(f"{__name__}.{module}"), func)
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{module}":
            return None
        raise
