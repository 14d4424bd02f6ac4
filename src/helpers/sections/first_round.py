"""The first-round report (notebooks/06_first_round.ipynb): a party leadership contest's first round from its
polls, against the line that wins outright, and, for a past contest, what actually happened.

:func:`prepare` computes every model result once (the polls of the chosen question, the poll of polls, the
simulated first rounds with no seats, the unordered runoff pairs, each candidate's places) and reads the
official counts when round files are given; each other function returns one section
(:class:`helpers.sections.Section`), so that the notebook never branches; :func:`record` gives the facts the
report records for the pipeline. Every sentence is made from the run's own numbers and files.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import polls as poll_data
from helpers.data import primaries as primary_data
from helpers.models import polls as poll_model
from helpers.models import runoffs, simulate
from helpers.models.primaries import rules
from helpers.sections import Section, error_words, pool_method
from helpers.views import polls as poll_views
from helpers.views import words
from helpers.views.charts import polls as poll_charts

#: How the official count is compared with the line: a candidate at exactly the line reaches it, as in the
#: simulation (the party's texts say both "over" and "at least"; see data/primaries/rules.csv).
INCLUSIVE = True


def prepare(polls: str, *, line: float = 40.0, as_of: str = "", draws: int = 20000, seed: int = 0,
            error_model: str = "historical", poll_error: float = 0.0, half_life_days: float = 7.0,
            question: str = "", round1: str = "", round2: str = "") -> SimpleNamespace:
    """Everything the report shows, computed once: the parameters; the polls of the chosen question
    (``chosen``, ``asked``) and their ``facts``; the poll of polls (``average``); the simulated first rounds
    (``result``, ``summary``); the unordered runoff pairs (``pairs``), P(runoff) (``p_runoff``) and each
    candidate's places (``places``); and, when round files are given, the official first round (``official``,
    from :func:`helpers.models.primaries.rules.first_round`) and runoff (``runoff``: candidate, votes, share)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    run.registry = poll_data.default_parties()
    run.names = poll_data.display_names(run.registry)
    all_polls = poll_data.load_polls(polls, parties=run.registry)
    run.chosen, run.asked = poll_model.select_question(all_polls, question)
    run.facts = poll_model.overview(run.chosen, as_of)
    merges = poll_data.merges_of(run.registry, run.chosen["party"].unique())
    run.average = poll_model.poll_of_polls(run.chosen, as_of, threshold=line, half_life_days=half_life_days,
                                           merges=merges)
    run.result = simulate.simulate(run.average.shares, run.average.effective_sample_size, draws=draws, seed=seed,
                                   seats=0, threshold=line, poll_error=poll_error, error_model=error_model,
                                   others=run.average.others)
    run.summary = run.result.summary
    run.pairs = runoffs.runoff_pair_table(run.result)
    run.p_runoff = runoffs.p_runoff(run.result)
    run.places = runoffs.places(run.result)
    run.official = None
    if round1:
        run.official = rules.first_round(primary_data.round_votes(primary_data.load_round(round1)),
                                         threshold=line, inclusive=INCLUSIVE)
    run.runoff = None
    if round2:
        frame = primary_data.load_round(round2)
        total = int(frame["votes"].sum())
        run.runoff = frame.assign(share=100 * frame["votes"] / total).sort_values(
            "votes", ascending=False, kind="stable").reset_index(drop=True)
        if run.official is not None:
            known = {c["candidate"].casefold() for c in run.official["candidates"]}
            strangers = [c for c in run.runoff["candidate"] if c.casefold() not in known]
            if strangers:
                raise DataError(f"{round2}: {', '.join(strangers)} did not stand in round one ({round1}); give the "
                                "two rounds of the same contest.")
    return run


# ------------------------------------------------------------------------------------------------ helpers


def name(run, key: str) -> str:
    """A candidate's display name."""
    return run.names.get(key, key)


def _key(run, candidate: str) -> str | None:
    """The poll key of an official candidate (its key or display name, letter case ignored), or None."""
    wanted = candidate.casefold().strip()
    for key in run.result.parties:
        if wanted in (key.casefold(), name(run, key).casefold()):
            return key
    return None


def _top_pair(run):
    pairs = run.pairs[run.pairs["first"] != runoffs.NO_RUNOFF]
    return pairs.iloc[0] if len(pairs) else None


