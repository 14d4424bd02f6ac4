"""The coalition scenario report (notebooks/02_coalition_scenarios.ipynb): who can form a government?

:func:`prepare` loads the scenario and its base, simulates the base and every what-if once, and counts the
blocs, paths and named coalitions; each other function returns one section (:class:`helpers.sections.Section`)
in the order the report shows them; :func:`record` gives the facts the report records for the pipeline.
"""

from __future__ import annotations

from types import SimpleNamespace

from helpers.core import paths as core_paths
from helpers.core.errors import ParameterError
from helpers.data import load_votes
from helpers.data import polls as poll_data
from helpers.data.scenarios import load_scenario
from helpers.models import backtest, simulate, whatif
from helpers.models import scenarios as coalition_model
from helpers.sections import Section, polls_in_average, since_last, subject
from helpers.views import scenarios as scenario_views
from helpers.views import words
from helpers.views.charts import coalitions as coalition_charts


def prepare(scenario: str, *, polls: str = "", as_of: str = "", draws: int = 20000, seed: int = 0,
            error_model: str = "", poll_error: float = -1.0, highlight: str = "",
            paths_shown: int = 15, results: str = "", rules: str = "") -> SimpleNamespace:
    """Everything the report shows, computed once: the parameters; the scenario (``sc``) and its ``base``
    (a poll of polls or an official result, from ``base_file``); names, colours, the election-day ``error``,
    ``majority`` and ``comfortable``; the variants and their simulations (``sims``; the base's is ``result``);
    party ``order`` and ``bloc_of``; the ``blocs``, the ``paths`` to a majority, the ``named`` coalitions, and
    the what-if comparison (``compared``, None without what-ifs). The ``subject`` (body, party registry, seat
    law, election-day error) is the scenario's rules file, else `rules` (the project's when empty); the seats,
    threshold and majority are the scenario's (its rules' unless it gives them)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    sc = run.sc = load_scenario(scenario)
    if rules and sc.rules and core_paths.resolve(rules).resolve() != core_paths.resolve(sc.rules).resolve():
        raise ParameterError(f"parameter 'rules' names {rules}, but the scenario {sc.path} names its own rules "
                             f"file, {sc.rules}; leave the parameter empty or use a scenario without 'rules:'.")
    sub = run.subject = subject(sc.rules or rules)
    run.error_model = error_model or sub.error_model
    same = sc.seats == sub.seats and sc.threshold == sub.line
    run.threshold_text = sub.threshold_text if same else sc.threshold_text  # the scenario's threshold words
    run.threshold = sub.threshold if same else sc.threshold_percent
    run.law = SimpleNamespace(name=sub.name, seats=sc.seats, threshold_text=run.threshold_text,
                              method=sub.method, agreements_method=sub.agreements_method if sc.agreements else None)
    registry = sub.registry
    if polls or sc.polls:
        poll_table = run.poll_table = poll_data.load_polls(polls or sc.polls, parties=registry,
                                                           house_seats=sc.seats)
        merges = poll_data.merges_of(registry, poll_table["party"].unique())
        run.base = whatif.base_from_polls(poll_table, as_of or ("" if polls else sc.as_of), threshold=sc.threshold,
                                          house_seats=sc.seats, merges=merges)
    else:
        run.base = whatif.base_from_results(load_votes(sc.results), as_of or sc.as_of)
    run.base_file = polls or sc.base_file
    run.names = {**poll_data.display_names(registry), **sc.labels}
    run.colours = {**poll_data.colours(registry)}
    run.error = sc.effective_poll_error(poll_error)
    run.majority, run.comfortable = sc.majority, sc.majority + coalition_model.COMFORT_MARGIN
    run.variants = whatif.variants(sc, run.base.shares)
    # an official result is the count itself: no election-day error; a poll of polls gets the error model
    run.sims = whatif.simulate_variants(run.variants, run.base, draws=draws, seed=seed, seats=sc.seats,
                                        poll_error=run.error,
                                        error_model=run.error_model if run.base.kind == "polls" else None)
    result = run.result = run.sims[0]
    summary = run.summary = result.summary
    run.mean_seats = dict(zip(summary["party"], summary["seats_mean"], strict=True))
    run.parliament = simulate.projection(result)
    run.bloc_of = {m: b for b, members in sc.blocs.items() for m in members}
    run.order = [p for p in coalition_model.bloc_order(result.parties, sc.blocs, run.mean_seats)
                 if summary.set_index("party").loc[p, "seats_p95"] > 0]
    run.source = (f"Source: {run.base_file}" + (f" as of {run.base.as_of}" if run.base.as_of else "")
                  + f"; scenario {sc.path}; ballotbook simulation, {result.draws:,} elections, seed {seed}, "
                    f"'{result.error_model.name}' election-day error"
                  + (f" plus {run.error:g} points." if run.error > 0 else "."))
    run.blocs = coalition_model.group_table(result, sc.blocs, run.majority)
    run.paths = coalition_model.paths_to_majority(result, run.majority, vetoes=sc.vetoes, required=sc.required,
                                                  excluded=sc.excluded)
    run.named = coalition_model.group_table(result, sc.coalitions, run.majority)
    run.compared = coalition_model.comparison(run.variants, run.sims, run.majority) if sc.what_if else None
    run.outcome = None
    if results:  # the election has happened: the official seats
        out = backtest.official_outcome(load_votes(results), threshold=run.threshold, seats=sc.seats,
                                        agreements=sc.agreements)
        column = "official_seats" if "official_seats" in out else "engine_seats"
        run.outcome = dict(zip(out["list"], out[column].astype(int), strict=True))
    return run


def answer(run) -> Section:
    """The bottom line: the chance that some allowed coalition has a majority, each bloc's chance, the likeliest
    path; and for a past election the blocs' official seats."""
    names, majority = run.names, run.majority
    section = Section(values={"p_any": run.paths.p_any})
    blocs = "; ".join(f"{r.name} {words.chance(r.p_majority)} (median {r.seats_median:.0f} seats)"
                      for r in run.blocs.itertuples()) or "the scenario names no blocs"
    best = run.paths.table.head(1)
    section.answer(
        "As of **{as_of}**, the chance that some coalition the stated vetoes allow reaches **{majority}** of "
        "{seats} seats is **{p_any}**. **Blocs reaching {majority}:** {blocs}. {path}",
        as_of=words.human_date(run.base.as_of) if run.base.as_of else "the official count", majority=majority,
        seats=run.sc.seats,
        p_any=words.chance(run.paths.p_any), blocs=blocs,
        path=(f"The likeliest path is {' + '.join(names.get(m, m) for m in best['members'].iloc[0])} "
              f"({words.percent(float(best['p_majority'].iloc[0]))})." if len(best) else
              "No allowed coalition reaches a majority in the simulated elections."))
    since_last(section, {r.name: round(r.p_majority, 4) for r in run.blocs.itertuples()},
               key="p_bloc_majority")
    if run.outcome is not None:
        seats = {name: sum(run.outcome.get(m, 0) for m in members) for name, members in run.sc.blocs.items()}
        section.answer(
            "**What happened:** {blocs}.",
            blocs="; ".join(f"{name} won {n} seats" + (f", a majority of {majority}" if n >= majority else "")
                            for name, n in seats.items()) or "the official count is shown in the tables")
    return section


