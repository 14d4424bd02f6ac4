"""The threshold words: one reader for every place a threshold is written (a rules file, ``--threshold`` of
``seats`` and ``simulate``, a notebook parameter of the kind ``threshold``).

A threshold is a share of the valid votes a list needs to take part in the allocation, written as

- a bare number or ``N%``: that percent of the valid votes, 0 <= N < 100 (``3.25``, ``"3.25%"``, ``5``);
- ``a/b`` with whole a and b: that exact fraction of the valid votes, 0 <= a/b < 1 (``"1/150"``);
- ``N quota`` or ``N quotas`` with a whole N: N/seats of the valid votes (``"1 quota"`` is 1/150 of 150
  seats), which needs the number of seats.

:func:`parse_threshold` returns the threshold as an exact :class:`fractions.Fraction` *percent* (what
:func:`helpers.models.seats.allocate` takes: ``"1/150"`` is ``Fraction(2, 3)``) and the words a reader is shown
(``"1/150 of the valid votes (one full quota)"``, ``"3.25%"``). A list passes when
``votes * 100 >= percent * total``, compared exactly. Standard library only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

from helpers.core.errors import DataError

#: What a threshold may be, for messages.
ACCEPTED = ("a percent of the valid votes such as 3.25 or 3.25% (0 <= t < 100), an exact fraction of the valid "
            "votes such as 1/150, or a number of quotas such as 1 quota")

_PERCENT = re.compile(r"(?P<n>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<sign>%?)")
_FRACTION = re.compile(r"(?P<a>[+-]?\d+)\s*/\s*(?P<b>[+-]?\d+)")
_QUOTA = re.compile(r"(?P<n>[+-]?\d+)\s+(?:full\s+)?quotas?", re.IGNORECASE)
_SMALL = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_LONGEST = 100  # characters of text read; a threshold is a few words


@dataclass(frozen=True)
class Threshold:
    """A threshold read from its words: `percent` (an exact Fraction, 0 <= percent < 100) and `text`, the words
    a reader is shown."""

    percent: Fraction
    text: str

    @property
    def fraction(self) -> Fraction:
        """The share of the valid votes (0 <= fraction < 1)."""
        return self.percent / 100


def _quotas(k: int) -> str:
    return f"{_SMALL[k] if k < len(_SMALL) else f'{k:,}'} full quota{'' if k == 1 else 's'}"


def _decimal(p: Fraction) -> str | None:
    """`p` as a short exact decimal (13/4 -> "3.25", 5 -> "5"), or None when it has no such decimal."""
    d = p.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    places = max(twos, fives)
    if d != 1 or places > 12:
        return None
    if places == 0:
        return str(p.numerator)
    whole, rest = divmod(p.numerator * 10**places // p.denominator, 10**places)
    return f"{whole}.{rest:0{places}d}".rstrip("0").rstrip(".")


def _of_votes(a: int, b: int, seats: int | None) -> str:
    text = f"{a}/{b} of the valid votes"
    if seats and a:
        k = Fraction(a, b) * seats
        if k.denominator == 1:
            text += f" ({_quotas(int(k))})"
    return text


def percent_words(percent: Fraction, seats: int | None = None) -> str:
    """The reader's words for an exact percent: "3.25%" when it is a short decimal, else the fraction of the
    valid votes ("1/150 of the valid votes (one full quota)" with 150 seats)."""
    p = Fraction(percent)
    short = _decimal(p)
    if short is not None:
        return f"{short}%"
    f = p / 100
    return _of_votes(f.numerator, f.denominator, seats)


def short_words(percent: Fraction) -> str:
    """A table cell's words for an exact percent: "3.25%" when it is a short decimal, else the fraction of the
    valid votes with its rounded percent ("1/150 (0.67%)")."""
    p = Fraction(percent)
    short = _decimal(p)
    if short is not None:
        return f"{short}%"
    f = p / 100
    return f"{f.numerator}/{f.denominator} ({float(p):.2f}%)"


def parse_threshold(value, where: str = "the threshold", seats: int | None = None) -> Threshold:
    """`value` read as a threshold (the words in the module docstring): an exact percent and the reader's words.

    value: text, or a number (int, float, Fraction) taken as a percent; a float is the decimal it prints as
    (3.25 -> 13/4). where: the option or parameter, named in messages (``--threshold``,
    ``parameter 'threshold'``). seats: the seats to allocate, needed for ``N quota(s)``; without it (a check
    before the seats are known) quotas are read but not converted, and the Threshold's percent is None.

    Bad text, or a value out of range, is a DataError naming `where` and saying what is accepted."""
    if isinstance(value, bool) or not isinstance(value, str | Real):
        raise DataError(f"{where}: {value!r} is not a threshold; use {ACCEPTED}.")
    if isinstance(value, str):
        return _parse_text(value, where, seats)
    if isinstance(value, Fraction | Integral):
        percent = Fraction(value)
    else:
        if not math.isfinite(value):
            raise DataError(f"{where}: {value!r} is not a threshold; use {ACCEPTED}.")
        percent = Fraction(repr(float(value)))
    text = _decimal(percent)
    return _checked(percent, f"{text}%" if text is not None else percent_words(percent, seats), where,
                    _decimal(percent) or str(value))


def _parse_text(raw: str, where: str, seats: int | None) -> Threshold:
    text = " ".join(raw.split())
    shown = repr(text if len(text) <= 30 else text[:30] + "…")
    if len(raw) > _LONGEST:
        raise DataError(f"{where}: {shown} is not a threshold; use {ACCEPTED}.")
    m = _PERCENT.fullmatch(text)
    if m:
        try:
            percent = Fraction(m["n"])
        except (ValueError, OverflowError):
            raise DataError(f"{where}: {shown} is not a threshold; use {ACCEPTED}.") from None
        words = _decimal(percent)
        return _checked(percent, f"{words if words is not None else m['n']}%", where, text)
    m = _FRACTION.fullmatch(text)
    if m:
        a, b = int(m["a"]), int(m["b"])
        if b <= 0 or a < 0 or a >= b:
            raise DataError(f"{where}: {shown} is a fraction of the valid votes outside 0 <= a/b < 1; use {ACCEPTED}.")
        return Threshold(Fraction(100 * a, b), _of_votes(a, b, seats))
    m = _QUOTA.fullmatch(text)
    if m:
        k = int(m["n"])
        if k < 0:
            raise DataError(f"{where}: {shown} is a negative number of quotas; use {ACCEPTED}.")
        if seats is None:
            return Threshold(None, text)  # type: ignore[arg-type]  # read; converted once the seats are known
        if k >= seats:
            raise DataError(f"{where}: {shown} is {k:,} quotas of {seats:,} seats, the whole of the valid votes or "
                            f"more; a threshold is less than all of them (0 <= t < 100%).")
        if k == 0:
            return Threshold(Fraction(0), "0%")
        return Threshold(Fraction(100 * k, seats), _of_votes(k, seats, seats))
    raise DataError(f"{where}: {shown} is not a threshold; use {ACCEPTED}.")


def _checked(percent: Fraction, words: str, where: str, shown: str) -> Threshold:
    if not 0 <= percent < 100:
        raise DataError(f"{where}: {shown} is out of range: a threshold is a percent of valid votes with "
                        f"0 <= t < 100.")
    return Threshold(percent, words)


def needs_seats(value) -> bool:
    """Whether `value` counts quotas (so its percent depends on the seats)."""
    return isinstance(value, str) and _QUOTA.fullmatch(" ".join(value.split())) is not None
