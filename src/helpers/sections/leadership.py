"""The leadership race report (notebooks/03_leadership_race.ipynb): would a coordinated candidacy beat Barak?

:func:`prepare` loads the files and computes the calibrations and the simulated plans once; each other function
returns one section (:class:`helpers.sections.Section`) in the order the report shows them; :func:`record` gives
the facts the report records for the pipeline.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from helpers.data import primaries as primary_data
from helpers.models import primaries
from helpers.sections import Section
from helpers.views import primaries as primary_views
from helpers.views.charts import primaries as primary_charts

#: The candidates' colours in every chart of the report.
COLOURS = {"Ehud Barak": "#0072B2", "Ami Ayalon": "#D55E00", "Amir Peretz": "#009E73",
           "Ophir Pines-Paz": "#CC79A7", "Danny Yatom": "#E69F00", "Shelly Yachimovich": "#56B4E9",
           "Isaac Herzog": "#CC79A7", "Amram Mitzna": "#E69F00"}
#: The 2007 candidates who endorsed Barak for the runoff.
ENDORSERS_2007 = ["Ophir Pines-Paz", "Danny Yatom"]
#: The assumptions the calibration charts run through: a share of a group's voters from 0 to 1.
ASSUMPTIONS = np.linspace(0, 1, 41)
HAARETZ_2008 = "https://www.haaretz.com/peretz-wants-ayalon-to-join-him-in-labor-party-challenge-to-barak-1.240903"
#: The flow charts: the calibration drawn, the two rounds' labels, title and source.
FLOW_CHARTS = {
    2007: ("endorsed_2007", ("Round 1, 28 May 2007", "Runoff, 12 June 2007"),
           "2007: where the first-round votes went in the runoff (calibrated)",
           "Source: Labor Party counts 2007 (Haaretz; Wikipedia); ballotbook calibration with the report's "
           "assumption about Pines-Paz's and Yatom's voters."),
    2011: ("pooled_2011", ("Round 1, 12 Sep 2011", "Runoff, 21 Sep 2011"),
           "2011: where the first-round votes went (Herzog's and Mitzna's voters pooled)",
           "Source: Labor Party counts 2011 (Ynet; Wikipedia); ballotbook calibration. Herzog's and Mitzna's "
           "voters are drawn at their common rate: the counts cannot tell them apart."),
}


def prepare(candidates: str, *, threshold: float = 40.0, inclusive: bool = False, draws: int = 20000, seed: int = 0,
            transfers: str, contests: str, rounds: str, calibration_polls=(), sample_size: float = 0,
            concentration: float = 50.0, invalid: float = 0.0, others_to_barak: float = 75.0,
            follow: str = "Ehud Barak", swept: str = "Amir Peretz") -> SimpleNamespace:
    """Everything the report shows but the sensitivity sweep, computed once: the parameters; the candidates
    (``field``, ``shares``, ``follow_name``, ``swept_name``); the past contests (``past``) and their replay
    under the rule (``replayed``); the poll misses and the ``effective`` sample size; the 2007 and 2011
    calibrations; the plans (``moves``, ``plans``) and their simulated contests (``results``, ``summary``)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    run.field = primary_data.load_candidates(candidates)
    run.shares = primary_data.candidate_shares(run.field)
    run.follow_name = primaries.resolve_name(follow, list(run.shares))
    run.swept_name = primaries.resolve_name(swept, list(run.shares))
    run.past = primary_data.load_contests(contests)
    run.replayed = primaries.replay(run.past, primary_data.load_rounds(rounds), threshold=threshold,
                                    inclusive=inclusive)
    run.misses = primaries.poll_misses([primary_data.load_poll(p) for p in calibration_polls], run.past)
    run.calibrated_size = primaries.effective_size(run.misses.to_dict("records"))
    run.effective = sample_size or primary_data.poll_size(run.field) or round(run.calibrated_size)
    r1, r2 = (primary_data.contest_round(run.past, "labor-2007", n) for n in (1, 2))
    run.round1_2007, run.round2_2007 = r1, r2
    run.pooled_2007 = primaries.calibrate(r1, r2, label="Peretz + Pines-Paz + Yatom")
    fixed = {name: {"Ehud Barak": others_to_barak / 100, "Ami Ayalon": 1 - others_to_barak / 100}
             for name in ENDORSERS_2007}
    run.endorsed_2007 = primaries.calibrate(r1, r2, fixed=fixed)
    r1, r2 = (primary_data.contest_round(run.past, "labor-2011", n) for n in (1, 2))
    run.round1_2011, run.round2_2011 = r1, r2
    run.pooled_2011 = primaries.calibrate(r1, r2, label="Herzog + Mitzna")
    run.family_2011 = primaries.calibration_family(
        r1, r2, ["Isaac Herzog"], ASSUMPTIONS, towards="Amir Peretz",
        stay_home=run.pooled_2011.rates["Herzog + Mitzna"][primaries.STAY_HOME])
    run.moves = primary_data.load_transfers(transfers, candidates=list(run.shares))
    run.plans = primaries.plans_from_frame(run.moves)
    run.results = [primaries.simulate_race(run.shares, plan, sample_size=run.effective, threshold=threshold,
                                           inclusive=inclusive, invalid=invalid, draws=draws, seed=seed,
                                           concentration=concentration)
                   for plan in run.plans]
    run.summary = primaries.stack(run.results)
    return run


