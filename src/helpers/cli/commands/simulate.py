"""``ballotbook simulate POLLS.csv``: seeded Monte Carlo of seats from polls.

Which polls: the polls in the file that asked its main question (the one most polls asked; a file of
vote-intention polls is used whole), less partial polls and exit polls, pooled into one poll of polls as of the
latest poll's date (:func:`helpers.models.polls.poll_of_polls`: the newest poll of each polling house in the
last 14 days of polling, sample-size and recency weights, 600 respondents for a poll that does not say). The
simulation's sample size is that pool's effective sample size, which saturates (pollsters' errors correlate
at 0.5). Seats polls become shares with the file's threshold (``--threshold``): a party shown with 0 seats
counts as its published percentage, else as censored (somewhere below the threshold); a residual for lists no
poll lists (fitted on past elections) counts in the valid votes. The election-day error is the historical
model (:mod:`helpers.models.uncertainty`) unless ``--error-model sampling``; ``--poll-error P`` adds a fixed
extra error of P points. A surplus agreement naming a list that is not in the polls is void here (that list
gets no votes, so it misses the threshold, which voids the agreement by law); a note on stderr says so.

Output, one row per party, largest first: ``party,share_mean`` (percent of valid votes), ``seats_mean``,
``seats_p05``, ``seats_p95`` (5% and 95% points of the seat draws), ``p_pass`` (probability of clearing the
threshold), numbers to 6 decimals. JSON adds the run's facts (as_of, polls, effective sample size,
draws, seed...) around the same rows. The same file, options and seed give byte-identical output.
"""

from __future__ import annotations

import sys

from helpers.cli import output

COLUMNS = ["party", "share_mean", "seats_mean", "seats_p05", "seats_p95", "p_pass"]


def _number(x: float) -> float:
    return round(float(x), 6)


def _text(x: float) -> str:
    return f"{float(x):.6f}"


def run(args) -> int:
    # every option is checked by its kind (helpers.cli.check_options) before this runs
    from helpers.data import polls as data_polls
    from helpers.models import polls as model
    from helpers.models.simulate import simulate

    registry = data_polls.default_parties()
    table = data_polls.load_polls(args.polls, parties=registry)
    chosen, question = model.select_question(table)
    merges = data_polls.merges_of(registry, chosen["party"].unique())
    pp = model.poll_of_polls(chosen, threshold=args.threshold, merges=merges)
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
                   threshold=args.threshold, poll_error=args.poll_error, agreements=agreements,
                   error_model=args.error_model, others=pp.others)
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
