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


def fold(name) -> str:
    """The form two names are compared in: normalised (:func:`~helpers.core.text.normalise_name`), then
    letter case folded. 'LIKUD', 'Likud' and 'Likud' + a zero-width space fold alike."""
    return normalise_name(str(name)).casefold()


class NameIndex:
    """The kit's one resolver of names (parties, candidates, groups): written forms -> the key they mean.

    Every label is stored folded (:func:`fold`), so a name is found in any letter case and with invisible
    characters or doubled spaces; :meth:`near` gives the keys of the closest labels for a "did you mean"."""

    def __init__(self, pairs=(), *, first_wins: bool = False):
        self.keys: dict[str, str] = {}
        for label, key in pairs:
            self.add(label, key, first_wins=first_wins)

    @classmethod
    def of(cls, names, *, first_wins: bool = False) -> NameIndex:
        """An index of `names`, each meaning itself."""
        return cls(((n, n) for n in names), first_wins=first_wins)

    def add(self, label, key: str, *, first_wins: bool = False) -> None:
        """`label` means `key` (unless `first_wins` and the label means something already)."""
        if first_wins:
            self.keys.setdefault(fold(label), key)
        else:
            self.keys[fold(label)] = key

    def find(self, name) -> str | None:
        """The key `name` means, or None."""
        return self.keys.get(fold(name))

    def near(self, name, n: int = 3, cutoff: float = 0.6) -> list[str]:
        """The keys of up to `n` labels closest to `name` (difflib ratio >= `cutoff`), closest first, each
        key once."""
        from difflib import get_close_matches

        return list(dict.fromkeys(self.keys[m] for m in get_close_matches(fold(name), list(self.keys), n=n,
                                                                          cutoff=cutoff)))
