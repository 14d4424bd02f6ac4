"""Adding published polls to a polls file (``ballotbook add-poll``), with the checks of reading it.

A poll to add is a :class:`NewPoll`: its fields by option name (``published``, ``pollster``, ``media``,
``sample_size``, ``fieldwork_end``, ``source``...), its figures (party as written, and the figure as written:
seats ``31`` or ``18.5``, ``0:1.2`` for 0 seats with a published 1.2%, or a share in percent), the parties it
declares new, and where it was written (for messages). :func:`read_wide` reads such polls from a wide CSV, one
row per poll and one column per party. :func:`append_polls` checks them against the file and the party registry
and appends them:

- each party is matched against the registry (keys, names, aliases, any letter case; a merged column ``a+b``
  part by part) and written as its key, with "did you mean" for a name it does not know; a party the registry
  lacks must be declared new (written with ``yes`` in the file's ``new`` column, which is added to the header
  if the file has none). A file of other parties (candidates, another country: :mod:`helpers.data.polls`
  reads it without the registry) is matched against its own spellings, letter case folded, and a name it
  does not have must be declared new too;
- dates: a real day, not after today; fieldwork_start <= fieldwork_end <= the publication date;
- figures: seats whole or half (a published range), summing to the house size (120) unless the poll is partial
  or the total is accepted as published (then flagged, as the reader does); shares in percent summing to at
  most 105 (and at least 50 unless partial); each party once;
- no duplicate: not a poll id the file has, not a second poll of one pollster, media and question on one day
  (unless it has a poll id of its own in a file with a poll_id column), not the same figures as a poll of the
  same pollster on the same day.

Fields the file has no column for (fieldwork dates, source, media) go into its ``notes``, and a partial poll in
a file without a ``partial`` column gets the word PARTIAL there, as the reader expects. The new rows keep the
file's column order, line endings and quoting; they are written to a temporary file beside it, read back with
:func:`helpers.data.polls.load_polls`, and renamed over it, so a bad poll leaves the file byte-identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

import pandas as pd

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import polls as polls_data
from helpers.data._names import NameIndex, fold, name_list
from helpers.data._table import excerpt, fail, parse_date, parse_float, parse_int, read_table

#: Poll fields: option / wide-file name -> the polls-file columns it may be written to, first found wins
#: (none found: into ``notes`` as "name: value").
FIELDS = {
    "published": ("date",), "pollster": ("pollster",), "media": ("media",), "sample_size": ("sample_size",),
    "poll_id": ("poll_id",), "poll_type": ("poll_type",), "question": ("question",),
    "population": ("population",), "fieldwork_start": ("fieldwork_start",),
    "fieldwork_end": ("fieldwork_end",), "source": ("source", "source_url"), "notes": ("notes",),
}
#: Other names of fields in a wide file's header (letter case, spaces and '-' do not matter).
FIELD_SYNONYMS = {"date": "published", "sample": "sample_size", "n": "sample_size", "source_url": "source",
                  "url": "source", "id": "poll_id"}
#: Fields whose absence from the file is an error rather than a note (they have no place in notes).
_NOT_IN_NOTES = {"poll_id"}
#: How fields are named in notes when the file has no column for them.
_IN_NOTES = {"media": "media", "poll_type": "poll type", "question": "question", "population": "population",
             "fieldwork_start": "fieldwork from", "fieldwork_end": "fieldwork to", "source": "source",
             "sample_size": "sample"}
#: Columns of a polls file written per party, never set for a whole poll.
_PER_PARTY = ("party", "party_name", "seats", "share", "new", *polls_data.BELOW_ALIASES)
_FIGURE = re.compile(r"\s*(?P<value>[^:]+?)\s*(?::\s*(?P<below>.+?)\s*%?\s*)?")


@dataclass
class NewPoll:
    """One poll to add. `fields`: option name -> text (see :data:`FIELDS`); `figures`: (party as written,
    figure as written, where the figure was written, where the party's name was written) in order; `new`:
    parties declared new; `partial`: the source gives only some parties; `where`: how a message names the poll
    ("the poll on the command line", "wide.csv, row 3")."""

    fields: dict[str, str]
    figures: list[tuple[str, str, str, str]]
    where: str
    new: list[str] = field(default_factory=list)
    partial: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # other columns of the file, set as they are


@dataclass
class Added:
    """What :func:`append_polls` added: per poll, its id, first and last row, and its rows as written."""

    file: str
    polls: list[dict]
    header_added: list[str]


def _canonical(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().casefold())


def read_wide(path: str | os.PathLike) -> list[NewPoll]:
    """A wide polls file: one row per poll, one column per party (a cell is the party's figure, empty when the
    poll does not give it) and columns for the poll's fields (:data:`FIELDS`, with ``date`` for ``published``,
    ``partial`` yes/no, ``new``: the row's new parties separated by ';'). A header that is neither a field nor
    a party is checked as a party name when the polls are added."""
    t = read_table(path, (), what="wide polls file (one row per poll)")
    name = paths.display(t.path)
    roles: dict[str, str] = {}
    for col in t.columns:
        if not col:
            continue
        c = _canonical(col)
        c = FIELD_SYNONYMS.get(c, c)
        roles[col] = c if c in FIELDS or c in ("partial", "new") else ""
    for needed in ("published", "pollster"):
        if needed not in roles.values():
            column = "date" if needed == "published" else needed
            near = get_close_matches(column, [_canonical(c) for c in roles], n=1, cutoff=0.7)
            hint = (f"is '{next(c for c in roles if _canonical(c) == near[0])}' meant to be it?" if near else
                    f"the header has {excerpt(', '.join(repr(c) for c in t.columns if c), 120) or 'nothing'}.")
            raise DataError(f"{name}: a wide polls file needs a '{column}' column (one row per poll); {hint}")
    out = []
    for i, row in enumerate(t.rows):
        fields, figures, new, partial = {}, [], [], False
        for col, role in roles.items():
            cell = t.cells[col][i].strip()
            if role == "partial":
                try:
                    partial = polls_data._yes_no(cell)
                except ValueError:
                    raise fail(t.path, row, col, f"'{excerpt(cell)}' is not yes or no") from None
            elif role == "new":
                new.extend(name_list(cell))
            elif role:
                if cell:
                    fields[role] = cell
            elif cell:
                figures.append((col, cell, f"{name}, row {row}, column '{excerpt(col)}'",
                                f"{name}, row 1, column '{excerpt(col)}'"))
        if not figures:
            raise fail(t.path, row, None, "gives no party's figure; a poll needs at least one")
        out.append(NewPoll(fields, figures, f"{name}, row {row}", new=new, partial=partial))
    return out


def _usual(t, column: str, default: str = "") -> str:
    """The most common value of a column of the file (its convention for a cell), or `default`."""
    if not t.has(column):
        return default
    counts: dict[str, int] = {}
    for v in t.column(column):
        counts[v.strip()] = counts.get(v.strip(), 0) + 1
    return max(counts, key=counts.get) if counts else default


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", fold(text)).strip("_") or "poll"


class _Parties:
    """Party names for the file being added to: the registry's (when it knows the file's parties), the
    parties the file declares new, and the file's own spellings (letter case folded)."""

    def __init__(self, registry, existing, new_in_file, file: str):
        self.registry, self.file = registry, file
        self.index = polls_data.party_index(registry) if registry is not None else None
        if self.index is not None and not any(polls_data._registry_key(self.index, p) for p in existing):
            self.index = None  # the file holds other parties: its own names only
        self.own = NameIndex.of(existing, first_wins=True)
        self.new = {fold(n) for n in new_in_file}
        self.names = dict(zip(registry["key"], registry["name"], strict=True)) if registry is not None else {}

    def key(self, name: str, declared: set[str], where: str) -> tuple[str, bool]:
        """(the key to write for `name`, whether its row says new); DataError naming `where` otherwise."""
        if self.index is not None:
            key = polls_data._registry_key(self.index, name)
            if key is not None:
                if fold(name) in declared:
                    raise DataError(f"{where}: '{excerpt(name)}' is declared new, but the registry "
                                    f"({self.registry.attrs.get('path', polls_data.PARTIES_FILE)}) has it as "
                                    f"'{key}'; leave out its new declaration.")
                return key, False
        known = self.own.find(name)
        if self.index is None:  # a file of other parties: its own spellings, letter case folded
            if known is None and fold(name) not in declared:
                near = self.own.near(name, n=3)
                hint = ("did you mean " + " or ".join(f"'{k}'" for k in near) + "? ") if near else ""
                raise DataError(f"{where}: '{excerpt(name)}' is not among the parties of {self.file}; {hint}"
                                "A party new to the file needs --new NAME (a 'new' column in a wide file).")
            return known or name, False
        if fold(name) in declared or fold(name) in self.new:
            return known or name, fold(name) in declared
        part = next((p for p in name.split("+") if self.index.find(p) is None), name) if "+" in name else name
        text = polls_data.unknown_party_text(part, self.index, self.registry, list(self.own.keys.values()),
                                             declare="--new NAME (a 'new' column in a wide file)")
        raise DataError(f"{where}: {text}.")

    def label(self, key: str) -> str:
        """The display name to write beside a key: the registry's, else the party as the file spells it."""
        return self.names.get(key, key)


