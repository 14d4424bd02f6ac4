"""winning coalitions (or voting power) from a seats file

SEATS.csv has columns party,seats (other columns ignored). Parties are named as in the file, in
any letter case; an unknown name is exit 2 with the closest known names.

Output: the minimal winning coalitions (every member needed), one row each, columns members
(joined by +, largest party first), seats, surplus (seats - majority), sorted by seats, most
first. --all lists every winning coalition instead. --veto A,B drops every coalition holding both;
--require A keeps only coalitions holding A (then "minimal" means every other member is needed).
JSON: a list of objects with the same keys plus parties (the members as a list).

--power prints a-priori voting power instead: party,seats,banzhaf_swings,banzhaf,shapley_shubik
(shares 0-1), over every coalition of the parties with seats; --veto and --require do not apply.

--rules RULES.yml takes the majority from a house's rules file (its 'majority'); --majority wins.
"""

from __future__ import annotations

import sys

from helpers.cli import output
from helpers.core.errors import DataError


def _veto(text: str, parties: list[str]) -> tuple[str, str]:
    from helpers.models.coalitions import resolve_party

    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise DataError(f"--veto '{text}' must name two parties separated by a comma, such as --veto A,B.")
    a, b = (resolve_party(p, parties, "party in --veto") for p in parts)
    if a == b:
        raise DataError(f"--veto '{text}' names the same party twice.")
    return a, b


EXAMPLES = """\
ballotbook coalitions seats.csv
ballotbook coalitions seats.csv --veto likud,yesh_atid --require shas --all
ballotbook coalitions seats.csv --power --format json
ballotbook coalitions seats.csv --rules data/knesset/rules.yml
"""


def configure(p) -> None:
    from helpers.cli import SEATS, fmt, option, path

    path(p, "seats", metavar="SEATS.csv", help="seats per party: columns party,seats")
    option(p, "--majority", kind=SEATS, default=None, metavar="N",
           help="seats needed, from 1 to the seats in the file (default: the --rules file's majority, else "
                "half of them + 1, 61 of 120)")
    path(p, "--rules", default=None, metavar="RULES.yml",
         help="a house's rules file (helpers.data.rules): the majority comes from it unless --majority is "
              "given (default: none)")
    p.add_argument("--veto", action="append", default=[], metavar="A,B",
                   help="two parties that will not sit together; repeat for more (default: none)")
    p.add_argument("--require", action="append", default=[], metavar="A",
                   help="a party every coalition must hold; repeat for more (default: none)")
    p.add_argument("--all", action="store_true",
                   help="every winning coalition, not only minimal ones (default: minimal ones)")
    p.add_argument("--power", action="store_true",
                   help="print Banzhaf and Shapley-Shubik power instead (default: the coalitions)")
    fmt(p)


def run(args) -> int:
    from helpers.data.knesset import load_seats
    from helpers.models.coalitions import majority_of, power, resolve_party, winning_coalitions

    frame = load_seats(args.seats)
    items = list(zip(frame["party"].astype(str), (int(s) for s in frame["seats"]), strict=True))
    parties = [p for p, _ in items]
    total = sum(s for _, s in items)
    if args.majority is not None and not 1 <= args.majority <= total:
        raise DataError(f"--majority must be between 1 and the {total} seats in the file "
                        f"(got {args.majority}).")
    majority = majority_of(total) if args.majority is None else args.majority
    if args.rules and args.majority is None:
        from helpers.core import paths
        from helpers.data.rules import load_rules

        rules = load_rules(args.rules)
        if rules.majority > total:
            raise DataError(f"{rules.path} says a majority is {rules.majority} seats, more than the {total} seats "
                            f"in {paths.display(args.seats)}; give --majority or another rules file.")
        majority = rules.majority
    vetoes = [_veto(v, parties) for v in args.veto]
    required = [resolve_party(r, parties, "party in --require") for r in args.require]

    if args.power:
        if vetoes or required:
            sys.stderr.write("ballotbook coalitions: note: --veto and --require do not apply to --power "
                             "(a-priori power over every coalition).\n")
        table = power(items, majority)
        rows = table.to_dict("records")
        columns = ["party", "seats", "banzhaf_swings", "banzhaf", "shapley_shubik"]
        return output.write(
            args.format, columns,
            ([r["party"], int(r["seats"]), int(r["banzhaf_swings"]), repr(float(r["banzhaf"])),
              repr(float(r["shapley_shubik"]))] for r in rows),
            [{"party": r["party"], "seats": int(r["seats"]), "banzhaf_swings": int(r["banzhaf_swings"]),
              "banzhaf": float(r["banzhaf"]), "shapley_shubik": float(r["shapley_shubik"])} for r in rows])

    found = winning_coalitions(items, majority, vetoes=vetoes, required=required, minimal=not args.all)
    if not found:
        sys.stderr.write(f"ballotbook coalitions: note: no coalition reaches {majority} seats under these "
                         "conditions.\n")
    return output.write(args.format, ["members", "seats", "surplus"],
                        ([c.name, c.seats, c.surplus] for c in found),
                        [{**c.as_dict(), "parties": list(c.members)} for c in found])