def _pair_probability(run, a: str | None, b: str | None) -> float:
    rows = run.pairs[((run.pairs["first"] == a) & (run.pairs["second"] == b))
                     | ((run.pairs["first"] == b) & (run.pairs["second"] == a))]
    return float(rows["probability"].sum())


def _official_ranked(run) -> list[dict]:
    return sorted(run.official["candidates"], key=lambda c: -c["votes"])


def day_words(iso: str) -> str:
    """'2007-05-28' as '28 May 2007'."""
    day = pd.Timestamp(iso)
    return f"{day.day} {day:%B %Y}"


def _line(run) -> str:
    return f"{run.line:g}%"


# ---------------------------------------------------------------------------------------------- sections


def answer(run) -> Section:
    """The bottom line in 2-5 sentences: the chance of a runoff, the likeliest pair (either order), who is
    likeliest to top round one (or win outright, when that is likely), with natural frequencies and the data's
    date; for a past contest, what happened in each round and how the model's call compares."""
    values: dict = {"as_of": day_words(run.facts["as_of"]), "line": _line(run), "draws": f"{run.result.draws:,}"}
    places = run.places.set_index("party")
    outright = run.summary.sort_values("p_pass", ascending=False, kind="stable").iloc[0]
    first = places["p_first"].idxmax()
    pair = _top_pair(run)
    parts = []
    if run.p_runoff >= 0.5:
        parts.append("On the polls up to **{as_of}**, a runoff is likely: nobody reaches {line} in round one in "
                     "**{p_runoff}** of {draws} simulated contests.")
        values["p_runoff"] = words.chance(run.p_runoff)
    else:
        parts.append("On the polls up to **{as_of}**, the contest is likely settled in round one: a candidate "
                     "reaches {line} in **{p_settled}** of {draws} simulated contests.")
        values["p_settled"] = words.chance(1 - run.p_runoff)
    if outright["p_pass"] >= 0.5:
        parts.append("**{winner}** is the likeliest outright winner, reaching {line} in {p_winner}.")
        values.update(winner=name(run, outright["party"]), p_winner=words.chance(outright["p_pass"]))
    if pair is not None:
        parts.append("The likeliest runoff is **{a} against {b}**: {p_pair} of the contests, whichever of the two "
                     "leads.")
        values.update(a=name(run, pair["first"]), b=name(run, pair["second"]), p_pair=words.chance(pair["probability"]))
    if outright["p_pass"] < 0.5:
        parts.append("**{first}** is likeliest to come first in round one: {p_first}.")
        values.update(first=name(run, first), p_first=words.chance(places.loc[first, "p_first"]))
    happened_from = len(parts)
    if run.official is not None:
        ranked = _official_ranked(run)
        leader, second = ranked[0], ranked[1] if len(ranked) > 1 else None
        leader_key = _key(run, leader["candidate"])
        model_leader = (f"it had {name(run, first)} ahead and gave {leader['candidate']} first place in "
                        f"{words.percent(places.loc[leader_key, 'p_first'])} of the contests"
                        if leader_key and leader_key != first
                        else f"it also had {leader['candidate']} likeliest to come first" if leader_key
                        else f"{leader['candidate']} was not in its polls")
        values.update(r1_leader=leader["candidate"], r1_share=f"{leader['share']:.1f}%")
        if run.official["outcome"] == "runoff":
            a, b = run.official["runoff"][:2]
            p_real = _pair_probability(run, _key(run, a), _key(run, b))
            called = pair is not None and {_key(run, a), _key(run, b)} == {pair["first"], pair["second"]}
            parts.append("What happened: **{r1_leader}** led round one with **{r1_share}** to {r1_second}'s "
                         "{r1_second_share}, nobody reached {line}, and **there was a runoff** between {r1_a} and "
                         "{r1_b}: {call}.")
            values.update(r1_second=second["candidate"], r1_second_share=f"{second['share']:.1f}%",
                          r1_a=a, r1_b=b, call="; ".join(
                              ([f"the model gave a runoff only {words.chance(run.p_runoff)}"]
                               if run.p_runoff < 0.5 else [])
                              + ["the model's likeliest pair" if called else
                                 f"a pair the model gave {words.chance(p_real)}", model_leader]))
        else:
            parts.append("What happened: **{r1_leader}** won round one outright with **{r1_share}**, reaching "
                         "{line}; {model_win}.")
            values["model_win"] = (f"the model gave that {words.chance(float(places.loc[leader_key, 'p_pass']))}"
                                   if leader_key else f"{leader['candidate']} was not in the model's polls")
    if run.runoff is not None:
        top = run.runoff.iloc[0]
        parts.append("**{r2_winner}** won the runoff with **{r2_share}** of the votes.")
        values.update(r2_winner=top["candidate"], r2_share=f"{top['share']:.1f}%")
    section = Section(values={"p_runoff": run.p_runoff, "pair": None if pair is None else
                              (pair["first"], pair["second"], float(pair["probability"])),
                              "first": first, "official_leader": _official_ranked(run)[0]["candidate"]
                              if run.official is not None else None})
    section.answer(" ".join(parts[:happened_from]), **values)  # the model's call, then what happened
    if len(parts) > happened_from:
        section.answer(" ".join(parts[happened_from:]), **values)
    return section


