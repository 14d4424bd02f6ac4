"""append a published poll to a polls file, with the checks of reading it

Adds one poll given on the command line (its fields as options, then one PARTY=FIGURE per party), or
every row of a wide CSV (--from WIDE.csv: one row per poll, one column per party, columns date,
pollster and any of the options' names). Parties are matched against the party registry
(data/parties.csv: key, name or alias, any letter case) and written as its keys; a name it does not
know is an error with the closest names ("did you mean 'likud'?") unless declared with --new. A
figure is seats (31, or 18.5 for a published range 18-19; 0:1.2 is 0 seats with a published 1.2%)
or, in a file of shares, a percent. Checked as the reader checks the file, and more: dates (not
after today; fieldwork before publication), seats adding up to the house (--house-seats) unless
--partial or --any-total, each party once, no duplicate of a poll in the file. Fields the file has no
column for (fieldwork dates, source) go into its notes. The rows keep the file's column order and
format; the file is replaced atomically, and left byte-identical on any error (exit 2).
"""

from __future__ import annotations

import sys

EXAMPLES = """\
ballotbook add-poll data/polls/knesset-2022.csv --published 2022-10-28 --pollster Maariv --media Maariv \\
    --sample-size 700 --source https://example.org/poll likud=31 yesh_atid=24 ... balad=0:2.1
ballotbook add-poll data/polls/knesset-2022.csv --from new-polls.csv
ballotbook add-poll polls.csv --published 2026-03-01 --pollster Midgam --new "Bennett 2026" \
    likud=25 "Bennett 2026"=22 ...
ballotbook add-poll data/polls/knesset-2022.csv --from new-polls.csv --dry-run
"""

#: Options that give a poll's fields: option name -> NewPoll field.
_FIELD_OPTIONS = ("published", "pollster", "media", "sample_size", "poll_id", "poll_type", "question",
                  "population", "fieldwork_start", "fieldwork_end", "source", "notes")


def _intermixed(p) -> None:
    """Let PARTY=FIGURE arguments follow the options (``add-poll FILE --pollster X likud=31``): argparse before
    Python 3.12.7 gives an empty ``nargs="*"`` positional its turn at FILE, then calls the figures unknown."""
    plain, busy = p.parse_known_args, []

    def parse_known_args(args=None, namespace=None):
        if busy:  # parse_known_intermixed_args calls parse_known_args itself
            return plain(args, namespace)
        busy.append(True)
        try:
            return p.parse_known_intermixed_args(args, namespace)
        finally:
            busy.pop()

    p.parse_known_args = parse_known_args


def configure(p) -> None:
    from helpers.cli import SEATS, option, path

    _intermixed(p)

    path(p, "polls", metavar="POLLS.csv", help="the polls file to add to (long: one row per poll and party)")
    p.add_argument("figures", nargs="*", metavar="PARTY=FIGURE",
                   help="each party's figure: seats (31; 18.5; 0:1.2 for 0 seats and a published 1.2%%) or, in "
                        "a file of shares, percent")
    path(p, "--from", dest="wide", default=None, metavar="WIDE.csv",
         help="add every row of a wide CSV instead: one row per poll, one column per party, and columns date, "
              "pollster and any of the poll options below (default: the poll on the command line)")
    g = p.add_argument_group("the poll (with PARTY=FIGURE arguments)")
    g.add_argument("--published", "--date", dest="published", metavar="YYYY-MM-DD",
                   help="the day the poll was published (the file's 'date'; required)")
    g.add_argument("--pollster", help="who ran the poll (required)")
    g.add_argument("--media", help="who published it (default: none)")
    g.add_argument("--sample-size", "--sample", dest="sample_size", metavar="N",
                   help="respondents (default: not stated)")
    g.add_argument("--poll-id", dest="poll_id", metavar="ID",
                   help="the poll's id (default: DATE-POLLSTER, made unique, in a file with a poll_id column)")
    g.add_argument("--poll-type", dest="poll_type", metavar="TYPE",
                   help="e.g. pre_election_poll, exit_poll (default: the file's most common)")
    g.add_argument("--question", help="what the poll asked, in a file of several questions (default: none)")
    g.add_argument("--population", help="who was asked, e.g. 'Labor members' (default: none)")
    g.add_argument("--fieldwork-start", dest="fieldwork_start", metavar="YYYY-MM-DD",
                   help="first day of fieldwork (default: none)")
    g.add_argument("--fieldwork-end", dest="fieldwork_end", metavar="YYYY-MM-DD",
                   help="last day of fieldwork (default: none)")
    g.add_argument("--source", metavar="URL", help="where it was published (default: none)")
    g.add_argument("--notes", metavar="TEXT", help="anything worth keeping about the poll (default: none)")
    g.add_argument("--partial", action="store_true",
                   help="the source gives only some parties' figures (default: a complete poll)")
    g.add_argument("--set", dest="extra", action="append", default=[], metavar="COLUMN=VALUE",
                   help="another column of the file, e.g. source_table_row=58 (default: empty)")
    p.add_argument("--new", action="append", default=[], metavar="PARTY",
                   help="a party the registry does not have yet (written new=yes; repeat for several) "
                        "(default: every party must be known)")
    p.add_argument("--unit", choices=["seats", "share"], default=None,
                   help="what the figures are (default: the file's seats or share column)")
    option(p, "--house-seats", kind=SEATS, default=120, metavar="N",
           help="seats a seats poll adds up to (default: %(default)s)")
    p.add_argument("--any-total", action="store_true",
                   help="keep a seats poll whose seats do not add up to the house, as published (flagged) "
                        "(default: refused)")
    p.add_argument("--dry-run", action="store_true",
                   help="check and show the poll, write nothing (default: write it)")