def first_round_figures(run) -> Section:
    """The candidates file: each candidate's first-round figure and where it comes from."""
    return Section().table(run.field[["candidate", "share", "sample_size", "date", "source", "notes"]],
                           formats={"share": ".2f"}, caption="First-round figures (percent)")


def rule_check(run) -> Section:
    """Every past round under the first-round rule, against the published outcome."""
    replayed = run.replayed
    return Section(values={"agree": int(replayed["agrees"].sum()), "rounds": len(replayed)}).table(
        replayed, formats={"leader_share": ".2f", "leader_share_ballots": ".2f"},
        caption="Each round: the rule's outcome and the published outcome",
    ).say("The rule ({rule} {t}%) names the published outcome in **{ok} of {n}** rounds.",
          rule="at least" if run.inclusive else "over", t=f"{run.threshold:g}", ok=int(replayed["agrees"].sum()),
          n=len(replayed))


def boundary(run) -> Section:
    """What `inclusive` changes for a count exactly at the threshold."""
    return Section().table(primaries.boundary({"A": 40, "B": 35, "C": 25}, threshold=run.threshold),
                           formats={"leader_share": ".2f"}, caption="Exactly at the threshold, both ways")


def poll_misses(run) -> Section:
    """The final 2007 polls against the count, and the sample size their misses are worth."""
    misses = run.misses
    return Section(values={"effective": run.effective, "calibrated_size": run.calibrated_size}).table(
        misses[["poll", "date", "round", "pair", "poll_margin", "result_margin", "miss"]],
        formats={"poll_margin": "+.1f", "result_margin": "+.1f", "miss": "+.1f"},
        caption="Final 2007 polls of Labor members against the count (margin in points)",
    ).say("These polls missed the margin by {lo} to {hi} points (see the sign in the table). A random sample of "
          "about **{n} respondents** misses by that much on average, so the report treats first-round figures as "
          "worth **{eff} respondents** (far fewer than the 550 that Haaretz-Dialog actually polled in February "
          "2007).",
          lo=f"{misses['miss'].abs().min():.1f}", hi=f"{misses['miss'].abs().max():.1f}",
          n=f"{run.calibrated_size:.0f}", eff=f"{run.effective:,}")


def pooled_2007(run) -> Section:
    """Where the eliminated candidates' voters went in 2007, taken together."""
    return Section().table(run.pooled_2007.table(), formats={"votes": ",d", "Ehud Barak": ".1f",
                                                             "Ami Ayalon": ".1f", "(stayed home)": ".1f"},
                           caption="2007: where the eliminated candidates' voters went, pooled (percent of their "
                                   "voters)")


def calibration_2007(run) -> Section:
    """What Peretz's voters did under each assumption about Pines-Paz's and Yatom's voters."""
    family = primaries.calibration_family(run.round1_2007, run.round2_2007, ENDORSERS_2007, ASSUMPTIONS,
                                          towards="Ehud Barak")
    return Section().figure(primary_charts.calibration_chart(
        family, {"Ami Ayalon": "Peretz's voters to Ayalon", "Ehud Barak": "Peretz's voters to Barak",
                 primaries.STAY_HOME: "Peretz's voters who stayed home (negative: net newcomers)"},
        title="2007 runoff: what Peretz's voters did, for each assumption about the others",
        xlabel="Assumed share of Pines-Paz's and Yatom's voters who went to Barak (percent)",
        ylabel="Share of Peretz's voters (percent)", colours=COLOURS, mark=run.others_to_barak,
        mark_label="report's assumption",
        source="Source: Labor Party counts, 28 May and 12 June 2007 (Haaretz; Wikipedia); ballotbook calibration."))


