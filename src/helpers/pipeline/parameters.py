"""Typed notebook parameters: read from the cell tagged ``parameters``, checked before any kernel starts.

Standard library only (``ast``, ``json``), so the command line can reject a bad parameter in a fraction of a
second. A parameter's type comes from its annotation (``as_of: str = ""``) or else from its default; its help
is the comment on its line. Papermill itself accepts unknown names and strings for numbers silently; here
both are errors.

A value is plain data of its parameter's kind, checked element by element: text, whole numbers, numbers,
true/false, dates (kept as ISO text), and lists and mappings (text keys) of those. Anything else a YAML file or a
``-p`` value can hold (``!!binary`` bytes, ``!!set``, the pairs of ``!!omap``/``!!pairs``, NaN or infinity, any
object) is refused, so the pipeline can write every value into the notebook as a Python literal. Bounds, the same
from the command line, ``reports.yml`` and Python callers:

- text: at most :data:`MAX_TEXT` characters, valid UTF-8 (no lone surrogates, so no undecodable bytes from the
  command line), no NUL character;
- lists and mappings: at most :data:`MAX_ITEMS` elements in one value (nested ones counted too), nested at most
  :data:`MAX_DEPTH` deep;
- whole numbers: 64-bit (-2^63 to 2^63 - 1); numbers: finite;
- by name (every notebook): ``seats`` 1 to 10,000 and ``draws`` 1 to 1,000,000 (``helpers.core.limits``), ``seed``
  0 to 2^63 - 1, ``threshold`` a percentage, ``poll_error`` 0 to 50 points (-1 too where the notebook's default
  is -1: the scenario's own), ``half_life_days`` above 0 and at most 36,500, ``as_of``/``election``/``*_date`` a
  YYYY-MM-DD date, ``start``/``end``/``*_start``/``*_end`` a YYYY-MM-DD, YYYY-MM or YYYY date; a data-file
  parameter may be empty only where the notebook's default is empty or its help says "empty for ...". See
  :func:`check_value`; names that must exist in a data file (``follow``, ``swept``, ``highlight``,
  ``question``) are checked by :func:`check_files`.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import math
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from helpers.core.errors import DataError

_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str           # str, int, float, bool, list, dict or any
    default: object
    help: str
    items: str = "any"  # a list's elements: str, int, float, bool or any (from list[X] or the default's)

    def describe(self) -> str:
        kind = f"list of {self.items}" if self.type == "list" and self.items != "any" else self.type
        return f"{self.name} ({kind}, default {_short(self.default, 80)})" + (f": {self.help}" if self.help else "")


def _read_notebook(path: Path) -> dict:
    from helpers.core import paths
    from helpers.data._table import MAX_NOTEBOOK_BYTES, read_file

    name = paths.display(path)
    raw = read_file(path, "a notebook (.ipynb)", MAX_NOTEBOOK_BYTES)  # a regular file, not too large
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"notebook {name} cannot be read as a notebook ({exc}).") from None
    except RecursionError:
        raise DataError(f"notebook {name} cannot be read as a notebook (its JSON is nested too deeply).") from None
    problem = _notebook_problem(nb)
    if problem:
        raise DataError(f"notebook {name} is not a Jupyter notebook: {problem}.")
    return nb


def _notebook_problem(nb) -> str | None:
    """What keeps JSON `nb` from being a version 4 notebook the kit can run (None when it is one): the shape
    papermill and nbformat rely on, checked here so that a wrong file is an error naming it, not a crash."""
    if not isinstance(nb, dict):
        return "expected a JSON object with 'cells', 'metadata' and 'nbformat'"
    if nb.get("nbformat") != 4 or isinstance(nb.get("nbformat"), bool):
        return "expected 'nbformat': 4 (the notebook format of Jupyter since 2015)"
    if not isinstance(nb.get("metadata", {}), dict):
        return "its 'metadata' is not a mapping"
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "its 'cells' is missing or not a list"
    for i, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {i} is not a mapping with a 'cell_type' of code, markdown or raw"
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            return f"cell {i} has a 'source' that is neither text nor a list of lines"
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("tags", []), list):
            return f"cell {i} has 'metadata' or 'tags' of the wrong kind"
        if cell["cell_type"] == "code" and not isinstance(cell.get("outputs", []), list):
            return f"cell {i} has 'outputs' that are not a list"
    return None


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
    from helpers.core import paths

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
        items = None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value_node = node.target.id, node.value
            ann = ast.unparse(node.annotation).replace(" ", "")
            element = re.fullmatch(r"list\[(str|int|float|bool|any)\]", ann)
            if element:
                ann, items = "list", element.group(1)
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
        if typ == "list" and items is None:
            items = _element_type(default)
        params[name] = Parameter(name, typ, default, comments.get(node.lineno, ""), items or "any")
    return params


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}

#: Most characters in one text value (a path, a name, a date, one element of a list or mapping).
MAX_TEXT = 10_000
#: Most elements in the lists and mappings of one value, nested ones counted too.
MAX_ITEMS = 10_000
#: Deepest nesting of lists and mappings in one value.
MAX_DEPTH = 8
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _short(value, limit: int = 60) -> str:
    """A short repr for messages: bounded in length and in the work done, whatever `value` holds."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxother, r.maxlong = 2, limit, limit, 40
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = 4
    text = r.repr(value)
    return text if len(text) <= limit + 20 else text[:limit] + "…"