def scenario(run) -> Section:
    """The scenario in words: its base, the rules of the house, the vetoes."""
    sc, base, names = run.sc, run.base, run.names
    return Section().say(
        "**{title}**. {description}\n\nBase: **{kind}** from {file}{as_of}. Threshold **{threshold}**{of_votes}, "
        "**{seats}** seats, majority **{majority}** seats.",
        title=sc.title, description=sc.description,
        kind="the poll of polls" if base.kind == "polls" else "the official result",
        file=run.base_file, as_of=f" as of {base.as_of}" if base.as_of else "",
        threshold=run.threshold_text, of_votes=" of valid votes" if run.threshold_text.endswith("%") else "",
        seats=sc.seats, majority=run.majority,
    ).say(
        "Vetoes (the scenario's reading; no coalition holds both parties of a pair): {vetoes}.{required}{excluded}",
        vetoes=scenario_views.vetoes_text(sc.vetoes, names) or "none",
        required=f" Every coalition must hold: {', '.join(names.get(k, k) for k in sc.required)}."
        if sc.required else "",
        excluded=f" No coalition holds: {', '.join(names.get(k, k) for k in sc.excluded)}." if sc.excluded else "",
    )


def projection_chart(run) -> Section:
    """Each party's mean seats and 90% range, grouped by bloc."""
    return Section().figure(coalition_charts.seat_projection_chart(
        run.summary, order=run.order, names=run.names, colours=run.colours, bloc_of=run.bloc_of,
        total_seats=run.sc.seats,
        title=f"Seats in {run.result.draws:,} simulated elections (threshold "
              f"{words.threshold_short(run.threshold_text)})",
        source=run.source))


