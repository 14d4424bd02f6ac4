"""Shape checks of the kit's YAML files by JSON Schema (draft 2020-12): ``schemas/reports.schema.json`` for
``reports.yml`` and ``schemas/scenario.schema.json`` for a scenario file.

A schema says only the shape: which keys a mapping may and must have, each value's type, lists that may not be
empty. What a value means (a notebook exists, a party name resolves, a majority is at most the seats, a what-if
step applies) is checked in code after :func:`check`. Each schema gives the words of its messages: ``title``
names a mapping ("a what-if step"), ``description`` says what a value should be ("a list of parties").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from difflib import get_close_matches
from pathlib import Path

from helpers.core.errors import DataError
from helpers.data._table import excerpt

_FOLDER = Path(__file__).with_name("schemas")
#: The schemas the kit ships (``schemas/<name>.schema.json``).
SCHEMAS = ("reports", "rules", "scenario")
#: Which error to report when a place has several: the first of these keywords (others after).
_FIRST = ("type", "additionalProperties", "required", "oneOf", "anyOf", "enum", "minItems", "maxItems",
          "minProperties")
_TYPES = {"array": "a list", "object": "a mapping", "string": "text", "number": "a number",
          "integer": "a whole number", "null": "nothing", "boolean": "true or false"}


def found(value) -> str:
    """A value as a message names it: nothing, a mapping, a list, or the value quoted (at most 80 characters)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{excerpt(value)}'"


def place(path) -> str:
    """('what_if', 1, 'steps', 0, 'drop') -> "what_if[1].steps[0].drop"; odd keys are quoted."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += f"[{excerpt(str(p), 40)!r}]"
    return out


def node_at(root, path) -> tuple[int, int] | None:
    """(line, column), counted from 1, of the deepest node of the composed YAML tree `root` along `path` (keys
    and list indexes); None for an empty document."""
    import yaml

    node = root
    if node is None:
        return None
    for p in path:
        if isinstance(node, yaml.MappingNode):
            hit = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(p)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and 0 <= p < len(node.value):
            hit = node.value[p]
        else:
            hit = None
        if hit is None:
            break
        node = hit
    return node.start_mark.line + 1, node.start_mark.column + 1


@functools.cache
def validator(schema_name: str):
    """The draft 2020-12 validator of ``schemas/<schema_name>.schema.json`` (jsonschema is imported here, on
    first use, so a command that reads no YAML file does not pay for it)."""
    import sys

    # as in helpers.pipeline: keep jsonschema from importing the slow optional rfc3987_syntax ("iri" formats)
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from jsonschema import Draft202012Validator

    schema = json.loads((_FOLDER / f"{schema_name}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def check(data, schema_name: str, file: str, root, *, where: Callable[[tuple], str] = place) -> None:
    """Check `data` (read from the file called `file` in messages; `root` its composed YAML tree) against the
    schema `schema_name`. DataError naming the file, the YAML path (``reports[2].parameters``), its line and
    column, and what was expected, for the first problem in the file (a mapping's own keys, unknown or missing,
    before what is inside its values); nothing when the shape is right.
    `where` turns a path into the place shown (a scenario file adds what-ifs' names)."""
    errors = list(validator(schema_name).iter_errors(data))
    if not errors:
        return

    def order(e):
        at = node_at(root, e.absolute_path) or (0, 0)
        rank = _FIRST.index(e.validator) if e.validator in _FIRST else len(_FIRST)
        return at, len(e.absolute_schema_path), rank, list(map(str, e.absolute_schema_path))

    error = min(errors, key=order)
    path, problem = _sentence(error)
    at = node_at(root, path)
    shown = where(tuple(path))
    lines = f"line {at[0]}, column {at[1]}" if at else ""
    head = f"{file}, {shown} ({lines})" if shown and lines else f"{file}, {shown or lines}".rstrip(", ")
    raise DataError(f"{head}: {excerpt(problem, 400)}")


def _sentence(error) -> tuple[list, str]:
    """The place an error is about and the kit's sentence for it."""
    schema, value, path = error.schema, error.instance, list(error.absolute_path)
    kind = error.validator
    title = schema.get("title", "")
    expected = schema.get("description") or title
    if kind == "type":
        types = [error.validator_value] if isinstance(error.validator_value, str) else error.validator_value
        expected = expected or " or ".join(_TYPES[t] for t in types if t != "null")
        if not path:
            return path, f"expected {expected} at the top; found {'an empty file' if value is None else found(value)}."
        return path, f"{found(value)} is not {expected}."
    if kind == "additionalProperties":
        known = list(schema.get("properties", {}))
        key = next(k for k in value if k not in known)
        near = get_close_matches(str(key), known, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        kinds = _kinds(schema)  # a mapping of one of several kinds (a what-if step): name the kinds, not every key
        keys = f"one of {_or(kinds)} (with its options)" if kinds else _or(known)
        return [*path, key], (f"unknown key '{excerpt(key, 40)}'{' in ' + title if title else ''}; {hint}"
                              f"expected {keys}.")
    if kind == "required":
        key = next(k for k in error.validator_value if k not in value)
        needs = _or(error.validator_value, "and")
        return path, f"'{key}' is missing; {title or 'this mapping'} needs {needs}."
    if kind == "oneOf" and isinstance(value, dict) and _kinds(schema):
        has = [str(k) for k in value if k in _kinds(schema)]
        has_text = f"{len(has)}: {', '.join(has)}" if has else "none"
        return path, f"{title or 'this mapping'} does one thing: one of {_or(_kinds(schema))}; this one has {has_text}."
    if kind in ("minItems", "minProperties") and not value:
        return path, f"is empty; expected {expected}."
    if kind in ("minItems", "maxItems"):
        return path, f"has {len(value)} item{'s' if len(value) != 1 else ''}; expected {expected}."
    return path, f"{found(value)} is not {expected or 'of the expected shape'}."


def _kinds(schema: dict) -> list[str]:
    """The keys of a mapping that is one of several kinds, each kind known by its key (``oneOf`` of ``required``
    of one key, as a what-if step); [] for another schema."""
    alternatives = schema.get("oneOf", [])
    if alternatives and all(set(a) == {"required"} and len(a["required"]) == 1 for a in alternatives):
        return [a["required"][0] for a in alternatives]
    return []


def _or(words, joint: str = "or") -> str:
    """['a', 'b', 'c'] -> 'a, b or c'."""
    words = [str(w) for w in words]
    return f" {joint} ".join(", ".join(words).rsplit(", ", 1)) if words else ""