def endorsed_2007(run) -> Section:
    """The 2007 rates under the report's assumption, and the runoff count they give back."""
    endorsed = run.endorsed_2007
    return Section().table(
        endorsed.table(), formats={"votes": ",d", "Ehud Barak": ".1f", "Ami Ayalon": ".1f", "(stayed home)": ".1f"},
        caption="2007 with the report's assumption (percent of each group's voters)",
    ).table(primaries.check_reproduction(endorsed), formats={"real": ",d", "reproduced": ",.1f"},
            caption="The calibrated rates give back the real runoff count")


def flows(run, year: int) -> Section:
    """Where the first-round votes of `year` went in the runoff: 2007 under the report's assumption, 2011 with
    Herzog's and Mitzna's voters pooled."""
    calibration, (left, right), title, source = FLOW_CHARTS[year]
    return Section().figure(primary_charts.flow_chart(getattr(run, calibration).flows, colours=COLOURS,
                                                      left_label=left, right_label=right, title=title,
                                                      source=source))


def peretz_2007(run) -> Section:
    """How many of Peretz's voters followed him to Ayalon, in a sentence."""
    rates = run.endorsed_2007.rates["Amir Peretz"]
    return Section(values={"to_ayalon": rates["Ami Ayalon"], "to_barak": rates["Ehud Barak"]}).say(
        "Under that assumption, **{p_a}** of Peretz's voters followed him to Ayalon and **{p_b}** went to "
        "Barak. Peretz's endorsement moved his voters, but far from all of them: enough to make the runoff "
        "close, not enough to beat a leader who started five points ahead.",
        p_a=f"{rates['Ami Ayalon']:.0%}", p_b=f"{rates['Ehud Barak']:.0%}")


def endorsements_2011(run) -> Section:
    """The 2011 endorsements, where the eliminated candidates' voters went, and what Peretz gained."""
    past, r1, pooled = run.past, run.round1_2011, run.pooled_2011
    gained = primaries.gains(r1, run.round2_2011)
    return Section(values={"gained": gained}).table(
        past[(past["contest"] == "labor-2011") & (past["endorsed"] != "")][
            ["candidate", "votes", "endorsed", "endorsement_source"]], formats={"votes": ",d"},
        caption="2011: endorsements for the runoff",
    ).table(pooled.table(), formats={"votes": ",d", "Shelly Yachimovich": ".1f", "Amir Peretz": ".1f",
                                     "(stayed home)": ".1f"},
            caption="2011: where the eliminated candidates' voters went, pooled (percent of their voters)",
    ).say("Peretz gained **{gp}** votes between the rounds: fewer than Mitzna alone had won in round one "
          "(**{m}**), even though Mitzna endorsed him. Yachimovich, endorsed by nobody, gained **{gy}**, and "
          "{home} of the eliminated candidates' voters did not vote in the runoff at all.",
          gp=f"{gained['Amir Peretz']:,}", m=f"{r1['Amram Mitzna']:,}", gy=f"{gained['Shelly Yachimovich']:,}",
          home=f"{pooled.rates['Herzog + Mitzna'][primaries.STAY_HOME]:.0%}")


def calibration_2011(run) -> Section:
    """What Mitzna's voters did under each assumption about Herzog's."""
    return Section().figure(primary_charts.calibration_chart(
        run.family_2011, {"Amir Peretz": "Mitzna's voters to Peretz (endorsed)",
                          "Shelly Yachimovich": "Mitzna's voters to Yachimovich"},
        title="2011 runoff: how many of Mitzna's voters followed his endorsement?",
        xlabel="Assumed share of Herzog's runoff voters who chose Peretz (percent; Herzog stayed neutral)",
        ylabel="Share of Mitzna's voters (percent)",
        colours={"Amir Peretz": "#009E73", "Shelly Yachimovich": "#56B4E9"}, mark=50, mark_label="even split",
        source="Source: Labor Party counts, 12 and 21 September 2011 (Ynet; Wikipedia); ballotbook calibration."))


