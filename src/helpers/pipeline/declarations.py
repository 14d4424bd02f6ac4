"""Declared kinds: the words a notebook's ``parameters`` cell or a command-line option uses to say what a
value may be, read into the validators of :mod:`helpers.pipeline.kinds`.

A notebook declares each parameter's kind in its ``parameters`` cell as a string annotation, which Python
(papermill, JupyterLab) evaluates and ignores::

    polls: "polls file" = "data/polls/knesset-2022.csv"  # polls file (CSV), relative to the project root
    threshold: "percent (0, 100]" = 40.0  # first-round share (percent) that wins outright
    as_of: "date, or empty for the latest" = ""  # last poll date to use
    draws: "count 1..MAX_DRAWS" = 20000  # simulated elections
    follow: "candidate of candidates" = "Ehud Barak"  # the candidate the report follows

The command line declares its options with the same words (``helpers.cli``), so ``ballotbook primary
--threshold`` and a notebook's ``threshold: "percent (0, 100]"`` are checked by the same function.

Grammar (spaces between words are free; keywords are lower case)::

    kind     := base [", or " SPECIAL [MEANING]]
    base     := "text" | "bool" | "mapping" | "any"
              | "whole number" [" of " UNIT] [" " L ".." H]      whole number, both ends included
              | "count" [" of " UNIT] [" " L ".." H]             the same; without a range: at least 1
              | "seed"                                            count 0..MAX_SEED
              | "number" [" of " UNIT] [" " RANGE]               a finite number
              | "percent" [" " RANGE]                             a number, by default [0, 100]
              | "threshold"                                       3.25, "3.25%", "1/150" or "1 quota"
                                                                  (helpers.core.threshold)
              | "date"                                            YYYY-MM-DD, a real day
              | "partial date"                                    YYYY, YYYY-MM or YYYY-MM-DD
              | "one of " LITERAL {", " LITERAL}                  a choice: 'text', a number or a bare word
              | FILE " file"                                      a data file of that kind, loaded before any run
              | THING " of " PARAMETER                            a name inside the file of another parameter
              | "list of " base                                   plural words welcome: "list of poll files"
    RANGE    := ("[" | "(") L ", " H ("]" | ")")  |  L ".." H      "(" and ")" leave the end out
    L, H     := a number, "inf", "-inf", or a name of helpers.core.limits (MAX_SEATS, MAX_DRAWS, MAX_SEED...)
    SPECIAL  := "empty" | a number                                one more value the parameter may take
    FILE     := a loader of helpers.data, load_FILE: events, polls, votes (or results), pairs (or agreements),
                seats, candidates, round, poll, rounds, contests, transfers, elections, scenario, parties
    THING    := "candidate" (of a candidates or round file) | "coalition or bloc" (of a scenario file)
              | "question" (of a polls file)

``MEANING`` is free text saying what the special value means (``", or empty for the latest"``,
``", or -1 for the scenario's own"``). A data file, a reference and a date must be given unless the kind says
``, or empty``; a list of files holds at least one file unless it says so too. The Python types of older
cells (``str``, ``int``, ``float``, ``bool``, ``list``, ``list[int]``, ``dict``) mean text, whole number,
number, bool, list of any, list of whole numbers and mapping.
"""

from __future__ import annotations

import ast
import math
import re

from helpers.core.errors import DataError
from helpers.pipeline.kinds import (
    THINGS,
    Anything,
    Bool,
    Choice,
    DataFile,
    Date,
    Either,
    Kind,
    ListOf,
    Mapping,
    Number,
    Reference,
    Text,
    ThresholdWords,
    Whole,
)
from helpers.pipeline.values import INT_MAX, INT_MIN

_NUMBER = r"[-+]?(?:\d[\d_]*(?:\.\d*)?(?:e[-+]?\d+)?|inf)|[A-Z][A-Z_]*"
_WHOLE_RANGE = re.compile(rf"(?P<low>{_NUMBER})\s*\.\.\s*(?P<high>{_NUMBER})")
_INTERVAL = re.compile(rf"(?P<open>[\[(])\s*(?P<low>{_NUMBER})\s*,\s*(?P<high>{_NUMBER})\s*(?P<close>[\])])")
_NUMERIC = re.compile(r"(?P<base>whole number|count|number|percent|percentage)(?: of (?P<unit>[a-z][a-z ]*?))?"
                      r"(?: (?P<range>[\[(\d\-+A-Zi].*))?")
_PLURALS = re.compile(r"\b(file|number|date|count|percentage|candidate|question|seed|mapping|bool)s\b")
_PYTHON = {"str": "text", "int": "whole number", "float": "number", "bool": "bool", "list": "list of any",
           "dict": "mapping", "any": "any"}


def _bound(text: str, spec: str, *, whole: bool) -> float:
    from helpers.core import limits

    if text[:1].isupper():
        value = getattr(limits, text, None)
        if not isinstance(value, int):
            raise _bad(spec, f"'{text}' is not a bound in helpers.core.limits")
        return value
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise _bad(spec, f"'{text}' is not a number") from None
    if whole:
        if not value.is_integer():
            raise _bad(spec, f"'{text}' is not a whole number")
        return int(value)
    return value


def _bad(spec: str, problem: str) -> DataError:
    return DataError(f"the kind '{spec}' cannot be read: {problem} (see helpers.pipeline.kinds for the kinds).")


