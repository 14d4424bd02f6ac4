"""The leadership race report (notebooks/03_leadership_race.ipynb): would a coordinated candidacy beat the
followed candidate?

:func:`prepare` loads the files and computes, once: the member-poll bias (a mean miss with its own uncertainty),
the range of vote transfers the counts of two past contests with a runoff allow (partial identification, not a
point solved to fit), the simulated plans, and, when the candidates file is a poll of a contest in the data, the
replay of that poll against what happened. Each other function returns one section
(:class:`helpers.sections.Section`) in the order the report shows them; :func:`record` gives the facts the report
records for the pipeline.

Nothing here names a party, a contest, a candidate or a year: they come from the files and parameters. The two
past contests the report studies are the *reference* contest (a runoff in which the swept candidate was
eliminated: where the plans' transfer rates come from) and the *comparison* contest (another runoff in which an
eliminated candidate endorsed a finalist: how far an endorsement carries). Either is named by a parameter or,
when empty, found in the contests file.

Which numbers are forecasts: the simulated plans use sampling error, plus the member-poll bias only when it is
measured out of sample (on polls of other contests) and the figures are a published poll. A candidates file
with figures marked ASSUMPTION is a scenario: its numbers are "if these assumptions hold", with the assumptions
listed and varied (:func:`scenario`).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from helpers.core.errors import DataError
from helpers.data import primaries as primary_data
from helpers.models import primaries
from helpers.sections import Section
from helpers.views import primaries as primary_views
from helpers.views.charts import PALETTE
from helpers.views.charts import primaries as primary_charts
from helpers.views.words import and_list, chance, percent

#: The assumptions the calibration charts run through: a share of a group's voters from 0 to 1.
ASSUMPTIONS = np.linspace(0, 1, 41)
#: The assumptions about turnout under which the transfer ranges are also shown: (retention floor, newcomers as
#: a share of the runoff's votes; the least the counts need is used when larger).
TURNOUT_SETTINGS = [(0.0, 0.0), (0.9, 0.0), (0.0, 0.02), (0.0, 0.05), (0.9, 0.05)]
#: Points added to the followed candidate's first-round margin over the rival in the scenario sensitivity.
MARGIN_SHIFTS = (-10.0, -5.0, 5.0, 10.0)


def _endorsement_groups(past, contest: str, finalists) -> dict[str, list[str]]:
    """The eliminated candidates of `contest`'s first round grouped by whom they endorsed for the runoff (the
    contests file's ``endorsed`` column); the groups' labels join their names with " + "."""
    rows = past[(past["contest"] == contest) & (past["round"] == 1) & (past["kind"] == "candidate")]
    by: dict[str, list[str]] = {}
    for name, endorsed in zip(rows["candidate"], rows["endorsed"], strict=True):
        if name not in finalists:
            by.setdefault(str(endorsed) or "(none)", []).append(str(name))
    return {" + ".join(members): members for members in by.values()}


def _surname(name) -> str:
    """How the report's prose names a candidate after the first mention: the last word of the name."""
    words = str(name).split()
    return words[-1] if words else str(name)


def _their(name) -> str:
    """A candidate's surname in the possessive."""
    s = _surname(name)
    return s + "'" if s.endswith("s") else s + "'s"


def _runoff_contests(past) -> list[str]:
    """The contests of the contests file that went to a runoff, in file order."""
    return list(dict.fromkeys(past.loc[past["round"] == 2, "contest"]))


def _endorsed(past, contest: str) -> dict[str, str]:
    """{eliminated candidate of round one: whom they endorsed for the runoff ("" for nobody)}."""
    rows = past[(past["contest"] == contest) & (past["round"] == 1) & (past["kind"] == "candidate")]
    return {str(c): str(e) for c, e in zip(rows["candidate"], rows["endorsed"], strict=True)}


def _find_reference(past, swept: str) -> str:
    """The latest contest with a runoff in which `swept` ran in round one and was eliminated ("" for none)."""
    found = ""
    for key in _runoff_contests(past):
        r1, r2 = (primary_data.contest_round(past, key, n) for n in (1, 2))
        if swept in r1 and swept not in r2:
            if not found or past.loc[past["contest"] == key, "date"].min() > \
                    past.loc[past["contest"] == found, "date"].min():
                found = key
    return found


def _find_comparison(past, reference: str) -> str:
    """The latest other contest with a runoff in which an eliminated candidate endorsed a finalist ("" for
    none)."""
    found = ""
    for key in _runoff_contests(past):
        if key == reference:
            continue
        r2 = primary_data.contest_round(past, key, 2)
        if any(e in r2 for c, e in _endorsed(past, key).items() if c not in r2):
            if not found or past.loc[past["contest"] == key, "date"].min() > \
                    past.loc[past["contest"] == found, "date"].min():
                found = key
    return found


def _study(past, key: str, contests: str):
    """One past contest with a runoff, as the report reads it: its two rounds (``r1``, ``r2``), the finalists
    (``won``, ``lost``), the eliminated candidates (``eliminated``) grouped by endorsement (``groups``), whom each
    endorsed (``endorsed``), the range of transfers the counts allow (``bounds``), the rounds' dates, year and
    label. None when `key` is empty; DataError when it is not a contest with a runoff in the contests file."""
    if not key:
        return None
    if key not in _runoff_contests(past):
        raise DataError(f"{contests}: no contest '{key}' with a round 2 (a runoff); the contests with one are "
                        f"{', '.join(_runoff_contests(past)) or 'none'}.")
    r1, r2 = (primary_data.contest_round(past, key, n) for n in (1, 2))
    groups = _endorsement_groups(past, key, list(r2))
    won, lost = sorted(r2, key=lambda c: -r2[c])[:2]
    dates = {n: past.loc[(past["contest"] == key) & (past["round"] == n), "date"].iloc[0] for n in (1, 2)}
    return SimpleNamespace(key=key, label=_contest_label(key), year=pd.Timestamp(dates[1]).year, r1=r1, r2=r2,
                           won=won, lost=lost, eliminated=[c for c in r1 if c not in r2], groups=groups,
                           endorsed=_endorsed(past, key), bounds=primaries.transfer_bounds(r1, r2, groups),
                           dates=dates, publishers=_publishers(past, key))


def _publishers(past, contest: str) -> str:
    """The sites the contests file cites for a contest, once each: "example.org; wikipedia.org"."""
    if "source_url" not in past.columns:
        return "the contests file"
    hosts = []
    for url in past.loc[past["contest"] == contest, "source_url"]:
        host = urlparse(str(url)).hostname if str(url).startswith("http") else None
        if host:
            hosts.append(".".join(host.split(".")[-2:]))
    return "; ".join(dict.fromkeys(hosts)) or "the contests file"


def _party(run) -> str:
    """The party as the prose names it: the words of the studied contests' keys that are not a year."""
    study = run.ref or run.cmp
    key = study.key if study is not None else (str(run.past["contest"].iloc[0]) if len(run.past) else "")
    words = [w for w in _contest_label(key).split() if not w.isdigit()]
    return " ".join(words) or "the party"


def _colours(run) -> dict[str, str]:
    """Every candidate's colour: the colours file's, then the house palette in order for the others (a colour
    the file gives is not handed out again while unused ones remain)."""
    given = primary_data.load_colours(run.colours_file) if run.colours_file else {}
    names = list(dict.fromkeys([*run.shares, *run.past.loc[run.past["kind"] == "candidate", "candidate"]]))
    free = [c for c in PALETTE if c.casefold() not in {g.casefold() for g in given.values()}] or list(PALETTE)
    out = {}
    for name in names:
        out[name] = given.get(name) or free[len([n for n in out if n not in given]) % len(free)]
    return out


def _assumed(field) -> list[str]:
    """The candidates whose figure the file marks as an assumption (ASSUMPTION in its source)."""
    return [str(c) for c, src in zip(field["candidate"], field["source"], strict=True)
            if "assumption" in str(src).casefold()]


def _toward(study, follow: str, swept: str) -> tuple[str, str]:
    """(toward, away): the reference contest's finalist the swept candidate endorsed (else the one not followed)
    and the other finalist."""
    finalists = [study.won, study.lost]
    toward = study.endorsed.get(swept, "")
    if toward not in finalists:
        toward = next((f for f in finalists if f != follow), study.lost) if follow in finalists else study.lost
    return toward, next(f for f in finalists if f != toward)


