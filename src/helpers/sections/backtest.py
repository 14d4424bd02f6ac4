"""The backtest report (notebooks/05_backtest.ipynb): the polls and the model against an official result.

:func:`prepare` loads the files and computes every model result once; each other function returns one section
of the report (:class:`helpers.sections.Section`), in the order the report shows them; :func:`record` gives the
facts the report records for the pipeline.

The model is the kit's default (:mod:`helpers.models.uncertainty`: the historical error model unless the
report's ``error_model`` says ``sampling``), with ``poll_error`` points of fixed extra error on top (default 0).
Its threshold probabilities and seat ranges are scored at several lead times (:data:`LEADS`: the eve, a week
and four weeks before the election) beside two naive baselines, and the track record of the historical model
over every election of ``data/model/elections.csv`` (each forecast by the model fitted without it:
:func:`helpers.models.calibration.track_record`) closes the report.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pandas as pd

from helpers.core import paths
from helpers.core.errors import DataError, ParameterError
from helpers.core.threshold import short_words
from helpers.data import load_elections, load_pairs, load_votes
from helpers.data import polls as poll_data
from helpers.data.history import load_history
from helpers.models import backtest, calibration, simulate, uncertainty
from helpers.models import polls as poll_model
from helpers.sections import Section, subject
from helpers.views import words
from helpers.views.charts import polls as poll_charts
from helpers.views.words import chance, percent

#: Lead times scored, in days before the election, and how the report names them.
LEADS = calibration.LEAD_DAYS
LEAD_NAMES = {1: "the eve", 7: "a week before", 28: "four weeks before"}
#: The two naive baselines: the column of :func:`helpers.models.calibration.baselines` -> how the report names it.
BASELINES = {"average_call": "the final-week average's yes-or-no call",
             "share_with_seats": "the share of final-week polls giving the list seats"}
#: Two scores closer than this count as level (the tables show three decimals).
LEVEL = 0.0005


def prepare(polls: str, results: str, *, as_of: str, election: str, threshold=None, agreements: str = "",
            seats: int = 0, final_week_days: int = 7, draws: int = 20000, seed: int = 0,
            error_model: str = "", poll_error: float = 0.0, half_life_days: float = 7.0,
            elections: str = "", audit_results=(), audit_agreements=(), history: str = paths.HISTORY,
            rules: str = "") -> SimpleNamespace:
    """Everything the report shows, computed once: the parameters, the party registry and names, the error
    model (``model``), the official outcome (``official``), the final-week average (``week``), the poll of polls
    (``average``), the simulated elections (``result``), the per-party errors (``table``), the threshold calls
    (``calls``), the forecasts scored at each lead time (``leads``, ``lead_rows``, ``skipped``), the track
    record over the elections of `history` (``past``, ``track``, ``track_rows``) and the seat-engine audit of
    every election in `elections` (``audit``: their official votes are `audit_results`, their surplus-vote
    agreements `audit_agreements`, both in the elections file's order; without an elections file, this election
    alone). The ``subject`` is the rules file `rules` (the project's when empty), with `seats`, `threshold` and
    `error_model` given instead when they are; the track record is shown for a subject whose rules say its
    election-day error is the historical model fitted on its elections."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    sub = run.subject = subject(rules, seats=seats, threshold=threshold, error_model=error_model,
                                agreements=agreements)
    run.seats, run.threshold, run.line, run.threshold_text = sub.seats, sub.threshold, sub.line, sub.threshold_text
    run.error_model = sub.error_model
    run.model = uncertainty.model_for(run.error_model)
    run.registry = sub.registry
    run.names = poll_data.display_names(run.registry)
    all_polls = poll_data.load_polls(polls, parties=run.registry, house_seats=run.seats)
    merges = poll_data.merges_of(run.registry, all_polls["party"].unique())
    run.pairs = load_pairs(agreements) if agreements else []
    votes = load_votes(results)
    # the official file's names for lists the registry does not hold (e.g. a small list in an agreement)
    run.list_names = {**{str(k): str(n) for k, n in zip(votes["list"], votes["name"], strict=True) if n},
                      **run.names}
    run.official = backtest.official_outcome(votes, threshold=run.threshold, seats=run.seats, agreements=run.pairs)
    run.facts = poll_model.overview(all_polls, as_of)
    run.week = poll_model.final_week(all_polls, as_of, days=final_week_days, merges=merges)
    run.week_rows = poll_model.final_week_rows(all_polls, as_of, days=final_week_days)
    run.average, run.result, run.dropped_pairs = _forecast(run, all_polls, as_of, merges)
    run.table = backtest.backtest_table(run.official, run.week, run.result.summary, run.average.shares)
    run.calls = backtest.threshold_calls(run.result.summary.set_index("party")["p_pass"],
                                         run.official.set_index("list")["passed"],
                                         final_week=run.week.set_index("party")["seats"],
                                         line=backtest.line_seats(run.line, run.seats))
    run.has_history = sub.rules.election_day_error == "historical"
    run.past = load_history(history) if run.has_history else []
    same = [e for e in run.past if e.date == election]
    run.election_data = calibration.Election(
        date=election, threshold=run.line, seats=run.seats, polls=all_polls, votes=votes,
        agreements=run.pairs, merges=merges, official_merges=same[0].official_merges if same else {}, fit=False)
    run.lead_rows, run.leads, run.skipped = _lead_scores(run, all_polls, merges)
    if run.has_history:
        run.track_rows, run.track = calibration.track_record(run.past, uncertainty.FITTED, draws=draws, seed=seed)
    else:
        run.track_rows, run.track = pd.DataFrame(), pd.DataFrame(columns=["election", "lead_days", "brier"])
    run.audit = _audit(run, votes)
    return run