def overview(run) -> Section:
    """The polls used: how many, by whom, when; which entered the average and why the others did not."""
    facts, left = run.facts, run.average.left_out
    section = Section(values={"polls": facts["polls"], "pollsters": facts["pollsters"],
                              "used": run.average.n_polls, "exit": len(left.get("exit", []))})
    section.say(
        "**{polls}** polls by **{pollsters}** pollsters{question} were published from **{first}** to "
        "**{last}** (data as of **{as_of}**, file `{file}`). The average uses the newest poll of each house in "
        "the last {window} days of polling: **{used}** polls{exits}. A candidate wins outright with **{line}** "
        "of the votes; otherwise the two with the most votes meet in a runoff.",
        polls=facts["polls"], pollsters=facts["pollsters"], first=facts["first"], last=facts["last"],
        as_of=facts["as_of"], file=run.polls, window=poll_model.POOL_WINDOW_DAYS, used=run.average.n_polls,
        question=f" asking “{run.asked}”" if run.asked else "", line=_line(run),
        exits=(f"; {len(left['exit'])} exit polls are shown but not averaged (they measure the vote itself)"
               if left.get("exit") else ""))
    notes = [n for n in poll_views.flag_notes(facts) if "seat" not in n and "exit" not in n]
    if notes:
        section.say("Flags, kept rather than dropped: {notes}.", notes="; ".join(notes))
    table = polls_table(run)
    return section.table(table, caption=f"Polls up to {facts['as_of']}, newest first",
                         links=[c for c in ("Source",) if c in table.columns])


def polls_table(run) -> pd.DataFrame:
    """One row per poll up to the as-of date: date, pollster, media, respondents, each candidate's share,
    whether it is in the average (with its weight) or why not, and its source address when the file has one."""
    when = run.average.as_of
    use = run.chosen[run.chosen["date"] <= when]
    weights = dict(zip(run.average.weights["poll_id"], run.average.weights["weight_share"], strict=True))
    why = {pid: reason for key, reason in (("exit", "no: exit poll"), ("partial", "no: partial poll"),
                                           ("superseded", "no: a newer poll by the same house"),
                                           ("older", f"no: before the {poll_model.POOL_WINDOW_DAYS}-day window"))
           for pid in run.average.left_out.get(key, [])}
    rows = []
    for pid, g in use.groupby("poll_id", sort=False):
        r = g.iloc[0]
        row = {"Date": r["date"].date().isoformat(), "Pollster": r["pollster"], "Media": r["media"],
               "Respondents": "not stated" if pd.isna(r["sample_size"]) else f"{int(r['sample_size']):,}"}
        shares = dict(zip(g["party"], g["share"], strict=True))
        for key in run.result.parties:
            v = shares.get(key)
            row[name(run, key) + " %"] = "–" if v is None or pd.isna(v) else f"{v:g}"
        row["In the average"] = f"yes, weight {100 * weights[pid]:.0f}%" if pid in weights else why.get(pid, "no")
        if "source_url" in g.columns:
            row["Source"] = str(r["source_url"] or "")
        rows.append(row)
    return pd.DataFrame(rows).sort_values("Date", ascending=False, kind="stable").reset_index(drop=True)


