"""Reading and validating tabular input files.

Every loader in ``helpers.data`` is built on :func:`read_table` and the ``column_*`` converters, so every bad
file produces the same kind of message: file, row, column, and what was expected. Rows are numbered as a
spreadsheet shows them: the header is row 1, the first data row is row 2; precisely, a row is the line of the
file its record starts on, as an editor shows it (the same unless a quoted cell spans lines).
"""

from __future__ import annotations

import array
import calendar
import csv
import datetime as dt
import io
import math
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from helpers.core import paths
from helpers.core.errors import DataError


def where(file: str | os.PathLike | None, row: int | None = None, column: str | None = None) -> str:
    """'data/polls.csv, row 14, column 'seats'' — the place a message points at."""
    parts = []
    if file is not None:
        parts.append(paths.display(file))
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


def fail(file, row=None, column=None, problem: str = "") -> DataError:
    """A DataError pointing at a place: ``raise fail(path, 14, "seats", "'-3' is not ...")``."""
    place = where(file, row, column)
    return DataError(f"{place}: {problem}" if place else problem)


def _shorten(value: str, limit: int = 40) -> str:
    value = value[: limit + 1].replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def excerpt(value, limit: int | None = None) -> str:
    """`value` as text for a message: on one line, at most `limit` characters (cut with an ellipsis). Only the
    start of a long value is looked at, and containers are shown through ``reprlib``, so quoting a huge cell,
    key or nested value costs next to nothing."""
    limit = limit or EXCERPT
    if not isinstance(value, str):
        import reprlib

        r = reprlib.Repr()
        r.maxlevel, r.maxstring, r.maxother, r.maxlong = 2, limit, limit, limit
        r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = 4
        containers = (list, tuple, dict, set, frozenset, bytes, bytearray)
        value = r.repr(value) if isinstance(value, containers) else str(value)[: limit + 1]
    return _shorten(value, limit)


# ------------------------------------------------------------------------------------------- file limits
#: Largest file of each kind the kit reads, in bytes (README, "Data"). Far above any real file of the kind, low
#: enough that a wrong file (a disk image, a log, /dev/zero through a symlink) is refused before it fills memory:
#: at most limit + 1 bytes are ever read.
MAX_CSV_BYTES = 50_000_000        # a CSV data file (votes, polls, events, ...)
MAX_YAML_BYTES = 1_000_000        # reports.yml, a scenario file
MAX_NOTEBOOK_BYTES = 20_000_000   # a notebook (.ipynb)
#: Most columns a CSV data file may have (the widest shipped file has a dozen).
MAX_COLUMNS = 1_000
#: Deepest nesting of lists and mappings in a YAML file (the deepest real scenario file nests 5 levels).
MAX_YAML_DEPTH = 50
#: Most characters of a value quoted in a message.
EXCERPT = 80

_NOT_REGULAR = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def _check_regular(name: str, mode: int, what: str) -> None:
    if not stat.S_ISREG(mode):
        kind = next((text for test, text in _NOT_REGULAR if test(mode)), "not a regular file")
        raise DataError(f"{name} is {kind}, not a regular file; expected {what}.")