def _what(v) -> str:
    """What kind of value `v` is, for messages (naming the YAML tag that makes the non-plain kinds)."""
    if isinstance(v, (bytes, bytearray)):
        return "binary data (YAML !!binary)"
    if isinstance(v, (set, frozenset)):
        return "a set (YAML !!set)"
    if isinstance(v, tuple):
        return "a pair (YAML !!omap or !!pairs)"
    if v is None:
        return "empty (null)"
    for kind, text in ((bool, "true/false"), (int, "a whole number"), (float, "a number"), (str, "text"),
                       (list, "a list"), (dict, "a mapping")):
        if type(v) is kind:
            return text
    return f"a Python {type(v).__name__} object"


def _check_text(text: str, where: str) -> None:
    if len(text) > MAX_TEXT:
        raise DataError(f"{where}: the text has {len(text):,} characters; at most {MAX_TEXT:,} are allowed.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(f"{where}: the text is not valid UTF-8 (it holds an undecodable byte or a lone "
                        f"surrogate: {_short(text)}).") from None
    if "\x00" in text:
        raise DataError(f"{where}: the text holds a NUL character.")


def plain(value, where: str = "parameter"):
    """`value` as plain data: text, whole numbers (64-bit), finite numbers, true/false, null, and lists and
    mappings (text keys) of those, within :data:`MAX_TEXT`, :data:`MAX_ITEMS` and :data:`MAX_DEPTH`; dates become
    ISO text. Returns a fresh copy; DataError naming the element otherwise (a YAML ``!!binary``, ``!!set``,
    ``!!omap`` or ``!!pairs`` value, NaN, an object...). Bounded work even for YAML alias bombs."""
    budget = [MAX_ITEMS]

    def walk(v, depth: int, at: str):
        kind = type(v)
        if v is None or kind is bool:
            return v
        if kind is int:
            if not _INT_MIN <= v <= _INT_MAX:
                raise DataError(f"{at}: {_short(v)} is too large a whole number (at most 2^63 - 1 either way).")
            return v
        if kind is float:
            if not math.isfinite(v):
                raise DataError(f"{at}: {v!r} is not a finite number.")
            return v
        if kind is str:
            _check_text(v, at)
            return v
        if kind is dt.date or kind is dt.datetime:
            return v.isoformat()  # YAML reads 2022-10-01 as a date; notebooks take dates as text
        if kind is list or kind is dict:
            if depth >= MAX_DEPTH:
                raise DataError(f"{at}: lists and mappings are nested more than {MAX_DEPTH} deep.")
            budget[0] -= len(v)
            if budget[0] < 0:
                raise DataError(f"{at}: the value holds more than {MAX_ITEMS:,} elements.")
            if kind is list:
                return [walk(x, depth + 1, f"{at}, item {i}") for i, x in enumerate(v, start=1)]
            out = {}
            for k, x in v.items():
                if type(k) is not str:
                    raise DataError(f"{at}: the key {_short(k)} is {_what(k)}; keys must be text.")
                _check_text(k, f"{at}, a key")
                out[k] = walk(x, depth + 1, f"{at}, key {_short(k)}")
            return out
        raise DataError(f"{at}: {_short(v)} is {_what(v)}, not plain data (text, numbers, true/false, dates, "
                        "and lists and mappings of those).")

    return walk(value, 0, where)


def _element_type(default) -> str:
    """A list parameter's element type from its default: the default's elements' type; text for an empty
    list (annotate ``list[int]`` etc. for another)."""
    if not isinstance(default, list):
        return "any"
    kinds = {type(x).__name__ for x in default}
    if not kinds:
        return "str"
    if len(kinds) == 1 and next(iter(kinds)) in ("str", "int", "float", "bool"):
        return next(iter(kinds))
    return "float" if kinds == {"int", "float"} else "any"


def _is(value, typ: str) -> bool:
    return typ == "any" or type(value) is _TYPES[typ]


def coerce(param: Parameter, value, *, from_text: bool) -> object:
    """Check (and for command-line text, convert) a value for `param`; DataError when it does not fit. The
    result is plain data (see :func:`plain`) of the parameter's type, a list's elements each of its element
    type."""
    typ = param.type
    where = f"parameter '{param.name}'"
    original = value

    def bad() -> DataError:
        return DataError(f"{where}: {_short(original)} is not {_article(typ)} ({param.describe()}).")

    if from_text and isinstance(value, str):
        _check_text(value, where)
        text = value.strip()
        if typ in ("str", "any"):
            return value
        if typ == "int":
            try:
                value = int(text)
            except ValueError:
                raise bad() from None
        elif typ == "float":
            try:
                value = float(text)
            except ValueError:
                raise bad() from None
        elif typ == "bool":
            if text.lower() not in _TRUE | _FALSE:
                raise bad()
            value = text.lower() in _TRUE
        elif typ in ("list", "dict"):
            import yaml

            try:
                value = yaml.safe_load(text)
            except (yaml.YAMLError, RecursionError, ValueError):
                raise bad() from None
            if typ == "list" and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
    value = plain(value, where)
    if typ == "any":
        return value
    if typ == "float" and type(value) is int:
        value = float(value)
    if not _is(value, typ):
        raise bad()
    if typ == "list" and param.items != "any":
        for i, item in enumerate(value):
            if param.items == "float" and type(item) is int:
                value[i] = float(item)
            elif not _is(item, param.items):
                raise DataError(f"{where}, item {i + 1}: {_short(item)} is {_what(item)}; expected "
                                f"{_article(param.items)} (the parameter is a list of {_plural(param.items)}).")
    return value


def _article(typ: str) -> str:
    return {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text",
            "list": "a list", "dict": "a mapping"}.get(typ, "a value")


def _plural(typ: str) -> str:
    return {"int": "whole numbers", "float": "numbers", "bool": "true/false values", "str": "text values"}.get(
        typ, "values")


# Checks by parameter name, the same in every notebook (units in the messages).
_FULL_DATE_NAMES = ("as_of", "election")
_PARTIAL_DATE_NAMES = ("start", "end")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _number(name: str, value, low, high, what: str, *, low_open: bool = False, high_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if (value <= low if low_open else value < low) or (value >= high if high_open else value > high):
        raise DataError(f"parameter '{name}': {value:g} is not {what}.")


def _is_optional_file(param: Parameter | None) -> bool:
    """A data-file parameter may be empty when the notebook says so: its default is empty, or its help says
    what an empty value means ("empty for none")."""
    return param is None or param.default in ("", [], None) or "empty for" in param.help.lower()


def check_value(name: str, value, declared: dict[str, Parameter] | None = None) -> None:
    """Range and format checks that a type alone cannot express (the parameters' names mean the same in every
    notebook). `declared` (the notebook's parameters) tells which file parameters may be empty and which
    special values a notebook's defaults give a meaning to."""
    from helpers.core import limits
    from helpers.data import FILE_LOADERS

    param = (declared or {}).get(name)
    if isinstance(value, str) and value:  # "" is "not set"; blank text is not a date
        if name in _FULL_DATE_NAMES or name.endswith("_date"):
            text = value.strip()
            try:
                ok = bool(_FULL_DATE.fullmatch(text)) and dt.date.fromisoformat(text) is not None
            except ValueError:
                ok = False
            if not ok:
                raise DataError(f"parameter '{name}': {_short(value)} is not a date written YYYY-MM-DD (a whole "
                                "date: year, month and day).")
        elif name in _PARTIAL_DATE_NAMES or name.endswith(("_start", "_end")):
            from helpers.data.events import check_date_param

            check_date_param(name, value)
    if name in FILE_LOADERS and not _is_optional_file(param):
        files = value if isinstance(value, list) else [value]
        if not files or any(isinstance(f, str) and not f.strip() for f in files):
            raise DataError(f"parameter '{name}': a data file is required here ({param.describe()}); "
                            "the value is empty.")
    if name == "threshold":
        if "candidates" in (declared or {}):  # a leadership contest's first-round line (helpers.models.primaries)
            _number(name, value, 0, 100, "a percentage above 0 and at most 100", low_open=True)
        else:
            _number(name, value, 0, 100, "a percentage from 0 up to (not including) 100", high_open=True)
    if name in ("seats", "draws", "seed") and type(value) is int:
        low, high = {"seats": (1, limits.MAX_SEATS), "draws": (1, limits.MAX_DRAWS),
                     "seed": (0, limits.MAX_SEED)}[name]
        limits.check_count(value, f"parameter '{name}'", low, high)
    if name == "poll_error":
        own = param is not None and param.default == -1 and value == -1  # "-1 for the scenario's own"
        if not own:
            _number(name, value, 0, 50, "a number of points from 0 to 50" +
                    (" (or -1 for the scenario's own)" if param is not None and param.default == -1 else ""))
    if name == "half_life_days":
        _number(name, value, 0, 36_500, "a number of days above 0 and at most 36,500", low_open=True)
    if name == "final_week_days":
        _number(name, value, 1, 3_650, "a number of days from 1 to 3,650")
    if name == "paths_shown":
        _number(name, value, 1, 10_000, "a number of paths from 1 to 10,000")
    if name == "sample_size":
        _number(name, value, 0, 1_000_000_000, "a number of respondents from 0 (the file's) to 1,000,000,000")
    if name == "concentration":
        _number(name, value, 0, 1e9, "a concentration above 0 and at most 1,000,000,000", low_open=True)
    if name == "invalid":
        _number(name, value, 0, 100, "a percentage from 0 up to (not including) 100", high_open=True)
    if name == "others_to_barak":
        _number(name, value, 0, 100, "a percentage from 0 to 100")


def validate(notebook: str | Path, given: dict, *, from_text: bool = False,
             declared: dict[str, Parameter] | None = None) -> dict:
    """Check `given` against the notebook's parameters: unknown names, types, ranges. Returns the values
    converted to their types. Does not open data files (see :func:`check_files`)."""
    declared = read_parameters(notebook) if declared is None else declared
    out = {}
    for name, value in given.items():
        if name not in declared:
            from difflib import get_close_matches

            from helpers.core import paths

            near = get_close_matches(name, list(declared), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            known = ", ".join(declared) or "none"
            raise DataError(f"{paths.display(paths.resolve(notebook))} has no parameter '{name}'.{hint} "
                            f"Its parameters: {known}.")
        converted = coerce(declared[name], value, from_text=from_text)
        check_value(name, converted, declared)
        out[name] = converted
    return out


def file_parameters(declared: dict[str, Parameter], given: dict) -> dict[str, list[str]]:
    """The data files a run will read through its parameters: {parameter: [paths]} for the parameters whose
    name is in ``helpers.data.FILE_LOADERS``, given or defaulted, that are not empty (a parameter may hold one
    path or a list of paths)."""
    from helpers.data import FILE_LOADERS

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
    from helpers.data import loader_for

    loaded: dict[str, object] = {}
    for name, files in file_parameters(declared, given).items():
        loader = loader_for(name)
        if loader is None:
            continue
        for path in files:
            try:
                loaded[name] = loader(path)
            except DataError as exc:
                raise DataError(f"parameter '{name}': {exc}") from None
    _check_references(declared, given, loaded)


def _check_references(declared: dict[str, Parameter], given: dict, loaded: dict) -> None:
    """Parameters that name something inside a data file the run reads (given or defaulted): ``follow`` and
    ``swept`` a candidate of ``candidates``, ``highlight`` a coalition or bloc of ``scenario``, ``question``
    a question of ``polls``. Letter case is ignored, as the notebooks ignore it."""

    def value(name: str):
        return given.get(name, declared[name].default) if name in declared else ""

    def refuse(name: str, what: str, file: str, known: list[str]) -> None:
        listed = ", ".join(f"'{k}'" for k in known[:20]) + (", ..." if len(known) > 20 else "")
        raise DataError(f"parameter '{name}': {_short(value(name))} is not {what} in {file}; the choices are "
                        f"{listed or 'none'}.")

    def missing(name: str, known: list[str]) -> bool:
        v = value(name)
        return isinstance(v, str) and bool(v.strip()) and \
            v.strip().casefold() not in {str(k).casefold() for k in known}

    if "candidates" in loaded:
        known = [str(c) for c in loaded["candidates"]["candidate"]]
        for name in ("follow", "swept"):
            if missing(name, known):
                refuse(name, "a candidate", str(value("candidates")), known)
    if "scenario" in loaded and "highlight" in declared:
        sc = loaded["scenario"]
        known = list(dict(sc.blocs)) + [k for k in dict(sc.coalitions) if k not in dict(sc.blocs)]
        if missing("highlight", known):
            refuse("highlight", "a coalition or bloc", str(value("scenario")), known)
    if "polls" in loaded and "question" in declared:
        polls = loaded["polls"]
        per_poll = polls.drop_duplicates("poll_id")["question"].tolist()
        known = list(dict.fromkeys(per_poll))
        if missing("question", known):
            if not any(known):
                raise DataError(f"parameter 'question': {_short(value('question'))} is not asked in "
                                f"{value('polls')}, whose polls ask only the usual vote intention (leave it empty).")
            refuse("question", "a question asked", str(value("polls")), [q for q in known if q])


def _same(a, b) -> bool:
    """`a` and `b` equal and of the same types all the way down (1, 1.0 and True are not the same here)."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is float:
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def injected_source(values: dict) -> str:
    """The source of the cell that sets a run's parameters: one ``name = <literal>`` line per value, each
    literal the ``repr`` of the value checked as plain data (:func:`plain`), and proved to be one assignment
    whose ``ast.literal_eval`` gives back exactly that value. No value can become code: anything that is not
    plain data, or whose literal does not read back as itself, is a DataError and nothing is written."""
    import keyword

    lines = ["# Parameters: written by ballotbook as Python literals of the checked values"]
    for name, value in values.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise DataError(f"parameter {_short(name)} is not a valid parameter name.")
        checked = plain(value, f"parameter '{name}'")
        line = f"{name} = {checked!r}"
        try:
            tree = ast.parse(line)
            node = tree.body[0]
            ok = (len(tree.body) == 1 and isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name
                  and _same(ast.literal_eval(node.value), checked))
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            ok = False
        if not ok:
            raise DataError(f"parameter '{name}': {_short(value)} cannot be written as a Python literal.")
        lines.append(line)
    return "\n".join(lines)