def poll_of_polls(run) -> Section:
    """Every poll and the running average of the pre-election polls, with the line drawn."""
    facts = run.facts
    pre = run.chosen[~run.chosen["poll_type"].astype(str).str.contains("exit", case=False)]
    return Section().figure(poll_charts.poll_of_polls_chart(
        poll_model.poll_points(run.chosen, unit="share", threshold=run.line, as_of=run.as_of),
        poll_model.trend(pre, unit="share", threshold=run.line, half_life_days=run.half_life_days,
                         as_of=run.as_of),
        parties=run.average.parties, line=run.line, unit="share", names=run.names,
        line_label=f"first-round line: {run.line:g}%",
        title=f"Every poll and the average of the pre-election polls, up to {facts['as_of']}",
        source=f"Source: {run.polls} ({facts['polls']} polls, {facts['first']} to {facts['last']}); exit polls "
               "are dots only; ballotbook poll of polls.",
    ))


def official_shares(run) -> dict:
    """{poll key: official round-one share (percent)} for the candidates both in the polls and in the official
    count; {} without one."""
    if run.official is None:
        return {}
    return {key: c["share"] for c in run.official["candidates"] if (key := _key(run, c["candidate"]))}


def chances(run) -> Section:
    """Each candidate's simulated share and chance of reaching the line, with the official share marked when
    the contest has happened."""
    actual = official_shares(run)
    return Section(values={"shown": list(run.summary["party"]), "marked": actual}).figure(
        poll_charts.near_line_chart(
            run.summary, line=run.line, names=run.names, what="first-round line", actual=actual,
            actual_label="official round one",
            title=f"Chance of reaching the {run.line:g}% first-round line",
            source=f"Source: {run.polls}; {run.result.draws:,} simulated first rounds (seed {run.seed}), "
                   f"{error_words(run.average, run.result, run.poll_error)}"
                   + (f"; official count: {run.round1}" if actual else "") + ".",
        ))


def runoff_pairs(run) -> Section:
    """The runoff pairs, each counted once whichever candidate leads, and the chance of no runoff."""
    rows = []
    for r in run.pairs.itertuples():
        what = (f"no runoff: a candidate reaches {run.line:g}%" if r.first == runoffs.NO_RUNOFF
                else f"{name(run, r.first)} and {name(run, r.second)}")
        rows.append({"Runoff": what, "Chance": words.percent(r.probability),
                     "In other words": words.natural_frequency(r.probability)})
    shown = pd.DataFrame(rows, columns=["Runoff", "Chance", "In other words"])
    return Section(values={"pairs": len(run.pairs), "total": float(run.pairs["probability"].sum())}).table(
        shown, caption=f"Who meets in the runoff, in {run.result.draws:,} simulated first rounds (each pair once, "
                       "whichever of the two leads)")


def candidates(run) -> Section:
    """The reader's table: each candidate's average share and range, and the chances of reaching the line, of
    coming first and of a runoff place."""
    places = run.places.set_index("party")
    rows = []
    for r in run.summary.itertuples():
        p = places.loc[r.party]
        rows.append({"Candidate": name(run, r.party), "Average share": f"{r.share_mean:.1f}%",
                     "90% of simulations": f"{r.share_p05:.1f}–{r.share_p95:.1f}%",
                     f"Reaches {run.line:g}%": words.percent(p["p_pass"]),
                     "Comes first": words.percent(p["p_first"]),
                     "In the runoff": words.percent(p["p_runoff_place"])})
    return Section().table(pd.DataFrame(rows), caption=f"{run.result.draws:,} simulated first rounds from "
                                                         f"{run.average.n_polls} polls as of {run.facts['as_of']}")