def _figure(text: str, unit: str, below_col: str | None, where: str) -> tuple[str, str]:
    """(figure, percentage under the threshold) as they will be written; DataError naming `where`."""
    m = _FIGURE.fullmatch(text)
    value, below = (m.group("value"), m.group("below") or "") if m else (text.strip(), "")
    if unit == "seats":
        try:
            seats = polls_data._parse_seats(value)
        except ValueError:
            seats = None
        if seats is None or seats < 0 or (isinstance(seats, float) and not (2 * seats).is_integer()):
            raise DataError(f"{where}: '{excerpt(text)}' is not a number of seats (a whole number, a published "
                            "half seat N.5, or 0:PERCENT for a party shown under the threshold).")
        if below:
            if seats != 0:
                raise DataError(f"{where}: '{excerpt(text)}' gives a percentage with {seats} seats; only a party "
                                "shown with 0 seats has one (0:PERCENT).")
            if below_col is None:
                raise DataError(f"{where}: '{excerpt(text)}' gives a percentage under the threshold, but the file "
                                "has no column for one (share_if_below).")
            try:
                parse_float(below, 0, 100)
            except ValueError:
                raise DataError(f"{where}: '{excerpt(below)}' is not a percentage from 0 to 100.") from None
        return value.lstrip("+"), below
    if below:
        raise DataError(f"{where}: '{excerpt(text)}' is not a share; a share poll gives each party's percent.")
    try:
        parse_float(value, 0, 100)
    except ValueError:
        raise DataError(f"{where}: '{excerpt(text)}' is not a share (percent from 0 to 100).") from None
    return value.lstrip("+"), ""