def _audit(run, votes) -> pd.DataFrame:
    """The seat-engine audit (:func:`helpers.models.backtest.engine_audit`) of every election of the elections
    file, with each election's votes and agreements files given in the file's order (checked against its valid
    votes); without an elections file, this election alone."""
    if not run.elections:
        if run.audit_results or run.audit_agreements:
            raise ParameterError("parameters 'audit_results' and 'audit_agreements' go with an elections file; "
                                 "parameter 'elections' is empty.")
        o = run.official
        official = o["official_seats"] if "official_seats" in o else o["engine_seats"]
        same = o["engine_seats"] == official
        return pd.DataFrame([{
            "election": run.election, "threshold": run.line, "lists": len(o), "passed": int(o["passed"].sum()),
            "agreements": len(run.pairs), "seats": int(o["engine_seats"].sum()), "matching": int(same.sum()),
            "differences": "; ".join(f"{r.list}: engine {r.engine_seats}, official {s}"
                                     for r, s in zip(o[~same].itertuples(), official[~same], strict=True)) or "none",
            "tie": bool(o["tie"].any()), "reproduced": bool(same.all())}])
    table = load_elections(run.elections)
    days = [d.date().isoformat() for d in table["date"]]
    results, pairs = list(run.audit_results), list(run.audit_agreements)
    if len(results) != len(days) or (pairs and len(pairs) != len(days)):
        raise ParameterError(
            f"{run.elections} lists {len(days)} elections, so parameter 'audit_results' needs {len(days)} results "
            f"files in its order (it has {len(results)}) and 'audit_agreements' {len(days)} agreements files or "
            f"none (it has {len(pairs)}).")
    counts = {}
    for day, file, valid in zip(days, results, table["valid_votes"], strict=True):
        counts[day] = load_votes(file)
        total = int(counts[day]["votes"].sum())
        if total != int(valid):
            raise ParameterError(f"audit_results: {file} counts {total:,} valid votes, but {run.elections} gives "
                                 f"{int(valid):,} for the election of {day}; the files go in that file's order.")
    agreed = {d: load_pairs(f) for d, f in zip(days, pairs, strict=True)} if pairs else {}
    return backtest.engine_audit(table, counts, agreed)


def _forecast(run, all_polls, as_of, merges):
    """The poll of polls as of `as_of` and its simulation under the report's model and settings, and the
    surplus agreements left out (a partner not in the polls)."""
    average = poll_model.poll_of_polls(all_polls, as_of, threshold=run.line, half_life_days=run.half_life_days,
                                       merges=merges, others=run.model.others,
                                       below_fraction=run.model.below_fraction, house_seats=run.seats)
    kept, dropped = simulate.usable_agreements(run.pairs, average.parties)
    result = simulate.simulate(average.shares, average.effective_sample_size, draws=run.draws, seed=run.seed,
                               seats=run.seats, threshold=run.threshold, poll_error=run.poll_error,
                               agreements=kept, error_model=run.model, others=average.others,
                               method=run.subject.agreements_method if kept else run.subject.method)
    return average, result, dropped


def _lead_scores(run, all_polls, merges):
    """This election forecast `lead` days before it for every lead in :data:`LEADS` its polls reach (the
    report's model, half-life and extra error; as :func:`helpers.models.calibration.forecast` does otherwise),
    each list's forecast beside the two baselines and its official outcome; then the scores
    (:func:`helpers.models.calibration.score`). Returns (per-list rows, one score row per lead, the leads
    skipped with the reason)."""
    e = run.election_data
    rows, scores, skipped = [], [], []
    for lead in LEADS:
        when = e.as_of(lead)
        if all_polls["date"].min() > when:
            skipped.append((lead, f"the polls file starts on {all_polls['date'].min().date().isoformat()}"))
            continue
        try:
            if when == pd.Timestamp(run.as_of):  # the report's own forecast: the same numbers as the sections
                avg, sim = run.average, run.result
            else:
                avg, sim, _ = _forecast(run, all_polls, when, merges)
            matched, _ = e.matched(avg)
            base = calibration.baselines(e, avg, matched["party"], lead, days=run.final_week_days)
        except DataError as exc:
            skipped.append((lead, str(exc)))
            continue
        s = sim.summary.set_index("party")
        table = matched.assign(p_pass=[float(s.at[p, "p_pass"]) for p in matched["party"]],
                               seats_p05=[float(s.at[p, "seats_p05"]) for p in matched["party"]],
                               seats_p95=[float(s.at[p, "seats_p95"]) for p in matched["party"]]
                               ).merge(base, on="party")
        rows.append(table.assign(lead_days=lead))
        scores.append({"lead_days": lead, "as_of": when.date().isoformat(), "polls": avg.n_polls,
                       **calibration.score(table)})
    return (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(), pd.DataFrame(scores), skipped)


