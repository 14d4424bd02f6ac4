"""seeded Monte Carlo of seats from polls

Pools the polls in POLLS.csv that asked its main question (less partial and exit polls) into one
poll of polls as of the latest poll's date: the newest poll of each polling house in the last 14
days of polling, weighted by sample size and recency. Seats polls are read with the threshold: a
party shown with 0 seats counts as its published percentage, else as somewhere below the
threshold. The threshold is a percent (3.25 or 3.25%), an exact fraction of the valid votes
(1/150) or a number of quotas (1 quota = 1/seats), compared exactly in every draw; --method is
the allocation rule, as for 'ballotbook seats'. The election-day error is the kit's historical
model, fitted on past elections, unless --error-model sampling; --poll-error P adds a fixed
extra error of P points. A surplus agreement naming a list that is not in the polls is void (a
note on stderr says so).

Output, one row per party, largest first: party,share_mean (percent of valid votes),seats_mean,
seats_p05,seats_p95 (5 and 95 percent points of the seat draws),p_pass (probability of clearing
the threshold), to 6 decimals. JSON adds the run's facts (as_of, polls used, effective sample
size, draws, seed...). The same file, options and seed give byte-identical output.

--rules RULES.yml reads a house's rules file: its seats, threshold, method and election-day error
are the defaults of --seats, --threshold, --method and --error-model (an option given wins), and
the polls' party names are matched against its party registry instead of data/parties.csv.
"""

from __future__ import annotations

import sys

from helpers.cli import output

COLUMNS = ["party", "share_mean", "seats_mean", "seats_p05", "seats_p95", "p_pass"]


def _number(x: float) -> float:
    return round(float(x), 6)


def _text(x: float) -> str:
    return f"{float(x):.6f}"


EXAMPLES = """\
ballotbook simulate data/polls/knesset-2022.csv
ballotbook simulate polls.csv --draws 20000 --seed 7 --error-model sampling --poll-error 1.5 --format json
ballotbook simulate polls.csv --seats 150 --threshold 1/150 --method dhondt
ballotbook simulate polls.csv --seats 50 --threshold 5% --method sainte-lague
"""


def configure(p) -> None:
    from helpers.cli import DRAWS, SEATS, SEED, THRESHOLD, fmt, option, path
    from helpers.cli.commands.seats import METHOD_HELP, METHODS, THRESHOLD_HELP, rules_option
    from helpers.core.limits import MAX_DRAWS, MAX_POLL_ERROR, MAX_SEATS

    path(p, "polls", metavar="POLLS.csv",
         help="published polls: columns date,pollster,sample_size,party and share or seats")
    option(p, "--draws", kind=DRAWS, default=100_000, metavar="N",
           help=f"simulated elections, 1 to {MAX_DRAWS:,} (default: 100,000)")
    option(p, "--seed", kind=SEED, default=0, metavar="N",
           help="random seed, a whole number >= 0 (default: %(default)s)")
    option(p, "--seats", kind=SEATS, default=None, metavar="N",
           help=f"seats in the house, 1 to {MAX_SEATS:,} (default: the --rules file's, else 120)")
    option(p, "--threshold", metavar="T", kind=THRESHOLD, default=None,
           help=THRESHOLD_HELP.replace("%(default)s", "the --rules file's, else 3.25"))
    p.add_argument("--method", default=None, choices=METHODS, help=METHOD_HELP)
    p.add_argument("--error-model", choices=["historical", "sampling"], default=None,
                   help="election-day error: 'historical' (fitted on past elections) or 'sampling' (the "
                        "polls' sampling error only) (default: the --rules file's election_day_error, else "
                        "historical)")
    option(p, "--poll-error", kind="number of points [0, MAX_POLL_ERROR]", default=0.0, metavar="P",
           help=f"a fixed extra election-day error in points on top of the error model, 0 to {MAX_POLL_ERROR} "
                "(default: %(default)s)")
    path(p, "--agreements", default=None, metavar="PAIRS.csv",
         help="surplus-vote agreements: columns list_a,list_b (default: none)")
    rules_option(p)
    fmt(p)


def run(args) -> int:
    # every option is checked by its kind (helpers.cli.check_options) before this runs; quotas are checked
    # against --seats here, before any file is read
    from helpers.cli.commands.seats import apply_rules
    from helpers.core.threshold import parse_threshold
    from helpers.data import polls as data_polls
    from helpers.models import polls as model
    from helpers.models.simulate import simulate

    apply_rules(args, seats=120, threshold=3.25)
    rules = args.rules_loaded
    if args.error_model is None:
        args.error_model = rules.election_day_error if rules else "historical"

    threshold = parse_threshold(args.threshold, "--threshold", seats=args.seats).percent
    registry = rules.registry() if rules else data_polls.default_parties()
    table = data_polls.load_polls(args.polls, parties=registry)
    chosen, question = model.select_question(table)
    merges = data_polls.merges_of(registry, chosen["party"].unique())
    pp = model.poll_of_polls(chosen, threshold=float(threshold), merges=merges)
    agreements, void = [], []
    if args.agreements:
        from helpers.data.knesset import load_pairs
        from helpers.models.simulate import usable_agreements

        agreements, void = usable_agreements(load_pairs(args.agreements), pp.parties)
        for a, b in void:
            # a list nobody polled gets no votes here, so it misses the threshold and the law voids the pair
            missing = a if a not in pp.parties else b
            sys.stderr.write(f"ballotbook simulate: note: the agreement {a}-{b} is void in this simulation: "
                             f"'{missing}' is not in the polls.\n")
    sim = simulate(pp.shares, pp.effective_sample_size, draws=args.draws, seed=args.seed, seats=args.seats,
                   threshold=threshold, poll_error=args.poll_error, agreements=agreements,
                   method=args.method, error_model=args.error_model, others=pp.others)
    rows = sim.summary
    if args.format == "json":
        doc = {
            "polls_file": table.attrs.get("path", args.polls),
            "question": question or None,
            "as_of": pp.as_of.date().isoformat(),
            "polls_used": pp.n_polls,
            "effective_sample_size": _number(pp.effective_sample_size),
            "draws": sim.draws,
            "seed": args.seed,
            "seats": args.seats,
            "threshold": args.threshold,
            "error_model": args.error_model,
            "poll_error": args.poll_error,
            "others": _number(pp.others),
            "method": sim.method,
            "agreements": [list(p) for p in agreements],
            "agreements_void": [list(p) for p in void],
            "parties": [{"party": r.party, "share_mean": _number(r.share_mean),
                         "seats_mean": _number(r.seats_mean), "seats_p05": int(r.seats_p05),
                         "seats_p95": int(r.seats_p95), "p_pass": _number(r.p_pass)}
                        for r in rows.itertuples(index=False)],
        }
        output.write_json(doc)
        return 0
    output.write_csv(COLUMNS, ([r.party, _text(r.share_mean), _text(r.seats_mean), int(r.seats_p05),
                                int(r.seats_p95), _text(r.p_pass)] for r in rows.itertuples(index=False)))
    return 0