def prepare(candidates: str, *, follow: str, swept: str, threshold: float = 40.0, inclusive: bool = False,
            draws: int = 20000, seed: int = 0, transfers: str, contests: str, rounds: str, calibration_polls=(),
            sample_size: float = 0, concentration: float = 50.0, invalid: float = 0.0,
            others_followed: float = 75.0, reference: str = "", comparison: str = "",
            colours: str = "") -> SimpleNamespace:
    """Everything the report shows but the sensitivity sweeps, computed once: the parameters; the candidates
    (``field``, ``shares``, ``follow_name``, ``swept_name``, ``assumed``: names whose figure is an assumption)
    and their colours (``colours``: the colours file's, the house palette for the rest); the past contests
    (``past``) and their replay under the rule (``replayed``); the member polls' misses (``misses``), the bias on
    all of them (``bias_all``) and out of sample (``bias``: leaving out the polls of the contest the candidates
    file polls, None when nothing is left); the sampling size (``effective``); the two studied contests (``ref``
    and ``cmp``, see :func:`_study`; `reference` and `comparison` name them, empty: found in the contests file)
    with one point of each range under the report's assumptions (``endorsed_ref``: the reference contest's other
    eliminated candidates' voters `others_followed` percent to the finalist they endorsed; ``pooled_ref``,
    ``pooled_cmp``, ``family_cmp``); the plans and their simulated contests (``results``, ``summary``); the real
    contest of the poll, if any (``contest``), and its replay (``replay``)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    run.colours_file = colours
    run.field = primary_data.load_candidates(candidates)
    run.shares = primary_data.candidate_shares(run.field)
    run.follow_name = primaries.resolve_name(follow, list(run.shares))
    run.swept_name = primaries.resolve_name(swept, list(run.shares))
    run.assumed = _assumed(run.field)
    run.past = primary_data.load_contests(contests)
    run.colours = None
    run.replayed = primaries.replay(run.past, primary_data.load_rounds(rounds), threshold=threshold,
                                    inclusive=inclusive)
    polls = [primary_data.load_poll(p) for p in calibration_polls]
    run.misses = primaries.poll_misses(polls, run.past)
    run.effective = sample_size or primary_data.poll_size(run.field) or primaries.DEFAULT_SAMPLE_SIZE
    run.bias_all = primaries.poll_bias(run.misses)
    run.contest = primaries.contest_of_poll(run.past, primary_data.as_of(run.field), run.shares)
    own = [] if run.contest is None else list(
        run.misses.loc[run.misses["round"].str.startswith(run.contest["contest"] + " round"), "poll"])
    run.bias = primaries.poll_bias(run.misses, exclude=own)
    pair_assumed = run.bias is not None and bool({run.bias.a, run.bias.b} & set(run.assumed))
    run.bias_applied = (run.bias is not None and not pair_assumed
                        and {run.bias.a, run.bias.b} <= set(run.shares))
    # the file itself as a poll, left out of its own hindsight bias
    label = primary_data.load_poll(candidates)[0]
    run.bias_hindsight = primaries.poll_bias(run.misses, exclude=[label])
    run.colours = _colours(run)

    reference = reference or _find_reference(run.past, run.swept_name)
    run.ref = ref = _study(run.past, reference, contests)
    run.cmp = cmp = _study(run.past, comparison or _find_comparison(run.past, reference), contests)
    if ref is not None:
        ref.toward, ref.away = _toward(ref, run.follow_name, run.swept_name)
        ref.others = [c for c in ref.eliminated if c != run.swept_name]
        run.pooled_ref = primaries.calibrate(ref.r1, ref.r2, label=" + ".join(_surname(c) for c in ref.eliminated))
        fixed = {name: {ref.away: others_followed / 100, ref.toward: 1 - others_followed / 100}
                 for name in ref.others}
        run.endorsed_ref = primaries.calibrate(ref.r1, ref.r2, fixed=fixed)
    if cmp is not None:
        cmp.endorsers = [c for c in cmp.eliminated if cmp.endorsed.get(c) in cmp.r2]
        cmp.target = cmp.endorsed[cmp.endorsers[0]] if cmp.endorsers else cmp.won
        cmp.other = next(f for f in (cmp.won, cmp.lost) if f != cmp.target)
        cmp.neutral = [c for c in cmp.eliminated if c not in cmp.endorsers]
        cmp.pool_label = " + ".join(_surname(c) for c in cmp.eliminated)
        run.pooled_cmp = primaries.calibrate(cmp.r1, cmp.r2, label=cmp.pool_label)
        run.family_cmp = primaries.calibration_family(
            cmp.r1, cmp.r2, cmp.neutral, ASSUMPTIONS, towards=cmp.target,
            stay_home=run.pooled_cmp.rates[cmp.pool_label][primaries.STAY_HOME]) if cmp.neutral else None
    run.moves = primary_data.load_transfers(transfers, candidates=list(run.shares))
    run.plans = primaries.plans_from_frame(run.moves)
    run.settings = dict(sample_size=run.effective, threshold=threshold, inclusive=inclusive, invalid=invalid,
                        seed=seed, concentration=concentration)
    run.results = [primaries.simulate_race(run.shares, plan, draws=draws, bias=_applied(run), **run.settings)
                   for plan in run.plans]
    run.summary = primaries.stack(run.results)
    run.replay = _replay(run)
    return run


def _applied(run):
    return run.bias.margin_bias() if run.bias_applied else None


def _replay(run):
    """The candidates file replayed against the real contest it polled: the model's chances beside what
    happened, under the flows of the real runoff that are worst and best for the real winner, with and without
    the member-poll bias measured on the other polls (hindsight). None when there is no real contest."""
    real = run.contest
    if real is None or real["winner"] is None or real["winner"] not in run.shares:
        return None
    rows = []
    contest, winner = real["contest"], real["winner"]
    has_runoff = ((run.past["contest"] == contest) & (run.past["round"] == 2)).any()
    if has_runoff:
        r1, r2 = (primary_data.contest_round(run.past, contest, n) for n in (1, 2))
        if winner not in r2:
            return None
        try:
            bounds = primaries.transfer_bounds(r1, r2, _endorsement_groups(run.past, contest, list(r2)))
        except ValueError:
            return None
        flows = primaries.extreme_plans(bounds, {c: v for c, v in run.shares.items() if c in r1}, winner)
        flows = [primaries.Plan(p.name, p.title, transfers={c: r for c, r in p.transfers.items()
                                                           if c in run.shares}) for p in flows]
    else:
        flows = [primaries.Plan("low", "no runoff in the count"), primaries.Plan("high", "no runoff in the count")]
    biases = [("sampling error only (what the kit could have said before the vote)", None)]
    if run.bias_hindsight is not None and {run.bias_hindsight.a, run.bias_hindsight.b} <= set(run.shares):
        biases.append((f"plus the member-poll bias of the other {run.bias_hindsight.polls} poll(s) "
                       "(hindsight: measured on the same contest's count)", run.bias_hindsight.margin_bias()))
    for model, bias in biases:
        for plan in flows:
            res = primaries.simulate_race(run.shares, plan, draws=run.draws, bias=bias, **run.settings)
            score = primaries.score_winner(res.p_win, winner, run.draws)
            rows.append({"model": model, "transfers": plan.title, **{c: res.p_win[c] for c in run.shares},
                         "p_runoff": res.p_runoff, "brier": score["brier"], "log": score["log"]})
    table = pd.DataFrame(rows)
    happened = {"model": "what happened", "transfers": f"{winner} won ({_contest_label(contest)})",
                **{c: float(c == winner) for c in run.shares}, "p_runoff": float(bool(real["runoff"])),
                "brier": 0.0, "log": 0.0}
    return {"real": real, "winner": winner, "table": pd.concat([table, pd.DataFrame([happened])],
                                                                ignore_index=True)}


def _contest_label(key) -> str:
    """A contest's key as readers name it: each word capitalised, the dashes as spaces."""
    return " ".join(w.capitalize() if w.isalpha() else w for w in str(key).split("-"))