def _at(lead) -> str:
    """When a forecast was made, as a phrase: 'on the eve', 'a week before', '10 days before'."""
    name = LEAD_NAMES.get(int(lead), f"{int(lead)} days before")
    return "on " + name if name == LEAD_NAMES[1] else name


def _when(leads) -> str:
    names = [_at(d) for d in leads]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def comparison(table: pd.DataFrame, score: str) -> str:
    """One plain clause per baseline saying at which lead times the model's `score` ('brier' or 'log_score';
    lower is better) beat it, lost to it or was level with it (within :data:`LEVEL`)."""
    clauses = []
    every = len(table)
    for col, name in BASELINES.items():
        gap = table[f"{col}_{score}"].to_numpy(float) - table[score].to_numpy(float)
        leads = table["lead_days"].to_numpy()
        beat, lost, level = leads[gap > LEVEL], leads[gap < -LEVEL], leads[np.abs(gap) <= LEVEL]
        parts = []
        for verb, which in (("beat", beat), ("lost to", lost), ("was level with", level)):
            if len(which):
                at = "at every lead time" if len(which) == every and every > 1 else _when(which)
                parts.append((verb, at))
        first_verb, first_at = parts[0]
        text = f"{first_verb} {name} {first_at}"
        for verb, at in parts[1:]:
            text += f" and {verb} it {at}"
        clauses.append(text)
    return "; it ".join(clauses)


def _day(date) -> str:
    """A date in words: "1 November 2022"."""
    stamp = pd.Timestamp(str(date)[:10])
    return f"{stamp.day} {stamp:%B %Y}"


def answer(run) -> Section:
    """The report's bottom line, from the run's own scores: how the model's threshold probabilities scored on
    the eve (the earliest-scored lead time) beside the two baselines, how many calls it got right, how often
    its 90% seat ranges held the official seats, and the seat error beside the final-week average's; the polls'
    as-of date. Probabilities also as natural frequencies."""
    e = errors(run).values
    calls = run.calls
    right, n_calls = int(calls["model_right"].sum()), len(calls)
    wrong = calls[~calls["model_right"]]
    section = Section(values={"right": right, "calls": n_calls, "mae_model": e["mae_model"],
                              "mae_week": e["mae_week"]})
    template = "**{body} election of {election}**, polls published up to {as_of}."
    values = dict(body=run.subject.name, election=_day(run.election), as_of=_day(run.facts["as_of"]))
    if len(run.leads):
        r = run.leads.iloc[0]
        verdicts = []
        for col, name in BASELINES.items():
            gap = float(r[f"{col}_brier"]) - float(r["brier"])
            verdicts.append(("better than " if gap > LEVEL else "worse than " if gap < -LEVEL else "level with ")
                            + name + f" ({float(r[f'{col}_brier']):.3f})")
        section.values.update(brier=float(r["brier"]), log_score=float(r["log_score"]),
                              coverage=float(r["coverage"]))
        template += (" {when}, the model's threshold probabilities for {lists} lists scored a Brier score of "
                     "**{brier}** (0 is perfect; log score {log}): {verdicts}. Its 90% seat ranges held the "
                     "official seats of {held} of the {lists} lists ({coverage}), {width} seats wide on average.")
        values.update(when=_at(int(r["lead_days"])).capitalize(), lists=int(r["lists"]), brier=f"{r['brier']:.3f}",
                      log=f"{r['log_score']:.3f}", verdicts=" and ".join(verdicts),
                      held=round(float(r["coverage"]) * int(r["lists"])), coverage=percent(float(r["coverage"])),
                      width=f"{r['width']:.1f}")
    template += " It called **{right} of {n}** threshold outcomes right{wrong}."
    values.update(right=right, n=n_calls, wrong=("; wrong: " + "; ".join(
        f"{run.names.get(w.party, w.party)}, given {chance(float(w.p_pass))} to clear, {w.result}"
        for w in wrong.itertuples())) if len(wrong) else "")
    template += (" Mean seat error per party: **{mae_model}** seats for the model, {mae_week} for the final-week "
                 "average of the published seats.")
    values.update(mae_model=f"{e['mae_model']:.2f}", mae_week=f"{e['mae_week']:.2f}")
    miss = next(_largest_misses(run.table, 1).itertuples(), None)
    if miss is not None and abs(miss.model_error) >= 0.5:
        template += (" Its largest miss: **{miss}**, {projected} seats projected (90% range {low}–{high}) against "
                     "**{won}** won.")
        values.update(miss=run.names.get(miss.party, miss.party), projected=f"{miss.model:.0f}",
                      low=f"{miss.model_p05:.0f}", high=f"{miss.model_p95:.0f}", won=f"{miss.official:.0f}")
    if run.model.scale and run.election in {x.date for x in run.past if x.fit and x.year in run.model.fitted_on}:
        template += " The error model was fitted on this election too, so these scores flatter it"
        held = run.track[(run.track["election"] == run.election) & (run.track["lead_days"] == LEADS[0])]
        if len(held):
            template += "; fitted without it, the model's eve Brier score was {held_out}"
            values.update(held_out=f"{held['brier'].iloc[0]:.3f}")
        template += "."
    return section.answer(template, **values)