def _day(text: str, what: str, where: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError:
        raise DataError(f"{where}: {what} '{excerpt(text)}' is not a date written YYYY-MM-DD.") from None


def append_polls(path: str | os.PathLike, new_polls: list[NewPoll], *, registry=polls_data.PROJECT,
                 unit: str | None = None, house_seats: int = polls_data.HOUSE_SEATS, any_total: bool = False,
                 dry_run: bool = False, today: dt.date | None = None) -> Added:
    """Check `new_polls` (see the module docstring) and append them to the polls file `path`, atomically:
    DataError naming the poll, the party or the field, and the file unchanged, on any problem. `registry` is the
    party registry (default: that of the project the file is in, :func:`~helpers.data.polls.registry_of`; None
    for none), `unit` 'seats' or 'share' (default: the file's only
    figure column), `house_seats` the seats a seats poll should sum to, `any_total` keeps a poll whose seats do
    not (flagged). With `dry_run` everything is checked and nothing is written."""
    target = Path(os.path.realpath(paths.resolve(path)))
    if isinstance(registry, str):
        registry = polls_data.registry_of(target)
    name = paths.display(target)
    try:
        existing = polls_data.load_polls(target, parties=registry, house_seats=house_seats)
    except DataError as exc:
        raise DataError(f"{exc} (the file must read cleanly before a poll is added; nothing was written)") from None
    before = os.stat(target)
    raw = target.read_bytes()
    t = read_table(target, polls_data.REQUIRED, what="polls file")
    columns = list(t.columns)
    below_col = next((c for c in polls_data.BELOW_ALIASES if t.has(c)), None)
    figure_cols = [c for c in ("seats", "share") if t.has(c)]
    if unit is None:
        if len(figure_cols) > 1:
            raise DataError(f"{name} has both a 'seats' and a 'share' column; say which the figures are with "
                            "--unit seats or --unit share.")
        unit = figure_cols[0]
    elif unit not in figure_cols:
        raise DataError(f"{name} has no '{unit}' column; its figures are {' and '.join(figure_cols)}.")

    new_in_file = [p for p, n in zip(t.column("party"), t.column("new"), strict=True)
                   if n.strip().casefold() in polls_data._YES] if t.has("new") else []
    parties = _Parties(registry, list(dict.fromkeys(existing["party"])), new_in_file, name)
    header_added: list[str] = []
    today = today or dt.date.today()
    poll_ids = set(existing["poll_id"]) if t.has("poll_id") else set()
    # identity of a poll without an id of its own: date, pollster, media, question (as the reader groups rows)
    per_poll = existing.drop_duplicates("poll_id")
    identities = {(d.date().isoformat(), fold(p), fold(m), fold(q)): pid for d, p, m, q, pid in
                  zip(per_poll["date"], per_poll["pollster"], per_poll["media"], per_poll["question"],
                      per_poll["poll_id"], strict=True)}
    figures_of: dict[tuple, dict] = {}
    figure_col = "seats" if unit == "seats" else "share"
    for pid, rows in existing.groupby("poll_id", sort=False):
        first = rows.iloc[0]
        figures_of.setdefault((first["date"].date().isoformat(), fold(first["pollster"])), {})[pid] = {
            k: (None if pd.isna(v) else float(v)) for k, v in zip(rows["party"], rows[figure_col], strict=True)}

    out_rows: list[dict[str, str]] = []
    report: list[dict] = []
    usual_type = _usual(t, "poll_type")
    not_partial = next((v for v in ("no", "") if v in {c.strip() for c in t.column("partial")}), "no") \
        if t.has("partial") else ""
    for poll in new_polls:
        where = poll.where
        f = dict(poll.fields)
        for needed in ("published", "pollster"):
            if not f.get(needed, "").strip():
                flag = "--published" if needed == "published" else "--pollster"
                raise DataError(f"{where}: the poll's {needed.replace('_', ' ')} is missing ({flag}).")
        published = _day(f["published"], "the publication date", where)
        if published > today:
            raise DataError(f"{where}: the publication date {published} is after today ({today}); a poll is "
                            "added once it is published.")
        start = _day(f["fieldwork_start"], "fieldwork_start", where) if f.get("fieldwork_start") else None
        end = _day(f["fieldwork_end"], "fieldwork_end", where) if f.get("fieldwork_end") else None
        if start and end and end < start:
            raise DataError(f"{where}: fieldwork_end {end} is before fieldwork_start {start}.")
        for label, day in (("fieldwork_end", end), ("fieldwork_start", start)):
            if day and day > published:
                raise DataError(f"{where}: {label} {day} is after the publication date {published}.")
        if f.get("sample_size"):
            try:
                n = parse_int(f["sample_size"], 1)
            except ValueError:
                raise DataError(f"{where}: the sample size '{excerpt(f['sample_size'])}' is not a whole number "
                                "of respondents >= 1.") from None
            f["sample_size"] = str(n)

        declared = {fold(n) for n in poll.new}
        extra = dict(poll.extra)
        figures = []
        for fig in poll.figures:  # a wide file's column named as another column of the polls file: that column
            if fig[0] in t.columns and fig[0] not in _PER_PARTY and fig[0] not in extra:
                extra[fig[0]] = fig[1]
            else:
                figures.append(fig)
        seen: dict[str, str] = {}
        entries = []
        for written, text, at, named_at in figures:
            key, is_new = parties.key(written, declared, named_at)
            if key in seen:
                raise DataError(f"{at}: '{excerpt(written)}' is party '{key}', already given as "
                                f"'{excerpt(seen[key])}'; each party appears once per poll.")
            seen[key] = written
            value, below = _figure(text, unit, below_col, at)
            entries.append((key, written, value, below, is_new))
        if not entries:
            raise DataError(f"{where}: no party's figure; a poll needs at least one (PARTY=FIGURE).")
        for n in poll.new:
            if not any(fold(e[1]) == fold(n) for e in entries):
                raise DataError(f"{where}: '{excerpt(n)}' is declared new but the poll gives no figure for it.")

        numbers = {k: float(v) for k, _, v, _, _ in entries}
        total = sum(numbers.values())
        if unit == "seats":
            if not any(numbers.values()):
                raise DataError(f"{where}: every party has 0 seats; give the seats the poll published.")
            if total != house_seats and not poll.partial and not any_total:
                raise DataError(f"{where}: the seats add up to {total:g}, not {house_seats} (the house); check the "
                                "figures, or add --any-total to keep the poll as published (flagged), or "
                                "--partial if the source gives only some parties.")
        else:
            if total > polls_data.MAX_SHARE_SUM + 1e-9:
                raise DataError(f"{where}: the shares add up to {total:g}%; a poll's shares may add up to at "
                                f"most {polls_data.MAX_SHARE_SUM:g}%.")
            if total < polls_data.MIN_SHARE_SUM - 1e-9 and not poll.partial:
                raise DataError(f"{where}: the shares add up to {total:g}%, below {polls_data.MIN_SHARE_SUM:g}%; "
                                "use percentages, or --partial if the source gives only some parties.")

        pid = f.get("poll_id", "").strip()
        identity = (published.isoformat(), fold(f["pollster"]), fold(f.get("media", "")),
                    fold(f.get("question", "")))
        if pid and pid in poll_ids:
            raise DataError(f"{where}: the file already has a poll '{excerpt(pid)}'; nothing was written.")
        if pid and not t.has("poll_id"):
            raise DataError(f"{where}: {name} has no poll_id column, so --poll-id has nowhere to go.")
        same_figures = next((p for p, figs in figures_of.get(identity[:2], {}).items() if figs == numbers), None)
        if same_figures is not None:
            raise DataError(f"{where}: {name} already has this poll ('{excerpt(same_figures)}': the same pollster, "
                            "day and figures); nothing was written.")
        if identity in identities and not (pid and t.has("poll_id")):
            raise DataError(f"{where}: {name} already has a poll by {f['pollster']} published {published}"
                            f"{' in ' + f['media'] if f.get('media') else ''} ('{excerpt(identities[identity])}'); "
                            "a second one that day needs its own --poll-id"
                            + ("." if t.has("poll_id") else f", and {name} has no poll_id column."))
        if t.has("poll_id") and not pid:
            base = f"{published.isoformat()}-{_slug(f['pollster'])}"
            pid, k = base, 2
            while pid in poll_ids:
                pid, k = f"{base}-{k}", k + 1
        poll_ids.add(pid)
        identities[identity] = pid or " ".join(identity[:2])
        figures_of.setdefault(identity[:2], {})[pid or str(len(report))] = numbers

        # the poll's cells, by column; fields without a column of their own go into notes
        cells: dict[str, str] = {"date": published.isoformat(), "poll_id": pid}
        if t.has("date_precision"):
            cells["date_precision"] = "day"
        notes, noted = [], []
        if f.get("notes"):
            notes.append(f["notes"])
        for opt, value in f.items():
            if opt in ("published", "notes", "poll_id") or not value:
                continue
            col = next((c for c in FIELDS[opt] if t.has(c)), None)
            if col is not None:
                cells[col] = value
            elif opt in _NOT_IN_NOTES or not t.has("notes"):
                raise DataError(f"{where}: {name} has no column for {opt.replace('_', ' ')} "
                                f"({' or '.join(FIELDS[opt])}){'' if t.has('notes') else ' or notes'}.")
            else:
                notes.append(f"{_IN_NOTES.get(opt, opt)}: {value}")
                noted.append(opt)
        if t.has("poll_type") and "poll_type" not in cells:
            cells["poll_type"] = usual_type
        if t.has("partial"):
            cells["partial"] = "yes" if poll.partial else not_partial
        elif poll.partial:
            if not t.has("notes"):
                raise DataError(f"{where}: {name} has no 'partial' or 'notes' column to mark a partial poll.")
            notes.append("PARTIAL")  # the reader's mark of a partial poll in a file without the column
        if notes:
            cells["notes"] = "; ".join(notes)
        for col, value in extra.items():
            if not t.has(col) or col in cells or col in _PER_PARTY:
                raise DataError(f"{where}: --set {col}: {name} has no other column '{excerpt(col)}' to set "
                                "(options set the others).")
            cells[col] = value

        rows = []
        for key, _written, value, below, is_new in entries:
            row = dict(cells, party=key, party_name=parties.label(key))
            row[figure_col] = value
            if below:
                row[below_col] = below
            if is_new:
                row["new"] = "yes"
                if "new" not in columns:
                    columns.append("new")
                    header_added.append("new")
            rows.append(row)
        report.append({"poll_id": pid, "where": where, "fields": f, "noted": noted, "unit": unit,
                       "total": total, "figures": [(k, v, b) for k, _, v, b, _ in entries],
                       "new": [k for k, *_, n in entries if n], "poll_type": cells.get("poll_type", ""),
                       "partial": poll.partial, "rows": rows})
        out_rows.extend(rows)

    # the text to append, in the file's own form (line ending, quoting), and the header with any column added
    text = raw.decode("utf-8-sig")
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    first_line = (text.count("\n") + (0 if text.endswith("\n") else 1)) + 1  # the editor line of the first row
    for r in out_rows:
        writer.writerow([r.get(c, "") for c in columns])
    head = raw
    if header_added:
        line_end = raw.find(b"\n")
        header_line = raw[: line_end if line_end >= 0 else len(raw)].rstrip(b"\r")
        if next(csv.reader([header_line.decode("utf-8-sig")]), []) != t.columns:
            raise DataError(f"{name}: its header is not one plain line, so a 'new' column cannot be added; add "
                            "the party to the registry instead.")
        tail = raw[len(header_line):]
        head = header_line + ("," + ",".join(header_added)).encode("utf-8") + tail
    sep = b"" if not head or head.endswith(b"\n") else newline.encode()
    content = head + sep + buf.getvalue().encode("utf-8")
    row = first_line
    for poll in report:
        poll["first_row"], poll["last_row"] = row, row + len(poll["rows"]) - 1
        row += len(poll["rows"])

    tmp = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False)
    try:
        with tmp:
            tmp.write(content)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, before.st_mode & 0o7777)
        try:
            polls_data.load_polls(tmp.name, parties=registry, house_seats=house_seats)
        except DataError as exc:  # a check of the reader not made above: named as the file it would be
            shown = str(exc).replace(paths.display(tmp.name), name)
            raise DataError(f"{shown} (in the poll being added; nothing was written)") from None
        if not dry_run:
            now = os.stat(target)
            if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise DataError(f"{name} changed while the poll was being added; nothing was written, try again.")
            os.replace(tmp.name, target)
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
    return Added(name, report, header_added)