def _day(date) -> str:
    """A date (YYYY-MM-DD, YYYY-MM, YYYY or a timestamp) in words: day, month and year; month and year; year."""
    text = str(date)[:10]
    parts = text.split("-")
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        return text
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{stamp:%B %Y}"
    return f"{stamp.day} {stamp:%B %Y}"


def _assumption_source(src) -> str:
    """Where an assumed figure comes from, without the ASSUMPTION marker (the source's own words)."""
    text = str(src)
    for marker in ("ASSUMPTION, not data:", "ASSUMPTION:", "ASSUMPTION"):
        text = text.replace(marker, "")
    return text.strip(" ,;:") or "the candidates file"


def _addresses(texts) -> list[str]:
    """The web addresses in the candidates file's sources, in order, once each."""
    return list(dict.fromkeys(re.findall(r"https?://[^\s;,)]+", " ".join(str(t) for t in texts))))


def _publisher(src) -> str:
    """A source's name without its web address: "Dahaf (Mina Tzemach) for Yedioth Ahronoth (first round poll)"."""
    return str(src).split("; http")[0].split(": http")[0].split(" http")[0].strip(" ,;:") or str(src)


def _pollster(run) -> str:
    """Who made the poll in the candidates file, as a reader names it: "Dahaf (Mina Tzemach) for Yedioth
    Ahronoth" (the source without its address or a closing remark in brackets)."""
    if not len(run.field):
        return "the candidates file"
    name = _publisher(run.field["source"].iloc[0])
    return re.sub(r"\s*\([^()]*\)$", "", name) or name


def _real_rounds(run):
    """The real contest the candidates file polled: (round one, runoff or None) as {candidate: (votes,
    percent)}, in the order of the count; None when there is no real contest."""
    if run.contest is None:
        return None
    past, key = run.past, run.contest["contest"]
    out = []
    for n in (1, 2):
        rows = past[(past["contest"] == key) & (past["round"] == n) & (past["kind"] == "candidate")]
        rows = rows.sort_values("votes", ascending=False, kind="stable")
        out.append({str(c): (int(v), float(pc)) for c, v, pc in zip(rows["candidate"], rows["votes"],
                                                                      rows["percent"], strict=True)} or None)
    return out[0], out[1]


def _plan_chances(run) -> list[tuple[str, float]]:
    return [(r.plan.title or r.plan.name, float(r.p_win[run.follow_name])) for r in run.results]


def _short(title: str) -> str:
    """A plan's short name: its leading "(a)" when the title has one, else the title."""
    head = str(title).split(" ", 1)[0]
    return f"plan {head}" if head.startswith("(") and head.endswith(")") and len(head) <= 4 else str(title)


def answer(run) -> Section:
    """The report's bottom line, from the run's own numbers: for a scenario (figures marked as assumptions)
    "if these assumptions hold", naming the assumptions' source; for a poll of a real contest, what happened
    beside what the model gave; else the chances on the figures as they are. Probabilities also as natural
    frequencies; the figures' date."""
    follow, plans = run.follow_name, _plan_chances(run)
    as_of = primary_data.as_of(run.field)
    dated = f" The figures are dated {_day(as_of)}." if as_of else ""
    per_plan = and_list([f"{chance(p)} under {_short(title)}" for title, p in plans])
    section = Section(values={"plans": dict(plans), "as_of": as_of})
    if _is_scenario(run):
        assumed = run.field[run.field["candidate"].isin(run.assumed)]
        sources = list(dict.fromkeys(_assumption_source(s) for s in assumed["source"]))
        others = run.field[~run.field["candidate"].isin(run.assumed)]
        table = _sensitivity(run)
        values = table[[c for c in table.columns if c != "assumption"]].to_numpy(float)
        section.values.update(low=float(values.min()), high=float(values.max()))
        section.answer(
            "**A scenario, not a forecast.** If these assumptions hold, {follow} wins {per_plan}. The first-round "
            "figures for {assumed} are assumptions ({sources}){others}.{dated} Changing one assumption at a time "
            "moves {follow}'s chance from {lo} to {hi}: the assumptions, not the simulation, decide.",
            follow=follow, per_plan=per_plan, assumed=and_list(run.assumed), sources="; ".join(sources),
            others="" if others.empty else "; " + "; ".join(
                f"{c}'s {v:g}% comes from {_publisher(src)}" for c, v, src in
                zip(others["candidate"], others["share"], others["source"], strict=True)),
            dated=dated, lo=percent(float(values.min())), hi=percent(float(values.max())))
        return section
    rounds = _real_rounds(run)
    poll = _pollster(run)
    poll += f" of {_day(as_of)}" if as_of else ""
    if rounds is None or run.replay is None:
        section.answer("On the figures of the poll by {poll}, {follow} wins {per_plan}. No contest in the data matches "
                       "these figures, so there is no outcome to check them against.",
                       poll=poll, follow=follow, per_plan=per_plan)
        return section
    first, second = rounds
    real, winner = run.contest, run.replay["winner"]
    top = list(first.items())
    lead = and_list([f"{c} {pc:g}%" for c, (_, pc) in top])
    table = run.replay["table"]
    out = table[table["model"].str.startswith("sampling")]
    p_lo, p_hi = float(out[winner].min()), float(out[winner].max())
    section.values.update(winner=winner, p_low=p_lo, p_high=p_hi)
    if second:
        (w, (wv, wp)), (o, (ov, op)) = list(second.items())[:2]
        day = run.past.loc[(run.past["contest"] == real["contest"]) & (run.past["round"] == 2), "date"].iloc[0]
        happened = (f"in the runoff on {_day(day)} {w} beat {o}, {wv:,} votes to {ov:,} ({wp:g}% to {op:g}%)")
    else:
        happened = f"{winner} won outright"
    polled = and_list([f"{c} {v:g}%" for c, v in sorted(run.shares.items(), key=lambda kv: -kv[1])[:2]])
    section.answer(
        "**What happened:** in the {contest} first round on {date} the count was {lead}; {happened}. "
        "**What the model gave:** the poll by {poll} had {polled}. Run through the model it gave {winner}, the "
        "real winner, {lo} to {hi} (sampling error only, under the runoff flows the real counts allow); under "
        "the report's plans {follow} wins {per_plan}.",
        contest=_contest_label(real["contest"]), date=_day(real["date"]), lead=lead, happened=happened,
        poll=poll, polled=polled, winner=winner, lo=chance(p_lo), hi=chance(p_hi), follow=follow,
        per_plan=per_plan)
    return section


def intro(run) -> Section:
    """The plans the report compares (from the transfers file), and what the first-round figures are:
    assumptions (a scenario), a poll of a real contest, or a poll."""
    titles = [p.title or p.name for p in run.plans]
    section = Section().say("The report follows **{follow}**; a candidate with {rule} {t}% of the first-round vote "
                            "wins outright. It compares {k} plans from the transfers file: {titles}.",
                            follow=run.follow_name, rule="at least" if run.inclusive else "over",
                            t=f"{run.threshold:g}", k=len(titles), titles="; ".join(titles))
    as_of = primary_data.as_of(run.field)
    if _is_scenario(run):
        return section.say(
            "The figures for {assumed} are assumptions, not a poll, so every number below is a share of simulated "
            "contests *if these assumptions hold*: a scenario, not a forecast.", assumed=and_list(run.assumed))
    poll = _pollster(run)
    if run.contest is not None:
        return section.say(
            "The figures are a poll by {poll} ({date}) of a contest that took place: {contest}, first round on "
            "{day}. The report runs the plans on the poll as the kit could have on the day, then sets its "
            "numbers beside what happened.", poll=poll, date=_day(as_of), contest=_contest_label(
                run.contest["contest"]), day=_day(run.contest["date"]))
    return section.say("The figures are a poll by {poll} ({date}); no contest in the data matches it.",
                       poll=poll, date=_day(as_of) or "undated")


def first_round_figures(run) -> Section:
    """The candidates file: each candidate's first-round figure and where it comes from (with a sentence on
    what the figures are)."""
    field = run.field
    frame = pd.DataFrame({
        "Candidate": field["candidate"], "First-round figure (%)": field["share"],
        "Respondents": [f"{int(v):,}" if pd.notna(v) else "not published" for v in field["sample_size"]],
        "Date": [_day(d) if d else "" for d in field["date"]], "Source": field["source"], "Notes": field["notes"]})
    section = Section().table(frame, formats={"First-round figure (%)": "g"}, links=["Source", "Notes"],
                              caption="First-round figures (percent)")
    if run.assumed:
        section.say("The rows for {assumed} are marked ASSUMPTION: no published figure for them is in the kit's "
                    "data for this date.", assumed=and_list(run.assumed))
    return section