def _split(arg: str, what: str) -> tuple[str, str]:
    from helpers.core.errors import DataError

    name, eq, value = arg.rpartition("=")
    if not eq or not name.strip() or not value.strip():
        raise DataError(f"{what} '{arg}' is not written {'PARTY=FIGURE' if what == 'argument' else 'COLUMN=VALUE'}"
                        " (e.g. likud=31).")
    return name.strip(), value.strip()


def _polls(args) -> list:
    from helpers.core import paths
    from helpers.core.errors import DataError
    from helpers.data._names import fold
    from helpers.data.poll_entry import NewPoll, read_wide

    given = [f"--{o.replace('_', '-')}" for o in _FIELD_OPTIONS if getattr(args, o)]
    given += ["--partial"] * args.partial + ["--set"] * bool(args.extra)
    if args.wide:
        if args.figures or given:
            what = f"'{args.figures[0]}'" if args.figures else given[0]
            raise DataError(f"--from {paths.display(args.wide)} gives the polls; {what} cannot be added to them "
                            "(give a poll on the command line or in the file, not both).")
        polls = read_wide(args.wide)
        for poll in polls:  # --new names parties of some of the rows
            written = {fold(f[0]) for f in poll.figures}
            poll.new.extend(n for n in args.new if fold(n) in written)
        return polls
    if not args.figures:
        raise DataError("no figures: give each party as PARTY=FIGURE (e.g. likud=31 yesh_atid=24), or "
                        "--from WIDE.csv.")
    figures = []
    for arg in args.figures:
        name, value = _split(arg, "argument")
        figures.append((name, value, f"argument '{arg}'", f"argument '{arg}'"))
    extra = dict(_split(a, "--set") for a in args.extra)
    fields = {o: getattr(args, o).strip() for o in _FIELD_OPTIONS if getattr(args, o) and getattr(args, o).strip()}
    return [NewPoll(fields, figures, "the poll on the command line", new=list(args.new), partial=args.partial,
                    extra=extra)]


def _describe(poll: dict) -> str:
    f = poll["fields"]
    bits = [f.get("pollster", "")]
    if f.get("media") and f.get("media") != f.get("pollster"):
        bits.append(f"for {f['media']}")
    head = " ".join(bits) + f", published {f['published']}"
    if f.get("sample_size"):
        head += f", {f['sample_size']} respondents"
    unit = "seats" if poll["unit"] == "seats" else "%"
    head += f", {poll['total']:g} {unit}" + (" (partial)" if poll["partial"] else "")
    return head


def run(args) -> int:
    from helpers.data.poll_entry import append_polls

    added = append_polls(args.polls, _polls(args), unit=args.unit, house_seats=args.house_seats,
                         any_total=args.any_total, dry_run=args.dry_run)
    out = sys.stdout
    verb = "would add" if args.dry_run else "added"
    for poll in added.polls:
        rows = f"row {poll['first_row']}" if poll["first_row"] == poll["last_row"] else \
            f"rows {poll['first_row']}-{poll['last_row']}"
        pid = f"poll '{poll['poll_id']}': " if poll["poll_id"] else ""
        out.write(f"{verb} to {added.file}, {rows}: {pid}{_describe(poll)}\n")
        width = max(len(k) for k, _, _ in poll["figures"])
        for key, value, below in poll["figures"]:
            note = f"  ({below}% published)" if below else ""
            new = "  (new party)" if key in poll["new"] else ""
            out.write(f"  {key:<{width}}  {value}{note}{new}\n")
        if poll["noted"]:
            out.write(f"  notes: {', '.join(poll['noted'])} (the file has no column for them)\n")
    if added.header_added:
        out.write(f"{added.file}: column {', '.join(added.header_added)} added to the header\n")
    if args.dry_run:
        out.write("dry run: nothing written\n")
    return 0
