"""The report sections (helpers.sections) on the shipped data, without a kernel, and the thin notebooks.

Each section function returns what its section shows; these tests check its structure (figures, tables,
prose) and its key numbers against a computation of their own from the raw files or the simulated draws.
The last tests read every notebook: at most 70 code lines, no branching, no charts.close."""

from __future__ import annotations

import ast
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from conftest import ROOT, at_root, rows
from helpers.core.errors import ParameterError
from helpers.models.scenarios import slug
from helpers.sections import Section, backtest, coalitions, leadership, thresholds, timeline
from helpers.views.tables import text as escaped

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DRAWS = 2000




def kinds(section: Section) -> list[str]:
    return [item[0] for item in section.items]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------------------- Section itself


def test_show_displays_every_item_in_order_and_releases_each_figure(capsys):
    fig, _ = plt.subplots()
    number = fig.number
    import pandas as pd

    section = Section().say("**{x}** <b>", x="<script>").table(pd.DataFrame({"a": ["<i>"]})).figure(fig)
    section.show()
    out = capsys.readouterr().out
    assert number not in plt.get_fignums()  # charts.show closed it
    # outside a kernel IPython prints each object's text: the prose, then the table, then the figure (shown as
    # HTML: its SVG markup, views.charts.show)
    assert out.splitlines() == ["<IPython.core.display.Markdown object>", "<IPython.core.display.HTML object>",
                                "<IPython.core.display.HTML object>"]
    assert "&lt;script&gt;" in section.of("say")[0] and "<script>" not in section.of("say")[0]


# ------------------------------------------------------------------------------------------------ backtest


@pytest.fixture(scope="module")
def backtest_run():
    with at_root():
        days = [r["date"] for r in rows("data/knesset/elections.csv")]
        return backtest.prepare("data/polls/knesset-2022.csv", "data/knesset/results/2022-11-01.csv",
                                as_of="2022-10-31", threshold=3.25,
                                agreements="data/knesset/agreements/2022-11-01.csv", election="2022-11-01",
                                draws=DRAWS, elections="data/knesset/elections.csv",
                                audit_results=[f"data/knesset/results/{d}.csv" for d in days],
                                audit_agreements=[f"data/knesset/agreements/{d}.csv" for d in days])


def test_backtest_official_result_counts_the_lists_over_the_threshold(backtest_run):
    raw = rows("data/knesset/results/2022-11-01.csv")
    total = sum(int(r["votes"]) for r in raw)
    over = sum(int(r["votes"]) / total * 100 >= 3.25 for r in raw)
    section = backtest.official(backtest_run)
    assert kinds(section) == ["say"]
    assert section.values["passed"] == over and section.values["lists"] == len(raw)
    assert section.values["exact"]  # the engine gives the official seats of 2022
    assert f"<bdi>{over}</bdi>" in section.of("say")[0]


def test_backtest_errors_are_the_mean_of_the_table_against_the_official_seats(backtest_run):
    official = {r["list"]: int(r["seats"]) for r in rows("data/knesset/results/2022-11-01.csv")}
    section = backtest.errors(backtest_run)
    assert kinds(section) == ["say", "table"]
    frame, options = section.of("table")[0]
    # every party's official seats are the file's; the error columns are projection minus official
    for r in frame.itertuples():
        key = next(k for k in backtest_run.table["party"] if backtest_run.names.get(k, k) == r.Party)
        assert r[2] == official.get(key, 0)
    mae_week = float(np.mean(np.abs(frame["Final week"] - frame["Official seats"])))
    mae_model = float(np.mean(np.abs(frame["Model"] - frame["Official seats"])))
    assert section.values["mae_week"] == pytest.approx(mae_week)
    assert section.values["mae_model"] == pytest.approx(mae_model)
    assert escaped(f"{mae_week:.2f}") in section.of("say")[0]
    assert section.values["in_range"] == int(((frame["Model 5%"] <= frame["Official seats"])
                                               & (frame["Official seats"] <= frame["Model 95%"])).sum())
    out = backtest.record(backtest_run)["outputs"]
    assert out["mae_final_week"] == round(mae_week, 3) and out["parties"] == len(frame)


def test_backtest_chart_calls_and_audit(backtest_run):
    chart = backtest.projections(backtest_run)
    assert kinds(chart) == ["figure"] and isinstance(chart.of("figure")[0], Figure)
    calls = backtest.calls(backtest_run)
    frame, _ = calls.of("table")[0]
    passed = {backtest_run.names.get(r["list"], r["list"]): int(r["seats"]) > 0
              for r in rows("data/knesset/results/2022-11-01.csv")}
    right = sum((r[2] >= 50) == passed.get(r.Party, False) for r in frame.itertuples())
    assert calls.values["right"] == right and calls.values["calls"] == len(frame)
    audit = backtest.audit(backtest_run)
    assert kinds(audit) == ["say", "table"]
    assert audit.values["elections"] == len(rows("data/knesset/elections.csv"))
    assert audit.values["reproduced"] == audit.values["elections"]
    blocs = backtest.blocs(backtest_run)
    bloc_frame, _ = blocs.of("table")[0]
    assert bloc_frame["Official seats"].sum() == 120