def _round_source(past, contest: str, n: int) -> str:
    """The contests file's source addresses for one round, once each ("" when it has none)."""
    if "source_url" not in past.columns:
        return ""
    urls = past.loc[(past["contest"] == contest) & (past["round"] == n), "source_url"]
    return " ".join(dict.fromkeys(str(u) for u in urls if str(u).startswith("http")))


def rule_check(run) -> Section:
    """Every past round under the first-round rule, against the published outcome."""
    replayed = run.replayed
    frame = pd.DataFrame({
        "Contest": [_contest_label(c) for c in replayed["contest"]], "Round": replayed["round"],
        "Date": [_day(d) for d in replayed["date"]], "Leader": replayed["leader"],
        "Leader's share of candidate votes (%)": replayed["leader_share"],
        "Leader's share of all ballots (%)": replayed["leader_share_ballots"],
        "The rule says": replayed["model"], "Published": replayed["published"], "Same": replayed["agrees"],
        "Source": [_round_source(run.past, c, r) for c, r in zip(replayed["contest"], replayed["round"],
                                                                  strict=True)]})
    years = pd.to_datetime(replayed["date"]).dt.year
    return Section(values={"agree": int(replayed["agrees"].sum()), "rounds": len(replayed)}).table(
        frame, formats={"Leader's share of candidate votes (%)": ".2f", "Leader's share of all ballots (%)": ".2f"},
        links=["Source"],
        caption="Each round: the rule's outcome and the published outcome (share of all ballots where the "
                "number of ballots cast was published)",
    ).say("The rule ({rule} {t}%) names the published outcome in **{ok} of {n}** rounds ({first}-{last}).",
          rule="at least" if run.inclusive else "over", t=f"{run.threshold:g}", ok=int(replayed["agrees"].sum()),
          n=len(replayed), first=int(years.min()), last=int(years.max()))


def boundary(run) -> Section:
    """What `inclusive` changes for a count exactly at the threshold."""
    frame = primaries.boundary({"A": 40, "B": 35, "C": 25}, threshold=run.threshold).rename(
        columns={"rule": "Rule", "leader_share": "Leader's share (%)", "outcome": "Outcome"})
    return Section().table(frame, formats={"Leader's share (%)": ".2f"},
                           caption="A count of 40, 35 and 25 votes, exactly at the threshold, both ways")


def poll_misses(run) -> Section:
    """The final member polls against the count, and the bias (mean miss and its uncertainty) they measure."""
    misses, bias = run.misses, run.bias_all
    frame = pd.DataFrame({
        "Poll": misses["poll"], "Date": [_day(d) for d in misses["date"]],
        "Round polled": [_contest_label(r.split(" round ")[0]) + ", round " + r.split(" round ")[-1]
                         for r in misses["round"]],
        "Margin": [str(p).replace(" - ", " minus ") for p in misses["pair"]],
        "Poll margin": misses["poll_margin"], "Count margin": misses["result_margin"], "Miss": misses["miss"]})
    section = Section(values={"effective": run.effective, "bias": bias, "bias_out_of_sample": run.bias}).table(
        frame, formats={"Poll margin": "+.1f", "Count margin": "+.1f", "Miss": "+.1f"},
        caption=f"Final polls of {_party(run)} members against the count (margin in points; miss = count minus "
                "poll)")
    if bias is None:
        return section.say("No member poll to measure a bias on: the simulation uses sampling error only.")
    section.say(
        "On the **{a} minus {b}** margin these {k} polls missed by **{mean} points** on average (count minus "
        "poll), with a spread of {between} points between polls. At {n} respondents a poll (none of them "
        "publishes its size) their average is uncertain by {se} points of sampling error, so the member-poll "
        "bias is taken as **Normal({mean}, {sd})**: in each simulated contest a bias is drawn from it, on top "
        "of sampling error.",
        a=bias.a, b=bias.b, k=bias.polls, mean=f"{bias.mean:+.1f}", between=f"{bias.sd_between:.1f}",
        n=f"{bias.sample_size:,.0f}", se=f"{bias.se_sampling:.1f}", sd=f"{bias.sd:.1f}")
    if bias.contests == 1:
        section.say("All {k} polls are of one contest, so how much the bias changes from one contest to the next "
                    "is not measured: the uncertainty above is a floor, not a full account.", k=bias.polls)
    if run.bias_applied:
        section.say("The simulated plans below use this bias (measured on polls of other contests) on top of "
                    "sampling error at {n} respondents.", n=f"{run.effective:,.0f}")
    elif run.bias is None:
        section.say("These polls are of the very contest the candidates file polls, so the bias is not applied "
                    "to the plans below (it would be fitted on the outcome they are checked against); the "
                    "plans use sampling error at {n} respondents, and the replay shows the bias as hindsight.",
                    n=f"{run.effective:,.0f}")
    else:
        section.say("The figures for {a} and {b} in the candidates file are not a poll (they are marked as an "
                    "assumption), so a poll's bias is not applied to them; the plans use sampling error at {n} "
                    "respondents, and the scenario section shows what a member-poll error like this one does.",
                    a=run.bias.a, b=run.bias.b, n=f"{run.effective:,.0f}")
    return section


def _range_table(bounds):
    table = bounds.table()
    names = {"group": "Voters of", "votes": "Round-one votes"}
    for c in table.columns:
        if c.endswith((" low", " high")):
            target, end = c.rsplit(" ", 1)
            where = "stayed home" if target == primaries.STAY_HOME else f"to {target}"
            names[c] = f"{where[0].upper()}{where[1:]}, {'least' if end == 'low' else 'most'} (%)"
    table = table.rename(columns=names)
    formats = {"Round-one votes": ",d", **{c: ".1f" for c in table.columns if c.endswith("(%)")}}
    return table, formats


def _endorsements(past, contest: str) -> str:
    """Who endorsed whom for the runoff, from the contests file: each endorser with their round-one share, grouped
    by the finalist they endorsed (or who stayed neutral)."""
    rows = past[(past["contest"] == contest) & (past["round"] == 1) & (past["kind"] == "candidate")
                & (past["endorsed"] != "")]
    by: dict[str, list[str]] = {}
    for name, pc, endorsed in zip(rows["candidate"], rows["percent"], rows["endorsed"], strict=True):
        by.setdefault(str(endorsed), []).append(f"{name} ({float(pc):g}% in round one)")
    said = [f"{and_list(names)} stayed neutral"
            if "neutral" in target.casefold() else f"{and_list(names)} endorsed {target}"
            for target, names in by.items()]
    return ("; ".join(said) + ".") if said else "Nobody endorsed a finalist."


def _runoff_story(study) -> str:
    """One sentence of a real runoff from its count: who beat whom, and by how many votes."""
    (w, wv), (o, ov) = sorted(study.r2.items(), key=lambda kv: -kv[1])[:2]
    return f"In the {study.label} runoff {w} beat {o}, {wv:,} votes to {ov:,}."


def _none_studied(what: str) -> Section:
    return Section().say("The contests file has no {what}, so this part of the report is left out.", what=what)


_NO_REFERENCE = "contest with a runoff in which the swept candidate was eliminated"
_NO_COMPARISON = "other contest with a runoff in which an eliminated candidate endorsed a finalist"


def _others(ref) -> str:
    """The reference contest's other eliminated candidates in the possessive: "A's and B's"."""
    return and_list([_their(c) for c in ref.others]) or "the other eliminated candidates'"


def _others_endorsed(ref) -> bool:
    return bool(ref.others) and all(ref.endorsed.get(c) == ref.away for c in ref.others)


