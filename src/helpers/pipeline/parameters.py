"""Notebook parameters: read from the cell tagged ``parameters``, each with its declared kind, and checked
before any kernel starts.

A parameter's kind is the string annotation on its line (``threshold: "percent (0, 100]" = 40.0``; the words
are those of :mod:`helpers.pipeline.declarations`); an undeclared parameter's kind is that of its default
(text, bool, whole number, number, list, mapping). Its help is the comment on its line. Every check comes from
the kind (:mod:`helpers.pipeline.kinds`, one validator per kind): nothing here, or anywhere, is keyed on a
parameter's name. Papermill itself accepts unknown names and strings for numbers silently; here both are errors.

A value is plain data (:mod:`helpers.pipeline.values`): text (at most :data:`MAX_TEXT` characters, valid UTF-8,
no NUL), whole numbers (64-bit), finite numbers, true/false, dates (kept as ISO text), and lists and mappings
(text keys, at most :data:`MAX_ITEMS` elements, :data:`MAX_DEPTH` deep) of those; the pipeline writes each value
into the notebook as a Python literal (:func:`injected_source`). The checks, the same from the command line,
``reports.yml`` and Python callers:

- :func:`validate`: known names, then each value read and checked by its kind (type, range, date format,
  a required file or name not empty);
- :func:`check_files`: every data file a run reads through a file parameter (given or defaulted) loaded with
  the loader its kind names, and every reference (``"candidate of candidates"``) found in its file.

Standard library only, apart from the loaders and dates: the command line rejects a bad value quickly.
"""

from __future__ import annotations

import ast
import io
import json
import math
import tokenize
from dataclasses import dataclass
from pathlib import Path

from helpers.core.errors import DataError, ParameterError
from helpers.pipeline import declarations
from helpers.pipeline.kinds import Either, Kind, ListOf, Reference
from helpers.pipeline.values import MAX_DEPTH, MAX_ITEMS, MAX_TEXT, plain, short

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "MAX_TEXT", "Parameter", "check_files", "coerce", "file_parameters",
           "injected_source", "plain", "read_parameters", "validate"]


@dataclass(frozen=True)
class Parameter:
    """One parameter: its name, kind (a :class:`~helpers.pipeline.kinds.Kind`, or its declaration in words, read
    with :func:`helpers.pipeline.declarations.parse`), default and help. `declaration` is the kind in words."""

    name: str
    kind: Kind
    default: object
    help: str
    declaration: str = ""

    def __post_init__(self):
        if isinstance(self.kind, str):
            words = " ".join(self.kind.split())
            object.__setattr__(self, "kind", declarations.parse(words))
            object.__setattr__(self, "declaration", self.declaration or words)

    @property
    def type(self) -> str:
        """The plain type of its values: str, int, float, bool, list, dict or any."""
        return self.kind.type

    @property
    def items(self) -> str:
        """A list's items' type (any for a parameter that is not a list)."""
        kind = self.kind.inner if isinstance(self.kind, Either) else self.kind
        return kind.item.type if isinstance(kind, ListOf) else "any"


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
    """The parameters of a notebook, in cell order. DataError when the notebook or its cell is unreadable, a
    declared kind cannot be read, a literal default does not fit its kind, or a reference names a parameter that
    is not a file of the right kind."""
    from helpers.core import paths

    path = paths.resolve(notebook)
    nb = _read_notebook(path)
    source = parameters_cell(nb)
    if source is None:
        return {}
    where = f"notebook {paths.display(path)}"
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise DataError(f"{where}: its parameters cell is not valid Python (line {exc.lineno}).") from None
    comments = _comments(source)
    params: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value_node, annotation = node.target.id, node.value, node.annotation
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value_node, annotation = node.targets[0].id, node.value, None
        else:
            continue
        try:
            default, literal = (ast.literal_eval(value_node), True) if value_node is not None else (None, False)
        except ValueError:
            default, literal = ast.unparse(value_node), False
        words = _declared(annotation, default)
        try:
            param = Parameter(name, words, default, comments.get(node.lineno, ""))
            if literal:
                param.kind.validate(default, f"its default {short(default)}")
        except DataError as exc:
            raise DataError(f"{where}, parameter '{name}' ({words}): {exc}") from None
        params[name] = param
    for param in params.values():
        _check_reference_target(param, params, where)
    return params


