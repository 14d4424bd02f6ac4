"""Where a scenario file's messages point (the YAML path and line) and its value readers (text, numbers in a
range, threshold words). The file's shape is checked by ``helpers.data.schema`` (schemas/scenario.schema.json)."""

from __future__ import annotations

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.core.threshold import ACCEPTED, Threshold, parse_threshold
from helpers.data import schema
from helpers.data._table import excerpt


class _Doc:
    """The file's name and its composed YAML tree, to point messages at a place and a line."""

    def __init__(self, path, root):
        self.name = paths.display(path)
        self.root = root  # the node tree read_yaml composed (no aliases: every node has one place)
        self.names: dict[tuple, str] = {}  # path prefix -> the what-if's name, shown in places

    def line(self, path: tuple) -> int | None:
        at = schema.node_at(self.root, path)
        return at[0] if at else None

    def place(self, path: tuple) -> str:
        """The YAML path, a what-if's index followed by its name: "what_if[0] ('X').steps[1]"."""
        text = ""
        for i, p in enumerate(path):
            step = schema.place((p,))
            text += step if not text or step.startswith("[") else "." + step
            name = self.names.get(tuple(path[: i + 1])) if isinstance(p, int) else None
            if name:
                text += f" ({excerpt(name, 40)!r})"
        return text

    def fail(self, path: tuple, problem: str) -> DataError:
        line = self.line(path)
        place = self.place(path)
        at = f", {place}" if place else ""
        at += f" (line {line})" if line is not None and place else (f", line {line}" if line else "")
        # values in `problem` come from the file: a backstop keeps any message short
        return DataError(f"{self.name}{at}: {excerpt(problem, 400)}")


_kind = schema.found


def _text(doc: _Doc, value, path: tuple, what: str = "text") -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise doc.fail(path, f"{_kind(value)} is not {what}; expected {what}.")
    return str(value).strip()


def _number(doc: _Doc, value, path: tuple, what: str, low: float | None = None, high: float | None = None,
            *, low_open: bool = False, high_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if ok:
        v = float(value)
        ok = ((low is None or (v > low if low_open else v >= low))
              and (high is None or (v < high if high_open else v <= high)))
    if not ok:
        raise doc.fail(path, f"{_kind(value)} is not {what}.")
    return float(value)


def _whole(doc: _Doc, value, path: tuple, what: str, low: int, high: int | None = None) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or
                                                                                      value <= high)
    if not ok and isinstance(value, float) and value.is_integer():
        ok = value >= low and (high is None or value <= high)
    if not ok:
        raise doc.fail(path, f"{_kind(value)} is not {what}.")
    return int(value)


def _threshold(doc: _Doc, value, path: tuple, seats: int) -> Threshold:
    """`value` read by the kit's one threshold reader (:func:`helpers.core.threshold.parse_threshold`): a
    percent (3.25, "3.25%"), an exact fraction of the valid votes ("1/150") or "N quota(s)" of `seats`.

    Returns the exact percent and the reader's words; a number keeps the words it always had (f"{t:g}%", so
    3.25 is "3.25%" and 2.0 is "2%"). Bad words are the reader's one-sentence message, placed in the file and
    saying what is accepted."""
    where = "threshold"
    try:
        reading = parse_threshold(value, where, seats=seats)
    except DataError as exc:
        problem = str(exc).removeprefix(f"{where}: ")
        if ACCEPTED not in problem:
            problem = f"{problem.rstrip('.')}; use {ACCEPTED}."
        raise doc.fail(path, problem) from None
    if not isinstance(value, str):
        return Threshold(reading.percent, f"{float(reading.percent):g}%")
    return reading