def transfer_ranges(run) -> Section:
    """What the reference contest's counts allow about where the eliminated candidates' voters went: a range
    per group."""
    ref = run.ref
    if ref is None:
        return _none_studied(_NO_REFERENCE)
    bounds = ref.bounds
    table, formats = _range_table(bounds)
    lo, hi = bounds.range(list(bounds.groups), ref.toward)
    swept = run.swept_name
    p_lo, p_hi = bounds.range(swept, ref.toward) if swept in bounds.groups else (lo, hi)
    return Section(values={"pooled_to_toward": (lo, hi), "swept_to_toward": (p_lo, p_hi)}).say(
        "{runoff} {endorsed}", runoff=_runoff_story(ref), endorsed=_endorsements(run.past, ref.key)).table(
        table, formats=formats,
        caption=f"{ref.year}: the range of each group's runoff choice that the two counts allow (percent of its "
                "round-one voters; finalists' voters may stay home, newcomers at most the net rise in votes)",
    ).say("Taken together the eliminated candidates' voters went **{lo}-{hi}%** to {toward}{pinned}. How "
          "{swept} own voters split is {not_pinned}: anything from **{plo}% to {phi}%** to {toward} gives back "
          "both counts exactly, depending on what {others} voters did.",
          lo=f"{100 * lo:.1f}", hi=f"{100 * hi:.1f}", toward=_surname(ref.toward),
          pinned=": with few newcomers the counts pin that down" if hi - lo < 0.05 else "",
          swept=_their(swept), not_pinned="not pinned down" if p_hi - p_lo >= 0.05 else "nearly pinned down",
          plo=f"{100 * p_lo:.0f}", phi=f"{100 * p_hi:.0f}", others=_others(ref))


def transfer_note(run) -> Section:
    """What the reference contest's turnout and the assumption about the other groups do to the swept
    candidate's range (the words before the calibration chart)."""
    ref = run.ref
    if ref is None:
        return Section()
    swept = _their(run.swept_name)
    return Section().say(
        "The range for {swept} voters widens if more of the runoff's voters were newcomers; the first table below "
        "shows it under several turnout assumptions. Any single rate inside it needs an assumption about {others} "
        "voters; the chart shows what each assumption implies for {swept} voters (the dashed line is the report's "
        "illustration, `others_followed`).", swept=swept, others=_others(ref))


def calibration(run) -> Section:
    """What the swept candidate's voters did in the reference runoff under each assumption about the other
    eliminated candidates' voters."""
    ref = run.ref
    if ref is None:
        return Section()
    family = primaries.calibration_family(ref.r1, ref.r2, ref.others, ASSUMPTIONS, towards=ref.away)
    swept = _their(run.swept_name)
    return Section().figure(primary_charts.calibration_chart(
        family, {ref.toward: f"{swept} voters to {_surname(ref.toward)}",
                 ref.away: f"{swept} voters to {_surname(ref.away)}",
                 primaries.STAY_HOME: f"{swept} voters who stayed home (negative: net newcomers)"},
        title=f"{ref.year} runoff: what {swept} voters did, for each assumption about the others",
        xlabel=f"Assumed share of {_others(ref)} voters who went to {_surname(ref.away)} (percent)",
        ylabel=f"Share of {swept} voters (percent)", colours=run.colours, mark=run.others_followed,
        mark_label="report's assumption",
        source=f"Source: {_party(run)} Party counts, {_day(ref.dates[1])} and {_day(ref.dates[2])} "
               f"({ref.publishers}); the rates that give back both counts under each assumption."))


def turnout_ranges(run) -> Section:
    """How the range for the swept candidate's voters widens with looser turnout assumptions, and the one point
    the report's assumption about the others picks."""
    ref = run.ref
    if ref is None:
        return Section()
    sens = primaries.bounds_sensitivity(ref.r1, ref.r2, ref.groups, run.swept_name, ref.toward, TURNOUT_SETTINGS)
    toward = _surname(ref.toward)
    least, most = f"Least to {toward} (%)", f"Most to {toward} (%)"
    frame = sens.rename(columns={"retention_floor": "Finalists' voters who came back, at least (%)",
                                 "newcomers": "Newcomers, at most (% of runoff votes)",
                                 "newcomer_votes": "Newcomers, at most (votes)", "low": least, "high": most})
    point = run.endorsed_ref.table().rename(columns={
        "group": "Voters of", "votes": "Round-one votes", **{f: f"To {f} (%)" for f in (ref.away, ref.toward)},
        primaries.STAY_HOME: "Stayed home (%; negative: net newcomers)"})
    return Section(values={"sensitivity": sens}).table(
        frame, formats={frame.columns[0]: ".0f", frame.columns[1]: ".1f", frame.columns[2]: ",.0f",
                        least: ".1f", most: ".1f"},
        caption=f"{ref.year}: the range of {_their(run.swept_name)} voters who went to {toward} (percent) under "
                "each turnout assumption (retention floor: least share of a finalist's voters who came back; "
                "newcomers: most runoff voters, percent, who had not voted in round one)",
    ).table(point, formats={"Round-one votes": ",d", **{c: ".1f" for c in point.columns if "(%" in c}},
            caption=f"One point of that range, picked by an assumption ({_others(ref)} voters went "
                    f"{run.others_followed:g}% to {_surname(ref.away)}): two equations, two unknowns, so it gives "
                    "back the counts by construction and is no test of anything (percent of each group's voters)")


def flows(run, which: str) -> Section:
    """Where the first-round votes of a studied contest went in its runoff: the ``"reference"`` contest under
    the report's assumption about the other groups, the ``"comparison"`` contest with its eliminated groups
    pooled at one common rate."""
    study = run.ref if which == "reference" else run.cmp
    if study is None:
        return Section()
    left, right = f"Round 1, {_day(study.dates[1])}", f"Runoff, {_day(study.dates[2])}"
    counts = f"Source: {_party(run)} Party counts {study.year} ({study.publishers})."
    if which == "reference":
        calibration, others = run.endorsed_ref, _others(study)
        title = (f"{study.year}: one of the flows the counts allow ({others} voters {run.others_followed:g}% to "
                 f"{_surname(study.away)}, assumed)")
        source = (f"{counts} One point of the range in the table above, picked by the report's assumption about "
                  f"{others} voters; not a fit.")
    else:
        calibration, pooled = run.pooled_cmp, and_list([_their(c) for c in study.eliminated])
        title = f"{study.year}: one of the flows the counts allow ({pooled} voters at one common rate)"
        source = f"{counts} Drawn with {pooled} voters at a common rate, an assumption: the counts cannot tell " \
                 "them apart."
    return Section().figure(primary_charts.flow_chart(calibration.flows, colours=run.colours, left_label=left,
                                                      right_label=right, title=title, source=source))


def swept_followers(run) -> Section:
    """How many of the swept candidate's voters went where they were asked in the reference runoff: the range
    the counts allow, and the point the report's assumption picks."""
    ref = run.ref
    if ref is None:
        return Section()
    swept = run.swept_name
    rates = run.endorsed_ref.rates[swept]
    lo, hi = ref.bounds.range(swept, ref.toward)
    r1, r2 = ref.r1, ref.r2
    won, lost = sorted(r2, key=lambda c: -r2[c])[:2]
    asked = ref.endorsed.get(swept) == ref.toward
    gone = f"followed the endorsement of {_surname(ref.toward)}" if asked else f"gone to {_surname(ref.toward)}"
    lead = 100 * (r1[won] - r1[lost]) / sum(r1.values())
    return Section(values={"to_toward": rates[ref.toward], "to_away": rates[ref.away], "range": (lo, hi)}).say(
        "The counts allow anything from **{lo}** to **{hi}** of {swept} voters to have {gone}. If {others}% of "
        "{other_voters} voters {followed} {away} (an assumption), it was **{p_a}** (and **{p_b}** to {away}). "
        "{either} {won}{ahead}.",
        lo=f"{lo:.0%}", hi=f"{hi:.0%}", swept=_their(swept), gone=gone, others=f"{run.others_followed:g}",
        other_voters=_others(ref),
        followed="followed their endorsement of" if _others_endorsed(ref) else "went to",
        away=_surname(ref.away), p_a=f"{rates[ref.toward]:.0%}", p_b=f"{rates[ref.away]:.0%}",
        either=(f"Either way, {_their(swept)} endorsement moved voters but far from all of them, and"
                if asked and hi < 0.9 else "In the runoff"),
        won=won, ahead=f", {lead:.1f} points ahead in round one, still won" if lead > 0 else " won")


