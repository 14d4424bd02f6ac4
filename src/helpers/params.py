"""Typed notebook parameters: read from the cell tagged ``parameters``, checked before any kernel starts.

Standard library only (``ast``, ``json``), so the command line can reject a bad parameter in a fraction of a
second. A parameter's type comes from its annotation (``as_of: str = ""``) or else from its default; its help
is the comment on its line. Papermill itself accepts unknown names and strings for numbers silently; here
both are errors.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .data._table import DataError

_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str           # str, int, float, bool, list, dict or any
    default: object
    help: str

    def describe(self) -> str:
        return f"{self.name} ({self.type}, default {self.default!r})" + (f": {self.help}" if self.help else "")


def _read_notebook(path: Path) -> dict:
    from . import paths

    name = paths.display(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"notebook {name} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"notebook {name} cannot be read as a notebook ({exc}).") from None


def parameters_cell(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    return None


def _comments(source: str) -> dict[int, str]:
    out = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return out


def read_parameters(notebook: str | Path) -> dict[str, Parameter]:
    """The parameters of a notebook, in cell order. DataError when the notebook or its cell is unreadable."""
    from . import paths

    path = paths.resolve(notebook)
    nb = _read_notebook(path)
    source = parameters_cell(nb)
    if source is None:
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise DataError(f"notebook {paths.display(path)}: its parameters cell is not valid Python "
                        f"(line {exc.lineno}).") from None
    comments = _comments(source)
    params: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value_node = node.target.id, node.value
            ann = ast.unparse(node.annotation)
            typ = ann if ann in _TYPES else "any"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value_node, typ = node.targets[0].id, node.value, None
        else:
            continue
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            default = ast.unparse(value_node)
        if typ is None:
            typ = type(default).__name__ if type(default).__name__ in _TYPES else "any"
        params[name] = Parameter(name, typ, default, comments.get(node.lineno, ""))
    return params


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def coerce(param: Parameter, value, *, from_text: bool) -> object:
    """Check (and for command-line text, convert) a value for `param`; DataError when it does not fit."""
    typ = param.type
    bad = DataError(f"parameter '{param.name}': {value!r} is not {_article(typ)} ({param.describe()}).")
    if from_text and isinstance(value, str):
        text = value.strip()
        if typ == "str" or typ == "any":
            return value
        if typ == "int":
            try:
                return int(text)
            except ValueError:
                raise bad from None
        if typ == "float":
            try:
                out = float(text)
            except ValueError:
                raise bad from None
            if out != out or out in (float("inf"), float("-inf")):
                raise bad
            return out
        if typ == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise bad
        if typ in ("list", "dict"):
            import yaml

            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                raise bad from None
            if typ == "list" and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (dt.date, dt.datetime)) and typ in ("str", "any"):
        return value.isoformat()  # YAML reads 2022-10-01 as a date; notebooks take dates as text
    if typ == "any":
        return value
    if typ == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typ == "list" and isinstance(value, tuple):
        value = list(value)
    if isinstance(value, bool) and typ != "bool":
        raise bad
    if not isinstance(value, _TYPES[typ]):
        raise bad
    if typ == "float" and value != value:
        raise bad
    return value


def _article(typ: str) -> str:
    return {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text",
            "list": "a list", "dict": "a mapping"}.get(typ, "a value")


# Checks by parameter name, the same in every notebook (units in the messages).
_DATE_NAMES = ("as_of", "start", "end")


def check_value(name: str, value) -> None:
    """Range and format checks that a type alone cannot express."""
    if (name in _DATE_NAMES or name.endswith("_date")) and isinstance(value, str) and value:
        from .data.events import check_date_param

        check_date_param(name, value)
    if name == "threshold" and isinstance(value, (int, float)) and not 0 <= value < 100:
        raise DataError(f"parameter 'threshold': {value} is not a percentage from 0 up to (not including) 100.")
    if name in ("seats", "draws") and isinstance(value, int) and value < 1:
        raise DataError(f"parameter '{name}': {value} must be at least 1.")
    if name == "seed" and isinstance(value, int) and value < 0:
        raise DataError(f"parameter 'seed': {value} must be a whole number >= 0.")
    if name == "poll_error" and isinstance(value, (int, float)) and not 0 <= value <= 50:
        raise DataError(f"parameter 'poll_error': {value} is not a number of points from 0 to 50.")


def validate(notebook: str | Path, given: dict, *, from_text: bool = False,
             declared: dict[str, Parameter] | None = None) -> dict:
    """Check `given` against the notebook's parameters: unknown names, types, ranges. Returns the values
    converted to their types. Does not open data files (see :func:`check_files`)."""
    declared = read_parameters(notebook) if declared is None else declared
    out = {}
    for name, value in given.items():
        if name not in declared:
            from difflib import get_close_matches

            from . import paths

            near = get_close_matches(name, list(declared), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            known = ", ".join(declared) or "none"
            raise DataError(f"{paths.display(paths.resolve(notebook))} has no parameter '{name}'.{hint} "
                            f"Its parameters: {known}.")
        converted = coerce(declared[name], value, from_text=from_text)
        check_value(name, converted)
        out[name] = converted
    return out


def file_parameters(declared: dict[str, Parameter], given: dict) -> dict[str, list[str]]:
    """The data files a run will read through its parameters: {parameter: [paths]} for the parameters whose
    name is in ``helpers.data.FILE_LOADERS``, given or defaulted, that are not empty (a parameter may hold one
    path or a list of paths)."""
    from .data import FILE_LOADERS

    out = {}
    for name, p in declared.items():
        if name in FILE_LOADERS:
            value = given.get(name, p.default)
            values = value if isinstance(value, list) else [value]
            files = [v for v in values if isinstance(v, str) and v]
            if files:
                out[name] = files
    return out


def check_files(declared: dict[str, Parameter], given: dict) -> None:
    """Load every data file named by a parameter with its loader: a bad file raises DataError (file, row,
    column) before any kernel starts."""
    from .data import loader_for

    for name, files in file_parameters(declared, given).items():
        loader = loader_for(name)
        if loader is None:
            continue
        for path in files:
            try:
                loader(path)
            except DataError as exc:
                raise DataError(f"parameter '{name}': {exc}") from None
