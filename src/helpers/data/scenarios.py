"""Coalition scenario files: ``data/scenarios/*.yml``, read and checked by :func:`load_scenario`.

A scenario says what to simulate (a base: polls as of a date, or an official result), the rules of the
house, the politics (who will not sit with whom, the blocs, the coalitions to evaluate) and named what-ifs.
Every relative path in it is relative to the project root, wherever the scenario file lives. A party may be
named by its key, display name, Hebrew name or an alias from ``data/parties.csv``, in any letter case (or,
with a results base, by a ``list`` name of the votes file).

Keys (only ``polls`` + ``as_of`` or ``results`` are required)::

    title: Knesset 2022, final week          # text; the file name otherwise
    description: ...                         # optional text shown under the title
    polls: data/polls/knesset-2022.csv       # base: a polls file (with as_of) ...
    as_of: 2022-10-28                        # ... using the polls published up to this date (YYYY-MM-DD)
    results: data/knesset/results/2022-11-01.csv   # ... or instead an official votes file (list,votes)
    threshold: 3.25                          # electoral threshold, percent of valid votes (default 3.25)
    seats: 120                               # seats in the house (default 120; 1 to 10,000)
    majority: 61                             # seats needed to govern (default floor(seats / 2) + 1)
    agreements: data/knesset/agreements/2022-11-01.csv   # surplus-vote agreements (list_a,list_b); optional
    poll_error: 1.5                          # election-day error, percentage points (default 1.5 for polls,
                                             #   0 for results); the notebook's poll_error parameter overrides
    valid_votes: 4764742                     # valid votes, to turn points into votes (default: a results
                                             #   file's total; none for polls)
    vetoes: [[religious_zionism, raam]]      # pairs of parties that will not sit together; [a, [b, c]]
                                             #   is short for [a, b] and [a, c]
    required: [likud]                        # parties every coalition must hold
    excluded: [balad]                        # parties no coalition holds
    blocs: {Netanyahu bloc: [likud, shas]}   # named groups whose chance of a majority is reported
    coalitions: {Right-religious: [likud, religious_zionism, shas, utj]}   # named coalitions to evaluate
    what_if:                                 # named changes, each a list of steps applied in order
      - name: Labor and Meretz merge
        steps:
          - {merge: [labor, meretz], into: labor_meretz, label: Labor–Meretz}

What-if steps (each step is a mapping with exactly one action key; shares are percent of valid votes, and
after every step the lists' shares sum to 100 again):

- ``{move: 1.5, unit: points, from: likud, to: yesh_atid}``: move 1.5 points of vote share (``unit: seats``:
  that many seats' worth, 100 / seats points each) from one list to another.
- ``{merge: [labor, meretz], into: labor_meretz, label: Labor–Meretz, keep: 90}``: the lists run as one.
  ``into`` is a party (one of the members or any known party) or a new key written lower_snake_case
  (default: the first member); ``label`` its display name; ``keep`` the percent of the members' combined
  share the joint list holds (default 100; the rest spreads over the other lists in proportion, and above 100
  the extra comes from them in proportion).
- ``{split: labor_meretz, into: {labor: 55, meretz: 45}}``: one list becomes several; the percentages of its
  share must sum to 100. ``labels: {new_key: Name}`` names new lists.
- ``{drop: jewish_home, to: {likud: 50, religious_zionism: 30}}``: the list does not run. ``to`` (optional)
  sends percentages of its share to named lists; the rest spreads over every list in proportion (the same, for
  shares of valid votes, as those voters staying home).
- ``{run: new_right, share: 2.0, from: {likud: 50}, label: New Right, bloc: Netanyahu bloc}``: a list that
  is not in the base runs with ``share`` percent; ``from`` (optional) takes percentages of it from named
  lists, the rest comes from every list in proportion; ``bloc`` (optional) puts it in one of the scenario's
  blocs.
- ``{agreement_add: [raam, hadash_taal]}`` / ``{agreement_remove: [labor, meretz]}``: a surplus-vote agreement
  is signed or cancelled (a list may hold one agreement).
- ``{threshold: 2.0}``: a different electoral threshold (percent of valid votes).
- ``{veto_add: [likud, labor]}`` / ``{veto_remove: [likud, yesh_atid]}``: a party rules a partner in or out.

Lists touched by a merge carry their politics over: the joint list takes its first member's place in the
blocs, is in every named coalition that held a member, inherits every veto of a member, and is required or
excluded when a member was. A pair inside a merger loses its surplus agreement; a member's agreement with an
outside list passes to the joint list (when it has none yet). A dropped list leaves the blocs, coalitions and
vetoes; a split list's parts take its place in them (its surplus agreement lapses).

Every problem is a :class:`~helpers.core.errors.DataError` naming the file, the place in it (``vetoes[0][1]``,
``what_if[1] ('Jewish Home withdraws').steps[0].drop``) with its line, and what was expected; an unknown party
name lists the closest known names. The files a scenario names are loaded and checked with their own loaders,
and the what-ifs are dry-run against the base's lists (a step naming a list that is not running is an error).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from difflib import get_close_matches

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.core.limits import MAX_SEATS
from helpers.core.text import normalise_name
from helpers.data._table import excerpt

#: Election-day error (points) when a scenario on polls does not give one: the threshold report's default.
DEFAULT_POLL_ERROR = 1.5
DEFAULT_THRESHOLD = 3.25
DEFAULT_SEATS = 120

TOP_KEYS = ("title", "description", "polls", "as_of", "results", "threshold", "seats", "majority",
            "agreements", "poll_error", "valid_votes", "vetoes", "required", "excluded", "blocs",
            "coalitions", "what_if")

#: Each what-if action and the option keys its step may hold (besides the action key itself).
STEP_KEYS = {
    "move": ("unit", "from", "to"),
    "merge": ("into", "label", "keep"),
    "split": ("into", "labels"),
    "drop": ("to",),
    "run": ("share", "from", "label", "bloc"),
    "agreement_add": (),
    "agreement_remove": (),
    "threshold": (),
    "veto_add": (),
    "veto_remove": (),
}

_NEW_KEY = re.compile(r"[a-z0-9_]+(\+[a-z0-9_]+)*")


# ------------------------------------------------------------------------------------------- what it holds


@dataclass(frozen=True)
class Step:
    """One what-if step, its party names resolved to keys.

    kind: one of STEP_KEYS. parties: the lists it names, in order (move: (from, to); merge: the members;
    split/drop/run: the one list; agreement_*/veto_*: the pair). into: the joint list's key (merge). parts:
    {key: percent} (split: the new lists; drop: where its share goes; run: where its share comes from).
    amount: points to move (already converted from seats), the share of a new list (run), the threshold
    (threshold) or keep (merge, percent). label: display name of a new list (merge, run); labels (split).
    bloc: the bloc a new list joins (run). text: the step as written, for messages."""

    kind: str
    parties: tuple[str, ...] = ()
    into: str | None = None
    parts: tuple[tuple[str, float], ...] = ()
    amount: float | None = None
    label: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    bloc: str | None = None
    text: str = ""


@dataclass(frozen=True)
class WhatIf:
    """A named what-if: steps applied to the base in order."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""


