"""Key and name columns, read one way by every loader (the rule: :func:`helpers.core.text.normalise_name`).

A name is compared as its normalised form: NFC, no zero-width or bidi characters, single spaces. So
``Likud`` and ``Likud`` + a zero-width space are the same party, a duplicate check sees them as one, and a
name made only of invisible characters is empty.
"""

from __future__ import annotations

from helpers.core.text import normalise_name
from helpers.data._table import Table, fail


def names(table: Table, column: str, *, required: bool = True) -> list[str]:
    """The column's values normalised (:func:`~helpers.core.text.normalise_name`); a required cell that holds
    nothing but invisible characters is an error naming the row, as an empty cell is."""
    out = []
    for value, row in zip(table.text(column, required=required), table.rows, strict=True):
        name = normalise_name(value)
        if value and not name and required:
            raise fail(table.path, row, column, "holds only invisible characters; a value is required")
        out.append(name)
    return out


def name_list(text: str, sep: str = ";") -> list[str]:
    """A cell holding several names separated by `sep`, each normalised; empty entries are dropped."""
    return [n for n in (normalise_name(part) for part in text.split(sep)) if n]