def happened(run) -> Section:
    """What actually happened beside the model: the official shares of each round (when round files are given)
    against the model's share and 90% range, and how many official shares fell inside the range."""
    if run.official is None:
        return Section().say("No official count was given to this run (the round files are empty), so it shows "
                             "the model only.")
    summary = run.summary.set_index("party")
    r2 = {} if run.runoff is None else dict(zip(run.runoff["candidate"], run.runoff["share"], strict=True))
    result_words = {"winner": "won outright", "runoff": "to the runoff", "out": "out"}
    rows, inside, compared = [], 0, 0
    for c in _official_ranked(run):
        key = _key(run, c["candidate"])
        row = {"Candidate": c["candidate"]}
        if key is None:
            row.update({"Model share": "not in the polls", "Model 90% range": "–"})
        else:
            s = summary.loc[key]
            row.update({"Model share": f"{s['share_mean']:.1f}%",
                        "Model 90% range": f"{s['share_p05']:.1f}–{s['share_p95']:.1f}%"})
            compared += 1
            inside += int(s["share_p05"] <= c["share"] <= s["share_p95"])
        row.update({"Official round one": f"{c['share']:.1f}%", "Result": result_words[c["result"]]})
        if r2:
            row["Official runoff"] = f"{r2[c['candidate']]:.1f}%" if c["candidate"] in r2 else "–"
        rows.append(row)
    section = Section(values={"inside": inside, "compared": compared})
    section.say("The official count of round one ({file}: {votes} votes for candidates) beside the model: "
                "**{inside}** of the **{compared}** candidates in the polls got an official share inside the "
                "model's 90% range.", file=run.round1, votes=f"{run.official['denominator']:,}", inside=inside,
                compared=compared)
    if run.runoff is not None:
        top = run.runoff.iloc[0]
        section.say("The runoff ({file}): **{winner}** {votes} votes, **{share}**.", file=run.round2,
                    winner=top["candidate"], votes=f"{int(top['votes']):,}", share=f"{top['share']:.1f}%")
    return section.table(pd.DataFrame(rows), caption="The model (polls as of "
                                                      f"{run.facts['as_of']}) and the official count")


def method(run) -> Section:
    """How the numbers were made, from this run's own settings and the fitted error model."""
    section = pool_method(Section(), run.average, run.result, run.poll_error, run.half_life_days)
    section.say(
        "**Round one.** Each of the **{draws}** simulated first rounds draws every candidate's share; a candidate "
        "with at least **{line}** of the votes wins outright, otherwise the two largest meet in a runoff. A pair "
        "is counted once whichever of the two leads. Probabilities are counts divided by the number of simulated "
        "contests.", draws=f"{run.result.draws:,}", line=_line(run))
    if run.result.error_model.scale > 0:
        section.say("That error was fitted on the general elections of the kit's history ({history}); polls of "
                    "a party's members are a different population, so read these probabilities as those polls' track "
                    "record applied to them.", history=paths.HISTORY)
    if run.official is not None:
        section.say("**The official count.** Shares are of the votes for candidates in {file}; a candidate at "
                    "exactly the line would count as reaching it, as in the simulation.", file=run.round1)
    return section


def this_run(run) -> Section:
    """The settings of this run, in a sentence."""
    return Section().say(
        "This run: **{n}** polls as of **{as_of}**, half-life **{hl}** days, {err}, **{draws}** simulated first "
        "rounds, seed **{seed}**.",
        n=run.average.n_polls, as_of=run.facts["as_of"], hl=f"{run.half_life_days:g}",
        err=error_words(run.average, run.result, run.poll_error),
        draws=f"{run.result.draws:,}", seed=run.seed)


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs (the
    chances per candidate, P(runoff), the unordered pairs and, for a past contest, the official outcome)."""
    places = run.places.set_index("party")
    outputs = {
        "line": run.line, "polls_used": run.average.n_polls,
        "effective_sample_size": round(run.average.effective_sample_size, 1),
        "draws": run.result.draws, "poll_error": run.poll_error, "error_model": run.result.error_model.name,
        "p_pass": {p: round(float(places.loc[p, "p_pass"]), 4) for p in run.result.parties},
        "p_first": {p: round(float(places.loc[p, "p_first"]), 4) for p in run.result.parties},
        "p_runoff": round(run.p_runoff, 4),
        "runoff_pairs": [{"pair": [r.first, r.second], "probability": round(r.probability, 4)}
                         for r in run.pairs.itertuples() if r.first != runoffs.NO_RUNOFF],
    }
    if run.official is not None:
        outputs["official_round1"] = {c["candidate"]: round(c["share"], 2) for c in run.official["candidates"]}
        outputs["official_outcome"] = run.official["outcome"]
        outputs["official_runoff_pair"] = run.official["runoff"]
    if run.runoff is not None:
        outputs["official_runoff"] = {r.candidate: round(r.share, 2) for r in run.runoff.itertuples()}
    return {
        "as_of": run.facts["as_of"],
        "sources": [run.polls, "data/parties.csv"] + [f for f in (run.round1, run.round2) if f],
        "seed": run.seed,
        "outputs": outputs,
        "used": {"as_of": run.facts["as_of"]},
    }
