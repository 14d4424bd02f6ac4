"""Plain data: what every parameter value is before its kind is checked (helpers.pipeline.kinds).

A value is text, a whole number (64-bit), a finite number, true/false, null, or a list or mapping (text keys) of
those, within :data:`MAX_TEXT` characters per text, :data:`MAX_ITEMS` elements and :data:`MAX_DEPTH` levels; dates
become ISO text. Anything else a YAML file or a ``-p`` value can hold (``!!binary`` bytes, ``!!set``, the pairs of
``!!omap``/``!!pairs``, NaN or infinity, any object) is a ParameterError, so the pipeline can write every value
into the notebook as a Python literal. Standard library only.
"""

from __future__ import annotations

import datetime as dt
import math

from helpers.core.errors import ParameterError

#: Most characters in one text value (a path, a name, a date, one element of a list or mapping).
MAX_TEXT = 10_000
#: Most elements in the lists and mappings of one value, nested ones counted too.
MAX_ITEMS = 10_000
#: Deepest nesting of lists and mappings in one value.
MAX_DEPTH = 8
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def short(value, limit: int = 60) -> str:
    """A short repr for messages: bounded in length and in the work done, whatever `value` holds."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxother, r.maxlong = 2, limit, limit, 40
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = 4
    text = r.repr(value)
    return text if len(text) <= limit + 20 else text[:limit] + "…"


def what(v) -> str:
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


def check_text(text: str, where: str) -> None:
    """Text within :data:`MAX_TEXT` characters, valid UTF-8, no NUL character; ParameterError otherwise."""
    if len(text) > MAX_TEXT:
        raise ParameterError(f"{where}: the text has {len(text):,} characters; at most {MAX_TEXT:,} are allowed.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParameterError(f"{where}: the text is not valid UTF-8 (it holds an undecodable byte or a lone "
                             f"surrogate: {short(text)}).") from None
    if "\x00" in text:
        raise ParameterError(f"{where}: the text holds a NUL character.")


def plain(value, where: str = "parameter"):
    """`value` as plain data: text, whole numbers (64-bit), finite numbers, true/false, null, and lists and
    mappings (text keys) of those, within :data:`MAX_TEXT`, :data:`MAX_ITEMS` and :data:`MAX_DEPTH`; dates become
    ISO text. Returns a fresh copy; ParameterError naming the element otherwise (a YAML ``!!binary``, ``!!set``,
    ``!!omap`` or ``!!pairs`` value, NaN, an object...). Bounded work even for YAML alias bombs."""
    budget = [MAX_ITEMS]

    def walk(v, depth: int, at: str):
        kind = type(v)
        if v is None or kind is bool:
            return v
        if kind is int:
            if not INT_MIN <= v <= INT_MAX:
                raise ParameterError(f"{at}: {short(v)} is too large a whole number (at most 2^63 - 1 either way).")
            return v
        if kind is float:
            if not math.isfinite(v):
                raise ParameterError(f"{at}: {v!r} is not a finite number.")
            return v
        if kind is str:
            check_text(v, at)
            return v
        if kind is dt.date or kind is dt.datetime:
            return v.isoformat()  # YAML reads 2022-10-01 as a date; notebooks take dates as text
        if kind is list or kind is dict:
            if depth >= MAX_DEPTH:
                raise ParameterError(f"{at}: lists and mappings are nested more than {MAX_DEPTH} deep.")
            budget[0] -= len(v)
            if budget[0] < 0:
                raise ParameterError(f"{at}: the value holds more than {MAX_ITEMS:,} elements.")
            if kind is list:
                return [walk(x, depth + 1, f"{at}, item {i}") for i, x in enumerate(v, start=1)]
            out = {}
            for k, x in v.items():
                if type(k) is not str:
                    raise ParameterError(f"{at}: the key {short(k)} is {what(k)}; keys must be text.")
                check_text(k, f"{at}, a key")
                out[k] = walk(x, depth + 1, f"{at}, key {short(k)}")
            return out
        raise ParameterError(f"{at}: {short(v)} is {what(v)}, not plain data (text, numbers, true/false, dates, "
                             "and lists and mappings of those).")

    return walk(value, 0, where)