def official(run) -> Section:
    """The official result: how many lists cleared, and whether the seat engine gives the official seats."""
    o = run.official
    exact = bool((o["engine_seats"] == o["official_seats"]).all())
    return Section(values={"passed": int(o["passed"].sum()), "lists": len(o), "exact": exact}).say(
        "On **{election}**, **{n_passed}** of **{n_lists}** lists cleared {the_threshold}. The seat engine, "
        "run on the official votes with the threshold{pairs}, gives **{verdict}**.",
        election=_day(run.election), n_passed=int(o["passed"].sum()), n_lists=len(o),
        the_threshold=words.the_threshold(run.threshold_text),
        pairs=f" and {len(run.pairs)} surplus agreements" if run.subject.agreements_method else "",
        verdict="exactly the official seats of every list" if exact
        else "seats that differ from the official count (see the audit below)",
    )


def projections(run) -> Section:
    """The chart of each party's seat error under both projections."""
    week_polls = int(run.week["polls"].max())
    return Section(values={"final_week_polls": week_polls}).figure(poll_charts.backtest_chart(
        run.table, names=run.names,
        columns={"final_week_error": f"final-week average ({week_polls} polls)", "model_error": "model (mean seats)"},
        title=f"Seat error per party, {_day(run.election)}: projection minus official seats",
        source=f"Source: {run.polls} (polls up to {run.facts['as_of']}); official result {run.results}; "
               f"ballotbook model, seed {run.seed}.",
    ))


def _largest_misses(table, k: int):
    """The `k` parties the model's mean seats missed most, largest first."""
    return table.reindex(table["model_error"].abs().sort_values(ascending=False, kind="stable").index).head(k)


def errors(run) -> Section:
    """The mean errors in a sentence, and the table of seats and shares per party."""
    table, names = run.table, run.names
    mae_week = backtest.mean_absolute_error(table, "final_week")
    mae_model = backtest.mean_absolute_error(table, "model")
    worst = _largest_misses(table, 3)
    rms_share = float((table["share_error"].dropna() ** 2).mean() ** 0.5)
    spread = float(np.sqrt(np.mean((100 * run.result.shares).std(axis=0) ** 2)))
    section = Section(values={"mae_week": mae_week, "mae_model": mae_model, "rms_share": rms_share,
                              "spread": spread, "in_range": int(table["in_range"].sum()), "parties": len(table)})
    section.say(
        "Mean absolute seat error per party: **{mae_week}** seats for the final-week average and **{mae_model}** for "
        "the model's mean seats ({mae_median} for its median seats, which never split a party between its zero and "
        "its seats above the line). The model's largest misses: {worst}. The official seats fell inside the model's "
        "90% range for **{inside}** of **{n}** parties. The poll of polls missed the official vote shares by **{rms}** "
        "points (root mean square over the polled parties); the model's simulated shares spread by **{spread}** "
        "points around their means (the same root mean square over the polled lists, sampling and election-day "
        "error together).",
        mae_week=f"{mae_week:.2f}", mae_model=f"{mae_model:.2f}",
        mae_median=f"{backtest.mean_absolute_error(table, 'model_median'):.2f}",
        worst="; ".join(f"{names.get(r.party, r.party)} {r.model_error:+.1f} (official {r.official:.0f})"
                        for r in worst.itertuples()),
        inside=int(table["in_range"].sum()), n=len(table), rms=f"{rms_share:.2f}", spread=f"{spread:.2f}",
    )
    shown = table.assign(party=[names.get(p, p) for p in table["party"]])
    return section.table(
        shown[["party", "official", "final_week", "final_week_error", "model", "model_error", "model_p05",
               "model_p95", "in_range", "official_share", "poll_share", "share_error"]].rename(columns={
            "party": "Party", "official": "Official seats", "final_week": "Final week",
            "final_week_error": "Final-week error",
            "model": "Model", "model_error": "Model error", "model_p05": "Model 5%", "model_p95": "Model 95%",
            "in_range": "In 90% range", "official_share": "Official %", "poll_share": "Poll of polls %",
            "share_error": "Share error (points)"}),
        formats={"Official seats": ".0f", "Final week": ".1f", "Final-week error": "+.1f", "Model": ".1f",
                 "Model error": "+.1f",
                 "Model 5%": ".0f", "Model 95%": ".0f", "Official %": ".2f", "Poll of polls %": ".2f",
                 "Share error (points)": "+.2f"},
        caption=f"Seats and vote shares, projections as of {_day(run.facts['as_of'])} against the official result "
                f"of {_day(run.election)}",
    )