def projection_table(run) -> Section:
    """The seat projection as a table (parties that never win a seat left out, and counted)."""
    left_out = len(run.result.parties) - len(run.order)
    return Section(values={"left_out": left_out}).table(
        scenario_views.projection_table(run.summary, run.order, run.names, run.bloc_of),
        formats={"Share %": ".1f", "Mean seats": ".1f", "P(no seat) %": ".0f"},
        caption=f"Seat projection: {run.result.draws:,} simulated elections" + (
            f"; parties that never win a seat are left out ({left_out})" if left_out else ""),
    )


def polls_used(run) -> Section:
    """The polls in the base's average, folded away until a reader opens the list (nothing for an official
    count)."""
    if run.base.kind != "polls":
        return Section()
    return polls_in_average(run.base.poll_of_polls, run.poll_table, run.base_file)


def parliament(run) -> Section:
    """The projected parliament (the seat law on the median shares), one dot per seat, with the highlighted
    coalition first."""
    sc = run.sc
    name, members = coalition_model.pick_group(sc.coalitions, sc.blocs, run.highlight)
    picture = run.parliament
    return Section(values={"highlight": name}).figure(coalition_charts.hemicycle_chart(
        picture.loc[coalition_model.bloc_order(run.result.parties, sc.blocs, run.mean_seats, first=members)],
        majority=run.majority, names=run.names, colours=run.colours, highlight=members, highlight_name=name,
        title=f"The projected parliament (the seat law on the median shares), {name or 'no coalition'} "
              "highlighted",
        source=run.source))


def blocs(run) -> Section:
    """Each bloc's seats and chance of a majority, and how often no bloc has one; or that there are none."""
    sc, result, majority, comfortable, blocs = run.sc, run.result, run.majority, run.comfortable, run.blocs
    if not len(blocs):
        return Section().say("The scenario names no blocs.")
    neither = 1 - result.probability(
        sum((coalition_model.coalition_seats(result, m) >= majority).astype(int) for m in sc.blocs.values()) > 0)
    return Section(values={"neither": neither}).figure(coalition_charts.bloc_seats_chart(
        coalition_model.seat_distribution(result, sc.blocs), majority=majority,
        colours=coalition_charts.bloc_colours(sc.blocs),
        p_majority=dict(zip(blocs["name"], blocs["p_majority"], strict=True)),
        actual=({name: sum(run.outcome.get(m, 0) for m in members) for name, members in sc.blocs.items()}
                if run.outcome is not None else None),
        title=f"Seats of each bloc in {result.draws:,} simulated elections", source=run.source),
    ).table(scenario_views.groups_table(blocs, run.names, majority, comfortable),
            formats={"Mean seats": ".1f", f"P({majority}+) %": ".1f", f"P({comfortable}+) %": ".1f"},
            caption="The blocs: seats and the chance of a majority",
    ).say("In **{neither}** of the simulated elections no bloc reaches {majority} seats on its own.",
          neither=f"{100 * neither:.0f}%", majority=majority)