def endorsements(run) -> Section:
    """The comparison contest's endorsements, the range the counts allow for where the eliminated voters went,
    and what the endorsed finalist gained."""
    cmp = run.cmp
    if cmp is None:
        return _none_studied(_NO_COMPARISON)
    past, r1, bounds = run.past, cmp.r1, cmp.bounds
    gained = primaries.gains(r1, cmp.r2)
    table, formats = _range_table(bounds)
    home = bounds.range(list(bounds.groups), primaries.STAY_HOME)
    mine = [g for g in bounds.groups if set(bounds.groups[g]) & set(cmp.endorsers)]
    m_lo, m_hi = bounds.range(mine[0], cmp.target) if mine else (float("nan"), float("nan"))
    rows = past[(past["contest"] == cmp.key) & (past["endorsed"] != "")]
    frame = pd.DataFrame({"Candidate": rows["candidate"], "Round-one votes": rows["votes"],
                          "Endorsed for the runoff": [str(e).strip("()") for e in rows["endorsed"]],
                          "Source": rows["endorsement_source"]})
    section = Section(values={"gained": gained, "home": home, "endorsers_to_target": (m_lo, m_hi)}).say(
        "{story} {endorsed}", story=_runoff_story(cmp), endorsed=_endorsements(past, cmp.key)).table(
        frame, formats={"Round-one votes": ",d"}, links=["Source"],
        caption=f"{cmp.year}: endorsements for the runoff",
    ).table(table, formats=formats,
            caption=f"{cmp.year}: the range of each group's runoff choice that the two counts allow (percent of "
                    "its round-one voters)")
    if not cmp.endorsers:
        return section
    had = sum(r1[c] for c in cmp.endorsers)
    by_other = [c for c in cmp.eliminated if cmp.endorsed.get(c) == cmp.other]
    endorsers = and_list([_surname(c) for c in cmp.endorsers])
    return section.say(
        "{target} gained **{gp}** votes between the rounds: {fewer} than {endorsers} {alone} had won in round one "
        "(**{m}**), {though} {endorsers} endorsed {target}. {other}, endorsed by {by}, gained **{gy}**. Between "
        "{h_lo} and {h_hi} of the eliminated candidates' voters did not vote in the runoff, and the counts "
        "allow anything from **{m_lo}** to **{m_hi}** of {their} voters to have followed the endorsement: two "
        "counts cannot say how far an endorsement carried.",
        target=_surname(cmp.target), gp=f"{gained[cmp.target]:,}",
        fewer="fewer" if gained[cmp.target] < had else "more", endorsers=endorsers,
        alone="alone" if len(cmp.endorsers) == 1 else "together", m=f"{had:,}",
        though="even though" if gained[cmp.target] < had else "and", other=_surname(cmp.other),
        by=and_list([_surname(c) for c in by_other]) or "nobody", gy=f"{gained[cmp.other]:,}",
        h_lo=f"{home[0]:.0%}", h_hi=f"{home[1]:.0%}", m_lo=f"{m_lo:.0%}", m_hi=f"{m_hi:.0%}",
        their=and_list([_their(c) for c in cmp.endorsers]))


def endorsement_note(run) -> Section:
    """Why a single number for the endorsers' voters needs assumptions (the words before the chart)."""
    cmp = run.cmp
    if cmp is None or not cmp.endorsers or run.family_cmp is None:
        return Section()
    return Section().say(
        "A single number for {their} voters needs assumptions the counts cannot check. The chart assumes "
        "{all_groups} stayed home at the same rate and shows, for each split of {neutral} voters, what {their} "
        "must have done.", their=and_list([_their(c) for c in cmp.endorsers]),
        all_groups="both groups" if len(cmp.groups) == 2 else "all groups",
        neutral=and_list([_their(c) for c in cmp.neutral]))


def _stayed_neutral(cmp) -> bool:
    return all("neutral" in cmp.endorsed.get(c, "").casefold() for c in cmp.neutral)


def endorsement_calibration(run) -> Section:
    """What the endorsers' voters did in the comparison runoff under each assumption about the others'."""
    cmp = run.cmp
    if cmp is None or not cmp.endorsers or run.family_cmp is None:
        return Section()
    their = and_list([_their(c) for c in cmp.endorsers])
    neutral = and_list([_surname(c) for c in cmp.neutral])
    return Section().figure(primary_charts.calibration_chart(
        run.family_cmp, {cmp.target: f"{their} voters to {_surname(cmp.target)} (endorsed)",
                         cmp.other: f"{their} voters to {_surname(cmp.other)}"},
        title=f"{cmp.year} runoff: how many of {their} voters followed the endorsement?",
        xlabel=f"Assumed share of {and_list([_their(c) for c in cmp.neutral])} runoff voters who chose "
               f"{_surname(cmp.target)} (percent"
               + (f"; {neutral} stayed neutral)" if _stayed_neutral(cmp) else ")"),
        ylabel=f"Share of {their} voters (percent)",
        colours={c: run.colours[c] for c in (cmp.target, cmp.other) if c in run.colours}, mark=50,
        mark_label="even split",
        source=f"Source: {_party(run)} Party counts, {_day(cmp.dates[1])} and {_day(cmp.dates[2])} "
               f"({cmp.publishers}); the rates that give back both counts under each assumption."))


def endorsement_followers(run) -> Section:
    """How far the endorsement carried the endorsers' voters, in a sentence."""
    cmp = run.cmp
    if cmp is None or not cmp.endorsers or run.family_cmp is None:
        return Section()
    even = primaries.family_at(run.family_cmp, cmp.target, 50)
    half = primaries.family_solve(run.family_cmp, cmp.target, 50)
    neutral = and_list([_their(c) for c in cmp.neutral])
    said = ("Only with more assumptions does a number appear: if {all_groups} stayed home at the same rate and "
            "{neutral} voters split evenly{asked}, **{even}%** of {their} voters followed the endorsement to "
            "{target}")
    said += ("; for the endorsement to have carried even half of them, no more than **{x}%** of {neutral} voters "
             "can have chosen {target}." if half is not None else ".")
    return Section(values={"even": even}).say(
        said + " These are assumptions, not findings.",
        all_groups="both groups" if len(cmp.groups) == 2 else "all groups", neutral=neutral,
        asked=", as the neutrality asked" if _stayed_neutral(cmp) else "", even=f"{even:.0f}",
        their=and_list([_their(c) for c in cmp.endorsers]), target=_surname(cmp.target),
        x=f"{half:.0f}" if half is not None else "")


def plans(run) -> Section:
    """The plans: who moves where."""
    moves = run.moves
    frame = pd.DataFrame({"Plan": moves["title"],
                          "When": ["before round one" if s == "withdraw" else "in the runoff" for s in moves["step"]],
                          "Voters of": moves["source"], "To": moves["target"], "Percent": moves["percent"],
                          "Notes": moves["notes"]})
    return Section().table(frame, formats={"Percent": ".0f"}, links=["Notes"],
                           caption="The plans: who moves where (percent of the candidate's voters; the rest stay "
                                   "home)")


def _is_scenario(run) -> bool:
    return bool(run.assumed)


def _model_note(run) -> str:
    bias = f"; member-poll bias {run.bias.margin_bias().label()}" if run.bias_applied else ""
    what = "as if the figures were a poll of" if _is_scenario(run) else "sampling error at"
    return f"{what} {run.effective:,.0f} respondents{bias}"


def _within(run) -> str:
    """ " (within the range the <year> counts allow)" for the notes under the charts; "" without a reference."""
    return f" (within the range the {run.ref.year} counts allow)" if run.ref is not None else ""


def _measured(run) -> str:
    """The member-poll error's origin as the prose says it: "<year>'s" when the polls are of one contest."""
    years = {str(r).split(" round ")[0].rsplit("-", 1)[-1] for r in run.misses["round"]}
    return f"{years.pop()}'s" if len(years) == 1 and next(iter(years)).isdigit() else "the one measured"


def plan_chances(run) -> Section:
    """The chart of who leads under each plan (a scenario's chart says so in its title)."""
    lead = "If the assumptions hold: who" if _is_scenario(run) else "Who"
    return Section().figure(primary_charts.scenario_bars(
        run.summary, colours=run.colours,
        title=f"{lead} leads {_party(run)} under each plan ({run.draws:,} simulated contests each)",
        source=f"Source: ballotbook simulation ({_model_note(run)}); first-round figures from the candidates "
               f"file; transfer rates from the transfers file{_within(run)}."
               + _what_happened(run)))


