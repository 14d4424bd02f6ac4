"""Kinds of values: one validator per kind of notebook parameter or command-line option.

Each kind is a class: :class:`Text`, :class:`Bool`, :class:`Whole` (whole numbers and counts in a range, seeds),
:class:`Number` (numbers and percentages in a range, each end in or out), :class:`Date` (a day, or a partial
date), :class:`Choice`, :class:`DataFile` (a data file of a kind that names its loader in ``helpers.data``),
:class:`Reference` (a name inside another parameter's file), :class:`ListOf`, :class:`Mapping`,
:class:`Anything`, and :class:`Either` (a kind that may also be empty or one special number). A notebook or the
command line declares them in words (:mod:`helpers.pipeline.declarations`); no check anywhere is keyed on a
parameter's name.

Every value is plain data first (:func:`helpers.pipeline.values.plain`); then its kind reads command-line text
(``read``), checks the type (``convert``; a whole number is a number too) and the range or format (``check``).
A problem is a :class:`ParameterError` naming ``where`` (``parameter 'draws'`` or ``--draws``). Standard library
only (a date's check imports the kit's date reader), so the command line checks an option in a fraction of a
second.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from helpers.core.errors import DataError, ParameterError
from helpers.pipeline.values import INT_MAX, INT_MIN, check_text, plain, short, what


def _num(x: float) -> str:
    """A bound or value for messages: 36,500 and 2.5, not 36500.0."""
    if isinstance(x, float) and not math.isfinite(x):
        return "infinity" if x > 0 else "minus infinity"
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e18 else f"{x:g}"


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


_PYTHON = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}


class Kind:
    """A kind of value: `type` is the plain type of its values (str, int, float, bool, list, dict or any)."""

    type = "any"
    noun = "plain data"

    def describe(self) -> str:
        """What a value of this kind is, for messages: "a percentage above 0 and at most 100"."""
        return self.noun

    def read(self, text: str, where: str):
        """Command-line text as a value of this kind's type (not yet checked)."""
        return text

    def convert(self, value, where: str):
        """A plain value as this kind's type (a whole number is a number too), else ParameterError."""
        expected = _PYTHON.get(self.type)
        if expected is not None and type(value) is not expected:
            raise self._wrong(value, where)
        return value

    def check(self, value, where: str) -> None:
        """Range and format checks of a value of the right type; ParameterError naming `where`."""

    def files(self, value) -> list[str]:
        """The data files a value of this kind names (file kinds only)."""
        return []

    def validate(self, value, where: str, *, from_text: bool = False):
        """`value` (command-line text when `from_text`) checked in full and converted: the value the notebook
        gets. ParameterError naming `where` when it does not fit."""
        if from_text and isinstance(value, str):
            check_text(value, where)
            value = self.read(value, where)
        value = plain(value, where)
        value = self.convert(value, where)
        self.check(value, where)
        return value

    def _wrong(self, value, where: str) -> ParameterError:
        return ParameterError(f"{where}: {short(value)} is {what(value)}; expected {self.describe()}.")

    def _parse(self, parse, text: str, where: str):
        """`parse(text)` (int, float), its ValueError a ParameterError naming `where` and this kind."""
        try:
            return parse(text.strip())
        except ValueError:
            raise self._unreadable(text, where) from None

    def _unreadable(self, text: str, where: str) -> ParameterError:
        return ParameterError(f"{where}: {short(text)} is not {self.describe()}.")


@dataclass(frozen=True)
class Anything(Kind):
    """Any plain data."""


@dataclass(frozen=True)
class Mapping(Kind):
    """A mapping of text keys to plain data (YAML or JSON on the command line)."""

    type, noun = "dict", "a mapping"

    def read(self, text: str, where: str):
        return _yaml(text, self, where)


@dataclass(frozen=True)
class Text(Kind):
    """Any text."""

    type, noun = "str", "text"


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class Bool(Kind):
    """True or false (on the command line: true/false, yes/no, 1/0, on/off)."""

    type, noun = "bool", "true or false"

    def read(self, text: str, where: str):
        word = text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise self._unreadable(text, where)
        return word in _TRUE


