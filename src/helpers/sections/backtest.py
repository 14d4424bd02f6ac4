"""The backtest report (notebooks/05_backtest.ipynb): the polls and the model against an official result.

:func:`prepare` loads the files and computes every model result once; each other function returns one section
of the report (:class:`helpers.sections.Section`), in the order the report shows them; :func:`record` gives the
facts the report records for the pipeline.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from helpers.data import knesset
from helpers.data import polls as poll_data
from helpers.models import backtest, simulate
from helpers.models import polls as poll_model
from helpers.sections import Section, agreements_left_out
from helpers.views.charts import polls as poll_charts


def prepare(polls: str, results: str, *, as_of: str, threshold: float, agreements: str, election: str,
            seats: int = 120, final_week_days: int = 7, draws: int = 20000, seed: int = 0,
            poll_error: float = 1.5, half_life_days: float = 7.0,
            elections: str = "data/knesset/elections.csv") -> SimpleNamespace:
    """Everything the report shows, computed once: the parameters, the party registry and names, the official
    outcome (``official``), the final-week average (``week``), the poll of polls (``average``), the simulated
    elections (``result``), the per-party errors (``table``), the threshold calls (``calls``) and the
    seat-engine audit of every election in `elections` (``audit``)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    run.registry = poll_data.default_parties()
    run.names = poll_data.display_names(run.registry)
    all_polls = poll_data.load_polls(polls, parties=run.registry)
    merges = poll_data.merges_of(run.registry, all_polls["party"].unique())
    run.pairs = knesset.load_pairs(agreements) if agreements else []
    run.official = backtest.official_outcome(knesset.load_votes(results), threshold=threshold, seats=seats,
                                             agreements=run.pairs)
    run.facts = poll_model.overview(all_polls, as_of)
    run.week = poll_model.final_week(all_polls, as_of, days=final_week_days, merges=merges)
    run.week_rows = poll_model.final_week_rows(all_polls, as_of, days=final_week_days)
    run.average = poll_model.poll_of_polls(all_polls, as_of, threshold=threshold, half_life_days=half_life_days,
                                           merges=merges)
    kept, run.dropped_pairs = simulate.usable_agreements(run.pairs, run.average.parties)
    run.result = simulate.simulate(run.average.shares, run.average.effective_sample_size, draws=draws, seed=seed,
                                   seats=seats, threshold=threshold, poll_error=poll_error, agreements=kept)
    run.table = backtest.backtest_table(run.official, run.week, run.result.summary, run.average.shares)
    run.calls = backtest.threshold_calls(run.result.summary.set_index("party")["p_pass"],
                                         run.official.set_index("list")["passed"],
                                         final_week=run.week.set_index("party")["seats"])
    table = knesset.load_elections(elections)
    days = [d.date().isoformat() for d in table["date"]]
    run.audit = backtest.engine_audit(
        table,
        {d: knesset.load_votes(f"data/knesset/results/{d}.csv") for d in days},
        {d: knesset.load_pairs(f"data/knesset/agreements/{d}.csv") for d in days},
    )
    return run


def official(run) -> Section:
    """The official result: how many lists cleared, and whether the seat engine gives the official seats."""
    o = run.official
    exact = bool((o["engine_seats"] == o["official_seats"]).all())
    return Section(values={"passed": int(o["passed"].sum()), "lists": len(o), "exact": exact}).say(
        "On **{election}**, **{n_passed}** of **{n_lists}** lists cleared the {threshold}% threshold. The seat engine, "
        "run on the official votes with the threshold and {n_pairs} surplus agreements, gives **{verdict}**.",
        election=run.election, n_passed=int(o["passed"].sum()), n_lists=len(o), threshold=f"{run.threshold:g}",
        n_pairs=len(run.pairs),
        verdict="exactly the official seats of every list" if exact
        else "seats that differ from the official count (see the audit below)",
    )


def projections(run) -> Section:
    """The chart of each party's seat error under both projections."""
    week_polls = int(run.week["polls"].max())
    return Section(values={"final_week_polls": week_polls}).figure(poll_charts.backtest_chart(
        run.table, names=run.names,
        columns={"final_week_error": f"final-week average ({week_polls} polls)", "model_error": "model (mean seats)"},
        title=f"Seat error per party, {run.election}: projection minus official seats",
        source=f"Source: {run.polls} (polls up to {run.facts['as_of']}); official result {run.results}; "
               f"ballotbook model, seed {run.seed}.",
    ))