def read_file(path: str | os.PathLike, what: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see the limits above).

    DataError naming the file when it does not exist or cannot be read, or is a folder, a named pipe, a device or
    a socket (checked with ``stat`` before opening, so a pipe without a writer or /dev/zero never blocks or fills
    memory; opened non-blocking in case it was swapped since), or is larger than `limit` (checked from its size
    and again while reading: at most limit + 1 bytes are read)."""
    p = Path(path)
    name = paths.display(p)
    too_large = (f"{name} is larger than {_megabytes(limit)}, the most {what} may be; is it the right file? "
                 "(The limits are in the README, section Data.)")
    try:
        st = os.stat(p)
        _check_regular(name, st.st_mode, what)
        if st.st_size > limit:
            raise DataError(too_large)
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            _check_regular(name, st.st_mode, what)
            chunks, total = [], 0
            while total <= limit:  # one read for a file that did not change since stat; bounded if it grew
                chunk = os.read(fd, min(limit + 1 - total, max(st.st_size + 1 - total, 1 << 20)))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise DataError(f"{name} does not exist; expected {what}.") from None
    except IsADirectoryError:
        raise DataError(f"{name} is a folder, not a regular file; expected {what}.") from None
    except OSError as exc:
        raise DataError(f"{name} cannot be read ({exc.strerror or exc}).") from None
    if total > limit:
        raise DataError(too_large)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@dataclass
class Table:
    """A CSV file read as text: header, the cells of each named column, and the spreadsheet row number of each
    record. Kept by column (one list of strings per column, the row numbers in a compact array) rather than a
    dict per record, so a large file takes a small multiple of its size in memory."""

    path: Path
    columns: list[str]
    cells: dict[str, list[str]]
    rows: Sequence[int]

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, column: str) -> list[str]:
        """The raw cells of `column` (empty strings when the file has no such column)."""
        found = self.cells.get(column)
        return found if found is not None else [""] * len(self.rows)

    @property
    def records(self) -> Sequence[dict[str, str]]:
        """Record i as a dict (column -> cell), built when asked for."""
        return _Records(self)

    def text(self, column: str, *, required: bool = True, default: str = "") -> list[str]:
        """The column as stripped strings; an empty cell is an error when `required`."""
        out = []
        for cell, row in zip(self.column(column), self.rows, strict=True):
            value = cell.strip()
            if not value:
                if required and self.has(column):
                    raise fail(self.path, row, column, "is empty; a value is required")
                value = default
            out.append(value)
        return out

    def convert(self, column: str, parse: Callable[[str], object], expected: str, *,
                required: bool = True, default=None) -> list:
        """Apply `parse` to every cell of `column`; a cell it rejects (ValueError) names row and column."""
        out = []
        for cell, row in zip(self.column(column), self.rows, strict=True):
            raw = cell.strip()
            if not raw:
                if required:
                    raise fail(self.path, row, column, f"is empty; expected {expected}")
                out.append(default)
                continue
            try:
                out.append(parse(raw))
            except TooLarge:
                raise fail(self.path, row, column, f"'{_shorten(raw)}' is too large (at most {LARGEST:,})") from None
            except (ValueError, ArithmeticError):
                raise fail(self.path, row, column, f"'{_shorten(raw)}' is not {expected}") from None
        return out

    def integers(self, column: str, *, minimum: int | None = 0, required: bool = True, default=None,
                 unit: str = "whole number") -> list:
        expected = f"a {unit}" + (f" >= {minimum}" if minimum is not None else "")
        return self.convert(column, lambda s: parse_int(s, minimum), expected, required=required,
                            default=default)

    def numbers(self, column: str, *, minimum: float | None = None, maximum: float | None = None,
                required: bool = True, default=None, unit: str = "number") -> list:
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum:g}")
        if maximum is not None:
            bounds.append(f"<= {maximum:g}")
        expected = f"a {unit}" + (" " + " and ".join(bounds) if bounds else "")
        return self.convert(column, lambda s: parse_float(s, minimum, maximum), expected,
                            required=required, default=default)

    def dates(self, column: str, *, required: bool = True, default=None) -> list:
        return self.convert(column, parse_date, "a date written YYYY-MM-DD", required=required,
                            default=default)

    def unique(self, column: str, values: Sequence | None = None, what: str = "value") -> None:
        """Reject a repeated value (for keys): names both rows."""
        def key(value):
            return value.casefold() if isinstance(value, str) else value

        seen: set = set()  # keys only (the first row is looked up again for the message): less memory
        values = self.text(column) if values is None else values
        for i, value in enumerate(values):
            k = key(value)
            if k in seen:
                first = next(self.rows[j] for j in range(i) if key(values[j]) == k)
                raise fail(self.path, self.rows[i], column,
                           f"{what} '{_shorten(str(value))}' already appears in row {first}; "
                           "each must appear once")
            seen.add(k)


class _Records(Sequence):
    def __init__(self, table: Table):
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return {c: cells[i] for c, cells in self._table.cells.items()}


class TooLarge(ValueError):
    """A number beyond what any count in the kit can be (and beyond exact 64-bit arithmetic)."""


#: The largest whole number a file may hold: no count of votes, seats or respondents comes near it.
LARGEST = 10**15


def parse_int(text: str, minimum: int | None = 0) -> int:
    """A whole number written plainly ('12', '1,234' is refused: thousands separators are ambiguous)."""
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    if not t.lstrip("+-").isdigit():
        raise ValueError(text)
    value = int(t)
    if abs(value) > LARGEST:
        raise TooLarge(text)
    if minimum is not None and value < minimum:
        raise ValueError(text)
    return value


def parse_float(text: str, minimum: float | None = None, maximum: float | None = None) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    if minimum is not None and value < minimum:
        raise ValueError(text)
    if maximum is not None and value > maximum:
        raise ValueError(text)
    return value


def parse_fraction(text: str) -> Fraction:
    return Fraction(text.strip())


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD, a real calendar day. The kit's one reader of a written date (see :func:`parse_partial_date`)."""
    t = text.strip()
    if len(t) != 10 or t[4] != "-" or t[7] != "-":
        raise ValueError(text)
    return dt.date.fromisoformat(t)