# ---------------------------------------------------------------------------------------------- thresholds


@pytest.fixture(scope="module")
def parliament_run():
    with at_root():
        return thresholds.prepare("data/polls/knesset-2022.csv", threshold=3.25, draws=DRAWS)


def test_thresholds_overview_counts_the_polls(parliament_run):
    raw = rows("data/polls/knesset-2022.csv")
    section = thresholds.overview(parliament_run)
    assert section.values["polls"] == len({r["poll_id"] for r in raw})
    assert section.values["pollsters"] == len({r["pollster"] for r in raw})
    assert escaped("3.25") in section.of("say")[0]


def test_thresholds_parliament_sections(parliament_run):
    run = parliament_run
    p_pass = run.result.passed.mean(axis=0)  # share of simulated elections in which each party clears
    doubt = int(((p_pass >= 0.02) & (p_pass <= 0.98)).sum())
    verdict = thresholds.verdict(run)
    assert verdict.values["doubt"] == doubt
    assert verdict.values["safe"] == int((p_pass > 0.98).sum()) and verdict.values["out"] == int((p_pass < 0.02).sum())
    assert len(thresholds.near_line(run).of("figure")) == (1 if doubt else 0)
    assert kinds(thresholds.seats(run)) == ["figure"]
    assert kinds(thresholds.poll_of_polls(run)) == ["figure"]
    frame, options = thresholds.numbers(run).of("table")[0]
    assert len(frame) == len(run.result.parties) and "P(clears the threshold) %" in frame.columns
    out = thresholds.record(run)["outputs"]
    assert sum(out["seats_median"].values()) in range(110, 131)
    assert out["p_pass"] == {p: round(float(v), 4) for p, v in zip(run.result.parties, p_pass, strict=True)}


def test_thresholds_refuses_a_first_round_file_and_names_its_report():
    """A leadership contest's first round is its own report (notebooks/06): the threshold report says so
    before simulating anything."""
    with at_root(), pytest.raises(ParameterError, match="06_first_round"):
        thresholds.prepare("data/polls/labor-leadership.csv", threshold=40.0, draws=DRAWS)


# ---------------------------------------------------------------------------------------------- leadership


@pytest.fixture(scope="module")
def leadership_run():
    with at_root():
        return leadership.prepare(
            "data/primaries/candidates-2008.csv", draws=500, transfers="data/primaries/scenarios-2008.csv",
            contests="data/primaries/contests.csv", rounds="data/primaries/rounds.csv",
            calibration_polls=["data/primaries/candidates-2007-05-24-dialog.csv",
                               "data/primaries/candidates-2007-05-25-dahaf.csv",
                               "data/primaries/candidates-2007-06-06-dialog-runoff.csv"],
            follow="Ehud Barak", swept="Amir Peretz", colours="data/primaries/colours.csv")


def test_leadership_2007_rates_give_back_the_runoff_count(leadership_run):
    raw = [r for r in rows("data/primaries/contests.csv")
           if r["contest"] == "labor-2007" and r["kind"] == "candidate"]
    r1 = {r["candidate"]: int(r["votes"]) for r in raw if r["round"] == "1"}
    r2 = {r["candidate"]: int(r["votes"]) for r in raw if r["round"] == "2"}
    section = leadership.swept_followers(leadership_run)
    to_barak = section.values["to_away"]
    # Barak keeps his voters, gets 75% of Pines-Paz's and Yatom's and his share of Peretz's
    barak = r1["Ehud Barak"] + 0.75 * (r1["Ophir Pines-Paz"] + r1["Danny Yatom"]) + to_barak * r1["Amir Peretz"]
    assert barak == pytest.approx(r2["Ehud Barak"], abs=1)
    assert escaped(f"{section.values['to_toward']:.0%}") in section.of("say")[0]
    out = leadership.record(leadership_run)["outputs"]
    assert out["peretz_to_ayalon_2007"] == round(section.values["to_toward"], 4)


def test_leadership_sections_show_what_the_report_shows(leadership_run):
    run = leadership_run
    rounds = {(r["contest"], r["round"]) for r in rows("data/primaries/contests.csv")}
    rule = leadership.rule_check(run)
    assert kinds(rule) == ["table", "say"] and rule.values["rounds"] == len(rounds)
    for name in ("calibration", "endorsement_calibration", "plan_chances", "sweep_chart"):
        assert kinds(getattr(leadership, name)(run)) == ["figure"], name
    assert kinds(leadership.flows(run, "reference")) == kinds(leadership.flows(run, "comparison")) == ["figure"]
    assert kinds(leadership.turnout_ranges(run)) == ["table", "table"]
    assert kinds(leadership.endorsements(run)) == ["say", "table", "table", "say"]
    plans = {r["scenario"] for r in rows("data/primaries/scenarios-2008.csv")}
    frame, _ = leadership.plan_table(run).of("table")[0]
    assert frame["Plan"].nunique() == len(plans)
    # in every plan the chances of winning add up to one
    assert np.allclose(frame.groupby("Plan")["Wins"].sum(), 1.0)
    assert all(kinds(leadership.why(run))) and set(kinds(leadership.sweep_summary(run))) == {"say"}
    assert leadership.record(run)["outputs"]["effective_sample_size"] == run.effective