def mitzna_2011(run) -> Section:
    """How far Mitzna's endorsement carried his voters, in a sentence."""
    even = primaries.family_at(run.family_2011, "Amir Peretz", 50)
    return Section(values={"even": even}).say(
        "If Herzog's voters split evenly, as his neutrality asked, only **{even}%** of Mitzna's voters "
        "followed him to Peretz. For his endorsement to carry even half of them, no more than **{x}%** of "
        "Herzog's voters can have chosen Peretz. Endorsements carry some voters, not a camp.",
        even=f"{even:.0f}", x=f"{primaries.family_solve(run.family_2011, 'Amir Peretz', 50):.0f}")


def plans(run) -> Section:
    """The plans: who moves where."""
    return Section().table(run.moves[["title", "step", "source", "target", "percent", "notes"]],
                           formats={"percent": ".0f"},
                           caption="The plans: who moves where (percent of the candidate's voters; the rest stay "
                                   "home)")


def plan_chances(run) -> Section:
    """The chart of who leads under each plan."""
    return Section().figure(primary_charts.scenario_bars(
        run.summary, colours=COLOURS,
        title=f"Who leads Labor under each plan ({run.draws:,} simulated contests each)",
        source="Source: ballotbook simulation; first-round figures from the candidates file (Peretz's 4% from "
               "Haaretz 2008; Barak's and Ayalon's an assumption); transfer rates calibrated on the 2007 runoff."))


def plan_table(run) -> Section:
    """Shares and probabilities per plan, and the runoff pairs when there are any."""
    section = Section().table(
        run.summary[["title", "candidate", "first_round", "p_win", "p_outright", "p_runoff_win", "p_runoff"]],
        formats={"first_round": ".1f", "p_win": ".1%", "p_outright": ".1%", "p_runoff_win": ".1%",
                 "p_runoff": ".1%"},
        caption="Mean first-round share (percent) and probabilities per plan")
    pairs = primaries.matchups(run.results)
    if len(pairs):
        section.table(pairs, formats={"probability": ".1%"}, caption="Runoff pairs")
    return section


def _bullets(sentences) -> Section:
    section = Section()
    for sentence in sentences:
        section.say("- {s}", s=sentence)
    return section


def why(run) -> Section:
    """Why the plans give different chances, one bullet per reason."""
    return _bullets(primary_views.explain(run.results, run.shares, run.follow_name, threshold=run.threshold))


def _sweep(run):
    if getattr(run, "sensitivity", None) is None:
        run.sensitivity = primaries.sweep(
            run.shares, run.plans, run.swept_name, np.arange(2.0, 36.0, 1.0), run.follow_name,
            sample_size=run.effective, threshold=run.threshold, inclusive=run.inclusive, invalid=run.invalid,
            draws=min(run.draws, 4000), seed=run.seed, concentration=run.concentration)
    return run.sensitivity


def sweep_chart(run) -> Section:
    """The followed candidate's chance under each plan as the swept candidate's share grows."""
    follow, swept, threshold = run.follow_name, run.swept_name, run.threshold
    floor = primaries.runoff_floor(threshold)
    return Section().figure(primary_charts.sweep_chart(
        _sweep(run), follow=follow, swept=swept, floor=floor,
        floor_label=f"{swept} under {floor:g}% of the count:\nthe leader always clears {threshold:g}%, no runoff",
        marks={"candidates file": run.shares[swept], "2007 result": primaries.share_in(run.round1_2007, swept)},
        title=f"{follow}'s chance as {swept}'s share grows",
        source="Source: ballotbook simulation (4,000 contests per point); plans and calibration as above."))


def sweep_summary(run) -> Section:
    """What the sweep says, one bullet per finding."""
    return _bullets(primary_views.sweep_summary(_sweep(run), run.follow_name, run.swept_name))


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs."""
    return {
        "as_of": primary_data.as_of(run.field) or str(run.past["date"].max().date()),
        "sources": [run.candidates, run.transfers, run.contests, run.rounds, *run.calibration_polls, HAARETZ_2008],
        "seed": run.seed,
        "outputs": {**primaries.outputs(run.results, run.follow_name), "effective_sample_size": run.effective,
                    "peretz_to_ayalon_2007": round(run.endorsed_2007.rates["Amir Peretz"]["Ami Ayalon"], 4)},
    }