def paths(run) -> Section:
    """The paths to a majority: how many, the one most often exact, and the table of the most frequent."""
    paths, names, majority, comfortable = run.paths, run.names, run.majority, run.comfortable
    section = Section().say(
        "**{total}** coalitions are paths to {majority} in at least 1% of the simulated elections ({rare} more are "
        "paths more rarely). In **{p_any}** of the simulated elections at least one coalition the vetoes allow has "
        "a majority{rest}.",
        total=paths.total, majority=majority, rare=paths.rare, p_any=f"{100 * paths.p_any:.0f}%",
        rest="; in the rest no government can be formed unless someone breaks a veto" if paths.p_any < 1 else "",
    )
    if not paths.total:
        return section
    top = paths.table.iloc[0]
    return section.say(
        "The path most often exact is **{members}**: every member is needed in {p_min} of the simulated "
        "elections, and its seats reach {majority} in {p_maj}.",
        members=" + ".join(names.get(m, m) for m in top["members"]), p_min=f"{100 * top['p_minimal']:.0f}%",
        majority=majority, p_maj=f"{100 * top['p_majority']:.0f}%",
    ).table(scenario_views.paths_table(paths, names, run.paths_shown),
            formats={"Mean seats": ".1f", f"P({majority}+) %": ".1f", "P(every member needed) %": ".1f",
                     "Mean surplus": "+.1f", f"P({comfortable}+) %": ".1f"},
            caption=f"The {min(run.paths_shown, paths.total)} paths most often exact (every member needed), of "
                    f"{paths.total}; mean surplus = mean seats − {majority}")


def named(run) -> Section:
    """The scenario's named coalitions, with the rules any of them breaks; or that there are none."""
    sc, majority, comfortable = run.sc, run.majority, run.comfortable
    if not len(run.named):
        return Section().say("The scenario names no coalitions.")
    notes = {n: "; ".join(coalition_model.breaks(m, vetoes=sc.vetoes, required=sc.required, excluded=sc.excluded))
             for n, m in sc.coalitions.items()}
    broken = any(notes.values())
    return Section().table(
        scenario_views.groups_table(run.named, run.names, majority, comfortable, notes if broken else None),
        formats={"Mean seats": ".1f", f"P({majority}+) %": ".1f", f"P({comfortable}+) %": ".1f"},
        caption="Named coalitions" + (" (Note: the scenario rules it breaks)" if broken else ""))


def pivots(run) -> Section:
    """How often each party is pivotal for each bloc and coalition, and needed by some path."""
    sc = run.sc
    groups = {**sc.blocs, **{k: v for k, v in sc.coalitions.items() if k not in sc.blocs}}
    pivots = coalition_model.pivot_table(run.result, groups, run.majority)
    order = coalition_model.bloc_order(run.result.parties, sc.blocs, run.mean_seats)
    table = scenario_views.pivots_table(pivots, run.paths.needed, run.names, order)
    return Section(values={"pivots": pivots}).table(
        table, formats={c: ".0f" for c in table.columns if c != "Party"},
        caption="P(pivotal) %, share of all simulated elections; blank: not a member")


def near_threshold(run) -> Section:
    """The parties near the threshold and what each means for each bloc; or that there are none."""
    sc = run.sc
    near = coalition_model.threshold_sensitivity(run.result, run.base.shares, sc.blocs, run.majority,
                                                 valid_votes=sc.valid_votes)
    if not len(near):
        return Section().say("No party is near the threshold.")
    section = Section(values={"near": near})
    if sc.blocs:
        section.figure(coalition_charts.threshold_swing_chart(
            near, majority=run.majority, names=run.names, colours=coalition_charts.bloc_colours(sc.blocs),
            title=f"What a party near {words.the_threshold(words.threshold_short(run.threshold_text))} means for "
                  "each bloc", source=run.source))
    sens = scenario_views.sensitivity_table(near, run.names, sc.threshold,
                                            line=words.threshold_short(run.threshold_text))
    return section.table(
        sens, formats={c: ".1f" for c in sens.columns if c not in ("Party", "Votes (approx.)")},
        caption=(f"Points to the line: + short of it, − above it; votes of {sc.valid_votes:,} valid votes"
                 if sc.valid_votes else "Points to the line: + short of it, − above it (the scenario gives no "
                                        "valid-vote total, so no votes)"))


