"""The threshold report (notebooks/01_poll_thresholds.ipynb): who clears a parliament's electoral threshold.

:func:`prepare` computes every model result once; each other function returns one section of the report
(:class:`helpers.sections.Section`); :func:`record` gives the facts the report records for the pipeline. A
leadership contest's first round is its own report (:mod:`helpers.sections.first_round`); a polls file of one
is refused here with a pointer to it.
"""

from __future__ import annotations

from types import SimpleNamespace

from helpers.core.errors import ParameterError
from helpers.data import load_pairs, load_votes
from helpers.data import polls as poll_data
from helpers.models import backtest, simulate
from helpers.models import polls as poll_model
from helpers.sections import (
    Section,
    agreements_left_out,
    error_words,
    polls_in_average,
    pool_method,
    since_last,
    subject,
)
from helpers.views import polls as poll_views
from helpers.views import words
from helpers.views.charts import polls as poll_charts


def prepare(polls: str, *, threshold=None, as_of: str = "", seats: int = 0, draws: int = 20000, seed: int = 0,
            error_model: str = "", poll_error: float = 0.0, half_life_days: float = 7.0,
            agreements: str = "", question: str = "", adjust_house_effects: bool = False,
            results: str = "", rules: str = "") -> SimpleNamespace:
    """Everything the report shows, computed once: the parameters; the ``subject`` (the rules file `rules`, the
    project's when empty, with `seats`, `threshold` and `error_model` given instead when they are); the polls of
    the chosen question (``chosen``, ``asked``); the ``line`` (the threshold, percent) and its words
    (``threshold_text``); the overview ``facts``; the house effects (``house``), the poll of polls
    (``average``), the simulated elections (``result``, ``summary``) and, for a past election, the official
    ``outcome``."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    sub = run.subject = subject(rules, seats=seats, threshold=threshold, error_model=error_model,
                                agreements=agreements)
    run.seats, run.line, run.threshold_text, run.error_model = sub.seats, sub.line, sub.threshold_text, sub.error_model
    run.registry = sub.registry
    run.names = poll_data.display_names(run.registry)
    all_polls = poll_data.load_polls(polls, parties=run.registry, house_seats=run.seats)
    run.chosen, run.asked = poll_model.select_question(all_polls, question)
    if poll_model.contest_kind(run.chosen, run.line) != "parliament":
        raise ParameterError(f"the polls in {polls} are a leadership contest's first round (no seats): its report "
                             "is notebooks/06_first_round.ipynb.")
    run.facts = poll_model.overview(run.chosen, as_of)
    merges = poll_data.merges_of(run.registry, run.chosen["party"].unique())
    run.house = poll_model.house_effects(run.chosen, threshold=run.line, half_life_days=half_life_days,
                                         house_seats=run.seats, as_of=as_of)
    run.average = poll_model.poll_of_polls(run.chosen, as_of, threshold=run.line, half_life_days=half_life_days,
                                           merges=merges, house=run.house if adjust_house_effects else None,
                                           house_seats=run.seats)
    pairs = load_pairs(agreements) if agreements else []
    run.kept_pairs, run.dropped_pairs = simulate.usable_agreements(pairs, run.average.parties)
    run.result = simulate.simulate(run.average.shares, run.average.effective_sample_size, draws=draws, seed=seed,
                                   seats=run.seats, threshold=sub.threshold, poll_error=poll_error,
                                   agreements=run.kept_pairs, error_model=run.error_model, others=run.average.others,
                                   method=sub.agreements_method if run.kept_pairs else sub.method)
    run.summary = run.result.summary
    run.outcome = None
    if results:  # the election has happened: what the official count gave
        votes = load_votes(results)
        run.outcome = backtest.official_outcome(votes, threshold=sub.threshold, seats=run.seats, agreements=pairs)
        if "name" in votes:  # the official names of lists the party registry does not know
            run.names = {**dict(zip(votes["list"], votes["name"], strict=True)), **run.names}
    return run


def _reports(run) -> str:
    """What the polls publish, from the data and the rules: seats (turned back into shares here) or shares."""
    kind, body = run.facts["kind"], run.subject.name
    said = "seats" if run.subject.polls_report == "seats" else "vote shares"
    if kind == "seats":
        what = "These polls publish seats, not vote shares"
    elif kind == "share":
        what = "These polls publish vote shares"
    else:
        what = "Some of these polls publish seats, others vote shares"
    usual = f", as polls of the {body} do" if (kind == "seats") == (said == "seats") and kind != "mixed" else (
        f"; polls of the {body} usually publish {said}")
    turn = " (seats are turned back into vote shares before averaging)" if kind != "share" else ""
    return f"{what}{usual}{turn}."


def _name(run, key: str) -> str:
    return run.names.get(key, key)


def answer(run) -> Section:
    """The bottom line: who is in, who is in doubt, who is out, the largest list; and for a past election what
    the official count gave beside it."""
    summary, as_of = run.summary, run.facts["as_of"]
    p = summary.set_index("party")["p_pass"]
    safe, likely = p[p >= 0.98], p[(p >= 0.8) & (p < 0.98)]
    doubt, unlikely, out = p[(p >= 0.2) & (p < 0.8)], p[(p >= 0.02) & (p < 0.2)], p[p < 0.02]
    top = summary.sort_values("seats_median", ascending=False, kind="stable").iloc[0]

    def listed(group, how=words.chance):
        return "; ".join(f"{_name(run, k)} {how(v)}" for k, v in group.items()) or "none"

    section = Section(values={"safe": len(safe), "likely": len(likely), "doubt": len(doubt),
                              "unlikely": len(unlikely), "out": len(out)})
    section.answer(
        "As of **{as_of}**, the polls put **{n_safe}** lists safely over {the_line}{safe_names}. "
        "**Likely in:** {likely}. **Toss-ups:** {doubt}. **Likely out:** {unlikely}{out}. The largest list is "
        "**{top}**, with {top_seats} seats (90% range {low}–{high}).",
        as_of=words.human_date(as_of), n_safe=len(safe), the_line=words.the_threshold(run.threshold_text),
        safe_names=f" ({words.and_list([_name(run, k) for k in safe.index])})" if len(safe) <= 8 else "",
        likely=listed(likely), doubt=listed(doubt), unlikely=listed(unlikely, words.percent),
        out=f"; almost no chance: {words.and_list([_name(run, k) for k in out.index])}" if len(out) else "",
        top=_name(run, top["party"]), top_seats=int(top["seats_median"]), low=int(top["seats_p05"]),
        high=int(top["seats_p95"]))
    since_last(section, {k: round(float(v), 4) for k, v in p.items()}, run.names)
    if run.outcome is not None:
        o = run.outcome.set_index("list")
        polled = [k for k in summary["party"] if k in o.index]
        missed = [k for k in polled if not o.loc[k, "passed"]]
        surprise = [k for k in polled if bool(o.loc[k, "passed"]) != (float(p[k]) >= 0.5)]
        seats_col = "official_seats" if "official_seats" in o else "engine_seats"
        biggest = o[seats_col].astype(int).idxmax()
        section.answer(
            "**What happened:** {n_in} of the {n_polled} polled lists won seats; {missed} missed the "
            "threshold. The largest list was **{biggest}**, with {biggest_seats} seats. {calls}",
            n_in=len(polled) - len(missed), n_polled=len(polled), biggest=_name(run, biggest),
            biggest_seats=int(o.loc[biggest, seats_col]),
            missed=words.and_list([_name(run, k) for k in missed]) or "none",
            calls=("The model's better-than-even call was wrong for " + words.and_list(
                [f"{_name(run, k)} (given {words.percent(float(p[k]))}, "
                 + ("won seats" if o.loc[k, "passed"] else "missed") + ")" for k in surprise]) + ".") if surprise
            else "Every list the model gave better than even odds won seats, and every other list missed.")
    return section


def overview(run) -> Section:
    """The polls used, the line to clear, and the flags on the data."""
    facts = run.facts
    section = Section(values={"polls": facts["polls"], "pollsters": facts["pollsters"], "line": run.line}).say(
        "**{polls}** polls by **{pollsters}** pollsters were published from **{first}** to **{last}** (data as "
        "of **{as_of}**, file `{file}`){question}; the poll of polls uses the newest of each house, **{used}**. "
        + ("The line to clear: **{line}%** of valid votes. " if run.threshold_text.endswith("%") else
           "The line to clear: **{line}**. ") + "{reports}",
        polls=facts["polls"], pollsters=facts["pollsters"], first=facts["first"], last=facts["last"],
        used=run.average.n_polls,
        as_of=facts["as_of"], file=run.polls, line=run.threshold_text.removesuffix("%"), reports=_reports(run),
        question=f", question: {run.asked}" if run.asked else "",
    )
    notes = poll_views.flag_notes(facts, house_seats=run.seats)
    if notes:
        section.say("Flags, kept rather than dropped: {notes}.", notes="; ".join(notes))
    return section


def poll_of_polls(run) -> Section:
    """Every poll and the running average, with the line drawn in the unit the polls use."""
    line, seats, facts = run.line, run.seats, run.facts
    unit = "seats" if facts["kind"] == "seats" else "share"
    if unit == "seats":
        passing = float(run.average.shares[run.average.shares >= line].sum())
        line_in_unit = poll_model.smallest_list_seats(line, seats, passing)
        short = words.threshold_short(run.threshold_text)
        line_label = (f"threshold {short}: a list that clears it wins {line_in_unit} seats or more "
                      f"({short} of {seats} is {line * seats / 100:.1f})")
    else:
        line_in_unit = line
        line_label = f"threshold: {words.threshold_short(run.threshold_text)}"
    notes = {
        r.party: f"0 seats in all {r.polls} polls" + (f";\npublished {r.low:g}–{r.high:g}%" if r.published else "")
        for r in poll_model.always_below(run.chosen, run.as_of).itertuples()
    }
    return Section(values={"unit": unit, "line_in_unit": line_in_unit}).figure(poll_charts.poll_of_polls_chart(
        poll_model.poll_points(run.chosen, unit=unit, threshold=line, house_seats=seats, as_of=run.as_of),
        poll_model.trend(run.chosen, unit=unit, threshold=line, half_life_days=run.half_life_days,
                         house_seats=seats, as_of=run.as_of),
        parties=run.average.parties, line=line_in_unit, unit=unit, names=run.names, line_label=line_label,
        notes=notes, title=f"Every poll and the poll of polls, up to {facts['as_of']}",
        source=f"Source: {run.polls} ({facts['polls']} polls, {facts['first']} to {facts['last']}); ballotbook poll "
               "of polls.",
    ))


def polls_used(run) -> Section:
    """The polls in the average, folded away until a reader opens the list (:func:`polls_in_average`)."""
    return polls_in_average(run.average, run.chosen, run.polls)


def near_line(run) -> Section:
    """The chance of clearing the threshold of the parties in doubt."""
    doubt = simulate.near_the_line(run.summary)
    section = Section(values={"shown": list(doubt["party"])})
    if len(doubt):
        section.figure(poll_charts.near_line_chart(
            doubt, line=run.line, names=run.names, what="threshold",
            actual=(dict(zip(run.outcome["list"], run.outcome["share"], strict=True))
                    if run.outcome is not None else None),
            title="Parties in doubt: chance of clearing "
                  + words.the_threshold(words.threshold_short(run.threshold_text)),
            source=(f"Source: {run.polls}; {run.result.draws:,} simulated elections (seed {run.seed}), "
                    f"{error_words(run.average, run.result, run.poll_error)}."),
        ))
    return section


def verdict(run) -> Section:
    """In words: who is in doubt, who is almost sure to clear the threshold and who to miss it."""
    summary, names, section = run.summary, run.names, Section()
    doubt = simulate.near_the_line(summary)
    section.values.update(doubt=len(doubt), safe=int((summary["p_pass"] > 0.98).sum()),
                          out=int((summary["p_pass"] < 0.02).sum()))
    section.say(
        "**{n_doubt}** parties have between a 2% and a 98% chance of clearing the threshold: {doubtful}. "
        "**{n_safe}** are almost sure to clear it and **{n_out}** almost sure to miss it.",
        n_doubt=len(doubt), n_safe=section.values["safe"], n_out=section.values["out"],
        doubtful="; ".join(f"{names.get(r.party, r.party)} {words.percent(r.p_pass)}" for r in doubt.itertuples())
        or "none",
    )
    return agreements_left_out(section, run.dropped_pairs, names=run.names)


def seats(run) -> Section:
    """The seat ranges of every list."""
    result, seats = run.result, run.seats
    return Section().figure(poll_charts.seat_range_chart(
        run.summary, names=run.names, colours=poll_data.colours(run.registry), total_seats=seats,
        actual=(dict(zip(run.outcome["list"], run.outcome["official_seats" if "official_seats" in run.outcome
                                                          else "engine_seats"], strict=True))
                if run.outcome is not None else None),
        title=(f"Seats in {result.draws:,} simulated elections ({seats} seats, threshold "
               f"{words.threshold_short(run.threshold_text)})"),
        source=f"Source: {run.polls}; ballotbook simulation, seed {run.seed}, method {result.method}"
               + (f", {len(run.kept_pairs)} surplus agreements" if run.kept_pairs else "") + ".",
    ))


def numbers(run) -> Section:
    """The table of shares, seats and probabilities."""
    word = "threshold"
    return Section().table(
        simulate.summary_table(run.summary, run.names, seats=True, line_word=word),
        formats={"Share %": ".1f", "Mean seats": ".1f", f"P(clears the {word}) %": ".0f", "P(no seat) %": ".0f"},
        caption=f"{run.result.draws:,} simulated elections from {run.average.n_polls} polls as of "
                f"{run.facts['as_of']}",
    )


def house_effects(run) -> Section:
    """Each pollster's house effect per party, when at least two pollsters have three polls or more."""
    table = poll_views.house_effects_table(run.house, run.average.parties, min_polls=3,
                                           limit=poll_views.TABLE_POLLSTERS)
    if len(table) <= 1:
        return Section().say("Too few pollsters with three polls or more to compare their house effects.")
    rest = table.attrs["not_listed"]
    table = table.rename(columns={k: run.names.get(k, k) for k in table.columns})
    return Section(values={"pollsters": len(table) + rest, "listed": len(table)}).table(
        table, formats={c: "+.1f" for c in table.columns if c not in ("pollster", "polls")},
        caption="House effects, points of vote share (+ = above the other pollsters)" + (
            f"; the {len(table)} pollsters with the most polls, {rest:,} others with three or more not listed"
            if rest else ""))