def blocs(run) -> Section:
    """The errors summed over the blocs of the election (from the party registry)."""
    of_party = poll_data.bloc_at(run.registry, run.election)
    bloc_table = backtest.bloc_errors(run.table, of_party, ["final_week", "model"])
    if not any(of_party.get(p) for p in run.table["party"]):
        return Section(values={"blocs": bloc_table}).say(
            "The party registry gives none of these lists a bloc at this election, so there are no bloc totals.")
    return Section(values={"blocs": bloc_table}).table(
        bloc_table.rename(columns={"bloc": "Bloc", "official": "Official seats", "final_week": "Final week",
                                   "model": "Model", "final_week_error": "Final-week error",
                                   "model_error": "Model error"}),
        formats={"Official seats": ".0f", "Final week": ".1f", "Model": ".1f", "Final-week error": "+.1f",
                 "Model error": "+.1f"},
        caption=f"Seats by bloc, {_day(run.election)}",
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
        .rename(columns={"party": "Party", "p_pass": "Chance to clear (%)", "model_call": "Model",
                         "final_week_call": "Final week", "result": "Result", "model_right": "Model right?",
                         "final_week_right": "Final week right?"}),
        formats={"Chance to clear (%)": ".0f"},
        caption="Threshold calls against the official result",
    )
    names = run.list_names
    if run.dropped_pairs:  # "A and B" (a list's name may hold a dash of its own)
        section.say("Surplus agreements left out of the model because a partner is not in the polls: {pairs}.",
                    pairs="; ".join(f"{names.get(a, a)} with {names.get(b, b)}" for a, b in run.dropped_pairs))
    return section


def model_note(run) -> str:
    """What the report's model is and whether it was fitted on this election (from the model's own record)."""
    m = run.model
    points = f"{run.poll_error:g} point{'' if run.poll_error == 1 else 's'}"
    extra = f", plus {points} of fixed extra error" if run.poll_error > 0 else ""
    if m.scale == 0:
        if run.poll_error > 0:
            return (f"The model here has the sampling error of the pooled polls (error model '{m.name}') and a "
                    f"fixed extra error of {points}, no fitted election-day error.")
        return f"The model here has the sampling error of the pooled polls only (error model '{m.name}')."
    fitted = {e.date for e in run.past if e.fit and e.year in m.fitted_on}
    years = ", ".join(m.fitted_on)
    if run.election in fitted:
        held = run.track[(run.track["election"] == run.election) & (run.track["lead_days"] == LEADS[0])]
        tail = (f"; the track record below forecasts {run.election} with the model fitted without it (Brier "
                f"{held['brier'].iloc[0]:.3f} on the eve)") if len(held) else ""
        return (f"The historical error model used here{extra} was fitted on the {years} elections, this one "
                f"included, so these scores flatter it{tail}.")
    return (f"The historical error model used here{extra} was fitted on the {years} elections, not on this one: "
            "these scores are out of sample.")