@dataclass(frozen=True)
class Whole(Kind):
    """A whole number from `low` to `high`, both included (64-bit when unbounded); `unit` names what it counts."""

    low: int = INT_MIN
    high: int = INT_MAX
    unit: str = ""
    noun: str = "a whole number"

    type = "int"

    def describe(self) -> str:
        text = self.noun + (f" of {self.unit}" if self.unit else "")
        if self.low > INT_MIN and self.high < INT_MAX:
            return f"{text} from {_num(self.low)} to {_num(self.high)}"
        if self.low > INT_MIN:
            return f"{text} of at least {_num(self.low)}"
        if self.high < INT_MAX:
            return f"{text} of at most {_num(self.high)}"
        return text

    def read(self, text: str, where: str):
        return self._parse(int, text, where)

    def check(self, value, where: str) -> None:
        from helpers.core import limits

        try:
            limits.check_count(value, where, self.low, self.high)  # the kit's one sentence for counts
        except DataError as exc:
            raise ParameterError(str(exc)) from None


@dataclass(frozen=True)
class Number(Kind):
    """A finite number from `low` to `high`; an end is left out when its `*_open` flag is set. A percentage
    (`percent`) says so in its messages, with the range written as ``0 <= t < 100``."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    unit: str = ""
    percent: bool = False

    type = "float"

    def describe(self) -> str:
        text = "a percentage" if self.percent else "a number" + (f" of {self.unit}" if self.unit else "")
        low, high = _num(self.low), _num(self.high)
        if math.isfinite(self.low) and math.isfinite(self.high):
            words = {(False, False): f"from {low} to {high}", (True, False): f"above {low} and at most {high}",
                     (False, True): f"from {low} up to (not including) {high}",
                     (True, True): f"above {low} and below {high}"}[self.low_open, self.high_open]
        elif math.isfinite(self.low):
            words = f"above {low}" if self.low_open else f"of at least {low}"
        elif math.isfinite(self.high):
            words = f"below {high}" if self.high_open else f"of at most {high}"
        else:
            return text
        text = f"{text} {words}"
        if self.percent:
            text += f" ({low} {'<' if self.low_open else '<='} t {'<' if self.high_open else '<='} {high})"
        return text

    def read(self, text: str, where: str):
        return self._parse(float, text, where)

    def convert(self, value, where: str):
        if type(value) is int:
            return float(value)
        if type(value) is not float:
            raise self._wrong(value, where)
        return value

    def check(self, value, where: str) -> None:
        below = value <= self.low if self.low_open else value < self.low
        above = value >= self.high if self.high_open else value > self.high
        if below or above:
            raise ParameterError(f"{where}: {value:g} is not {self.describe()}.")


@dataclass(frozen=True)
class Date(Kind):
    """A date as text: a whole day YYYY-MM-DD, or (`partial`) also YYYY-MM or YYYY."""

    partial: bool = False

    type = "str"

    def describe(self) -> str:
        if self.partial:
            return "a date written YYYY-MM-DD (or YYYY-MM, or YYYY when only the month or year is known)"
        return "a date written YYYY-MM-DD (a whole date: year, month and day)"

    def check(self, value, where: str) -> None:
        from helpers.data._table import parse_partial_date  # the kit's one date reader (standard library)

        try:
            precision = parse_partial_date(value)[2]
        except ValueError:
            precision = None
        if precision is None or (precision != "day" and not self.partial):
            raise ParameterError(f"{where}: {short(value)} is not {self.describe()}.")


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few literal values (all text, or all numbers)."""

    values: tuple = ()

    @property
    def type(self) -> str:  # type: ignore[override]
        return "str" if all(type(v) is str for v in self.values) else "float"

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) if type(v) is str else _num(v) for v in self.values)

    def read(self, text: str, where: str):
        return text if self.type == "str" else Number().read(text, where)

    def convert(self, value, where: str):
        return super().convert(value, where) if self.type == "str" else Number().convert(value, where)

    def check(self, value, where: str) -> None:
        if value not in self.values:
            raise ParameterError(f"{where}: {short(value)} is not {self.describe()}.")