def method(run) -> Section:
    """How the numbers were made, from this run's own settings and the fitted model."""
    return pool_method(Section(), run.average, run.result, run.poll_error, run.half_life_days).say(
        words.seat_law(run.subject))


def this_run(run) -> Section:
    """The settings of this run, in a sentence."""
    return Section().say(
        "This run: **{n}** polls as of **{as_of}**, half-life **{hl}** days, {err}, **{draws}** simulated "
        "elections, seed **{seed}**{adj}.",
        n=run.average.n_polls, as_of=run.facts["as_of"], hl=f"{run.half_life_days:g}",
        err=error_words(run.average, run.result, run.poll_error),
        draws=f"{run.result.draws:,}", seed=run.seed, adj="; house effects subtracted" if run.adjust_house_effects
        else "",
    )


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs
    and the projected parliament."""
    summary = run.summary
    return {
        "as_of": run.facts["as_of"],
        "sources": [run.polls, run.subject.parties, run.subject.rules.path]
                   + ([run.agreements] if run.agreements else []),
        "seed": run.seed,
        "used": {"as_of": run.facts["as_of"]},
        "outputs": {
            "line": run.line, "polls_used": run.average.n_polls,
            "effective_sample_size": round(run.average.effective_sample_size, 1),
            "draws": run.result.draws, "poll_error": run.poll_error, "error_model": run.result.error_model.name,
            "others": round(run.average.others, 3),
            "p_pass": {r.party: round(r.p_pass, 4) for r in summary.itertuples()},
            "seats_median": {r.party: int(r.seats_median) for r in summary.itertuples()},
            "parliament": {p: int(n) for p, n in simulate.projection(run.result).items() if n > 0},
        },
    }