def _numeric(m: re.Match, spec: str) -> Kind:
    base, unit, rng = m.group("base"), m.group("unit") or "", (m.group("range") or "").strip()
    if base in ("whole number", "count"):
        low, high = (1 if base == "count" else INT_MIN), INT_MAX
        if rng:
            r = _WHOLE_RANGE.fullmatch(rng)
            if not r:
                raise _bad(spec, f"'{rng}' is not a range of whole numbers such as 1..MAX_DRAWS")
            low, high = _bound(r["low"], spec, whole=True), _bound(r["high"], spec, whole=True)
        if low > high:
            raise _bad(spec, "its range is empty")
        return Whole(low, high, unit)
    percent = base in ("percent", "percentage")
    low, high, low_open, high_open = (0.0, 100.0, False, False) if percent else (-math.inf, math.inf, False, False)
    if rng:
        r = _INTERVAL.fullmatch(rng) or _WHOLE_RANGE.fullmatch(rng)
        if not r:
            raise _bad(spec, f"'{rng}' is not a range such as [0, 100), (0, 50] or 1..10")
        low, high = _bound(r["low"], spec, whole=False), _bound(r["high"], spec, whole=False)
        low_open = r.groupdict().get("open") == "("
        high_open = r.groupdict().get("close") == ")"
    if low > high or (low == high and (low_open or high_open)):
        raise _bad(spec, "its range is empty")
    return Number(float(low), float(high), low_open, high_open, unit, percent)


def _base(text: str, spec: str) -> Kind:
    from helpers import data

    python = re.fullmatch(r"list\[(\w+)\]", text)
    if python and python.group(1) in _PYTHON:
        return ListOf(_base(_PYTHON[python.group(1)], spec))
    if text in _PYTHON and text not in ("bool", "any"):
        return _base(_PYTHON[text], spec)
    simple = {"text": Text(), "bool": Bool(), "mapping": Mapping(), "any": Anything(), "date": Date(),
              "partial date": Date(partial=True), "threshold": ThresholdWords(), "seed": None}
    if text in simple:
        from helpers.core import limits

        return simple[text] or Whole(0, limits.MAX_SEED, noun="a seed, a whole number")
    if text.startswith("list of "):
        item = text[len("list of "):]
        try:
            return ListOf(_base(item, spec))
        except DataError:
            return ListOf(_base(_PLURALS.sub(r"\1", item), spec))
    if text.startswith("one of "):
        values = tuple(_literal(v.strip(), spec) for v in _split(text[len("one of "):], ","))
        if not values or len({type(v) is str for v in values}) > 1:
            raise _bad(spec, "a choice is among text values or among numbers")
        return Choice(values)
    m = re.fullmatch(r"([a-z]+) file", text)
    if m:
        file = m.group(1)
        if file not in data.file_kinds():
            raise _bad(spec, f"there is no kind of data file '{file}'; the kinds: {', '.join(data.file_kinds())}")
        return DataFile(file)
    m = re.fullmatch(r"(.+?) of ([A-Za-z_]\w*)", text)
    if m and m.group(1) in THINGS:
        return Reference(m.group(1), m.group(2))
    m = _NUMERIC.fullmatch(text)
    if m:
        return _numeric(m, spec)
    raise _bad(spec, f"'{text}' is not a kind")


def _split(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside quotes and brackets."""
    parts, depth, quote, start = [], 0, "", 0
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _literal(text: str, spec: str):
    if text[:1] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise _bad(spec, f"{text} is not a quoted text") from None
        if type(value) is not str:
            raise _bad(spec, f"{text} is not a quoted text")
        return value
    try:
        return float(text) if re.fullmatch(_NUMBER, text) and not text[:1].isupper() else text
    except ValueError:
        return text


def parse(spec: str) -> Kind:
    """The kind declared by `spec` (the grammar above); DataError saying what cannot be read."""
    text = " ".join(str(spec).split())
    parts = _split(text, ", or ")
    base = _base(parts[0], text)
    if len(parts) == 1:
        return base
    if len(parts) > 2:
        raise _bad(text, "it says ', or' more than once")
    m = re.fullmatch(r"(empty|[-+]?\d[\d_]*(?:\.\d*)?)(?: (.*))?", parts[1])
    if not m:
        raise _bad(text, "after ', or' comes 'empty' or a number, then what it means")
    special = "" if m.group(1) == "empty" else float(m.group(1).replace("_", ""))
    if special == "" and base.type not in ("str", "list", "any"):
        raise _bad(text, "only text, a file, a date, a name or a list may be empty")
    if special != "" and base.type not in ("int", "float"):
        raise _bad(text, "only a number may have a special number")
    if base.type == "int" and special != "":
        if not float(special).is_integer():
            raise _bad(text, f"{m.group(1)} is not a whole number")
        special = int(special)
    return Either(base, special, m.group(2) or "")


def infer(default) -> str:
    """The kind of an undeclared parameter, from its default: text, bool, whole number, number, mapping, a
    list of the default's items' kind (text for an empty list), or any."""
    names = {str: "text", bool: "bool", int: "whole number", float: "number", dict: "mapping"}
    if type(default) in names:
        return names[type(default)]
    if type(default) is list:
        items = {type(x) for x in default}
        if not items:
            return "list of text"
        if items == {int, float}:
            return "list of number"
        if len(items) == 1 and next(iter(items)) in (str, bool, int, float):
            return "list of " + names[next(iter(items))]
        return "list of any"
    return "any"