def scores(run) -> Section:
    """This election's threshold probabilities and seat ranges scored at each lead time (:data:`LEADS`) beside
    the two naive baselines: Brier and log score of the model's probability of clearing, of the final-week
    average's 0/1 call and of the share of final-week polls giving the list seats; coverage and mean width of
    the model's 90% seat ranges, over the polled lists matched with the official lists. Values: ``scores``
    (one row per lead time, :func:`helpers.models.calibration.score` columns), ``events`` (lists scored on the
    earliest-scored lead time, normally the eve), ``skipped``."""
    t = run.leads
    section = Section(values={"scores": t, "events": int(t["lists"].iloc[0]) if len(t) else 0,
                              "skipped": run.skipped})
    for lead, why in run.skipped:
        section.say("No forecast {when}: {why}.", when=_at(lead), why=why)
    if t.empty:
        return section
    section.say(
        "Scored over the threshold calls of the **{n}** polled lists matched with the official lists (lower is "
        "better, 0 is perfect). By Brier score the model {brier}. By log score it {log}. {note} With {draws} draws "
        "a probability carries a Monte Carlo error of about {mc} points; a certain call that fails costs {clip} "
        "in log score.",
        n=int(t["lists"].iloc[0]), brier=comparison(t, "brier"), log=comparison(t, "log_score"), note=model_note(run),
        draws=f"{run.draws:,}", mc=f"{100 * 0.5 / np.sqrt(run.draws):.2f}",
        clip=f"{-np.log(backtest.LOG_SCORE_CLIP):.1f}",
    )
    shown = pd.DataFrame({
        "Forecast made": [LEAD_NAMES.get(int(d), f"{int(d)} days before") for d in t["lead_days"]],
        "Days before": t["lead_days"],
        "As of": [_day(d) for d in t["as_of"]], "Polls pooled": t["polls"], "Lists": t["lists"],
        "Brier: model": t["brier"], "Brier: final-week average": t["average_call_brier"],
        "Brier: share of polls": t["share_with_seats_brier"],
        "Log: model": t["log_score"], "Log: final-week average": t["average_call_log_score"],
        "Log: share of polls": t["share_with_seats_log_score"],
        "90% range coverage %": 100 * t["coverage"], "90% range width (seats)": t["width"]})
    three = {c: ".3f" for c in shown.columns if c.startswith(("Brier", "Log"))}
    return section.table(
        shown, formats={**three, "90% range coverage %": ".0f", "90% range width (seats)": ".1f"},
        caption=f"Probabilities scored against the official result of {_day(run.election)}, beside the two baselines "
                "(lower Brier and log score are better)",
    )


def _reliability_frame(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Model's probability": [f"{100 * r.lower:.0f}–{100 * r.upper:.0f}%" for r in table.itertuples()],
        "Lists": table["count"], "Mean forecast %": 100 * table["mean_forecast"],
        "Cleared %": 100 * table["observed"]})


def reliability(run) -> Section:
    """The model's threshold calls on the earliest-scored lead time (normally the eve) binned by probability:
    per bin, the lists, the mean probability and the share that cleared
    (:func:`helpers.models.backtest.reliability_table`). Values: ``reliability``, ``lead_days``, ``middle``
    (lists given 10-90%), ``sure`` and ``sure_right`` (lists given under 10% or at least 90%, and how many of
    those went the way the model said)."""
    if run.lead_rows.empty:
        return Section(values={"reliability": pd.DataFrame()})
    lead = int(run.leads["lead_days"].iloc[0])
    rows = run.lead_rows[run.lead_rows["lead_days"] == lead]
    p, passed = rows["p_pass"].to_numpy(float), rows["passed"].to_numpy(bool)
    table = backtest.reliability_table(p, passed)
    sure = (p < 0.1) | (p >= 0.9)
    right = int(((p >= 0.9) & passed).sum() + ((p < 0.1) & ~passed).sum())
    section = Section(values={"reliability": table, "lead_days": lead, "middle": int((~sure).sum()),
                              "sure": int(sure.sum()), "sure_right": right})
    section.say(
        "{when}, the model gave **{sure}** of the {n} lists a probability under 10% or at least 90%, and "
        "**{right}** of those went the way it said; **{middle}** lists were between. In a reliable forecast the "
        "share that cleared in each row is close to the mean forecast; with {n} lists a row holds only a few{pool}.",
        pool=", so the track record below pools every election" if run.has_history else "",
        when=_at(lead).capitalize(), sure=int(sure.sum()), n=len(p), right=right,
        middle=int((~sure).sum()),
    )
    return section.table(_reliability_frame(table), formats={"Mean forecast %": ".0f", "Cleared %": ".0f"},
                         caption=f"Reliability of the model's threshold calls, {_day(run.election)}, "
                                 f"{LEAD_NAMES.get(lead, f'{lead} days before')}")


