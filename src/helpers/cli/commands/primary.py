"""the outcome of a two-round primary's first round

ROUND.csv has columns candidate,votes (other columns ignored) and holds every candidate of the
round; the threshold is a share (percent) of the votes in the file, and share in the output is
percent of those votes, unrounded.

Output: CSV one row per candidate, input order, candidate,votes,share,result with result winner,
runoff or out. JSON: {"outcome", "winner", "runoff", "candidates": [{"candidate", "votes",
"share"}]}. A tie for a runoff place cannot be settled from the count: then every tied candidate
is marked runoff, the JSON gains a tie list and a note on stderr says so (exit 0).
"""

from __future__ import annotations

import sys

from helpers.cli import output
from helpers.core.errors import DataError

EXAMPLES = """\
ballotbook primary data/primaries/labor-2007-round1.csv
ballotbook primary round1.csv --threshold 40 --inclusive --format json
"""


def configure(p) -> None:
    from helpers.cli import FIRST_ROUND_THRESHOLD, fmt, option, path

    path(p, "round", metavar="ROUND.csv", help="the first round's count: columns candidate,votes")
    option(p, "--threshold", kind=FIRST_ROUND_THRESHOLD, default=40.0, metavar="PERCENT",
           help="first-round share that wins outright, percent, 0 < t <= 100 (default: %(default)s)")
    p.add_argument("--inclusive", action="store_true",
                   help="exactly the threshold is enough (default: more than the threshold is needed)")
    fmt(p)


def run(args) -> int:
    from helpers.data.primaries import load_round, round_votes
    from helpers.models.primaries import first_round

    threshold = args.threshold  # a first-round percentage, 0 < t <= 100 (helpers.cli.check_options)
    frame = load_round(args.round)
    try:
        result = first_round(round_votes(frame), threshold=threshold, inclusive=args.inclusive)
    except ValueError as exc:  # the loader has checked the file; this is a last guard
        raise DataError(f"{args.round}: {exc}.") from None

    if result["tie"]:
        sys.stderr.write(f"ballotbook primary: note: {', '.join(result['tie'])} are tied for a runoff place; "
                         "the count cannot name the runoff pair, so all of them are marked 'runoff'.\n")
    out = {
        "outcome": result["outcome"],
        "winner": result["winner"],
        "runoff": result["runoff"],
        "candidates": [{"candidate": c["candidate"], "votes": c["votes"], "share": c["share"]}
                       for c in result["candidates"]],
    }
    if result["tie"]:
        out["tie"] = result["tie"]
    return output.write(getattr(args, "format", "csv"), ["candidate", "votes", "share", "result"],
                        ([c["candidate"], c["votes"], repr(c["share"]), c["result"]]
                         for c in result["candidates"]), out)