def _what_happened(run) -> str:
    """" What happened: <winner> won (<contest>, in a runoff against <the other finalist>)." for a poll of a real
    contest, for the notes under its charts; "" otherwise."""
    if run.replay is None:
        return ""
    real, winner = run.replay["real"], run.replay["winner"]
    against = [c for c in real["runoff"] if c != winner]
    how = f", in a runoff against {against[0]}" if against else ", in round one"
    return f" What happened: {winner} won ({_contest_label(real['contest'])}{how})."


def plan_table(run) -> Section:
    """Shares and probabilities per plan, and the runoff pairs when there are any."""
    what = "share of simulated contests, if the assumptions hold" if _is_scenario(run) else "probabilities"
    names = {"title": "Plan", "candidate": "Candidate", "first_round": "Mean first-round share (%)",
             "p_win": "Wins", "p_outright": "Wins in round one", "p_runoff_win": "Wins a runoff",
             "p_runoff": "A runoff is held"}
    frame = run.summary[list(names)].rename(columns=names)
    section = Section().table(
        frame, formats={"Mean first-round share (%)": ".1f", **{c: ".1%" for c in list(names.values())[3:]}},
        caption=f"Mean first-round share (percent) and {what}, per plan")
    pairs = primaries.matchups(run.results)
    if len(pairs):
        # one pair, whatever the order of its names
        pairs = pairs.assign(runoff=[" vs ".join(sorted(p.split(" vs "))) for p in pairs["runoff"]])
        pairs = pairs.groupby(["title", "runoff"], sort=False, as_index=False)["probability"].sum()
        section.table(pairs.rename(columns={"title": "Plan", "runoff": "Runoff pair",
                                            "probability": "Share of simulated contests"}),
                      formats={"Share of simulated contests": ".1%"}, caption="Runoff pairs")
    return section


def _transfer_source(run):
    """(source, toward, (low, high)) for varying the plans' transfers across the reference contest's range: the
    swept candidate's voters, towards that contest's finalist who is not the followed candidate. None when it
    does not apply (no reference contest, the swept candidate was not a group of their own there, or the followed
    one was no finalist)."""
    if run.ref is None:
        return None
    bounds = run.ref.bounds
    if run.swept_name not in bounds.groups or run.follow_name not in bounds.finalists:
        return None
    toward = next(f for f in bounds.finalists if f != run.follow_name)
    if toward not in run.shares:
        return None
    return run.swept_name, toward, bounds.range(run.swept_name, toward)


def _sensitivity(run):
    if getattr(run, "scenario_table", None) is not None:
        return run.scenario_table
    follow = run.follow_name
    others = [c for c in run.shares if c != follow]
    rival = max(others, key=lambda c: run.shares[c]) if others else None
    draws = min(run.draws, 4000)
    rows = []

    def add(assumption, shares, plans, bias):
        row = {"assumption": assumption}
        for plan in plans:
            res = primaries.simulate_race(shares, plan, draws=draws, bias=bias, **run.settings)
            row[plan.title or plan.name] = res.p_win[follow]
        rows.append(row)

    base_bias = _applied(run)
    add("as in the files", run.shares, run.plans, base_bias)
    source = _transfer_source(run)
    if source is not None:
        who, toward, (lo, hi) = source
        for end, value in (("low", lo), ("high", hi)):
            plans = [primaries.vary_plan(p, who, toward, value) for p in run.plans]
            add(f"{who}'s voters {100 * value:.0f}% to {toward} (the {end} end of the {run.ref.year} range)",
                run.shares, plans, base_bias)
    if rival is not None:
        total = sum(run.shares.values())
        names = list(run.shares)
        for shift in MARGIN_SHIFTS:
            s = np.array([[run.shares[c] / total for c in names]])
            moved = primaries.shift_margin(s, names.index(follow), names.index(rival), shift)[0]
            add(f"{follow}'s margin over {rival} {shift:+g} points", dict(zip(names, 100 * moved, strict=True)),
                run.plans, base_bias)
    bias = run.bias or run.bias_all
    if bias is not None and {bias.a, bias.b} <= set(run.shares) and not run.bias_applied:
        for sign, side in ((1, bias.a), (-1, bias.b)):
            add(f"a member-poll error as large as {_measured(run)}, favouring {side} (Normal({sign * bias.mean:+.1f}, "
                f"{bias.sd:.1f}) on the {bias.a} - {bias.b} margin)", run.shares, run.plans,
                primaries.MarginBias(bias.a, bias.b, sign * bias.mean, bias.sd))
    run.scenario_table = pd.DataFrame(rows)
    return run.scenario_table


def scenario(run) -> Section:
    """What the figures rest on, and the followed candidate's chance under each plan as each assumption
    changes: for a scenario (figures marked as assumptions) the headline is "if these assumptions hold"."""
    table = _sensitivity(run)
    follow = run.follow_name
    plans = [c for c in table.columns if c != "assumption"]
    values = table[plans].to_numpy(float)
    section = Section(values={"table": table, "low": float(values.min()), "high": float(values.max())})
    if _is_scenario(run):
        section.say("**This is a scenario, not a forecast.** The figures for {names} are assumptions, not a "
                    "poll; the numbers above are shares of simulated contests *if* these assumptions hold:",
                    names=", ".join(run.assumed))
        for name, src in zip(run.field["candidate"], run.field["source"], strict=True):
            section.say("- {name}: {share}% ({src})", name=name, share=f"{run.shares[name]:g}", src=src)
        section.say("- transfers: the rates in the transfers file{within}", within=(
            f" (each within the range the {run.ref.year} counts allow, which is wide)" if run.ref else ""))
        section.say("- uncertainty: {note}", note=_model_note(run))
    section.figure(primary_charts.range_chart(
        table, follow=follow, title=f"{follow}'s chance under each plan, across the assumptions",
        source=f"Source: ballotbook simulation ({min(run.draws, 4000):,} contests per assumption; "
               f"{_model_note(run)}); the assumptions are the rows of the table below." + _what_happened(run)))
    section.table(table.rename(columns={"assumption": "Assumption changed"}), formats={c: ".1%" for c in plans},
                  caption=f"{follow}'s share of simulated contests under each plan, as one assumption changes "
                          f"({min(run.draws, 4000):,} contests each)")
    section.say("Across these assumptions {follow}'s chance runs from **{lo}** to **{hi}**: the assumptions, "
                "not the simulation, decide the answer.", follow=follow, lo=percent(float(values.min())),
                hi=percent(float(values.max())))
    return section


def replay(run) -> Section:
    """The candidates file replayed against the real contest it polled: the model's chances beside what
    happened, scored (Brier and log score of the winner call). Says so when there is no real contest."""
    rep = run.replay
    if rep is None:
        return Section(values={"replay": None}).say(
            "No contest in the data matches the candidates file, so there is no outcome to check these numbers "
            "against.")
    table, winner, real = rep["table"], rep["winner"], rep["real"]
    model = table[table["model"] != "what happened"]
    out = model[model["model"].str.startswith("sampling")]
    p_lo, p_hi = float(out[winner].min()), float(out[winner].max())
    word = "a low" if p_hi < 0.25 else "a less than even" if p_hi < 0.5 else "a better than even"
    cands = list(run.shares)
    section = Section(values={"p_low": p_lo, "p_high": p_hi, "winner": winner, "table": table})
    against = [c for c in real["runoff"] if c != winner]
    how = "in a runoff against {opp}" if against else "in round one"
    section.say("**What happened:** {winner} won the {contest} contest " + how + ". Replayed through the model, "
                "the poll gave {winner} **{lo} to {hi}** (sampling error only, under the flows of the real "
                "runoff worst and best for {winner}): {word} probability for the real winner.",
                winner=winner, contest=_contest_label(real["contest"]), opp=against[0] if against else "",
                lo=f"{p_lo:.0%}",
                hi=f"{p_hi:.0%}", word=word)
    frame = table[["model", "transfers", *cands, "p_runoff", "brier", "log"]].rename(
        columns={"model": "Model", "transfers": "Runoff flows", "p_runoff": "A runoff is held",
                 "brier": "Brier score", "log": "Log score"})
    section.table(frame, formats={**{c: ".1%" for c in cands}, "A runoff is held": ".1%", "Brier score": ".3f",
                                  "Log score": ".2f"},
                  caption="The model's chances on this poll beside what happened (brier: 0 perfect, 2 worst; "
                          "log: -ln of the real winner's chance, 0 perfect; a fair coin between two candidates "
                          "scores brier 0.500, log 0.69)")
    hind = model[~model["model"].str.startswith("sampling")]
    if len(hind):
        section.say("With the member-poll bias of the other polls added, {winner} gets {lo} to {hi}; but that "
                    "bias was measured on the same contest's count, so it is hindsight, not a forecast.",
                    winner=winner, lo=f"{hind[winner].min():.0%}", hi=f"{hind[winner].max():.0%}")
    return section