def track_record(run) -> Section:
    """The historical model's leave-one-election-out track record over every election of the history file
    (:func:`helpers.models.calibration.track_record`, the report's draws and seed): one row per election and
    lead time, the scores pooled per lead time, the elections where an eve-of-election baseline beat the model,
    and the reliability of the pooled eve calls. Values: ``track`` (the per-election table), ``pooled`` (per
    lead time), ``baseline_wins`` (baseline column -> elections where it beat the model on the eve),
    ``fitted_on_own`` (rows whose model was fitted on the election it forecasts: none by construction)."""
    if not run.has_history:
        return Section(values={"track": run.track, "pooled": pd.DataFrame(), "fitted_on_own": [],
                               "baseline_wins": {c: [] for c in BASELINES}}).say(
            "No track record: the rules ({rules}) give the {body} no fitted history of election-day errors, so the "
            "model here has the polls' sampling error, and the kit's historical model, fitted on another "
            "subject's elections, is not scored here.", rules=run.subject.rules.path, body=run.subject.name)
    t, rows = run.track, run.track_rows
    own = [r.election for r in t.itertuples() if r.election[:4] in str(r.fitted_on).split()]
    pooled = pd.DataFrame([{"lead_days": lead, **calibration.score(part)}
                           for lead, part in rows.groupby("lead_days")]) if len(rows) else pd.DataFrame()
    eve = t[t["lead_days"] == LEADS[0]]
    wins = {col: [(r["election"], r[f"{col}_brier"], r["brier"]) for r in eve.to_dict("records")
                  if r[f"{col}_brier"] < r["brier"] - LEVEL] for col in BASELINES}
    section = Section(values={"track": t, "pooled": pooled, "fitted_on_own": own,
                              "baseline_wins": {c: [w[0] for w in v] for c, v in wins.items()}})
    years = [e.date for e in run.past]
    section.say(
        "Each of the **{n}** elections in {history} ({years}) was forecast, at every lead time its polls reach, by "
        "the historical model fitted on the other elections only: {own} ({draws} draws, seed {seed}; the 'Fitted "
        "on' column lists the elections each fit used).",
        n=len(years), history=run.history, years=", ".join(years), draws=f"{run.draws:,}", seed=run.seed,
        own="no forecast comes from a model fitted on the election it forecasts" if not own
        else "except " + ", ".join(own) + ", whose model was fitted on it too",
    )
    if len(pooled):
        p = pooled.set_index("lead_days")
        first = int(p.index[0])
        section.say(
            "Pooled over all elections, {when} ({lists} lists): Brier **{b}** against {avg} for the final-week "
            "average and {polls} for the share of polls; log score **{log}** against {lavg} and {lpolls}; the 90% "
            "ranges held **{cov}** of the official seat counts, **{width}** seats wide on average.",
            when=_at(first), lists=int(p.at[first, "lists"]),
            b=f"{p.at[first, 'brier']:.3f}", avg=f"{p.at[first, 'average_call_brier']:.3f}",
            polls=f"{p.at[first, 'share_with_seats_brier']:.3f}", log=f"{p.at[first, 'log_score']:.3f}",
            lavg=f"{p.at[first, 'average_call_log_score']:.3f}",
            lpolls=f"{p.at[first, 'share_with_seats_log_score']:.3f}",
            cov=f"{100 * p.at[first, 'coverage']:.0f}%", width=f"{p.at[first, 'width']:.1f}",
        )
    if len(eve):
        def listed(items):
            return ", ".join(f"{d} ({b:.3f} against the model's {m:.3f})" for d, b, m in items)
        for col, name in BASELINES.items():
            beaten = len(eve) - len(wins[col])
            if wins[col]:
                section.say("On the eve, {name} scored a better Brier than the model in **{k}** of the {n} "
                            "elections: {which}; the model did as well or better in the other {rest}.",
                            name=name, k=len(wins[col]), n=len(eve), which=listed(wins[col]), rest=beaten)
            else:
                section.say("On the eve, {name} never scored a better Brier than the model ({n} elections).",
                            name=name, n=len(eve))
    shown = pd.DataFrame({
        "Election": [_day(d) for d in t["election"]], "Days before": t["lead_days"], "Fitted on": t["fitted_on"],
        "Polls pooled": t["polls"], "Lists": t["lists"], "Brier: model": t["brier"],
        "Brier: final-week average": t["average_call_brier"], "Brier: share of polls": t["share_with_seats_brier"],
        "Log: model": t["log_score"], "Log: final-week average": t["average_call_log_score"],
        "Log: share of polls": t["share_with_seats_log_score"], "90% range coverage %": 100 * t["coverage"],
        "90% range width (seats)": t["width"]})
    three = {c: ".3f" for c in shown.columns if c.startswith(("Brier", "Log"))}
    formats = {**three, "90% range coverage %": ".0f", "90% range width (seats)": ".1f"}
    section.table(shown, formats=formats,
                  caption="Track record: each election forecast by the model fitted without it (leave one "
                          "election out)")
    if len(pooled):
        section.table(pd.DataFrame({
            "Days before": pooled["lead_days"], "Lists": pooled["lists"], "Brier: model": pooled["brier"],
            "Brier: final-week average": pooled["average_call_brier"],
            "Brier: share of polls": pooled["share_with_seats_brier"], "Log: model": pooled["log_score"],
            "Log: final-week average": pooled["average_call_log_score"],
            "Log: share of polls": pooled["share_with_seats_log_score"],
            "90% range coverage %": 100 * pooled["coverage"], "90% range width (seats)": pooled["width"]}),
            formats=formats, caption="Track record, all elections pooled per lead time")
        at_eve = rows[rows["lead_days"] == int(pooled["lead_days"].iloc[0])]
        table = backtest.reliability_table(at_eve["p_pass"].to_numpy(float), at_eve["passed"].to_numpy(bool))
        section.values["reliability"] = table
        section.table(_reliability_frame(table), formats={"Mean forecast %": ".0f", "Cleared %": ".0f"},
                      caption="Reliability of the held-out threshold calls, all elections pooled, "
                              f"{LEAD_NAMES.get(int(pooled['lead_days'].iloc[0]), '')}")
    return section


