"""``ballotbook primary ROUND.csv [--threshold 40] [--inclusive] [--format csv|json]``

The outcome of a two-round primary's first round. ROUND.csv has ``candidate,votes`` (other columns ignored)
and holds every candidate of the round; the threshold is a share (percent) of the votes in the file, and
``share`` in the output is percent of those votes, unrounded.

Output (contract in DESIGN.md): JSON ``{"outcome", "winner", "runoff", "candidates": [{"candidate", "votes",
"share"}]}``; CSV one row per candidate, input order, ``candidate,votes,share,result`` with result
``winner``, ``runoff`` or ``out``.

A tie for a runoff place cannot be settled from the count: then ``runoff`` lists the leader and every tied
candidate (so three or more names), each tied candidate's result is ``runoff``, the JSON gains a ``tie`` list
naming the tied candidates, and a note on stderr says so (exit 0).
"""

from __future__ import annotations

import sys

from helpers.cli import output
from helpers.core.errors import DataError
from helpers.data.primaries import load_round, round_votes
from helpers.models.primaries import first_round


def run(args) -> int:
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