# --------------------------------------------------------------------------------------------- coalitions


@pytest.fixture(scope="module")
def coalition_run():
    with at_root():
        return coalitions.prepare("data/scenarios/knesset-2022.yml", draws=DRAWS)


def test_coalition_blocs_count_the_simulated_parliaments(coalition_run):
    run = coalition_run
    seats = run.result.seats
    col = {p: i for i, p in enumerate(run.result.parties)}

    def bloc_seats(members):
        return sum(seats[:, col[m]] for m in members if m in col)

    section = coalitions.blocs(run)
    assert kinds(section) == ["figure", "table", "say"]
    out = coalitions.record(run)["outputs"]
    reach = []
    for name, members in run.sc.blocs.items():
        ok = bloc_seats(members) >= run.majority
        reach.append(ok)
        assert out[f"p_bloc_{slug(name)}"] == pytest.approx(ok.mean())
    assert section.values["neither"] == pytest.approx(1 - np.any(reach, axis=0).mean())
    assert run.majority == run.sc.seats // 2 + 1


def test_coalition_sections_show_what_the_report_shows(coalition_run):
    run = coalition_run
    assert kinds(coalitions.scenario(run)) == ["say", "say"]
    assert kinds(coalitions.projection_chart(run)) == ["figure"]
    assert kinds(coalitions.parliament(run)) == ["figure"]
    frame, _ = coalitions.projection_table(run).of("table")[0]
    # the parties that ever win a seat are listed; the rest are counted as left out
    ever = int((run.result.seats.max(axis=0) > 0).sum())
    assert len(frame) <= ever
    assert coalitions.projection_table(run).values["left_out"] == len(run.result.parties) - len(frame)
    named, _ = coalitions.named(run).of("table")[0]
    assert len(named) == len(run.sc.coalitions)
    what_ifs = coalitions.what_ifs(run)
    assert kinds(what_ifs) == ["table", "figure", "table", "table"]
    assert len(what_ifs.of("table")[0][0]) == len(run.sc.what_if)
    paths = coalitions.paths(run)
    assert kinds(paths)[0] == "say" and f"<bdi>{run.paths.total}</bdi>" in paths.of("say")[0]
    assert coalitions.record(run)["outputs"]["paths"] == run.paths.total
    assert kinds(coalitions.this_run(run)) == ["say"]


# ----------------------------------------------------------------------------------------------- timeline


def test_timeline_sections():
    with at_root():
        run = timeline.prepare("data/events.csv", focus_start="2007-01", focus_end="2008-12")
        none = timeline.prepare("data/events.csv", actors=["Nobody at all"])
    raw = rows("data/events.csv")
    assert timeline.overview(run).values["events"] == len(raw)
    assert kinds(timeline.whole_period(run)) == ["figure"]
    in_focus = sum(r["date"][:4] in ("2007", "2008") for r in raw)
    closer = timeline.closer_look(run)
    assert kinds(closer) == ["say", "figure"] and closer.values["events"] >= in_focus
    frame, options = timeline.event_table(run).of("table")[0]
    assert len(frame) == len(raw) and options["caption"] == f"{len(raw)} events"
    assert timeline.record(run)["outputs"]["events_shown"] == len(raw)
    assert kinds(timeline.whole_period(none)) == ["say"] and kinds(timeline.closer_look(none)) == ["say"]
    assert timeline.record(none)["outputs"] == {"events_shown": 0, "first": None, "last": None}


# ----------------------------------------------------------------------------------------- thin notebooks


def code_cells(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [("parameters" in c.get("metadata", {}).get("tags", []), "".join(c["source"]))
            for c in doc["cells"] if c["cell_type"] == "code"]


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


def test_the_counter_counts_code_not_blanks_or_comments():
    assert code_lines("a = 1\n\n# note\n  # indented note\nb = 2  # trailing\n") == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin(path):
    cells = code_cells(path)
    total = sum(code_lines(src) for _, src in cells)
    assert total <= 70, f"{path.name} has {total} code lines"
    for is_parameters, src in cells:
        if is_parameters:
            continue
        tree = ast.parse(src)
        branches = [type(n).__name__ for n in ast.walk(tree)
                    if isinstance(n, (ast.If, ast.IfExp, ast.For, ast.While, ast.comprehension, ast.Match))]
        assert not branches, (path.name, branches, src)
        assert "charts.close" not in src and "display(" not in src, (path.name, src)


def test_every_shipped_notebook_is_checked():
    assert len(NOTEBOOKS) >= 5
