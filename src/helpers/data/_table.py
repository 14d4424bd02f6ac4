"""Reading and validating tabular input files.

Every loader in ``helpers.data`` is built on :func:`read_table` and the ``column_*`` converters, so every bad
file produces the same kind of message: file, row, column, and what was expected. Rows are numbered as a
spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .. import paths


class DataError(ValueError):
    """Bad input, bad parameters or bad config: the message is one or two sentences a user can act on.

    The command line turns it into exit code 2 with no traceback."""


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
    value = value.replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class Table:
    """A CSV file read as text: header, records as dicts, and the spreadsheet row number of each record."""

    path: Path
    columns: list[str]
    records: list[dict[str, str]]
    rows: list[int]

    def __len__(self) -> int:
        return len(self.records)

    def has(self, column: str) -> bool:
        return column in self.columns

    def text(self, column: str, *, required: bool = True, default: str = "") -> list[str]:
        """The column as stripped strings; an empty cell is an error when `required`."""
        out = []
        for rec, row in zip(self.records, self.rows, strict=True):
            value = (rec.get(column) or "").strip()
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
        present = self.has(column)
        for rec, row in zip(self.records, self.rows, strict=True):
            raw = (rec.get(column) or "").strip() if present else ""
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
        seen: dict = {}
        values = self.text(column) if values is None else values
        for value, row in zip(values, self.rows, strict=True):
            key = value.casefold() if isinstance(value, str) else value
            if key in seen:
                raise fail(self.path, row, column,
                           f"{what} '{_shorten(str(value))}' already appears in row {seen[key]}; "
                           "each must appear once")
            seen[key] = row


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
    """YYYY-MM-DD, a real calendar day."""
    t = text.strip()
    if len(t) != 10 or t[4] != "-" or t[7] != "-":
        raise ValueError(text)
    return dt.date.fromisoformat(t)


def read_table(path: str | os.PathLike, required: Iterable[str], *, what: str = "file",
               allow_empty: bool = False) -> Table:
    """Read a UTF-8 CSV file with a header row; check the `required` columns are there.

    Raises DataError for a missing, unreadable, binary, empty or header-only file (unless `allow_empty`), a
    missing column, or a row with more cells than the header."""
    p = paths.resolve(path)
    name = paths.display(p)
    if p.is_dir():
        raise DataError(f"{name} is a folder; expected a CSV {what}.")
    try:
        raw = p.read_bytes()
        paths.note_read(p)
    except FileNotFoundError:
        raise DataError(f"{name} does not exist; expected a CSV {what}.") from None
    except OSError as exc:
        raise DataError(f"{name} cannot be read ({exc.strerror}).") from None
    if b"\x00" in raw[:65536]:
        raise DataError(f"{name} is not a text file (it holds binary data); expected a CSV {what}.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 "
                        f"CSV.") from None
    if not text.strip():
        raise DataError(f"{name} is empty; expected a CSV {what} with a header row.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataError(f"{name}, row 1: the header is not valid CSV ({exc}).") from None
    header = [h.strip() for h in header]
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        cols = ", ".join(f"'{c}'" for c in missing)
        raise DataError(f"{name}: missing column{'s' if len(missing) > 1 else ''} {cols}; the header has "
                        f"{', '.join(repr(h) for h in header if h) or 'nothing'}.")
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        raise DataError(f"{name}, row 1: column '{dup[0]}' appears twice in the header.")
    records: list[dict[str, str]] = []
    rows: list[int] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            row = reader.line_num
            if len(cells) > len(header):
                raise DataError(f"{name}, row {row}: {len(cells)} cells but the header has {len(header)} "
                                f"columns (a comma inside a value needs quotes).")
            records.append({h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)})
            rows.append(row)
    except csv.Error as exc:
        raise DataError(f"{name}, row {reader.line_num}: not valid CSV ({exc}).") from None
    if not records and not allow_empty:
        raise DataError(f"{name} has a header but no data rows; expected at least one row.")
    return Table(p, header, records, rows)


def _yaml_error(path: Path, exc) -> DataError:
    mark = getattr(exc, "problem_mark", None)
    where = f", line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return DataError(f"{paths.display(path)}{where}: not valid YAML ({problem}).")


def read_yaml(path: str | Path, what: str):
    """A YAML file's content; DataError for a missing, unreadable or invalid file."""
    import yaml

    p = paths.resolve(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{paths.display(p)} does not exist; expected {what}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{paths.display(p)} cannot be read as text ({exc}).") from None
    paths.note_read(p)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(p, exc) from None