@dataclass
class Scenario:
    """A checked scenario file. Party names are registry keys (or a results file's list names).

    polls / results: the base file as written (exactly one is set); as_of: 'YYYY-MM-DD' (required with polls).
    threshold: percent of valid votes; seats; majority (seats). agreements_file and agreements (pairs of list
    keys, as loaded). poll_error: points, or None for the kit's default for the base (see
    :meth:`default_poll_error`). valid_votes: for turning points into votes, or None. vetoes: pairs; required,
    excluded: keys; blocs, coalitions: {name: [keys]}; what_if: WhatIf list. base_lists: the lists running in
    the scenario's own base."""

    path: str
    title: str
    polls: str | None
    results: str | None
    as_of: str | None
    threshold: float
    seats: int
    majority: int
    agreements_file: str | None
    agreements: list[tuple[str, str]]
    poll_error: float | None
    valid_votes: int | None
    vetoes: list[tuple[str, str]]
    required: list[str]
    excluded: list[str]
    blocs: dict[str, list[str]]
    coalitions: dict[str, list[str]]
    what_if: list[WhatIf]
    description: str = ""
    base_lists: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def base_file(self) -> str:
        return self.polls or self.results or ""

    def effective_poll_error(self, override: float | None = None) -> float:
        """The election-day error to use (points): `override` when it is >= 0, else the file's, else 1.5 for
        polls and 0 for an official result."""
        if override is not None and override >= 0:
            return float(override)
        if self.poll_error is not None:
            return self.poll_error
        return DEFAULT_POLL_ERROR if self.polls else 0.0

    def sources(self) -> list[str]:
        """The files this scenario reads (project-relative as written)."""
        out = [self.path, self.base_file]
        if self.agreements_file:
            out.append(self.agreements_file)
        return out


# ------------------------------------------------------------------------------------------ error helpers


def _where(path: tuple) -> str:
    """('what_if', 1, 'steps', 0, 'drop') -> "what_if[1].steps[0].drop"."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += f"[{excerpt(str(p), 40)!r}]"
    return out


class _Doc:
    """The file's name and its composed YAML tree, to point messages at a place and a line."""

    def __init__(self, path, root):
        self.name = paths.display(path)
        self.root = root  # the node tree read_yaml composed (no aliases: every node has one place)
        self.names: dict[tuple, str] = {}  # path prefix -> the what-if's name, shown in places

    def line(self, path: tuple) -> int | None:
        import yaml

        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for p in path:
            if isinstance(node, yaml.MappingNode):
                hit = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(p)),
                           None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and 0 <= p < len(node.value):
                hit = node.value[p]
            else:
                hit = None
            if hit is None:
                break
            node = hit
            line = node.start_mark.line + 1
        return line

    def place(self, path: tuple) -> str:
        text = ""
        for i, p in enumerate(path):
            if isinstance(p, int):
                text += f"[{p}]"
                name = self.names.get(tuple(path[: i + 1]))
                if name:
                    text += f" ({excerpt(name, 40)!r})"
            else:
                text += ("." if text else "") + (str(p) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", str(p))
                                                 else repr(excerpt(str(p), 40)))
        return text

    def fail(self, path: tuple, problem: str) -> DataError:
        line = self.line(path)
        place = self.place(path)
        at = f", {place}" if place else ""
        at += f" (line {line})" if line is not None and place else (f", line {line}" if line else "")
        # values in `problem` come from the file: a backstop keeps any message short
        return DataError(f"{self.name}{at}: {excerpt(problem, 400)}")


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{excerpt(value)}'"