@dataclass(frozen=True)
class DataFile(Kind):
    """A path to a data file of kind `file` (relative to the project root), loaded by ``helpers.data``'s
    ``load_<file>`` before any kernel starts."""

    file: str = ""

    type = "str"

    def describe(self) -> str:
        return _a(f"{self.file} file")

    def check(self, value, where: str) -> None:
        if not value.strip():
            raise ParameterError(f"{where}: a data file is required here ({self.describe()}); the value is "
                                 f"{'empty' if not value else 'blank'}.")

    def files(self, value) -> list[str]:
        return [value] if isinstance(value, str) and value else []

    def loader(self):
        """The function that loads and checks such a file (DataError naming file, row and column)."""
        from helpers import data

        return data.loader_for(self.file)


def _candidates(frame) -> list[str]:
    return [str(c) for c in frame["candidate"]]


def _contests(contests) -> list[str]:
    return [str(c) for c in dict.fromkeys(contests["contest"])]


def _groups(scenario) -> list[str]:
    blocs = list(dict(scenario.blocs))
    return blocs + [k for k in dict(scenario.coalitions) if k not in blocs]


def _questions(polls) -> list[str]:
    return [q for q in dict.fromkeys(polls.drop_duplicates("poll_id")["question"].tolist()) if q]


#: What a reference may name: thing -> (the kinds of file it is found in, its names in a loaded file, how a
#: message names it).
THINGS = {
    "candidate": (("candidates", "round"), _candidates, "a candidate"),
    "contest": (("contests",), _contests, "a contest"),
    "coalition or bloc": (("scenario",), _groups, "a coalition or bloc"),
    "question": (("polls",), _questions, "a question asked"),
}


@dataclass(frozen=True)
class Reference(Kind):
    """A name of a `thing` found in the data file of another parameter, `parameter` (letter case ignored, as
    the notebooks ignore it). Checked against the loaded file by :meth:`check_in` before any kernel starts."""

    thing: str = "candidate"
    parameter: str = ""

    type = "str"

    def describe(self) -> str:
        return f"{THINGS[self.thing][2]} in the file of parameter '{self.parameter}'"

    def check(self, value, where: str) -> None:
        if not value.strip():
            raise ParameterError(f"{where}: a name is required here ({self.describe()}).")

    def files_of(self, kind: Kind) -> bool:
        """Whether `kind` (the referred parameter's) is a data file this thing is found in."""
        kind = kind.inner if isinstance(kind, Either) else kind
        return isinstance(kind, DataFile) and kind.file in THINGS[self.thing][0]

    def file_kinds_text(self) -> str:
        return " or ".join(_a(f"{k} file") for k in THINGS[self.thing][0])

    def check_in(self, value, loaded, file: str, where: str) -> None:
        """`value` names a `thing` of the loaded file `loaded` (read from `file`), else ParameterError listing
        the names there are."""
        from helpers.data._names import NameIndex

        _kinds, names_of, noun = THINGS[self.thing]
        known = names_of(loaded)
        if NameIndex.of(known).find(value) is not None:
            return
        if not known:
            raise ParameterError(f"{where}: {short(value)} is not {noun} in {file}, which has none (leave it "
                                 "empty).")
        listed = ", ".join(f"'{k}'" for k in known[:20]) + (", ..." if len(known) > 20 else "")
        raise ParameterError(f"{where}: {short(value)} is not {noun} in {file}; the choices are {listed}.")


