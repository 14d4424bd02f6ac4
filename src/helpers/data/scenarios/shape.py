"""YAML shape checks of a scenario file: each value of the expected kind; messages name the YAML path and line."""

from __future__ import annotations

import re

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data._table import excerpt


def _where(path: tuple) -> str:
    """('what_if', 1, 'steps', 0, 'drop') -> "what_if[1].steps[0].drop"."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += f"[{excerpt(str(p), 40)!r}]"
    return out


class _Doc:
    """The file's name and its composed YAML tree, to point messages at a place and a line."""

    def __init__(self, path, root):
        self.name = paths.display(path)
        self.root = root  # the node tree read_yaml composed (no aliases: every node has one place)
        self.names: dict[tuple, str] = {}  # path prefix -> the what-if's name, shown in places

    def line(self, path: tuple) -> int | None:
        import yaml

        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for p in path:
            if isinstance(node, yaml.MappingNode):
                hit = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(p)),
                           None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and 0 <= p < len(node.value):
                hit = node.value[p]
            else:
                hit = None
            if hit is None:
                break
            node = hit
            line = node.start_mark.line + 1
        return line

    def place(self, path: tuple) -> str:
        text = ""
        for i, p in enumerate(path):
            if isinstance(p, int):
                text += f"[{p}]"
                name = self.names.get(tuple(path[: i + 1]))
                if name:
                    text += f" ({excerpt(name, 40)!r})"
            else:
                text += ("." if text else "") + (str(p) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", str(p))
                                                 else repr(excerpt(str(p), 40)))
        return text

    def fail(self, path: tuple, problem: str) -> DataError:
        line = self.line(path)
        place = self.place(path)
        at = f", {place}" if place else ""
        at += f" (line {line})" if line is not None and place else (f", line {line}" if line else "")
        # values in `problem` come from the file: a backstop keeps any message short
        return DataError(f"{self.name}{at}: {excerpt(problem, 400)}")


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{excerpt(value)}'"


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


def _list(doc: _Doc, value, path: tuple, what: str) -> list:
    if not isinstance(value, list):
        raise doc.fail(path, f"{_kind(value)} is not a list; expected {what}.")
    return value


def _mapping(doc: _Doc, value, path: tuple, what: str) -> dict:
    if not isinstance(value, dict):
        raise doc.fail(path, f"{_kind(value)} is not a mapping; expected {what}.")
    return value