def _bullets(sentences) -> Section:
    section = Section()
    for sentence in sentences:
        section.say("- {s}", s=sentence)
    return section


def why(run) -> Section:
    """Why the plans give different chances, one bullet per reason (the first says what the chances are: "if
    these assumptions hold" for a scenario)."""
    said = primary_views.explain(run.results, run.shares, run.follow_name, threshold=run.threshold)
    if said:
        chances = "; ".join(f"{r.p_win[run.follow_name]:.1%} under {r.plan.title or r.plan.name}"
                            for r in run.results)
        lead = "If these assumptions hold, " if _is_scenario(run) else "On these figures, "
        said[0] = f"{lead}{run.follow_name} wins in this share of the simulated contests: {chances}."
    return _bullets(said)


def _sweep(run):
    if getattr(run, "sensitivity", None) is None:
        run.sensitivity = primaries.sweep(
            run.shares, run.plans, run.swept_name, np.arange(2.0, 36.0, 1.0), run.follow_name,
            draws=min(run.draws, 4000), bias=_applied(run), **run.settings)
    return run.sensitivity


def sweep_chart(run) -> Section:
    """The followed candidate's chance under each plan as the swept candidate's share grows."""
    follow, swept = run.follow_name, run.swept_name
    sweep = _sweep(run)
    floor = no_runoff_below(sweep)
    marks = _marks(sweep, {"these figures": run.shares[swept],
                           **({f"{run.ref.year} count": primaries.share_in(run.ref.r1, swept)} if run.ref else {})})
    return Section(values={"floor": floor}).figure(primary_charts.sweep_chart(
        sweep, follow=follow, swept=swept, floor=floor,
        floor_label=(f"{swept} at most {floor:g}%: a runoff in under 1 in 100 simulated contests"
                     if floor is not None else ""),
        marks=marks,
        title=f"{follow}'s chance as {swept}'s share grows",
        source=f"Source: ballotbook simulation (4,000 contests per point; {_model_note(run)}); plans as above."
               + _what_happened(run)))


#: Below this share of simulated contests with a runoff, the sensitivity chart shades a share as "no runoff".
RUNOFF_RARE = 0.01


def no_runoff_below(sweep) -> float | None:
    """The largest swept share (percent) up to which every plan of the sweep has a runoff in fewer than
    :data:`RUNOFF_RARE` of its simulated contests (at that share and every smaller one); None when even the
    smallest share has runoffs. Read from the simulated contests, not from a formula: where the lines of plans
    that differ only in a runoff part, the band ends."""
    floor = None
    for share, p in sweep.groupby("share")["p_runoff"].max().sort_index().items():
        if p >= RUNOFF_RARE:
            break
        floor = float(share)
    return floor


def _marks(sweep, marks: dict) -> dict:
    """The chart's marked shares, labelled with their values; two marks closer than a twelfth of the axis
    share one label (at the left one) so that their labels do not overprint."""
    lo, hi = float(sweep["share"].min()), float(sweep["share"].max())
    points = sorted(((v, k) for k, v in marks.items() if v is not None and lo <= v <= hi))
    out: dict = {}
    for v, k in points:
        label = f"{k} ({v:.3g}%)"
        near = [key for key, x in out.items() if abs(v - x) < (hi - lo) / 12 and key.strip()]
        if near:
            out[near[0] + "; " + label] = out.pop(near[0])
            out[" " * (len(out) + 1)] = v  # the line without a second label
        else:
            out[label] = v
    return out


def sweep_summary(run) -> Section:
    """What the sweep says, one bullet per finding."""
    return _bullets(primary_views.sweep_summary(_sweep(run), run.follow_name, run.swept_name))


def _count(n: int, noun: str) -> str:
    """ "1 poll", "3 polls". """
    return f"{n} {noun}" + ("" if n == 1 else "s")


def caveats(run) -> Section:
    """What the numbers cannot say, one bullet each, from the run's own inputs."""
    said = []
    field = run.field
    if run.assumed:
        assumed = field[field["candidate"].isin(run.assumed)]
        said.append(f"The figures for {and_list(run.assumed)} are an assumption "
                    f"({'; '.join(dict.fromkeys(_assumption_source(x) for x in assumed['source']))}), not a poll.")
        for c, src, note in zip(field["candidate"], field["source"], field["notes"], strict=True):
            if c not in run.assumed:
                said.append(f"{c}'s figure comes from {_publisher(src)}" + (f": {note}" if note else "."))
    elif field["sample_size"].isna().all() and field["votes"].isna().any():
        said.append(f"The poll did not publish its sample size; the simulation assumes {run.effective:,.0f} "
                    "respondents.")
    if run.replay is not None:
        said.append(f"The poll is of the contest it is checked against ({_contest_label(run.contest['contest'])}); "
                    "a member-poll bias measured on that contest's own count would be hindsight, so the plans do "
                    "not use it.")
    if run.ref is not None:
        bounds = run.ref.bounds
        lo, hi = bounds.range(run.swept_name, next(iter(bounds.finalists))) \
            if run.swept_name in bounds.groups else (0.0, 1.0)
        said.append(f"Transfer rates are known only as ranges the counts allow (for {run.swept_name}'s "
                    f"{run.ref.year} voters, {100 * (hi - lo):.0f} points wide), so each plan's rate is one assumed "
                    "point of its range.")
    bias = run.bias_all
    if bias is not None:
        said.append(f"The member-poll bias rests on {_count(bias.polls, 'poll')} of "
                    f"{_count(bias.contests, 'contest')}"
                    + (", so how much it varies between contests is not measured." if bias.contests == 1 else "."))
    return _bullets(said)


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, seed, outputs."""
    outputs = {**primaries.outputs(run.results, run.follow_name), "effective_sample_size": run.effective}
    ref, swept = run.ref, run.swept_name
    if ref is not None and swept in ref.bounds.groups:
        # the swept candidate's voters to the finalist they were asked to back, in the reference runoff:
        # <swept>_to_<finalist>_<year>, names by surname
        key = f"{_surname(swept).casefold()}_to_{_surname(ref.toward).casefold()}_{ref.year}"
        p_lo, p_hi = ref.bounds.range(swept, ref.toward)
        outputs.update({key: round(run.endorsed_ref.rates[swept][ref.toward], 4), f"{key}_low": round(p_lo, 4),
                        f"{key}_high": round(p_hi, 4)})
    outputs.update(scenario=int(_is_scenario(run)), bias_applied=int(bool(run.bias_applied)))
    if run.bias_all is not None:
        outputs.update(bias_mean=round(run.bias_all.mean, 4), bias_sd=round(run.bias_all.sd, 4))
    if run.replay is not None:
        table, winner = run.replay["table"], run.replay["winner"]
        out = table[table["model"].str.startswith("sampling")]
        outputs.update(replay_p_winner_low=round(float(out[winner].min()), 4),
                       replay_p_winner_high=round(float(out[winner].max()), 4),
                       replay_brier_worst=round(float(out["brier"].max()), 4),
                       replay_log_worst=round(float(out["log"].max()), 4))
    return {
        "as_of": primary_data.as_of(run.field) or str(run.past["date"].max().date()),
        "sources": list(dict.fromkeys([run.candidates, run.transfers, run.contests, run.rounds,
                                       *run.calibration_polls, *_addresses(run.field["source"])])),
        "seed": run.seed,
        "outputs": outputs,
    }
