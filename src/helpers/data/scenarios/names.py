"""Party names in a scenario file: registry keys, names, Hebrew names and aliases, the base's lists, new lists."""

from __future__ import annotations

from helpers.data._names import NameIndex
from helpers.data.scenarios.shape import _Doc, _kind, _number
from helpers.data.scenarios.types import _NEW_KEY


class _Names:
    """Resolves party names: registry keys, names, Hebrew names and aliases (any case), the base's lists, and
    new lists a what-if creates."""

    def __init__(self, registry, base_lists=(), base_labels=None):
        self.index = NameIndex()
        self.labels: dict[str, str] = {}
        self.registry_file = "data/parties.csv"  # named in messages: the registry the names resolve against
        if registry is not None:
            self.registry_file = registry.attrs.get("path", self.registry_file)
            from helpers.data.polls import party_index

            self.index = party_index(registry)
            self.labels.update(zip(registry["key"], registry["name"], strict=True))
        for key in base_lists:
            self.index.add(str(key), str(key), first_wins=True)
            self.labels.setdefault(str(key), (base_labels or {}).get(key, str(key)))

    def copy(self) -> _Names:
        new = _Names(None)
        new.index.keys = dict(self.index.keys)
        new.labels = dict(self.labels)
        new.registry_file = self.registry_file
        return new

    def add(self, key: str, label: str | None = None) -> None:
        self.index.add(key, key)
        if label:
            self.index.add(label, key, first_wins=True)
        self.labels[key] = label or self.labels.get(key, key)

    def find(self, name: str) -> str | None:
        return self.index.find(name)

    def suggest(self, name: str) -> str:
        keys = self.index.near(name, n=6, cutoff=0.6)[:3]
        if keys:
            return "; did you mean " + " or ".join(f"'{k}'" for k in keys) + "?"
        return f"; use a key, name or alias from {self.registry_file}."


def _party(doc: _Doc, names: _Names, value, path: tuple) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise doc.fail(path, f"{_kind(value)} is not a party name.")
    key = names.find(str(value))
    if key is None:
        raise doc.fail(path, f"unknown party '{value}'{names.suggest(str(value))}")
    return key


def _parties(doc: _Doc, names: _Names, value, path: tuple) -> list[str]:
    """Each party of a list (as long as the schema asks) resolved to its key, and named once only."""
    out: list[str] = []
    for i, item in enumerate(value):  # a list (the schema checked the shape)
        key = _party(doc, names, item, (*path, i))
        if key in out:
            raise doc.fail((*path, i), f"'{item}' names {key}, which is already in this list; name each "
                                       "party once.")
        out.append(key)
    return out


def _pair(doc: _Doc, names: _Names, value, path: tuple) -> tuple[str, str]:
    a = _party(doc, names, value[0], (*path, 0))
    b = _party(doc, names, value[1], (*path, 1))
    if a == b:
        raise doc.fail(path, f"both parties are '{a}'; expected two different parties.")
    return a, b


def _vetoes(doc: _Doc, names: _Names, value, path: tuple) -> list[tuple[str, str]]:
    """A veto entry: [a, b], or [a, [b, c, ...]] (a will not sit with any of b, c, ...) -> pairs."""
    if isinstance(value[1], list):
        a = _party(doc, names, value[0], (*path, 0))
        others = _parties(doc, names, value[1], (*path, 1))
        if a in others:
            raise doc.fail((*path, 1), f"'{a}' cannot veto itself.")
        return [(a, b) for b in others]
    return [_pair(doc, names, value, path)]


def _percent_map(doc: _Doc, names: _Names, value, path: tuple, *, total: float | None = None,
                 new_keys: bool = False) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pct in value.items():  # a mapping (the schema checked the shape)
        key = _new_or_known(doc, names, name, (*path, name)) if new_keys else _party(doc, names, name,
                                                                                      (*path, name))
        if key in out:
            raise doc.fail((*path, name), f"'{name}' names {key} twice.")
        out[key] = _number(doc, pct, (*path, name), "a percentage above 0 and at most 100", 0, 100,
                           low_open=True)
    s = sum(out.values())
    if total is not None and abs(s - total) > 1e-6:
        raise doc.fail(path, f"the percentages sum to {s:g}; they must sum to {total:g}.")
    if total is None and s > 100 + 1e-9:
        raise doc.fail(path, f"the percentages sum to {s:g}; they may sum to at most 100.")
    return out


def _new_or_known(doc: _Doc, names: _Names, value, path: tuple) -> str:
    """A known party's key, or a new list's key (lower_snake_case)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise doc.fail(path, f"{_kind(value)} is not a party name or a new list's key.")
    key = names.find(str(value))
    if key is not None:
        return key
    text = str(value).strip()
    if not _NEW_KEY.fullmatch(text):
        raise doc.fail(path, f"unknown party '{text}'{names.suggest(text)[:-1]}, or write a new list's key "
                             "in lower_snake_case.")
    return text
