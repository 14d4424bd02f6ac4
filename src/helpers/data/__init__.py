"""Inputs: every file the kit reads is loaded and validated here.

Loaders return DataFrames with fixed dtypes. A problem raises :class:`DataError` whose message names file, row
(spreadsheet numbering: the header is row 1) and column, and what was expected.

Each kind of file has its own module; this package re-exports the loaders so that callers write
``from helpers import data; data.load_events(path)``. The loaders are imported on first use, so that the
command line can check parameters without importing pandas.
"""

from __future__ import annotations

import importlib

#: Every public loader: name -> module of this package.
_LOADERS = {
    "load_events": "events",
    "load_polls": "polls", "load_parties": "polls",
    "load_round": "primaries", "load_candidates": "primaries", "load_contests": "primaries",
    "load_rounds": "primaries", "load_transfers": "primaries", "load_poll": "primaries",
    "load_colours": "primaries",
    "load_votes": "knesset", "load_pairs": "knesset", "load_seats": "knesset", "load_elections": "knesset",
    "load_scenario": "scenarios",
    "load_rules": "rules",
}


def __getattr__(name: str):
    module = _LOADERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__():
    return sorted(list(globals()) + list(_LOADERS))


#: Other names of kinds of data file: a "results" file is a votes file, an "agreements" file a pairs file.
FILE_SYNONYMS = {"results": "votes", "agreements": "pairs"}


def file_kinds() -> list[str]:
    """Every kind of data file: each ``load_<kind>`` loader names one (``polls`` for :func:`load_polls`), and
    :data:`FILE_SYNONYMS` adds other names. A notebook parameter declared ``"<kind> file"``
    (helpers.pipeline.kinds) is loaded with that loader before any kernel starts."""
    return sorted([n[len("load_"):] for n in _LOADERS] + list(FILE_SYNONYMS))


def loader_for(kind: str):
    """The loader of a kind of data file (``load_<kind>``, a synonym followed), or None for a kind that has none."""
    name = f"load_{FILE_SYNONYMS.get(kind, kind)}"
    return __getattr__(name) if name in _LOADERS else None