def what_ifs(run) -> Section:
    """The what-ifs: their steps, each bloc's chance against the base, and the lists each touched."""
    sc, majority = run.sc, run.majority
    if run.compared is None:
        return Section().say("The scenario has no what-ifs.")
    wide = scenario_views.comparison_table(run.compared, majority)
    return Section().table(
        scenario_views.what_if_table(sc, run.names), caption="The what-ifs of the scenario",
    ).figure(coalition_charts.what_if_chart(
        run.compared, majority=majority, colours=coalition_charts.bloc_colours(sc.blocs), kinds=("bloc", "any"),
        title=f"Chance of {majority}+ seats: the base and each what-if", source=run.source),
    ).table(wide, formats={c: ".1f" for c in wide.columns if c != "Scenario"},
            caption=f"P({majority}+) %, base and what-ifs, {run.result.draws:,} simulated elections each, seed "
                    f"{run.seed}",
    ).table(scenario_views.changed_table(coalition_model.changed_seats(run.variants, run.sims), run.names),
            caption="The lists each what-if touched: base → what-if (— : not running)")


def method(run) -> Section:
    """How the draws were made, from this run's own settings and the fitted model."""
    base, result = run.base, run.result
    if base.kind != "polls":
        return Section().say("**Simulation.** The base is an official count: its shares are the result itself, "
                             "with no sampling and no election-day error; the what-ifs change it step by step."
                             ).say(words.seat_law(run.law))
    section = Section().say(words.seat_law(run.law)).say(
        "**Base.** The poll of polls as of {as_of}, as in the threshold report: the newest poll of each polling "
        "house in the last 14 days of polling ({n} polls), which count as **{ess}** respondents (pollsters' errors "
        "correlate); **{others}%** of valid votes is kept for lists no poll lists, so the threshold is tested "
        "against all valid votes.",
        as_of=base.as_of, n=base.polls_used, ess=f"{base.sample_size:,.0f}", others=f"{base.others:.1f}")
    section.say("**Election-day error.** The model is {model}.", model=result.error_model.describe())
    if run.error > 0:
        section.say("A fixed extra error of **{p}** points is added on top.", p=f"{run.error:g}")
    return section


def this_run(run) -> Section:
    """The settings of this run, in a sentence."""
    base = run.base
    return Section().say(
        "This run: scenario {file}, base {base_file}{as_of}, **{draws}** simulated elections per variant, seed "
        "**{seed}**, {err}{ess}.",
        file=run.sc.path, base_file=run.base_file, as_of=f" as of {base.as_of}" if base.as_of else "",
        draws=f"{run.result.draws:,}", seed=run.seed,
        err=(f"the '{run.result.error_model.name}' election-day error"
             + (f" plus a fixed {run.error:g} points" if run.error > 0 else "")
             + ("" if base.kind == "polls" else " (an official count: no election-day error)")),
        ess=f", effective sample size {base.sample_size:,.0f} respondents from {base.polls_used} polls"
        if base.kind == "polls" else "",
    )


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs."""
    slug = coalition_model.slug
    outputs = {"draws": run.result.draws, "poll_error": run.error, "error_model": run.result.error_model.name,
               "others": round(run.base.others, 3), "majority": run.majority,
               "paths": run.paths.total, "p_some_majority": run.paths.p_any,
               "p_pass": {r.party: round(r.p_pass, 4) for r in run.summary.itertuples()},
               "parliament": {p: int(n) for p, n in run.parliament.items() if n > 0},
               "p_bloc_majority": {r.name: round(r.p_majority, 4) for r in run.blocs.itertuples()}}
    outputs.update({f"p_bloc_{slug(r.name)}": r.p_majority for r in run.blocs.itertuples()})
    outputs.update({f"p_coalition_{slug(r.name)}": r.p_majority for r in run.named.itertuples()})
    if run.compared is not None:
        outputs["what_if"] = {v: {("p_some_majority" if k == "any" else f"p_{k}_{slug(n)}"): p
                                  for k, n, p in zip(g["kind"], g["name"], g["p_majority"], strict=True)}
                              for v, g in run.compared.groupby("variant", sort=False)}
    sources = run.sc.sources()
    more = [run.subject.parties, run.subject.rules.path]
    return {"as_of": run.base.as_of,
            "sources": list(dict.fromkeys(sources[:1] + [run.base_file] + sources[2:] + more)),
            "seed": run.seed, "outputs": outputs,
            "used": {"poll_error": run.error, "polls": run.base_file, "as_of": run.base.as_of or ""}}