def errors(run) -> Section:
    """The mean errors in a sentence, and the table of seats and shares per party."""
    table, names = run.table, run.names
    mae_week = backtest.mean_absolute_error(table, "final_week")
    mae_model = backtest.mean_absolute_error(table, "model")
    worst = table.reindex(table["model_error"].abs().sort_values(ascending=False).index).head(3)
    rms_share = float((table["share_error"].dropna() ** 2).mean() ** 0.5)
    section = Section(values={"mae_week": mae_week, "mae_model": mae_model, "rms_share": rms_share,
                              "in_range": int(table["in_range"].sum()), "parties": len(table)})
    section.say(
        "Mean absolute seat error per party: **{mae_week}** seats for the final-week average and **{mae_model}** for "
        "the model's mean seats ({mae_median} for its median seats, which never split a party between its zero and "
        "its seats above the line). The model's largest misses: {worst}. The official seats fell inside the model's "
        "90% range for **{inside}** of **{n}** parties. The poll of polls missed the official vote shares by **{rms}** "
        "points (root mean square over the polled parties), against the {poll_error} points of election-day error "
        "the model assumes.",
        mae_week=f"{mae_week:.2f}", mae_model=f"{mae_model:.2f}",
        mae_median=f"{backtest.mean_absolute_error(table, 'model_median'):.2f}",
        worst="; ".join(f"{names.get(r.party, r.party)} {r.model_error:+.1f} (official {r.official:.0f})"
                        for r in worst.itertuples()),
        inside=int(table["in_range"].sum()), n=len(table), rms=f"{rms_share:.2f}", poll_error=f"{run.poll_error:g}",
    )
    shown = table.assign(party=[names.get(p, p) for p in table["party"]])
    return section.table(
        shown[["party", "official", "final_week", "final_week_error", "model", "model_error", "model_p05",
               "model_p95", "in_range", "official_share", "poll_share", "share_error"]].rename(columns={
            "party": "Party", "official": "Official seats", "final_week": "Final week", "final_week_error": "Error",
            "model": "Model", "model_error": "Model error", "model_p05": "Model 5%", "model_p95": "Model 95%",
            "in_range": "In 90% range", "official_share": "Official %", "poll_share": "Poll of polls %",
            "share_error": "Share error (points)"}),
        formats={"Official seats": ".0f", "Final week": ".1f", "Error": "+.1f", "Model": ".1f", "Model error": "+.1f",
                 "Model 5%": ".0f", "Model 95%": ".0f", "Official %": ".2f", "Poll of polls %": ".2f",
                 "Share error (points)": "+.2f"},
        caption=f"Seats and vote shares, projections as of {run.facts['as_of']} against the official result of "
                f"{run.election}",
    )


def blocs(run) -> Section:
    """The errors summed over the blocs of the election (from the party registry)."""
    bloc_table = backtest.bloc_errors(run.table, poll_data.bloc_at(run.registry, run.election),
                                      ["final_week", "model"])
    return Section(values={"blocs": bloc_table}).table(
        bloc_table.rename(columns={"bloc": "Bloc", "official": "Official seats", "final_week": "Final week",
                                   "model": "Model", "final_week_error": "Final-week error",
                                   "model_error": "Model error"}),
        formats={"Official seats": ".0f", "Final week": ".1f", "Model": ".1f", "Final-week error": "+.1f",
                 "Model error": "+.1f"},
        caption=f"Seats by bloc, {run.election}",
    )


def calls(run) -> Section:
    """Every threshold call of both projections against the result, and the agreements the model left out."""
    calls, names = run.calls, run.names
    wrong = calls[~calls["model_right"]]
    section = Section(values={"right": int(calls["model_right"].sum()), "calls": len(calls)})
    section.say(
        "The model called **{right}** of **{n}** parties right{wrong}. The final-week average called **{fw_right}** "
        "right.",
        right=int(calls["model_right"].sum()), n=len(calls), fw_right=int(calls["final_week_right"].sum()),
        wrong=("; wrong: " + "; ".join(f"{names.get(r.party, r.party)} ({100 * r.p_pass:.0f}% to clear, {r.result})"
                                       for r in wrong.itertuples())) if len(wrong) else "",
    )
    section.table(
        calls.assign(party=[names.get(p, p) for p in calls["party"]], p_pass=100 * calls["p_pass"])
        .rename(columns={"party": "Party", "p_pass": "P(clears) %", "model_call": "Model",
                         "final_week_call": "Final week", "result": "Result", "model_right": "Model right",
                         "final_week_right": "Final week right"}),
        formats={"P(clears) %": ".0f"},
        caption="Threshold calls against the official result",
    )
    return agreements_left_out(section, run.dropped_pairs, "left out of the model")