def parse_partial_date(text: str) -> tuple[dt.date, dt.date, str]:
    """'2007-05-28' / '2007-05' / '2007' -> (first day, last day, precision 'day' / 'month' / 'year'), the
    interval the date stands for. ValueError when it is none of these or not a real day, month or year."""
    t = text.strip()
    if len(t) == 4 and t.isdigit():
        year = int(t)
        if year < 1:
            raise ValueError(text)
        return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"
    if len(t) == 7 and t[4] == "-" and t[:4].isdigit() and t[5:].isdigit():
        year, month = int(t[:4]), int(t[5:])
        last = calendar.monthrange(year, month)[1]  # ValueError for month 13
        return dt.date(year, month, 1), dt.date(year, month, last), "month"
    day = parse_date(t)
    return day, day, "day"


def read_table(path: str | os.PathLike, required: Iterable[str], *, what: str = "file",
               allow_empty: bool = False) -> Table:
    """Read a UTF-8 CSV file with a header row; check the `required` columns are there.

    Raises DataError for a missing or unreadable file, anything but a regular file, a file over
    :data:`MAX_CSV_BYTES`, a binary, empty or header-only file (unless `allow_empty`), a header of more than
    :data:`MAX_COLUMNS` columns, a missing column, or a row with more cells than the header."""
    p = paths.resolve(path)
    name = paths.display(p)
    raw = read_file(p, f"a CSV {what}", MAX_CSV_BYTES)
    paths.note_read(p)
    if b"\x00" in raw[:65536]:
        raise DataError(f"{name} is not a text file (it holds binary data); expected a CSV {what}.")
    try:
        blank = not raw.decode("utf-8-sig").strip()  # checks the whole file decodes; the text is not kept
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 "
                        f"CSV.") from None
    if blank:
        raise DataError(f"{name} is empty; expected a CSV {what} with a header row.")
    # Lines are decoded as they are parsed, from the bytes already in memory: no second full copy of the file.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataError(f"{name}, row 1: the header is not valid CSV ({exc}).") from None
    if len(header) > MAX_COLUMNS:
        raise DataError(f"{name}, row 1: the header has {len(header):,} columns; a CSV {what} may have at most "
                        f"{MAX_COLUMNS:,}.")
    header = [h.strip() for h in header]
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        cols = ", ".join(f"'{excerpt(c)}'" for c in missing)
        has = excerpt(", ".join(repr(h) for h in header if h), 2 * EXCERPT) or "nothing"
        raise DataError(f"{name}: missing column{'s' if len(missing) > 1 else ''} {cols}; the header has {has}.")
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        raise DataError(f"{name}, row 1: column '{excerpt(dup[0])}' appears twice in the header.")
    # One list of cells per named column (the last of several unnamed columns is not kept: no loader reads it).
    index = {h: i for i, h in enumerate(header) if h}
    columns: dict[str, list[str]] = {h: [] for h in index}
    stores = [(i, columns[h].append) for h, i in index.items()]
    rows = array.array("q")
    width = len(header)
    end = reader.line_num  # the line the header ends on
    try:
        for cells in reader:
            # a record's row is the line it starts on, as an editor shows it (a quoted cell may span lines)
            row, end = end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            n = len(cells)
            if n > width:
                raise DataError(f"{name}, row {row}: {n:,} cells but the header has {width:,} "
                                f"columns (a comma inside a value needs quotes).")
            for i, append in stores:
                append(cells[i] if i < n else "")
            rows.append(row)
    except csv.Error as exc:
        raise DataError(f"{name}, row {reader.line_num}: not valid CSV ({exc}).") from None
    if not rows and not allow_empty:
        raise DataError(f"{name} has a header but no data rows; expected at least one row.")
    return Table(p, header, columns, rows)


# ------------------------------------------------------------------------------------------------ YAML
class _Refused(Exception):
    """Raised inside the loader: a problem and the place (a yaml Mark) it was found."""

    def __init__(self, mark, problem: str):
        super().__init__(problem)
        self.mark, self.problem = mark, problem


_LOADER = None


