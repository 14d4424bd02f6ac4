"""allocate seats from a votes file

VOTES.csv has columns list,votes (other columns ignored) and holds every list that ran: the
threshold is a share of the file's total votes (the valid votes), compared exactly: a percent
(3.25 or 3.25%), an exact fraction (1/150: one full quota of 150 seats) or a number of quotas
(1 quota = 1/seats). PAIRS.csv has list_a,list_b, one surplus-vote agreement per row.

Output: one row per list in input order, every list kept, columns list,votes,seats,tie; tie is
true for the lists in an exact tie for the last seat (the seat goes to the first of them in the
file, and a note on stderr says so). JSON: a list of objects with the same keys.

--audit prints the allocation's steps instead (threshold cut, gauge, initial seats, each seat
with the quotient that won it, agreement splits): columns step,seat,list,votes,quotient,
quotient_exact,seats,note, where quotient is a decimal (6 places at most) and quotient_exact the
exact fraction.

--rules RULES.yml reads a house's rules file: its seats, threshold and method are the defaults
of --seats, --threshold and --method (an option given wins).
"""

from __future__ import annotations

import sys
from fractions import Fraction

from helpers.cli import output
from helpers.core import paths
from helpers.core.errors import DataError

AUDIT_COLUMNS = ["step", "seat", "list", "votes", "quotient", "quotient_exact", "seats", "note"]


def _decimal(q) -> str:
    if q is None:
        return ""
    q = Fraction(q)
    if q.denominator == 1:
        return str(q.numerator)
    text = f"{float(round(q, 6)):.6f}".rstrip("0").rstrip(".")
    return text


def _exact(q) -> str:
    return "" if q is None else str(Fraction(q))


EXAMPLES = """\
ballotbook seats data/knesset/results/2022-11-01.csv --threshold 3.25
ballotbook seats votes.csv --threshold 3.25 --agreements pairs.csv --format json
ballotbook seats votes.csv --method sainte-lague --seats 20 --audit
ballotbook seats votes.csv --seats 150 --threshold 1/150 --method dhondt
"""


#: The allocation methods (helpers.models.seats.METHODS), for --method of seats and simulate.
METHODS = ["bader-ofer", "dhondt", "sainte-lague", "modified-sainte-lague", "hare", "droop"]
#: --threshold's help, for seats and simulate.
THRESHOLD_HELP = ("the share of valid votes a list needs: a percent 0 <= t < 100 (3.25 or 3.25%%), an exact "
                  "fraction a/b < 1 (1/150) or N quotas (1 quota = 1/seats) (default: %(default)s)")


#: --method's help, for seats and simulate.
METHOD_HELP = ("the allocation rule (default: the --rules file's method, its agreements' method with --agreements; "
               "else bader-ofer with --agreements, dhondt without)")


def rules_option(p) -> None:
    """--rules, for seats and simulate."""
    from helpers.cli import path

    path(p, "--rules", default=None, metavar="RULES.yml",
         help="a house's rules file (data/knesset/rules.yml is the Knesset's): --seats, --threshold and "
              "--method default to its seats, threshold and method, and simulate matches party names against "
              "its party registry; an option given wins (default: none)")


def apply_rules(args, *, seats: int, threshold: float) -> None:
    """Fill --seats, --threshold and --method when they are left out: from the --rules file when there is one
    (its agreements' method with --agreements; --agreements with rules that have no agreements is bad input),
    else the command's own defaults (`seats`, `threshold`; the method stays None: bader-ofer with agreements,
    dhondt without). Sets ``args.rules_loaded`` to the loaded rules (None without --rules)."""
    rules = None
    if getattr(args, "rules", None):
        from helpers.data.rules import load_rules

        rules = load_rules(args.rules)
        if getattr(args, "agreements", None) and rules.agreements_method is None:
            raise DataError(f"{rules.path} says this house has no surplus-vote agreements (agreements: none); "
                            "leave --agreements out or use other rules.")
        if args.method is None:
            args.method = rules.allocation_method(bool(getattr(args, "agreements", None)))
    if args.seats is None:
        args.seats = rules.seats if rules else seats
    if args.threshold is None:
        args.threshold = rules.threshold_option if rules else threshold
    args.rules_loaded = rules


def configure(p) -> None:
    from helpers.cli import SEATS, THRESHOLD, fmt, option, path
    from helpers.core.limits import MAX_SEATS

    path(p, "votes", metavar="VOTES.csv", help="votes per list: columns list,votes")
    option(p, "--seats", kind=SEATS, default=None, metavar="N",
           help=f"seats to allocate, 1 to {MAX_SEATS:,} (default: the --rules file's, else 120)")
    option(p, "--threshold", metavar="T", kind=THRESHOLD, default=None,
           help=THRESHOLD_HELP.replace("%(default)s", "the --rules file's, else 0"))
    p.add_argument("--method", default=None, choices=METHODS, help=METHOD_HELP)
    path(p, "--agreements", default=None, metavar="PAIRS.csv",
         help="surplus-vote agreements: columns list_a,list_b (default: none)")
    rules_option(p)
    p.add_argument("--audit", action="store_true",
                   help="print the allocation's steps instead of the seats (default: the seats)")
    fmt(p)


def run(args) -> int:
    from helpers.core.threshold import parse_threshold
    from helpers.data.knesset import load_pairs, load_votes
    from helpers.models.seats import allocate

    apply_rules(args, seats=120, threshold=0.0)

    # --seats and --threshold are checked by their kinds (helpers.cli.check_options) before this runs; quotas
    # are checked against --seats here, before any file is read
    threshold = parse_threshold(args.threshold, "--threshold", seats=args.seats).percent
    frame = load_votes(args.votes)
    votes = list(zip(frame["list"].astype(str), (int(v) for v in frame["votes"]), strict=True))
    pairs = load_pairs(args.agreements) if args.agreements else []
    try:
        result = allocate(votes, seats=args.seats, threshold=threshold, method=args.method,
                          agreements=pairs)
    except DataError as exc:
        text = str(exc)
        if pairs and "surplus agreement" in text:
            raise DataError(f"{paths.display(paths.resolve(args.agreements))}: {text}") from None
        raise
    if result.has_tie:
        tied = [n for n, t in zip(result.lists, result.tie, strict=True) if t]
        note = next((r["note"] for r in reversed(result.audit) if r["step"] == "tie"), "")
        sys.stderr.write(f"ballotbook seats: note: {', '.join(tied)} are in an exact tie ({note}).\n")

    if args.audit:
        rows = [{**r, "quotient": _decimal(r["quotient"]), "quotient_exact": _exact(r["quotient"])}
                for r in result.audit]
        doc = [{k: (None if r[k] in ("", None) and k not in ("note",) else r[k]) for k in AUDIT_COLUMNS}
               for r in rows]
        return output.write(args.format, AUDIT_COLUMNS,
                            (["" if r[k] is None else r[k] for k in AUDIT_COLUMNS] for r in rows), doc)

    listed = list(zip(result.lists, result.votes, result.seats, result.tie, strict=True))
    return output.write(args.format, ["list", "votes", "seats", "tie"],
                        ([n, v, s, "true" if t else "false"] for n, v, s, t in listed),
                        [{"list": n, "votes": v, "seats": s, "tie": t} for n, v, s, t in listed])