def _text(doc: _Doc, value, path: tuple, what: str = "text") -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise doc.fail(path, f"{_kind(value)} is not {what}; expected {what}.")
    return str(value).strip()


def _number(doc: _Doc, value, path: tuple, what: str, low: float | None = None, high: float | None = None,
            *, low_open: bool = False, high_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if ok:
        v = float(value)
        ok = ((low is None or (v > low if low_open else v >= low))
              and (high is None or (v < high if high_open else v <= high)))
    if not ok:
        raise doc.fail(path, f"{_kind(value)} is not {what}.")
    return float(value)


def _whole(doc: _Doc, value, path: tuple, what: str, low: int, high: int | None = None) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or
                                                                                      value <= high)
    if not ok and isinstance(value, float) and value.is_integer():
        ok = value >= low and (high is None or value <= high)
    if not ok:
        raise doc.fail(path, f"{_kind(value)} is not {what}.")
    return int(value)


def _list(doc: _Doc, value, path: tuple, what: str) -> list:
    if not isinstance(value, list):
        raise doc.fail(path, f"{_kind(value)} is not a list; expected {what}.")
    return value


def _mapping(doc: _Doc, value, path: tuple, what: str) -> dict:
    if not isinstance(value, dict):
        raise doc.fail(path, f"{_kind(value)} is not a mapping; expected {what}.")
    return value


# ---------------------------------------------------------------------------------------------- parties


class _Names:
    """Resolves party names: registry keys, names, Hebrew names and aliases (any case), the base's lists, and
    new lists a what-if creates."""

    def __init__(self, registry, base_lists=(), base_labels=None):
        self.lookup: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        if registry is not None:
            from helpers.data.polls import party_lookup

            self.lookup.update(party_lookup(registry))
            self.labels.update(zip(registry["key"], registry["name"], strict=True))
        for key in base_lists:
            self.lookup.setdefault(str(key).casefold(), str(key))
            self.labels.setdefault(str(key), (base_labels or {}).get(key, str(key)))

    def copy(self) -> _Names:
        new = _Names(None)
        new.lookup = dict(self.lookup)
        new.labels = dict(self.labels)
        return new

    def add(self, key: str, label: str | None = None) -> None:
        self.lookup[key.casefold()] = key
        if label:
            self.lookup.setdefault(label.casefold(), key)
        self.labels[key] = label or self.labels.get(key, key)

    def find(self, name: str) -> str | None:
        return self.lookup.get(normalise_name(name).casefold())

    def suggest(self, name: str) -> str:
        near = get_close_matches(normalise_name(name).casefold(), list(self.lookup), n=6, cutoff=0.6)
        keys = list(dict.fromkeys(self.lookup[n] for n in near))[:3]
        if keys:
            return "; did you mean " + " or ".join(f"'{k}'" for k in keys) + "?"
        return "; use a key, name or alias from data/parties.csv."


def _party(doc: _Doc, names: _Names, value, path: tuple) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise doc.fail(path, f"{_kind(value)} is not a party name.")
    key = names.find(str(value))
    if key is None:
        raise doc.fail(path, f"unknown party '{value}'{names.suggest(str(value))}")
    return key


def _parties(doc: _Doc, names: _Names, value, path: tuple, what: str, *, minimum: int = 0) -> list[str]:
    items = _list(doc, value, path, what)
    out: list[str] = []
    for i, item in enumerate(items):
        key = _party(doc, names, item, (*path, i))
        if key in out:
            raise doc.fail((*path, i), f"'{item}' names {key}, which is already in this list; name each "
                                       "party once.")
        out.append(key)
    if len(out) < minimum:
        raise doc.fail(path, f"{len(out)} part{'y' if len(out) == 1 else 'ies'} given; expected {what}.")
    return out


def _pair(doc: _Doc, names: _Names, value, path: tuple, what: str) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2:
        raise doc.fail(path, f"{_kind(value)} is not a pair; expected {what}, written [party_a, party_b].")
    a = _party(doc, names, value[0], (*path, 0))
    b = _party(doc, names, value[1], (*path, 1))
    if a == b:
        raise doc.fail(path, f"both parties are '{a}'; expected two different parties.")
    return a, b