def audit(run) -> Section:
    """The seat engine on the official votes of every election of the elections file (or of this one)."""
    a = run.audit
    labels = {"election": "Election", "threshold": "Threshold", "lists": "Lists", "passed": "Passed",
              "agreements": "Agreements", "seats": "Seats", "matching": "Lists matching",
              "differences": "Differences", "tie": "Tie for a seat?", "reproduced": "Reproduced?"}
    if not run.subject.agreements_method and not a["agreements"].any():
        a = a.drop(columns="agreements")
    exact = [run.threshold if abs(float(t) - run.line) < 1e-9 else Fraction(str(t)) for t in a["threshold"]]
    shown = a.assign(election=[_day(d) for d in a["election"]], threshold=[short_words(t) for t in exact])
    return Section(values={"reproduced": int(a["reproduced"].sum()), "elections": len(a)}).say(
        "The engine reproduces the official seats of **{ok}** of **{n}** elections, list by list.",
        ok=int(a["reproduced"].sum()), n=len(a),
    ).table(
        shown.rename(columns={c: labels.get(c, c[:1].upper() + c[1:]) for c in shown.columns}),
        caption="Official seats recomputed from the official votes",
    )


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs."""
    e = errors(run).values
    sources = ([run.polls, run.results] + ([run.agreements] if run.agreements else [])
               + ([run.elections, *run.audit_results, *run.audit_agreements] if run.elections else [])
               + [run.subject.parties, run.subject.rules.path] + ([run.history] if run.has_history else [])
               + sorted({str(x.polls.attrs["path"]) for x in run.past if x.polls.attrs.get("path")}))
    return {
        "as_of": run.facts["as_of"],
        "sources": list(dict.fromkeys(sources)),
        "seed": run.seed,
        "outputs": {
            "election": run.election, "error_model": run.model.name, "extra_poll_error": float(run.poll_error),
            "polls_used": run.average.n_polls,
            "final_week_polls": int(run.week["polls"].max()),
            "mae_final_week": round(e["mae_week"], 3), "mae_model": round(e["mae_model"], 3),
            "rms_share_error": round(e["rms_share"], 3),
            "in_range": e["in_range"], "parties": e["parties"],
            "threshold_calls_right": int(run.calls["model_right"].sum()), "threshold_calls": len(run.calls),
            "engine_reproduced": int(run.audit["reproduced"].sum()), "elections": len(run.audit),
            **score_outputs(run.leads),
            "track_record": track_outputs(run),
        },
    }


def _scores_of(r) -> dict:
    out = {"lists": int(r["lists"]), "brier_model": r["brier"], "log_score_model": r["log_score"],
           "brier_baseline_average": r["average_call_brier"], "brier_baseline_polls": r["share_with_seats_brier"],
           "log_score_baseline_average": r["average_call_log_score"],
           "log_score_baseline_polls": r["share_with_seats_log_score"],
           "coverage_90": r["coverage"], "width_90": r["width"]}
    return {k: (v if k == "lists" else round(float(v), 4)) for k, v in out.items()}


def score_outputs(leads: pd.DataFrame) -> dict:
    """The scores of :func:`scores` as manifest outputs (rounded to 4 decimals): the earliest-scored lead time's
    (normally the eve's) brier_model, brier_baseline_average, brier_baseline_polls, the same for log_score_,
    coverage_90 (0..1) and width_90 (seats) of the model's 90% ranges; and ``scores_by_days_before``: the same
    keys (and ``as_of``, ``lists``) for every lead time scored, keyed by the days before the election."""
    if leads.empty:
        return {"scores_by_days_before": {}}
    first = _scores_of(leads.iloc[0])
    first.pop("lists")
    by = {str(int(r["lead_days"])): {"as_of": r["as_of"], **_scores_of(r)} for r in leads.to_dict("records")}
    return {**first, "scores_by_days_before": by}


def track_outputs(run) -> dict:
    """The track record as manifest outputs: elections, and per days before the election (pooled over the
    elections) the keys of :func:`score_outputs`; ``eve_baseline_wins``: the elections where a baseline's
    eve Brier beat the model's."""
    rows = run.track_rows
    pooled = {str(int(lead)): _scores_of({"lead_days": lead, **calibration.score(part)})
              for lead, part in rows.groupby("lead_days")} if len(rows) else {}
    wins = track_record(run).values["baseline_wins"]
    return {"elections": len(run.past), "pooled_by_days_before": pooled,
            "eve_baseline_wins": {"baseline_average": wins["average_call"],
                                  "baseline_polls": wins["share_with_seats"]}}