def _declared(annotation: ast.expr | None, default) -> str:
    """The kind of a parameter in words: its string annotation; a Python type annotation (``float``,
    ``list[int]``) as the kind of that type; else the kind of its default."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value
    if annotation is not None:
        text = ast.unparse(annotation).replace(" ", "")
        if text == "list" and isinstance(default, list):
            return declarations.infer(default)
        try:
            declarations.parse(text)
            return text
        except DataError:
            return "any"
    return declarations.infer(default)


def _check_reference_target(param: Parameter, params: dict[str, Parameter], where: str) -> None:
    kind = param.kind.inner if isinstance(param.kind, Either) else param.kind
    if not isinstance(kind, Reference):
        return
    target = params.get(kind.parameter)
    files = kind.files_of(target.kind) if target is not None else None
    if not files:
        raise DataError(f"{where}, parameter '{param.name}' ({param.declaration}): '{kind.parameter}' is not "
                        f"a parameter of this notebook naming {kind.file_kinds_text()}.")


def coerce(param: Parameter, value, *, from_text: bool) -> object:
    """`value` (command-line text when `from_text`) checked by `param`'s kind and converted: plain data of its
    type, in its range. ParameterError naming the parameter otherwise."""
    return param.kind.validate(value, f"parameter '{param.name}'", from_text=from_text)


def validate(notebook: str | Path, given: dict, *, from_text: bool = False,
             declared: dict[str, Parameter] | None = None) -> dict:
    """Check `given` against the notebook's parameters: unknown names, then each value by its kind. Returns the
    values converted. Does not open data files (see :func:`check_files`)."""
    declared = read_parameters(notebook) if declared is None else declared
    out = {}
    for name, value in given.items():
        if name not in declared:
            from difflib import get_close_matches

            from helpers.core import paths

            near = get_close_matches(name, list(declared), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            known = ", ".join(declared) or "none"
            raise ParameterError(f"{paths.display(paths.resolve(notebook))} has no parameter '{name}'.{hint} "
                                 f"Its parameters: {known}.")
        out[name] = coerce(declared[name], value, from_text=from_text)
    return out


def file_parameters(declared: dict[str, Parameter], given: dict) -> dict[str, list[str]]:
    """The data files a run will read through its parameters: {parameter: [paths]} for the parameters whose kind
    is a data file or a list of them, given or defaulted, that are not empty."""
    out = {}
    for name, p in declared.items():
        files = p.kind.files(given.get(name, p.default))
        if files:
            out[name] = files
    return out


def check_files(declared: dict[str, Parameter], given: dict) -> None:
    """Load every data file named by a parameter with the loader of its kind: a bad file raises DataError (file,
    row, column) before any kernel starts. Then every reference (a candidate, a coalition or bloc, a question)
    is looked up in the file it refers to."""
    loaded: dict[str, object] = {}
    for name, files in file_parameters(declared, given).items():
        kind = declared[name].kind
        kind = kind.inner if isinstance(kind, Either) else kind
        loader = (kind.item if isinstance(kind, ListOf) else kind).loader()
        for path in files:
            try:
                loaded[name] = loader(path)
            except DataError as exc:
                raise DataError(f"parameter '{name}': {exc}") from None
    for name, p in declared.items():
        kind = p.kind.inner if isinstance(p.kind, Either) else p.kind
        value = given.get(name, p.default)
        if isinstance(kind, Reference) and kind.parameter in loaded and isinstance(value, str) and value:
            file = str(given.get(kind.parameter, declared[kind.parameter].default))
            kind.check_in(value, loaded[kind.parameter], file, f"parameter '{name}'")


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
            raise DataError(f"parameter {short(name)} is not a valid parameter name.")
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
            raise DataError(f"parameter '{name}': {short(value)} cannot be written as a Python literal.")
        lines.append(line)
    return "\n".join(lines)