def _loader_class():
    """The one YAML loader of the kit (reports.yml, scenario files): yaml's SafeLoader, plus

    - no anchors or aliases (``&a``, ``*a``): refused where they are written, so an alias bomb ("billion
      laughs") is an error at its first anchor instead of an exponential tree;
    - no key twice in one mapping (plain YAML keeps the last silently);
    - nesting at most :data:`MAX_YAML_DEPTH` deep (yaml's composer is recursive);
    - a scalar yaml reads as a value but cannot build (a date 2022-13-01, an integer of 5,000 digits) is an error
      at its place, not a Python exception.

    Every message is one sentence with the line and column and at most :data:`EXCERPT` characters of the text."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class PlainLoader(yaml.SafeLoader):
        def __init__(self, stream):
            super().__init__(stream)
            self._depth = 0

        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
                raise _Refused(event.start_mark, f"YAML anchors and aliases ({sign}{excerpt(event.anchor, 40)}) "
                                                 "are not accepted; write each value out in full.")
            self._depth += 1
            try:
                if self._depth > MAX_YAML_DEPTH:
                    raise _Refused(event.start_mark, f"lists and mappings are nested more than {MAX_YAML_DEPTH} "
                                                     "levels deep.")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep)
            except (ValueError, OverflowError) as exc:
                shown = excerpt(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
                raise _Refused(node.start_mark, f"'{shown}' is not a valid value ({excerpt(exc)}).") from None

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node)
                    first = seen.get(key)
                    if first is not None:
                        same = "" if first.value == key_node.value else f", as '{excerpt(first.value, 40)}'"
                        raise _Refused(key_node.start_mark,
                                       f"key '{excerpt(key_node.value)}' appears twice in one mapping (first on "
                                       f"line {first.start_mark.line + 1}{same}); each key may appear once.")
                    seen[key] = key_node
            return super().construct_mapping(node, deep)

    _LOADER = PlainLoader
    return _LOADER


def _yaml_error(name: str, exc) -> DataError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
    at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, _Refused):
        return DataError(f"{name}{at}: {exc.problem}")
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["?"])[0]
    return DataError(f"{name}{at}: not valid YAML ({excerpt(problem)}).")


def _fast_yaml(text: str):
    """(content, node tree) of `text` through libyaml when it is there and the text is plainly acceptable (no
    anchor or alias, nesting within :data:`MAX_YAML_DEPTH`, no key twice in a mapping, every value constructed);
    None otherwise, and the kit's own loader then reads it (and words what is wrong). The same document either
    way: the same resolver and constructor, only the scanning and parsing are in C."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None or "&" in text or "*" in text:  # an anchor or alias (or a star in a value): slow path
        return None
    if yaml.reader.Reader.NON_PRINTABLE.search(text):  # the kit's loader names the character
        return None
    try:
        node = yaml.compose(text, Loader=loader_class)
    except yaml.YAMLError:
        return None
    seen: set[int] = set()
    todo = [(node, 1)] if node is not None else []
    while todo:
        n, depth = todo.pop()
        if id(n) in seen or depth > MAX_YAML_DEPTH:
            return None
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            keys = set()
            for k, v in n.value:
                # plain string keys only: equal text is then an equal key (yes/true or 1/01 are the slow path's)
                if not isinstance(k, yaml.ScalarNode) or k.tag != "tag:yaml.org,2002:str" or k.value in keys:
                    return None
                keys.add(k.value)
                todo += [(k, depth + 1), (v, depth + 1)]
        elif isinstance(n, yaml.SequenceNode):
            todo += [(v, depth + 1) for v in n.value]
    try:
        data = yaml.constructor.SafeConstructor().construct_document(node) if node is not None else None
    except (ValueError, OverflowError, yaml.YAMLError):
        return None
    return data, node


def parse_yaml(text: str, name: str, *, tree: bool = False):
    """YAML `text` (from the file called `name` in messages) read with the kit's loader (see
    :func:`_loader_class`): its content, or (content, composed node tree) when `tree`. DataError naming the
    file, line and column otherwise."""
    import yaml

    fast = _fast_yaml(text)
    if fast is not None:
        return fast if tree else fast[0]
    loader = None
    try:
        loader = _loader_class()(text)  # checks the characters first: a NUL or other control is an error here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except (_Refused, yaml.YAMLError) as exc:
        raise _yaml_error(name, exc) from None
    finally:
        if loader is not None:
            loader.dispose()
    return (data, node) if tree else data


def read_yaml(path: str | Path, what: str, *, tree: bool = False):
    """A YAML file's content (or (content, node tree) when `tree`), read through :func:`read_file` (a regular
    file of at most :data:`MAX_YAML_BYTES`) and :func:`parse_yaml`. DataError for a missing, unreadable, non-UTF-8
    or invalid file."""
    p = paths.resolve(path)
    text = read_yaml_text(p, what)
    return parse_yaml(text, paths.display(p), tree=tree)


def read_yaml_text(path: str | Path, what: str) -> str:
    """The text of a YAML file (not yet parsed: :func:`parse_yaml`), read as :func:`read_yaml` reads it and noted
    as read. DataError for a missing, unreadable or non-UTF-8 file."""
    p = paths.resolve(path)
    raw = read_file(p, what, MAX_YAML_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{paths.display(p)} is not UTF-8 text (bad byte at position {exc.start}); expected "
                        f"{what}.") from None
    paths.note_read(p)
    return text