@dataclass(frozen=True)
class ListOf(Kind):
    """A list whose items are each of kind `item` (on the command line: YAML/JSON, or words separated by
    commas). A list of data files holds at least one."""

    item: Kind = field(default_factory=Anything)

    type = "list"

    def describe(self) -> str:
        return "a list" + ("" if isinstance(self.item, Anything) else f", each item {self.item.describe()}")

    def read(self, text: str, where: str):
        value = _yaml(text, self, where)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return value

    def convert(self, value, where: str):
        value = super().convert(value, where)
        return [self.item.convert(x, f"{where}, item {i}") for i, x in enumerate(value, start=1)]

    def check(self, value, where: str) -> None:
        if not value and isinstance(self.item, DataFile):
            raise ParameterError(f"{where}: a data file is required here ({self.describe()}); the list is empty.")
        for i, x in enumerate(value, start=1):
            self.item.check(x, f"{where}, item {i}")

    def files(self, value) -> list[str]:
        return [f for x in (value if isinstance(value, list) else []) for f in self.item.files(x)]


@dataclass(frozen=True)
class ThresholdWords(Kind):
    """A threshold in the kit's one set of words (:mod:`helpers.core.threshold`): a percent of the valid votes
    (3.25, "3.25%"), an exact fraction of them ("1/150") or a number of quotas ("1 quota"). A number (or text
    that is just a number) is kept as a float, anything else as its text; the notebook or command reads it with
    :func:`helpers.core.threshold.parse_threshold`, which these checks call (quotas are checked against the seats
    there)."""

    type = "any"

    def describe(self) -> str:
        from helpers.core.threshold import ACCEPTED

        return ACCEPTED

    def read(self, text: str, where: str):
        try:
            return float(text.strip()) if _PLAIN_NUMBER.fullmatch(text.strip()) else " ".join(text.split())
        except ValueError:
            return text

    def convert(self, value, where: str):
        if type(value) is int:
            return float(value)
        if type(value) not in (float, str):
            raise self._wrong(value, where)
        return value

    def check(self, value, where: str) -> None:
        from helpers.core.threshold import parse_threshold

        try:
            parse_threshold(value, where)
        except DataError as exc:
            raise ParameterError(str(exc)) from None


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Either(Kind):
    """A kind `inner` that may also be one `special` value ("" for empty, or a number), which `meaning` explains:
    ``date, or empty for the latest``; ``number of points [0, 50], or -1 for the scenario's own``."""

    inner: Kind = field(default_factory=Anything)
    special: object = ""
    meaning: str = ""

    @property
    def type(self) -> str:  # type: ignore[override]
        return self.inner.type

    def _special(self) -> str:
        return ("empty" if self.special == "" else _num(self.special)) + (f" {self.meaning}" if self.meaning else "")

    def describe(self) -> str:
        return f"{self.inner.describe()}, or {self._special()}"

    def _is_special(self, value) -> bool:
        if self.special == "":
            return value == "" or value == []
        return type(value) in (int, float) and value == self.special

    def validate(self, value, where: str, *, from_text: bool = False):
        if from_text and isinstance(value, str):
            check_text(value, where)
            if value == "" and self.special == "":
                return [] if self.inner.type == "list" else ""
            value = self.inner.read(value, where)
        value = plain(value, where)
        if self.special == "" and self._is_special(value):
            return [] if self.inner.type == "list" else value
        value = self.inner.convert(value, where)
        if self._is_special(value):
            return value
        try:
            self.inner.check(value, where)
        except ParameterError as exc:
            raise ParameterError(f"{exc} It may also be {self._special()}.") from None
        return value

    def files(self, value) -> list[str]:
        return self.inner.files(value)


def _yaml(text: str, kind: Kind, where: str):
    """Command-line text read with the kit's one YAML loader (no anchors or aliases, no key twice, bounded
    nesting); its problem is a ParameterError saying what the kind expected."""
    from helpers.data._table import parse_yaml

    try:
        return parse_yaml(text, "the YAML")
    except DataError as exc:
        raise ParameterError(f"{where}: {short(text)} is not {kind.describe()} ({str(exc).rstrip('.')}).") from None
