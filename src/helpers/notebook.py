"""What every report notebook calls: house style at the top, its facts recorded for the pipeline.

A report notebook opens with a Markdown cell holding its title (``# ...``) and the question it answers, then a
code cell tagged ``parameters``, then ``nb = notebook.start()``. Once it knows its data, it calls
:func:`record` with the data's as-of date, its sources, the seed and the key outputs; the pipeline reads that
record from the executed notebook into the report header and the manifest (``reports/<name>.json``).
"""

from __future__ import annotations

import datetime as dt
import json

#: The MIME type of the record output; the pipeline reads it and removes it before rendering HTML.
RECORD_MIME = "application/vnd.ballotbook.record+json"


def start() -> None:
    """House style for charts and tables; call once after the parameters cell."""
    import pandas as pd

    from helpers.views import charts

    charts.use_style()
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.width", 160)
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            # PNG charts at a readable resolution, tight around their labels.
            ip.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
            ip.run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': 'tight', "
                                        "'dpi': 110}")
    except Exception:  # outside IPython there is nothing to configure
        pass


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def record(*, as_of=None, sources=(), seed=None, outputs=None, notes=None, used=None) -> None:
    """Record this report's facts for the pipeline: data as-of date, sources (list of strings), seed, key
    outputs (a small dict of numbers the manifest keeps so two builds can be compared), and `used`: the value a
    parameter given as a placeholder actually stood for (``as_of`` "" -> the latest poll's date; a
    ``poll_error`` of -1 -> the scenario's own), so the report shows real values, never a sentinel.

    Shows a one-line summary in JupyterLab; the pipeline strips it from the HTML and puts the facts in the
    report header and manifest instead."""
    facts = _jsonable({"as_of": as_of, "sources": list(sources), "seed": seed, "outputs": outputs or {},
                       "notes": notes, "used": used or {}})
    try:
        from IPython.display import display

        summary = f"Data as of {facts['as_of'] or 'unknown'}" + (
            f"; seed {seed}" if seed is not None else "")
        display({RECORD_MIME: facts, "text/plain": summary}, raw=True)
    except ImportError:
        pass


INPUTS_MIME = "application/vnd.ballotbook.inputs+json"


def record_inputs() -> None:
    """Display the data files this kernel read (the pipeline runs this in a last, hidden cell)."""
    from IPython.display import display

    from helpers.core import paths

    display({INPUTS_MIME: {"files": list(paths.FILES_READ)}, "text/plain": ""}, raw=True)


def read_inputs(nb) -> list[str]:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if INPUTS_MIME in data:
                value = data[INPUTS_MIME]
                value = json.loads(value) if isinstance(value, str) else value
                return list(value.get("files", []))
    return []


def read_record(nb) -> dict:
    """The last record in an executed notebook (nbformat node), or {}: plain JSON data (dicts, not nbformat's
    nodes), so that a manifest made from it reaches the build's process without nbformat (and jsonschema, which
    it imports: 0.1 CPU s) being imported there to unpickle it."""
    found: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if RECORD_MIME in data:
                value = data[RECORD_MIME]
                found = json.loads(value if isinstance(value, str) else json.dumps(value))
    return found