def scores(run) -> Section:
    """The threshold probabilities and seat ranges scored against the result: Brier and log score of the
    model's probability of clearing, beside the two naive baselines (the final-week average's 0/1 call, and
    the share of final-week polls giving the list seats), and the coverage and mean width of the model's 90%
    seat ranges. Values: ``scores`` (the table's numbers), ``reliability`` (the model's reliability table)."""
    calls = run.calls
    parties, outcomes = calls["party"].tolist(), calls["result"].eq("cleared").to_numpy()
    line = run.threshold * run.seats / 100
    forecasts = {
        "model": calls["p_pass"].to_numpy(),
        "baseline_average": backtest.average_call(run.week.set_index("party")["seats"], parties,
                                                  line=line).to_numpy(),
        "baseline_polls": backtest.share_of_polls_with_seats(run.week_rows, parties).to_numpy(),
    }
    t = run.table
    coverage = backtest.interval_coverage(t["model_p05"], t["model_p95"], t["official"])
    width = backtest.mean_width(t["model_p05"], t["model_p95"])
    rows = [{"forecast": name, "brier": backtest.brier(p, outcomes), "log_score": backtest.log_score(p, outcomes),
             "coverage_90": coverage if name == "model" else float("nan"),
             "width_90": width if name == "model" else float("nan")} for name, p in forecasts.items()]
    table = pd.DataFrame(rows)
    by = table.set_index("forecast")
    section = Section(values={"scores": table, "reliability": backtest.reliability_table(forecasts["model"], outcomes),
                              "events": len(parties)})
    section.say(
        "Scored over the threshold calls of **{n}** lists (lower is better, 0 is perfect): the model's Brier score "
        "is **{b_model}** against **{b_avg}** for the final-week average's yes-or-no call (at least {line} seats) and "
        "**{b_polls}** for the share of final-week polls giving the list seats; its log score is **{l_model}** "
        "(against {l_avg} and {l_polls}; a certain call that fails costs {clip}). The model's 90% seat ranges held the "
        "official seats of **{cov}** of the {parties} parties, {width} seats wide on average. With {draws} draws "
        "a probability carries a Monte Carlo error of about {mc} points.",
        n=len(parties), b_model=f"{by.at['model', 'brier']:.3f}", b_avg=f"{by.at['baseline_average', 'brier']:.3f}",
        b_polls=f"{by.at['baseline_polls', 'brier']:.3f}", l_model=f"{by.at['model', 'log_score']:.3f}",
        l_avg=f"{by.at['baseline_average', 'log_score']:.3f}", l_polls=f"{by.at['baseline_polls', 'log_score']:.3f}",
        clip=f"{-np.log(backtest.LOG_SCORE_CLIP):.1f}", line=f"{line:g}", cov=f"{100 * coverage:.0f}%",
        parties=len(t), width=f"{width:.1f}", draws=f"{run.draws:,}", mc=f"{100 * 0.5 / np.sqrt(run.draws):.2f}",
    )
    names = {"model": "Model", "baseline_average": "Final-week average (0/1 call)",
             "baseline_polls": "Share of final-week polls giving seats"}
    return section.table(
        table.assign(forecast=table["forecast"].map(names), coverage_90=100 * table["coverage_90"]).rename(columns={
            "forecast": "Forecast", "brier": "Brier", "log_score": "Log score", "coverage_90": "90% range coverage %",
            "width_90": "90% range width (seats)"}),
        formats={"Brier": ".3f", "Log score": ".3f", "90% range coverage %": ".0f", "90% range width (seats)": ".1f"},
        caption=f"Probabilities scored against the official result of {run.election} (lower Brier and log score "
                "are better)",
    )


def audit(run) -> Section:
    """The seat engine on the official votes of every election in the kit's data."""
    a = run.audit
    return Section(values={"reproduced": int(a["reproduced"].sum()), "elections": len(a)}).say(
        "The engine reproduces the official seats of **{ok}** of **{n}** elections, list by list.",
        ok=int(a["reproduced"].sum()), n=len(a),
    ).table(
        a.rename(columns={"election": "Election", "knesset": "Knesset", "threshold": "Threshold %", "lists": "Lists",
                          "passed": "Passed", "agreements": "Agreements", "seats": "Seats",
                          "matching": "Lists matching", "differences": "Differences", "tie": "Tie",
                          "reproduced": "Reproduced"}),
        formats={"Threshold %": "g"},
        caption="Official seats recomputed from the official votes",
    )


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs."""
    e = errors(run).values
    return {
        "as_of": run.facts["as_of"],
        "sources": [run.polls, run.results] + ([run.agreements] if run.agreements else [])
                   + [run.elections, "data/parties.csv"],
        "seed": run.seed,
        "outputs": {
            "election": run.election, "polls_used": run.average.n_polls,
            "final_week_polls": int(run.week["polls"].max()),
            "mae_final_week": round(e["mae_week"], 3), "mae_model": round(e["mae_model"], 3),
            "rms_share_error": round(e["rms_share"], 3),
            "in_range": e["in_range"], "parties": e["parties"],
            "threshold_calls_right": int(run.calls["model_right"].sum()), "threshold_calls": len(run.calls),
            "engine_reproduced": int(run.audit["reproduced"].sum()), "elections": len(run.audit),
            **score_outputs(scores(run).values["scores"]),
        },
    }


def score_outputs(table) -> dict:
    """The scores of :func:`scores` as manifest outputs (rounded to 4 decimals): brier_model,
    brier_baseline_average, brier_baseline_polls, the same for log_score_, then coverage_90 (0..1) and
    width_90 (seats) of the model's 90% ranges."""
    by = table.set_index("forecast")
    out = {f"{score}_{name}": round(float(by.at[name, score]), 4)
           for score in ("brier", "log_score") for name in by.index}
    out.update(coverage_90=round(float(by.at["model", "coverage_90"]), 4),
               width_90=round(float(by.at["model", "width_90"]), 4))
    return out