def _vetoes(doc: _Doc, names: _Names, value, path: tuple) -> list[tuple[str, str]]:
    """A veto entry: [a, b], or [a, [b, c, ...]] (a will not sit with any of b, c, ...) -> pairs."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], list):
        a = _party(doc, names, value[0], (*path, 0))
        others = _parties(doc, names, value[1], (*path, 1), "a list of parties", minimum=1)
        if a in others:
            raise doc.fail((*path, 1), f"'{a}' cannot veto itself.")
        return [(a, b) for b in others]
    return [_pair(doc, names, value, path, "two parties that will not sit together, or a party and a list of "
                                           "parties it will not sit with")]


def _percent_map(doc: _Doc, names: _Names, value, path: tuple, what: str, *, total: float | None = None,
                 new_keys: bool = False) -> dict[str, float]:
    items = _mapping(doc, value, path, what)
    out: dict[str, float] = {}
    for name, pct in items.items():
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
    if not out:
        raise doc.fail(path, f"is empty; expected {what}.")
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


# ------------------------------------------------------------------------------------------------ loader


def _date(doc: _Doc, value, path: tuple) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            if len(value.strip()) == 10:
                return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise doc.fail(path, f"{_kind(value)} is not a date written YYYY-MM-DD.")


def _file(doc: _Doc, value, key: str, load, registry=None):
    """Load a file named in the scenario with its own loader; its error is prefixed with where it is named."""
    text = _text(doc, value, (key,), "a file path (relative to the project root)")
    try:
        return text, (load(text, parties=registry) if registry is not None else load(text))
    except DataError as exc:
        line = doc.line((key,))
        raise DataError(f"{doc.name}, {key} (line {line}): {exc}") from None


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and check a scenario file (see the module docstring for its keys and what-if steps).

    Loads the files it names (polls or results, agreements) with their loaders and dry-runs every what-if
    against the base's lists. Raises DataError naming the file, the place and its line."""
    from helpers.data import knesset
    from helpers.data._table import read_yaml
    from helpers.data.polls import default_parties, load_polls, merges_of

    p = paths.resolve(path)
    # read_yaml refuses anything but a regular file, anchors and aliases, and a key twice in one mapping
    data, root = read_yaml(p, "a scenario file (YAML)", tree=True)
    doc = _Doc(p, root)
    if not isinstance(data, dict):
        found = _kind(data) if data is not None else "an empty file"
        raise DataError(f"{doc.name}: expected a mapping of keys ({', '.join(TOP_KEYS[:5])}, ...) at the "
                        f"top; found {found}.")
    for key in data:
        if str(key) not in TOP_KEYS:
            near = get_close_matches(str(key), TOP_KEYS, n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise doc.fail((key,), f"unknown key '{key}'; {hint}The keys are {', '.join(TOP_KEYS)}.")

    title = _text(doc, data["title"], ("title",)) if data.get("title") is not None else p.stem
    description = _text(doc, data["description"], ("description",)) if data.get("description") else ""

    registry = default_parties()
    # --- the base
    if ("polls" in data) == ("results" in data):
        raise DataError(f"{doc.name}: a scenario needs one base: 'polls:' (a polls file) with 'as_of:', or "
                        f"'results:' (an official votes file); it has "
                        f"{'both' if 'polls' in data else 'neither'}.")
    polls_file = results_file = as_of = None
    base_lists: list[str] = []
    base_labels: dict[str, str] = {}
    total_votes = None
    if "polls" in data:
        polls_file, frame = _file(doc, data["polls"], "polls", load_polls, registry)
        if data.get("as_of") is None:
            raise doc.fail(("polls",), "a polls base needs 'as_of:', the last publication date to use "
                                       "(YYYY-MM-DD).")
        as_of = _date(doc, data["as_of"], ("as_of",))
        first = frame["date"].min().date().isoformat()
        if first > as_of:
            raise doc.fail(("as_of",), f"no poll in {polls_file} was published by {as_of} (the first is "
                                       f"dated {first}).")
        merges = merges_of(registry, frame["party"].unique())
        for key in dict.fromkeys(frame["party"]):
            base_lists.extend(merges.get(key, [key]))
        base_lists = list(dict.fromkeys(base_lists))
    else:
        results_file, frame = _file(doc, data["results"], "results", knesset.load_votes)
        base_lists = [str(x) for x in frame["list"]]
        if "name" in frame.columns:
            base_labels = dict(zip(base_lists, frame["name"].astype(str), strict=True))
        total_votes = int(frame["votes"].sum())
        as_of = _date(doc, data["as_of"], ("as_of",)) if data.get("as_of") is not None else None
    names = _Names(registry, base_lists, base_labels)

    threshold = (_number(doc, data["threshold"], ("threshold",),
                         "a percentage from 0 up to (not including) 100", 0, 100, high_open=True)
                 if data.get("threshold") is not None else DEFAULT_THRESHOLD)
    seats = (_whole(doc, data["seats"], ("seats",), f"a whole number of seats > 0 and at most {MAX_SEATS:,}",
                    1, MAX_SEATS)
             if data.get("seats") is not None else DEFAULT_SEATS)
    majority = (_whole(doc, data["majority"], ("majority",),
                       f"a whole number of seats > 0 and at most {seats}", 1, seats)
                if data.get("majority") is not None else seats // 2 + 1)
    agreements_file, pairs = None, []
    if data.get("agreements") is not None:
        agreements_file, pairs = _file(doc, data["agreements"], "agreements", knesset.load_pairs)
    poll_error = (_number(doc, data["poll_error"], ("poll_error",),
                          "a number of percentage points from 0 to 50", 0, 50)
                  if data.get("poll_error") is not None else None)
    valid_votes = (_whole(doc, data["valid_votes"], ("valid_votes",), "a whole number of votes > 0", 1)
                   if data.get("valid_votes") is not None else total_votes)

    # --- the politics
    vetoes: list[tuple[str, str]] = []
    for i, item in enumerate(_list(doc, data.get("vetoes") or [], ("vetoes",), "a list of pairs of parties")):
        for pair in _vetoes(doc, names, item, ("vetoes", i)):
            if set(pair) in [set(v) for v in vetoes]:
                raise doc.fail(("vetoes", i), f"the veto {pair[0]}–{pair[1]} is already listed.")
            vetoes.append(pair)
    required = _parties(doc, names, data.get("required") or [], ("required",), "a list of parties")
    excluded = _parties(doc, names, data.get("excluded") or [], ("excluded",), "a list of parties")
    both = [k for k in required if k in excluded]
    if both:
        raise doc.fail(("excluded",), f"'{both[0]}' is both required and excluded.")
    for a, b in vetoes:
        if a in required and b in required:
            raise doc.fail(("vetoes",), f"{a} and {b} are both required but will not sit together, so no "
                                        "coalition is possible.")
    blocs = _groups(doc, names, data.get("blocs"), "blocs", disjoint=True)
    coalitions = _groups(doc, names, data.get("coalitions"), "coalitions", disjoint=False)

    # --- the what-ifs
    what_if: list[WhatIf] = []
    seen: dict[str, int] = {}
    draft = Scenario(path=paths.display(p), title=title, polls=polls_file, results=results_file, as_of=as_of,
                     threshold=threshold, seats=seats, majority=majority, agreements_file=agreements_file,
                     agreements=list(pairs), poll_error=poll_error, valid_votes=valid_votes, vetoes=vetoes,
                     required=required, excluded=excluded, blocs=blocs, coalitions=coalitions, what_if=[],
                     description=description, base_lists=base_lists)
    base = Politics.of(draft, base_lists)
    for i, item in enumerate(_list(doc, data.get("what_if") or [], ("what_if",), "a list of named changes")):
        here = ("what_if", i)
        item = _mapping(doc, item, here, "a mapping with 'name' and 'steps'")
        if isinstance(item.get("name"), str):
            doc.names[here] = item["name"]
        extra = set(map(str, item)) - {"name", "steps", "description"}
        if extra:
            key = sorted(extra)[0]
            raise doc.fail((*here, key), f"unknown key '{key}'; a what-if has name, steps and an optional "
                                         "description.")
        if "name" not in item:
            raise doc.fail(here, "the what-if has no 'name'.")
        name = normalise_name(_text(doc, item["name"], (*here, "name"), "a name (text)"))
        if name.casefold() in seen or name.casefold() == "base":
            raise doc.fail((*here, "name"), f"the name '{name}' is "
                                            + ("reserved for the base." if name.casefold() == "base" else
                                               f"already used by what_if[{seen[name.casefold()]}]."))
        seen[name.casefold()] = i
        if "steps" not in item:
            raise doc.fail(here, "the what-if has no 'steps' (a list of changes).")
        raw_steps = _list(doc, item["steps"], (*here, "steps"), "a list of steps")
        if not raw_steps:
            raise doc.fail((*here, "steps"), "is empty; a what-if needs at least one step.")
        state = base
        local = names.copy()
        steps = []
        for j, raw in enumerate(raw_steps):
            step = _step(doc, local, raw, (*here, "steps", j), seats, blocs)
            try:
                state = state.after(step)
            except StepProblem as exc:
                raise doc.fail((*here, "steps", j, *exc.at), exc.problem) from None
            steps.append(step)
        what_if.append(WhatIf(name, tuple(steps),
                              _text(doc, item["description"], (*here, "description"))
                              if item.get("description") else ""))
        names.labels.update({k: v for k, v in local.labels.items() if k not in names.labels})

    draft.what_if = what_if
    draft.labels = dict(names.labels)
    return draft


def _groups(doc: _Doc, names: _Names, value, key: str, *, disjoint: bool) -> dict[str, list[str]]:
    if value is None:
        return {}
    items = _mapping(doc, value, (key,), f"a mapping of names to lists of parties ({key})")
    out: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name, members in items.items():
        label = normalise_name(_text(doc, name, (key, name), "a name"))
        keys = _parties(doc, names, members, (key, name), "a list of one party or more", minimum=1)
        if disjoint:
            for k in keys:
                if k in owner:
                    raise doc.fail((key, name), f"'{k}' is already in the bloc '{owner[k]}'; a party may be "
                                                "in one bloc only.")
                owner[k] = label
        out[label] = keys
    return out


def _step(doc: _Doc, names: _Names, raw, path: tuple, seats: int, blocs: dict) -> Step:
    """One step, checked and with its names resolved (new lists become known to `names`)."""
    raw = _mapping(doc, raw, path, "a step such as {drop: party} or {merge: [a, b], into: c}")
    actions = [k for k in raw if str(k) in STEP_KEYS]
    if len(actions) != 1:
        options = {o for v in STEP_KEYS.values() for o in v}
        unknown = [k for k in raw if str(k) not in STEP_KEYS and str(k) not in options]
        if unknown:
            near = get_close_matches(str(unknown[0]), list(STEP_KEYS), n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise doc.fail((*path, unknown[0]), f"unknown what-if step '{unknown[0]}'; {hint}A step is one "
                                                f"of {', '.join(STEP_KEYS)}.")
        has = f"{len(actions)}: {', '.join(map(str, actions))}" if actions else "none"
        raise doc.fail(path, f"a step does one thing: one of {', '.join(STEP_KEYS)}; this one has {has}.")
    kind = str(actions[0])
    allowed = STEP_KEYS[kind]
    for k in raw:
        if str(k) != kind and str(k) not in allowed:
            takes = f"takes {', '.join(allowed)}" if allowed else "takes nothing else"
            raise doc.fail((*path, k), f"unknown key '{k}' in a {kind} step; a {kind} step {takes}.")
    value = raw[kind]
    here = (*path, kind)

    if kind == "move":
        unit = raw.get("unit", "points")
        if unit not in ("points", "seats"):
            raise doc.fail((*path, "unit"), f"{_kind(unit)} is not a unit; expected points or seats.")
        amount = _number(doc, value, here, f"an amount of {unit} above 0", 0, None, low_open=True)
        for k in ("from", "to"):
            if k not in raw:
                raise doc.fail(path, f"a move step needs '{k}:' (a party).")
        a = _party(doc, names, raw["from"], (*path, "from"))
        b = _party(doc, names, raw["to"], (*path, "to"))
        if a == b:
            raise doc.fail(path, f"moves votes from {a} to itself.")
        points = amount * 100.0 / seats if unit == "seats" else amount
        return Step("move", (a, b), amount=points, text=f"move {amount:g} {unit} from {a} to {b}")
    if kind == "merge":
        members = _parties(doc, names, value, here, "a list of two parties or more", minimum=2)
        into = _new_or_known(doc, names, raw["into"], (*path, "into")) if raw.get("into") is not None \
            else members[0]
        label = _text(doc, raw["label"], (*path, "label")) if raw.get("label") is not None else None
        keep = (_number(doc, raw["keep"], (*path, "keep"), "a percentage above 0 and at most 200", 0, 200,
                        low_open=True) if raw.get("keep") is not None else 100.0)
        if label is None and into not in names.labels:
            label = " + ".join(names.labels.get(m, m) for m in members)
        names.add(into, label)
        return Step("merge", tuple(members), into=into, amount=keep, label=label or names.labels.get(into),
                    text=f"merge {', '.join(members)} into {into}")
    if kind == "split":
        party = _party(doc, names, value, here)
        if "into" not in raw:
            raise doc.fail(path, "a split step needs 'into:', a mapping of lists to percentages of its "
                                 "share.")
        labels_raw = _mapping(doc, raw["labels"], (*path, "labels"), "a mapping of new keys to names") \
            if raw.get("labels") is not None else {}
        parts = _percent_map(doc, names, raw["into"], (*path, "into"), "a mapping of lists to percentages",
                             total=100.0, new_keys=True)
        if len(parts) < 2:
            raise doc.fail((*path, "into"), "a split needs two lists or more.")
        labels = {}
        for k, v in labels_raw.items():
            if str(k) not in parts:
                raise doc.fail((*path, "labels", k), f"'{k}' is not one of the split's lists "
                                                     f"({', '.join(parts)}).")
            labels[str(k)] = _text(doc, v, (*path, "labels", k))
        for k in parts:
            names.add(k, labels.get(k))
        return Step("split", (party,), parts=tuple(parts.items()), labels=tuple(labels.items()),
                    text=f"split {party} into {', '.join(parts)}")
    if kind == "drop":
        party = _party(doc, names, value, here)
        parts = _percent_map(doc, names, raw["to"], (*path, "to"), "a mapping of lists to percentages") \
            if raw.get("to") is not None else {}
        if party in parts:
            raise doc.fail((*path, "to"), f"sends {party}'s votes to itself.")
        return Step("drop", (party,), parts=tuple(parts.items()), text=f"drop {party}")
    if kind == "run":
        party = _new_or_known(doc, names, value, here)
        if "share" not in raw:
            raise doc.fail(path, "a run step needs 'share:', the new list's percent of valid votes.")
        share = _number(doc, raw["share"], (*path, "share"), "a percentage above 0 and below 100", 0, 100,
                        low_open=True, high_open=True)
        parts = _percent_map(doc, names, raw["from"], (*path, "from"), "a mapping of lists to percentages") \
            if raw.get("from") is not None else {}
        label = _text(doc, raw["label"], (*path, "label")) if raw.get("label") is not None else None
        bloc = None
        if raw.get("bloc") is not None:
            bloc = _text(doc, raw["bloc"], (*path, "bloc"))
            match = [b for b in blocs if b.casefold() == bloc.casefold()]
            if not match:
                raise doc.fail((*path, "bloc"), f"unknown bloc '{bloc}'; the scenario's blocs are "
                                                f"{', '.join(blocs) or 'none'}.")
            bloc = match[0]
        names.add(party, label)
        return Step("run", (party,), parts=tuple(parts.items()), amount=share, label=label or
                    names.labels.get(party), bloc=bloc, text=f"run {party} at {share:g}%")
    if kind in ("agreement_add", "agreement_remove", "veto_add", "veto_remove"):
        what = "the two lists of a surplus-vote agreement" if kind.startswith("agreement") else \
            "two parties that will not sit together"
        pair = _pair(doc, names, value, here, what)
        return Step(kind, pair, text=f"{kind.replace('_', ' ')} {pair[0]}–{pair[1]}")
    # threshold
    t = _number(doc, value, here, "a percentage from 0 up to (not including) 100", 0, 100, high_open=True)
    return Step("threshold", amount=t, text=f"threshold {t:g}%")


# ------------------------------------------------------------------------------ what a step does to politics


class StepProblem(DataError):
    """A step that cannot apply at its point (a list not running, an agreement that does not exist). `at` is
    the place inside the step (e.g. ('from',)) the problem is about."""

    def __init__(self, problem: str, at: tuple = ()):
        super().__init__(problem)
        self.problem = problem
        self.at = at


def _swap(items, old: set, new: list) -> tuple:
    """`items` with the members of `old` replaced by `new`, at the first old member's place."""
    out, placed = [], False
    for x in items:
        if x in old:
            if not placed:
                out.extend(n for n in new if n not in out)
                placed = True
        elif x not in out:
            out.append(x)
    return tuple(out)


@dataclass(frozen=True)
class Politics:
    """Who runs and how they relate, at one point of a what-if (party keys throughout).

    running: the lists on the ballot, in order. agreements: surplus-vote pairs of running lists. vetoes,
    required, excluded, blocs, coalitions: as in :class:`Scenario`. threshold: percent of valid votes. labels:
    display names of lists a what-if created. :meth:`after` gives the politics after one step (the rules in
    the module docstring); the seat model applies the same steps to vote shares."""

    running: tuple[str, ...]
    agreements: tuple[tuple[str, str], ...]
    vetoes: tuple[tuple[str, str], ...]
    required: tuple[str, ...]
    excluded: tuple[str, ...]
    blocs: tuple[tuple[str, tuple[str, ...]], ...]
    coalitions: tuple[tuple[str, tuple[str, ...]], ...]
    threshold: float
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, scenario: Scenario, running) -> Politics:
        """The base politics of `scenario` with these lists running (its agreements kept where both lists
        run)."""
        running = tuple(running)
        live = set(running)
        return cls(running=running,
                   agreements=tuple((a, b) for a, b in scenario.agreements if a in live and b in live),
                   vetoes=tuple(scenario.vetoes), required=tuple(scenario.required),
                   excluded=tuple(scenario.excluded),
                   blocs=tuple((k, tuple(v)) for k, v in scenario.blocs.items()),
                   coalitions=tuple((k, tuple(v)) for k, v in scenario.coalitions.items()),
                   threshold=scenario.threshold)

    def bloc_map(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.blocs}

    def coalition_map(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.coalitions}

    def _need(self, key: str, at: tuple) -> None:
        if key not in self.running:
            running = ", ".join(self.running)
            raise StepProblem(f"'{key}' is not running at this step (running: {running}).", at)

    def _replace(self, old: set, new: list, *, agreements=None, **changes) -> Politics:
        from dataclasses import replace

        vetoes = []
        for a, b in self.vetoes:
            for x in ([a] if a not in old else new):
                for y in ([b] if b not in old else new):
                    if x != y and {x, y} not in [set(v) for v in vetoes]:
                        vetoes.append((x, y))

        def carry(group):
            return _swap(group, old, new) if old & set(group) else tuple(group)

        return replace(
            self, vetoes=tuple(vetoes),
            required=carry(self.required), excluded=carry(self.excluded),
            blocs=tuple((k, carry(v)) for k, v in self.blocs),
            coalitions=tuple((k, carry(v)) for k, v in self.coalitions),
            agreements=self.agreements if agreements is None else tuple(agreements), **changes)

    def after(self, step: Step) -> Politics:
        """The politics after `step`; StepProblem when it cannot apply here."""
        from dataclasses import replace

        kind, at = step.kind, (step.kind,)
        if kind == "move":
            for k, where in zip(step.parties, ("from", "to"), strict=True):
                self._need(k, (where,))
            return self
        if kind == "merge":
            for i, k in enumerate(step.parties):
                self._need(k, (*at, i))
            if step.into in self.running and step.into not in step.parties:
                raise StepProblem(f"'{step.into}' is already running; merge into one of the members or a new "
                                  "key.", ("into",))
            members = set(step.parties)
            pairs, carried = [], []
            for pr in self.agreements:
                inside = [x for x in pr if x in members]
                if not inside:
                    pairs.append(pr)
                elif len(inside) == 1:
                    carried.append(next(x for x in pr if x not in members))
            if carried:
                pairs.append((step.into, carried[0]))
            # blocs: the joint list takes the place of its first member that sits in a bloc
            first_in_bloc = next((m for m in step.parties if any(m in v for _, v in self.blocs)), None)
            out = self._replace(members, [step.into], agreements=pairs,
                                running=_swap(self.running, members, [step.into]),
                                labels=self._label(step.into, step.label))
            if first_in_bloc is not None:
                blocs = []
                for k, v in self.blocs:
                    if first_in_bloc in v:
                        blocs.append((k, _swap(v, members, [step.into])))
                    else:
                        blocs.append((k, tuple(x for x in v if x not in members)))
                out = replace(out, blocs=tuple(blocs))
            return out
        if kind == "split":
            party = step.parties[0]
            self._need(party, at)
            parts = [k for k, _ in step.parts]
            for k in parts:
                if k in self.running and k != party:
                    raise StepProblem(f"'{k}' is already running; split into new keys or lists that are not "
                                      "running.", ("into", k))
            labels = dict(self.labels)
            labels.update(dict(step.labels))
            return self._replace({party}, parts, agreements=[p for p in self.agreements if party not in p],
                                 running=_swap(self.running, {party}, parts), labels=tuple(labels.items()))
        if kind == "drop":
            party = step.parties[0]
            self._need(party, at)
            for k, _ in step.parts:
                self._need(k, ("to", k))
            return self._replace({party}, [], agreements=[p for p in self.agreements if party not in p],
                                 running=tuple(k for k in self.running if k != party))
        if kind == "run":
            party = step.parties[0]
            if party in self.running:
                raise StepProblem(f"'{party}' is already running.", at)
            for k, _ in step.parts:
                self._need(k, ("from", k))
            blocs = tuple((k, (*v, party) if k == step.bloc else v) for k, v in self.blocs)
            return replace(self, running=(*self.running, party), blocs=blocs,
                           labels=self._label(party, step.label))
        if kind == "agreement_add":
            for i, k in enumerate(step.parties):
                self._need(k, (*at, i))
                held = next((p for p in self.agreements if k in p), None)
                if held:
                    raise StepProblem(f"'{k}' already has a surplus agreement ({held[0]}–{held[1]}); a list "
                                      "may sign one, so remove that one first with agreement_remove.",
                                      (*at, i))
            return replace(self, agreements=(*self.agreements, step.parties))
        if kind == "agreement_remove":
            a, b = step.parties
            if not any(set(p) == {a, b} for p in self.agreements):
                listed = ", ".join(f"{x}–{y}" for x, y in self.agreements) or "none"
                raise StepProblem(f"there is no surplus agreement {a}–{b} to remove (the agreements at this "
                                  f"step: {listed}).", at)
            return replace(self, agreements=tuple(p for p in self.agreements if set(p) != {a, b}))
        if kind == "veto_add":
            a, b = step.parties
            if any(set(v) == {a, b} for v in self.vetoes):
                raise StepProblem(f"the veto {a}–{b} is already in place.", at)
            if a in self.required and b in self.required:
                raise StepProblem(f"{a} and {b} are both required, so a veto between them leaves no "
                                  "coalition.", at)
            return replace(self, vetoes=(*self.vetoes, (a, b)))
        if kind == "veto_remove":
            a, b = step.parties
            if not any(set(v) == {a, b} for v in self.vetoes):
                raise StepProblem(f"there is no veto {a}–{b} to remove.", at)
            return replace(self, vetoes=tuple(v for v in self.vetoes if set(v) != {a, b}))
        if kind == "threshold":
            return replace(self, threshold=float(step.amount))
        raise StepProblem(f"unknown step '{kind}'.", at)

    def _label(self, key: str, label: str | None) -> tuple:
        labels = dict(self.labels)
        if label:
            labels[key] = label
        return tuple(labels.items())
