"""fit the historical error model on past elections and score it

Reads the history file (past elections: their polls, their results and whether to fit on them),
fits the election-day error model on the elections marked fit, and scores the model on every
election and lead time (eve, one week, four weeks), each fitting election forecast by a model
fitted without it (leave one election out). Prints one row per election and lead time: Brier and
log scores, interval coverage and width, beside two simple benchmarks.

--write stores the fit in the kit (the default model of every simulation and report) and the
table in docs/model-fit.md; run it from a checkout of the kit, not an installed copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import output

COLUMNS = ["election", "lead_days", "held_out", "fitted_on", "lists", "brier", "log_score", "coverage", "width",
           "average_call_brier", "share_with_seats_brier", "average_call_log_score", "share_with_seats_log_score"]


def _cell(x):
    if isinstance(x, float):
        return f"{x:.4f}"
    return str(x)


EXAMPLES = """\
ballotbook calibrate
ballotbook calibrate --draws 5000 --format json
"""


def configure(p) -> None:
    from helpers.cli import DRAWS, fmt, option, path
    from helpers.core import paths

    path(p, "--history", default=paths.HISTORY, metavar="ELECTIONS.csv",
         help="past elections: polls, results, and whether to fit on them (default: %(default)s at the "
              "project root)")
    option(p, "--draws", kind=DRAWS, default=20_000, metavar="N",
           help="simulated elections per forecast (default: 20,000)")
    p.add_argument("--write", action="store_true",
                   help="write the fit into the kit (src/helpers/models/fitted.json) and docs/model-fit.md "
                        "(default: print only)")
    fmt(p)


def run(args) -> int:
    from helpers.core.paths import require_root
    from helpers.data.history import load_history
    from helpers.models import calibration, uncertainty

    root = require_root()  # the history's files, and the elections' rules, are the project's
    elections = load_history(args.history, root=root)  # its paths are relative to the project root
    model = calibration.fit(elections, uncertainty.FITTED)
    rows, table = calibration.track_record(elections, uncertainty.FITTED, draws=args.draws)
    if args.write:
        dof = "inf" if model.dof == float("inf") else model.dof
        doc = {"scale": model.scale, "power": model.power, "dof": dof, "others": round(model.others, 6),
               "below_fraction": round(model.below_fraction, 6), "fitted_on": list(model.fitted_on),
               **{k: v for k, v in model.fit.items()}}
        Path(uncertainty.FITTED_FILE).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        (root / "docs").mkdir(exist_ok=True)
        (root / "docs" / "model-fit.md").write_text(calibration.report(model, table, rows), encoding="utf-8")
    if args.format == "json":
        output.write_json({"model": {"scale": model.scale, "power": model.power, "dof": model.dof,
                                     "others": model.others, "below_fraction": model.below_fraction,
                                     "fitted_on": list(model.fitted_on)},
                           "track_record": table.to_dict("records")})
        return 0
    output.write_csv(COLUMNS, ([_cell(r[c]) for c in COLUMNS] for r in table.to_dict("records")))
    return 0
