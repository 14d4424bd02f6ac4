"""Polls files and the party registry.

A polls file is long: one row per poll x party. Required columns ``date,pollster,sample_size,party`` and
either ``share`` (percent of valid votes) or ``seats`` (or both). Optional columns the kit understands:

- ``poll_id``: which rows form one poll. Without it a poll is the rows sharing date, pollster, media and
  question (so two polls by one pollster on one day need a ``poll_id``).
- ``media``, ``poll_type``, ``population``, ``notes``: text, kept.
- ``question``: what the poll asked when a file holds several questions ("first round", "runoff"); empty for
  the usual vote-intention question.
- ``fieldwork_start``, ``fieldwork_end``: dates.
- ``share_if_below`` (alias ``vote_percent_if_below_threshold``): the percentage a seats poll published for a
  party it shows under the threshold with 0 seats.
- ``partial``: ``yes`` when the source gives only some parties' figures (then the sum check below is relaxed
  and the models leave the poll out of averages; charts still show it). A file without this column marks a
  partial poll the way the kit's reference collections do: the word ``PARTIAL``, in capitals, in its notes.
- ``date_precision``: ``day`` (default) or a note such as ``approx``. ``date`` may also be ``YYYY-MM`` or
  ``YYYY`` when only the month or year is known; it is then read as the first day of that period and
  ``date_precision`` becomes ``month`` or ``year``.
- ``new``: ``yes`` on a row whose party the party registry does not have yet (a list formed this week). One
  such row declares the party for the whole file; its later polls need not repeat it.
Any other column is kept as text.

Parties: each row's party is matched against the party registry (``data/parties.csv``: keys, display names,
Hebrew names and aliases, in any letter case, :func:`load_parties`) and becomes the registry's key, so
``Likud``, ``likud`` and ``Likud–Ahi`` are one party everywhere. A merged column written ``a+b`` is matched
part by part. A party the registry does not know is an error naming file, row and column with the closest
names ("did you mean 'likud'?"), unless a row of the file declares it ``new``. A file none of whose parties the
registry knows (a leadership race's candidates, another country's parties) is read without it. Without a
registry, or for parties it does not have, names are only folded: every letter-case variant of a name is the
party as first written in the file.

Errors (DataError naming file, row and column): a date that is not a real day, seats that are not whole
numbers from 0 to 10,000 (``helpers.core.limits.MAX_SEATS``) or published half seats (``18.5``: Israeli polls
print some half seats, and a range '18-19' is stored as 18.5; ``3.3`` or ``-1`` is refused), a seats poll
whose every party has 0 seats (nothing to compute), a share outside 0..100, a sample size that is not a whole
number > 0 (empty is allowed), the same party twice in one poll, a poll whose rows disagree on date, pollster
or sample size, a poll mixing rows with only seats and rows with only shares, and a share poll whose figures
sum to more than ``MAX_SHARE_SUM`` (105: rounding cannot explain more) or, unless it is marked partial, to
less than ``MIN_SHARE_SUM`` (50: the figures are then in another unit or most parties are missing).

Flags, kept rather than rejected (boolean columns): ``flag_seats_total`` (a seats poll not summing to the
house size, 120), ``flag_merged`` (a column that combines several lists: its key holds ``+`` or the registry
gives it ``members``), ``flag_sample_size_missing``.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pandas as pd

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.core.limits import MAX_SEATS
from helpers.data._names import NameIndex, fold, name_list, names
from helpers.data._table import LARGEST, Table, TooLarge, excerpt, fail, parse_int, parse_partial_date, read_table

#: Seats in the house a seats poll is checked against (the Knesset).
HOUSE_SEATS = 120
#: A share poll's figures may sum to at most this (percent); rounding explains a little over 100.
MAX_SHARE_SUM = 105.0
#: ... and at least this, unless the poll is marked partial (undecided voters explain a little under 100).
MIN_SHARE_SUM = 50.0

REQUIRED = ("date", "pollster", "sample_size", "party")
#: Without a ``partial`` column, notes holding this word (in capitals) mark a partial poll.
PARTIAL_TOKEN = re.compile(r"\bPARTIAL\b")
BELOW_ALIASES = ("share_if_below", "vote_percent_if_below_threshold")
_TEXT = ("poll_id", "media", "poll_type", "population", "question", "notes")
_YES = {"yes", "y", "true", "1"}
_NO = {"", "no", "n", "false", "0"}

#: The registry file the kit ships (project-relative).
PARTIES_FILE = "data/parties.csv"
#: The default of :func:`load_polls`'s ``parties``: the project's registry (:func:`default_parties`), if any.
PROJECT = "project"


def _parse_period(text: str) -> tuple[dt.date, str]:
    """A date written YYYY-MM-DD, or YYYY-MM / YYYY when only the month or year is known: (first day,
    precision)."""
    first, _, precision = parse_partial_date(text)
    return first, precision


#: A seats cell holds a whole number of seats (read as before) or a published half seat: a projection such as
#: 18.5, or a printed range '18-19' stored as 18.5. Other decimals (3.3) are refused with their own message.
_DECIMAL = re.compile(r"\+?[0-9]+\.[0-9]+")


def _parse_seats(text: str) -> int | float:
    """A seats cell: a whole number (an int, exactly as before) or a plain decimal (a float, checked to be a
    half seat by the caller). Anything else is a ValueError (the whole-number message)."""
    try:
        return parse_int(text, 0)
    except TooLarge:
        raise
    except ValueError:
        if not _DECIMAL.fullmatch(text.strip()):
            raise
    value = float(text)
    if value > LARGEST:
        raise TooLarge(text)
    return value


def _yes_no(text: str) -> bool:
    t = text.strip().lower()
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise ValueError(text)


def load_polls(path: str | os.PathLike, parties: pd.DataFrame | None | str = PROJECT,
               house_seats: int = HOUSE_SEATS) -> pd.DataFrame:
    """Read and check a polls file (see the module docstring); one row per poll x party.

    Columns of the result: poll_id, date (datetime64), date_precision, pollster, media, poll_type, question,
    population, sample_size (Int64, <NA> when missing), party, seats (Int64, <NA> for share polls; Float64 when
    the file has a half seat), share
    (float, percent; NaN for seats polls), share_if_below (float, percent), partial (bool), kind ('seats' or
    'share', per poll), poll_seats (the poll's seat total, typed as seats), flag_seats_total, flag_merged,
    flag_sample_size_missing (bool), fieldwork_start, fieldwork_end (datetime64), notes, row (the row in the
    file), then any other column of the file as text. ``attrs['path']`` names the file, ``attrs['format']``
    is 'seats', 'share' or 'mixed'.

    `parties` is the party registry (:func:`load_parties`) the parties are matched against (see the module
    docstring); its merged columns are also flagged in ``flag_merged``. By default (:data:`PROJECT`) the
    project's registry, when it has one; None reads the file without a registry (letter case still folded)."""
    if isinstance(parties, str):
        parties = default_parties()
    t = read_table(path, REQUIRED, what="polls file")
    below_col = next((c for c in BELOW_ALIASES if t.has(c)), None)
    if not t.has("share") and not t.has("seats"):
        raise DataError(f"{paths.display(t.path)}: a polls file needs a 'share' column (percent of valid "
                        "votes) or a 'seats' column; the header has neither.")

    periods = t.convert("date", _parse_period, "a date written YYYY-MM-DD (or YYYY-MM / YYYY)")
    dates = [p[0] for p in periods]
    given = t.text("date_precision", required=False) if t.has("date_precision") else [""] * len(t)
    precision = [p[1] if p[1] != "day" else (g or "day") for p, g in zip(periods, given, strict=True)]
    pollster = names(t, "pollster")
    written = names(t, "party")
    declared = (t.convert("new", _yes_no, "yes or no", required=False, default=False)
                if t.has("new") else [False] * len(t))
    party = party_keys(t, written, parties, declared)
    sample = t.integers("sample_size", minimum=1, required=False, unit="whole number of respondents")
    seats = (t.convert("seats", _parse_seats, "a whole number of seats >= 0", required=False)
             if t.has("seats") else [None] * len(t))
    for i, s in enumerate(seats):
        if isinstance(s, float) and not (2 * s).is_integer():
            shown = excerpt(t.column("seats")[i].strip())
            raise fail(t.path, t.rows[i], "seats", f"'{shown}' is not a whole number of seats or a half seat "
                                                   "(N.5, as some polls publish)")
    share = (t.numbers("share", minimum=0, maximum=100, required=False, unit="percentage")
             if t.has("share") else [None] * len(t))
    below = (t.numbers(below_col, minimum=0, maximum=100, required=False, unit="percentage")
             if below_col else [None] * len(t))
    text = {c: (t.text(c, required=False) if t.has(c) else [""] * len(t)) for c in _TEXT}
    partial = (t.convert("partial", _yes_no, "yes or no", required=False, default=False)
               if t.has("partial") else [bool(PARTIAL_TOKEN.search(n)) for n in text["notes"]])
    field = {c: (t.dates(c, required=False) if t.has(c) else [None] * len(t))
             for c in ("fieldwork_start", "fieldwork_end")}

    for i, row in enumerate(t.rows):
        if seats[i] is None and share[i] is None:
            col = "seats" if t.has("seats") else "share"
            raise fail(t.path, row, col, "is empty; each row needs the party's seats or its share (percent)")
        s, e = field["fieldwork_start"][i], field["fieldwork_end"][i]
        if s is not None and e is not None and e < s:
            raise fail(t.path, row, "fieldwork_end", f"{e} is before fieldwork_start {s}")

    if t.has("poll_id"):
        ids = names(t, "poll_id")
    else:
        ids = [f"{d.isoformat()} {p}" + (f" ({m})" if m else "") + (f" [{q}]" if q else "")
               for d, p, m, q in zip(dates, pollster, text["media"], text["question"], strict=True)]

    # Per-poll checks: one party once, consistent header fields, one kind of figure.
    first: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    members: dict[str, list[int]] = {}
    for i, (pid, key, row) in enumerate(zip(ids, party, t.rows, strict=True)):
        members.setdefault(pid, []).append(i)
        k = (pid, key)
        if k in seen:
            also = "" if fold(written[i]) == fold(key) else f" (as '{key}')"
            raise fail(t.path, row, "party", f"'{written[i]}'{also} appears twice in poll '{pid}' (first in row "
                                             f"{seen[k]}); each party appears once per poll")
        seen[k] = row
        j = first.setdefault(pid, i)
        for col, values in (("date", dates), ("pollster", pollster), ("sample_size", sample),
                            ("question", text["question"]), ("partial", partial)):
            if values[i] != values[j]:
                shown = "" if values[i] is None else values[i]
                earlier = "" if values[j] is None else values[j]
                raise fail(t.path, row, col, f"'{shown}' differs from '{earlier}' in row {t.rows[j]} of the "
                                             f"same poll '{pid}'; a poll has one {col.replace('_', ' ')}")

    kind_of: dict[str, str] = {}
    poll_seats: dict[str, int | None] = {}
    for pid, idx in members.items():
        if all(share[i] is not None for i in idx):
            kind = "share"
            total = sum(share[i] for i in idx)
            row = t.rows[idx[0]]
            if total > MAX_SHARE_SUM + 1e-9:
                raise fail(t.path, row, "share", f"the shares of poll '{pid}' sum to {total:g}%; a poll's "
                                                 f"shares may sum to at most {MAX_SHARE_SUM:g}%")
            if total < MIN_SHARE_SUM - 1e-9 and not partial[idx[0]]:
                raise fail(t.path, row, "share", f"the shares of poll '{pid}' sum to {total:g}%, below "
                                                 f"{MIN_SHARE_SUM:g}%; use percentages, or mark the poll "
                                                 "partial=yes if the source gives only some parties")
        elif all(seats[i] is not None for i in idx):
            kind = "seats"
            big = next((i for i in idx if seats[i] > MAX_SEATS), None)
            if big is not None:
                raise fail(t.path, t.rows[big], "seats", f"'{seats[big]:,}' is more seats than a house may "
                                                         f"have (at most {MAX_SEATS:,})")
            if not any(seats[i] for i in idx):
                raise fail(t.path, t.rows[idx[0]], "seats", f"every party of poll '{pid}' has 0 seats: they "
                                                            "leave no share for any party, so there is nothing "
                                                            "to compute; "
                                                            "give the seats the poll published, or its "
                                                            "percentages in a share column")
        else:
            i = next(i for i in idx if seats[i] is None)
            raise fail(t.path, t.rows[i], "seats", f"is empty, but other rows of poll '{pid}' give seats; "
                                                  "a poll gives seats for every party or shares for every "
                                                  "party")
        kind_of[pid] = kind
        poll_seats[pid] = sum(seats[i] for i in idx) if all(seats[i] is not None for i in idx) else None

    merged_keys = set()
    if parties is not None and len(parties):
        merged_keys = {k.casefold() for k, m in zip(parties["key"], parties["members"], strict=True) if m}

    # Whole seats stay integers (Int64); a file with a published half seat has Float64 seats.
    seats_dtype = "Float64" if any(isinstance(s, float) for s in seats) else "Int64"
    known = {"date", "date_precision", "pollster", "sample_size", "party", "seats", "share", "partial", "new",
             "fieldwork_start", "fieldwork_end", *BELOW_ALIASES, *_TEXT}
    extra = [c for c in t.columns if c and c not in known]

    df = pd.DataFrame({
        "poll_id": pd.Series(ids, dtype="str"),
        "date": pd.to_datetime(pd.Series(dates)),
        "date_precision": pd.Series(precision, dtype="str"),
        "pollster": pd.Series(pollster, dtype="str"),
        "media": pd.Series(text["media"], dtype="str"),
        "poll_type": pd.Series(text["poll_type"], dtype="str"),
        "question": pd.Series(text["question"], dtype="str"),
        "population": pd.Series(text["population"], dtype="str"),
        "sample_size": pd.array(sample, dtype="Int64"),
        "party": pd.Series(party, dtype="str"),
        "seats": pd.array([s if kind_of[p] == "seats" else None for s, p in zip(seats, ids, strict=True)],
                          dtype=seats_dtype),
        "share": pd.Series([s if kind_of[p] == "share" else None for s, p in zip(share, ids, strict=True)],
                           dtype="float64"),
        "share_if_below": pd.Series(below, dtype="float64"),
        "partial": pd.Series(partial, dtype="bool"),
        "kind": pd.Series([kind_of[p] for p in ids], dtype="str"),
        "poll_seats": pd.array([poll_seats[p] for p in ids], dtype=seats_dtype),
        "flag_seats_total": pd.Series([kind_of[p] == "seats" and poll_seats[p] != house_seats for p in ids],
                                      dtype="bool"),
        "flag_merged": pd.Series(["+" in k or k.casefold() in merged_keys for k in party], dtype="bool"),
        "flag_sample_size_missing": pd.Series([s is None for s in sample], dtype="bool"),
        "fieldwork_start": pd.to_datetime(pd.Series(field["fieldwork_start"], dtype="object")),
        "fieldwork_end": pd.to_datetime(pd.Series(field["fieldwork_end"], dtype="object")),
        "notes": pd.Series(text["notes"], dtype="str"),
        "row": pd.Series(t.rows, dtype="int64"),
    })
    for c in extra:
        df[c] = pd.Series(t.text(c, required=False), dtype="str")
    kinds = set(kind_of.values())
    df.attrs["path"] = paths.display(t.path)
    df.attrs["format"] = kinds.pop() if len(kinds) == 1 else "mixed"
    return df


def party_keys(t: Table, written: list[str], registry: pd.DataFrame | None, declared: list[bool]) -> list[str]:
    """Each row's party (`written`, normalised) as the file's one name for it: the registry key when `registry`
    knows the file's parties, else the first spelling of it in the file (letter case folded). `declared[i]` is
    True where row i says its party is ``new``. DataError naming file, row and column, with the closest names,
    for a party the registry does not know and no row declares new (see the module docstring)."""
    index = party_index(registry) if registry is not None else None
    if index is not None and not any(_registry_key(index, n) for n in dict.fromkeys(written)):
        index = None  # not this registry's parties: a leadership race's candidates, another country
    new: dict[str, str] = {}  # folded -> first spelling, of the parties the file declares new
    for n, d in zip(written, declared, strict=True):
        if d:
            new.setdefault(fold(n), n)
    own = NameIndex()
    out = []
    for name, row in zip(written, t.rows, strict=True):
        key = _registry_key(index, name) if index is not None else None
        if key is None:
            if index is not None and fold(name) not in new:
                raise _unknown_party(t.path, row, "party", name, index, registry, new.values())
            own.add(name, name, first_wins=True)
            key = own.find(name)
        out.append(key)
    return out


def _registry_key(index: NameIndex, name: str) -> str | None:
    """The registry key `name` means; a merged column ``a+b`` part by part (``Likud+Shas`` -> ``likud+shas``)."""
    key = index.find(name)
    if key is None and "+" in name:
        parts = [index.find(p) for p in name.split("+")]
        if all(parts):
            key = "+".join(parts)
    return key


def _unknown_party(file, row, column: str, name: str, index: NameIndex, registry: pd.DataFrame,
                   new=()) -> DataError:
    """The error for a party name the registry does not know: file, row, column, and the closest names."""
    part = name
    if "+" in name:  # a merged column: name the part that is unknown
        part = next((p for p in name.split("+") if index.find(p) is None), name)
    return fail(file, row, column, unknown_party_text(part, index, registry, new))


def unknown_party_text(name: str, index: NameIndex, registry: pd.DataFrame, new=(), *,
                       declare: str = "'yes' in a 'new' column of this file on its row") -> str:
    """'likkud' is not a party in data/parties.csv; did you mean 'likud'? ... (for a message); `new` are other
    names to suggest, `declare` how a party not in the registry is declared where the name was written."""
    candidates = NameIndex(index.keys.items())
    for n in new:
        candidates.add(n, n, first_wins=True)
    near = candidates.near(name, n=6)[:3]
    registry_file = registry.attrs.get("path", PARTIES_FILE)
    hint = ("did you mean " + " or ".join(f"'{k}'" for k in near) + "?") if near else \
        "write its key, display name or an alias."
    return (f"'{excerpt(name)}' is not a party in {registry_file}; {hint} A party not in the registry yet "
            f"needs a row there, or {declare}")


_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def load_parties(path: str | os.PathLike = PARTIES_FILE) -> pd.DataFrame:
    """Read the party registry: one row per party key.

    Columns: ``key`` (lower_snake, as in polls files; ``+`` joins the keys of a merged poll column), ``name``
    (display name), optional ``name_hebrew``, ``colour`` (#RRGGBB), ``bloc`` (the party's bloc at the latest
    election), ``bloc_history`` (``YYYY-MM-DD=Bloc`` entries separated by ';' for elections where it sat
    elsewhere), ``aliases`` (other names, separated by ';'), ``members`` (for a merged column: the keys it
    combines, separated by ';'), ``notes``. Result columns ``aliases`` and ``members`` are lists,
    ``bloc_history`` a dict {date string: bloc}.

    A key, name or alias may name one party only (letter case ignored); members must be registry keys."""
    t = read_table(path, ("key", "name"), what="party registry")
    keys = names(t, "key")
    for key, row in zip(keys, t.rows, strict=True):
        if not re.fullmatch(r"[a-z0-9_]+(\+[a-z0-9_]+)*", key):
            raise fail(t.path, row, "key", f"'{key}' is not a key written in lower_snake_case (letters, "
                                           "digits, '_'; '+' only between the keys of a merged column)")
    t.unique("key", keys, what="party key")
    shown = names(t, "name")
    opt = {c: ((names if c in ("name_hebrew", "bloc", "aliases", "members") else Table.text)(t, c, required=False)
               if t.has(c) else [""] * len(t))
           for c in ("name_hebrew", "colour", "bloc", "bloc_history", "aliases", "members", "notes")}
    for colour, row in zip(opt["colour"], t.rows, strict=True):
        if colour and not _HEX.fullmatch(colour):
            raise fail(t.path, row, "colour", f"'{colour}' is not a colour written #RRGGBB")
    aliases = [name_list(s) for s in opt["aliases"]]
    members = [name_list(s) for s in opt["members"]]
    history = []
    for s, row in zip(opt["bloc_history"], t.rows, strict=True):
        entry = {}
        for part in (p.strip() for p in s.split(";") if p.strip()):
            date, sep, bloc = part.partition("=")
            try:
                dt.date.fromisoformat(date.strip())
            except ValueError:
                raise fail(t.path, row, "bloc_history", f"'{part}' is not written YYYY-MM-DD=Bloc") from None
            if not sep or not bloc.strip():
                raise fail(t.path, row, "bloc_history", f"'{part}' is not written YYYY-MM-DD=Bloc")
            entry[date.strip()] = bloc.strip()
        history.append(entry)
    owner: dict[str, tuple[str, int]] = {}
    for key, name, heb, al, row in zip(keys, shown, opt["name_hebrew"], aliases, t.rows, strict=True):
        for label in {key, name, heb, *al} - {""}:
            k = label.casefold()
            if k in owner and owner[k][0] != key:
                raise fail(t.path, row, "aliases", f"'{label}' already names party '{owner[k][0]}' (row "
                                                   f"{owner[k][1]}); a name may belong to one party only")
            owner[k] = (key, row)
    keyset = set(keys)
    for mem, row in zip(members, t.rows, strict=True):
        for m in mem:
            if m not in keyset:
                raise fail(t.path, row, "members", f"'{m}' is not a key in this registry")
    df = pd.DataFrame({"key": pd.Series(keys, dtype="str"), "name": pd.Series(shown, dtype="str")})
    for c in ("name_hebrew", "colour", "bloc"):
        df[c] = pd.Series(opt[c], dtype="str")
    df["bloc_history"] = history
    df["aliases"] = aliases
    df["members"] = members
    df["notes"] = pd.Series(opt["notes"], dtype="str")
    df.attrs["path"] = paths.display(t.path)
    return df


def default_parties() -> pd.DataFrame | None:
    """The kit's registry (data/parties.csv under the project root), or None when there is none."""
    root = paths.find_root()  # outside any project there is none (``simulate`` on a bare file)
    p = root / PARTIES_FILE if root else None
    return load_parties(p) if p and p.is_file() else None


def registry_for(rules=None) -> pd.DataFrame | None:
    """The party registry of a subject: the one its rules file names (`rules`: a rules file's path, or one loaded
    by :func:`helpers.data.rules.load_rules`), else the project's (:func:`default_parties`: the Knesset's
    data/parties.csv). Polls read for a report are matched against it."""
    if rules is None or (isinstance(rules, str) and not rules.strip()):
        return default_parties()
    if isinstance(rules, str | os.PathLike):
        from helpers.data.rules import load_rules

        rules = load_rules(rules)
    return rules.registry()


def registry_of(path: str | os.PathLike) -> pd.DataFrame | None:
    """The registry of the project a file lies in (the nearest folder up from it holding reports.yml), else the
    working project's (:func:`default_parties`): ``add-poll`` on a project's polls file from anywhere."""
    for folder in paths.resolve(path).resolve().parents:
        if (folder / "reports.yml").is_file():
            p = folder / PARTIES_FILE
            return load_parties(p) if p.is_file() else None
    return default_parties()


def party_index(parties: pd.DataFrame) -> NameIndex:
    """The registry's names (key, name, Hebrew name or alias, any letter case) -> party key."""
    return NameIndex((label, rec.key) for rec in parties.itertuples(index=False)
                     for label in (rec.key, rec.name, rec.name_hebrew, *rec.aliases) if label)


def find_party(parties: pd.DataFrame, name: str, *, where: str = "") -> str:
    """The registry key for `name` (key, display name, Hebrew name or alias, any letter case).

    An unknown name is a DataError that names it (prefixed with `where`, e.g. a file and row)."""
    key = party_index(parties).find(name)
    if key is None:
        prefix = f"{where}: " if where else ""
        registry = parties.attrs.get("path", "the registry")
        raise DataError(f"{prefix}'{name}' is not a party in {registry}; use its key, display name or an "
                        "alias.")
    return key


def merges_of(parties: pd.DataFrame | None, keys=()) -> dict[str, list[str]]:
    """{merged column key: member keys}: from the registry's ``members``, and for any key in `keys` written
    ``a+b`` that the registry does not describe, its parts."""
    out: dict[str, list[str]] = {}
    if parties is not None:
        out.update({k: list(m) for k, m in zip(parties["key"], parties["members"], strict=True) if m})
    for k in keys:
        if "+" in k and k not in out:
            out[k] = k.split("+")
    return out


def bloc_at(parties: pd.DataFrame, election: str | dt.date | None = None) -> dict[str, str]:
    """{party key: bloc} at an election date (its ``bloc_history`` entry, else its ``bloc``)."""
    date = election.isoformat() if isinstance(election, dt.date) else (election or "")
    return {rec.key: rec.bloc_history.get(date, rec.bloc) for rec in parties.itertuples(index=False)}



def display_names(parties: pd.DataFrame | None) -> dict[str, str]:
    """{key: display name} from the registry ({} without one)."""
    return {} if parties is None else dict(zip(parties["key"], parties["name"], strict=True))


def colours(parties: pd.DataFrame | None) -> dict[str, str]:
    """{key: colour} from the registry, for the keys that have one."""
    if parties is None:
        return {}
    return {k: c for k, c in zip(parties["key"], parties["colour"], strict=True) if c}
