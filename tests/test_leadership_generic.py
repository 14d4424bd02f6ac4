"""The leadership report is generic in fact: a made-up party's contests, candidates and plans, in files of its
own, run through every section of notebooks/03_leadership_race.ipynb, and the page names only that party's
candidates; the section module and the notebook's prose name no contest, candidate, year or colour."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

from conftest import ROOT, assert_clean_error, at_root, run_cli, run_cli_process
from helpers.core.errors import DataError
from helpers.data import primaries as primary_data
from helpers.sections import leadership

NOTEBOOK = ROOT / "notebooks" / "03_leadership_race.ipynb"
SECTIONS = ROOT / "src" / "helpers" / "sections" / "leadership.py"

#: The made-up party: two past runoffs (one in which the swept candidate, Cy Marrow, was eliminated and backed
#: Bo Fenwick; one in which Gus Tern backed Eve Sorrel and Fay Linden stayed neutral) and a one-round contest.
CONTESTS = """contest,date,round,candidate,kind,votes,percent,result,endorsed,endorsement_source,source_url
greens-1995,1995-03-04,1,Ada Quill,candidate,3000,75.0,winner,,,https://example.org/greens-1995
greens-1995,1995-03-04,1,Cy Marrow,candidate,1000,25.0,out,,,https://example.org/greens-1995
greens-1999,1999-05-10,1,Ada Quill,candidate,4000,40.0,runoff,,,https://example.org/greens-1999
greens-1999,1999-05-10,1,Bo Fenwick,candidate,3500,35.0,runoff,,,https://example.org/greens-1999
greens-1999,1999-05-10,1,Cy Marrow,candidate,2000,20.0,out,Bo Fenwick,an invented paper,https://example.org/greens-1999
greens-1999,1999-05-10,1,Dee Holt,candidate,500,5.0,out,Ada Quill,an invented paper,https://example.org/greens-1999
greens-1999,1999-05-24,2,Ada Quill,candidate,5200,54.7,winner,,,https://example.net/runoff-1999
greens-1999,1999-05-24,2,Bo Fenwick,candidate,4300,45.3,out,,,https://example.net/runoff-1999
greens-2003,2003-09-01,1,Bo Fenwick,candidate,3000,36.6,runoff,,,https://example.org/greens-2003
greens-2003,2003-09-01,1,Eve Sorrel,candidate,2800,34.1,runoff,,,https://example.org/greens-2003
greens-2003,2003-09-01,1,Fay Linden,candidate,1500,18.3,out,(neutral),an invented paper,https://example.org/greens-2003
greens-2003,2003-09-01,1,Gus Tern,candidate,900,11.0,out,Eve Sorrel,an invented paper,https://example.org/greens-2003
greens-2003,2003-09-10,2,Bo Fenwick,candidate,4200,53.8,winner,,,https://example.org/greens-2003
greens-2003,2003-09-10,2,Eve Sorrel,candidate,3600,46.2,out,,,https://example.org/greens-2003
"""
ROUNDS = """contest,date,round,ballots_cast
greens-1995,1995-03-04,1,4000
greens-1999,1999-05-10,1,10000
greens-1999,1999-05-24,2,9500
greens-2003,2003-09-01,1,8200
greens-2003,2003-09-10,2,7800
"""
CANDIDATES = """candidate,share,sample_size,date,source,notes
Ada Quill,44,700,2026-03-01,Quorum Research for the Daily Lantern,
Bo Fenwick,39,700,2026-03-01,Quorum Research for the Daily Lantern,
Cy Marrow,17,700,2026-03-01,Quorum Research for the Daily Lantern,
"""
POLL = """candidate,share,sample_size,date,source,notes
Ada Quill,38,600,1999-05-01,Quorum Research,
Bo Fenwick,37,600,1999-05-01,Quorum Research,
Cy Marrow,19,600,1999-05-01,Quorum Research,
Dee Holt,6,600,1999-05-01,Quorum Research,
"""
TRANSFERS = """scenario,title,step,source,target,percent,notes
a,"(a) All three run",transfer,Cy Marrow,Bo Fenwick,60,
a,"(a) All three run",transfer,Cy Marrow,Ada Quill,40,
b,"(b) Marrow withdraws for Fenwick",withdraw,Cy Marrow,Bo Fenwick,70,
"""

#: What must not reach the made-up party's page: the shipped party, its contests' candidates and years.
def _shipped_names() -> set[str]:
    with open(ROOT / "data" / "primaries" / "contests.csv", newline="", encoding="utf-8") as f:
        names = {r["candidate"] for r in csv.DictReader(f) if r.get("kind", "candidate") == "candidate"}
    return names | {n.split()[-1] for n in names}


@pytest.fixture(scope="module")
def party(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("greens")
    for name, text in (("contests.csv", CONTESTS), ("rounds.csv", ROUNDS), ("candidates.csv", CANDIDATES),
                       ("poll-1999.csv", POLL), ("transfers.csv", TRANSFERS)):
        (d / name).write_text(text, encoding="utf-8")
    return d


def _prepare(d: Path, **kw):
    with at_root():
        return leadership.prepare(str(d / "candidates.csv"), follow="ada quill", swept="Cy Marrow", draws=400,
                                  transfers=str(d / "transfers.csv"), contests=str(d / "contests.csv"),
                                  rounds=str(d / "rounds.csv"), calibration_polls=[str(d / "poll-1999.csv")],
                                  **kw)


@pytest.fixture(scope="module")
def run(party):
    return _prepare(party)


#: Every section of the report, in the notebook's order.
SECTION_FUNCTIONS = [
    leadership.answer, leadership.intro, leadership.first_round_figures, leadership.rule_check,
    leadership.boundary, leadership.poll_misses, leadership.transfer_ranges, leadership.transfer_note,
    leadership.calibration, leadership.turnout_ranges, lambda r: leadership.flows(r, "reference"),
    leadership.swept_followers, leadership.endorsements, leadership.endorsement_note,
    leadership.endorsement_calibration, leadership.endorsement_followers,
    lambda r: leadership.flows(r, "comparison"), leadership.plans, leadership.plan_chances, leadership.plan_table,
    leadership.why, leadership.scenario, leadership.replay, leadership.sweep_chart, leadership.sweep_summary,
    leadership.caveats,
]


def _page(run) -> str:
    """Everything the sections show a reader: sentences, tables and their captions, every text in every chart,
    and the recorded facts."""
    shown = []
    for fn in SECTION_FUNCTIONS:
        section = fn(run)
        shown += section.of("answer") + section.of("say")
        for frame, options in section.of("table"):
            shown += [frame.to_csv(), str(options.get("caption", ""))]
        for fig in section.of("figure"):
            shown += [t.get_text() for t in fig.findobj(Text)]
            plt.close(fig)
    shown.append(json.dumps(leadership.record(run)))
    return "\n".join(shown).replace("\\", "")


def test_a_made_up_party_runs_through_every_section_and_names_only_its_own(run):
    # the studied contests are found in its own file: the runoff in which the swept candidate was eliminated,
    # and the other runoff with an endorsement of a finalist
    assert (run.ref.key, run.cmp.key) == ("greens-1999", "greens-2003")
    page = _page(run)
    for own in ("Ada Quill", "Bo Fenwick", "Cy Marrow", "Dee Holt", "Gus Tern", "Fay Linden", "Eve Sorrel",
                "Greens 1999", "Greens members", "Quorum Research"):
        assert own in page, own
    for foreign in sorted(_shipped_names() | {"Labor", "2007", "2011", "Haaretz", "Wikipedia", "Ynet"}):
        assert not re.search(rf"\b{re.escape(foreign)}\b", page), foreign
    # the recorded rate is keyed by its own candidates and year
    out = leadership.record(run)["outputs"]
    assert "marrow_to_fenwick_1999" in out and "p_quill_a" in out


def test_the_made_up_partys_numbers_come_from_its_own_counts(run):
    r1 = {"Ada Quill": 4000, "Bo Fenwick": 3500, "Cy Marrow": 2000, "Dee Holt": 500}
    r2 = {"Ada Quill": 5200, "Bo Fenwick": 4300}
    # Holt's voters go 75% to Quill (the finalist Holt endorsed, the one Marrow did not back); Marrow's rates
    # are then solved so that both runoff counts come back
    rates = run.endorsed_ref.rates["Cy Marrow"]
    quill = r1["Ada Quill"] + 0.75 * r1["Dee Holt"] + rates["Ada Quill"] * r1["Cy Marrow"]
    assert quill == pytest.approx(r2["Ada Quill"], abs=1)
    said = leadership.swept_followers(run).of("say")[0]
    assert f"{rates['Bo Fenwick']:.0%}" in said.replace("\\", "") and "Holt" in said
    gained = leadership.endorsements(run).values["gained"]
    assert gained == {"Bo Fenwick": 1200, "Eve Sorrel": 800}


def test_colours_come_from_the_colours_file_then_the_palette(party, run, tmp_path):
    from helpers.views.charts import PALETTE

    # without a colours file: the house palette in the order of the candidates, then the past contests
    assert [run.colours[c] for c in ("Ada Quill", "Bo Fenwick", "Cy Marrow")] == PALETTE[:3]
    path = tmp_path / "colours.csv"
    path.write_text(f"candidate,colour\nBo Fenwick,{PALETTE[0]}\nCy Marrow,#123456\n", encoding="utf-8")
    coloured = _prepare(party, colours=str(path))
    assert coloured.colours["Bo Fenwick"] == PALETTE[0] and coloured.colours["Cy Marrow"] == "#123456"
    # a colour the file gives is not handed to another candidate
    assert coloured.colours["Ada Quill"] == PALETTE[1]
    assert len(set(coloured.colours.values())) == len(coloured.colours)


def test_a_bad_colours_file_or_contest_is_a_clear_data_error(party, tmp_path):
    bad = tmp_path / "colours.csv"
    bad.write_text("candidate,colour\nAda Quill,#0072B2\nBo Fenwick,blue\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"colours\.csv.*row 3.*colour.*'blue' is not a colour written #RRGGBB"):
        primary_data.load_colours(bad)
    # the notebook's parameter is checked before any kernel starts: exit 2, one sentence
    proc = run_cli("run", str(NOTEBOOK), "-p", "colours", str(bad), "-o", str(tmp_path / "out.html"))
    assert_clean_error(proc, "colours.csv", "row 3", "'blue' is not a colour written #RRGGBB")
    with pytest.raises(DataError, match=r"contests\.csv: no contest 'greens-2001' with a round 2.*greens-1999, "
                                         r"greens-2003"):
        _prepare(party, reference="greens-2001")
    # a contest the contests file does not hold (here the notebook's default, with another party's file) is
    # refused before any kernel starts, with the choices
    proc = run_cli("run", str(NOTEBOOK), "-p", "contests", str(party / "contests.csv"), "-o",
                   str(tmp_path / "out.html"))
    assert_clean_error(proc, "parameter 'reference'", "is not a contest in", "'greens-1999'")


def test_without_a_second_runoff_the_endorsement_part_says_so(party, tmp_path):
    one = tmp_path / "contests.csv"
    one.write_text("".join(line + "\n" for line in CONTESTS.splitlines() if "greens-2003" not in line),
                   encoding="utf-8")
    with at_root():
        run = leadership.prepare(str(party / "candidates.csv"), follow="Ada Quill", swept="Cy Marrow", draws=200,
                                 transfers=str(party / "transfers.csv"), contests=str(one),
                                 rounds=str(party / "rounds.csv"))
    assert run.ref.key == "greens-1999" and run.cmp is None
    said = leadership.endorsements(run).of("say")
    assert said and "other contest with a runoff" in said[0] and "left out" in said[0]
    assert leadership.flows(run, "comparison").of("figure") == []


def _code_and_prose() -> dict[str, str]:
    """The section module, and the notebook without its parameters cell (which names the shipped files)."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if "parameters" not in c.get("metadata", {}).get("tags", [])]
    return {"sections/leadership.py": SECTIONS.read_text(encoding="utf-8"), "notebook 03": "\n".join(cells)}


@pytest.mark.parametrize("where", ["sections/leadership.py", "notebook 03"])
def test_no_contest_candidate_year_or_colour_is_written_into_the_report(where):
    text = _code_and_prose()[where]
    for name in sorted(_shipped_names() | {"Labor"}):
        assert not re.search(rf"\b{re.escape(name)}\b", text), (where, name)
    assert not re.search(r"(?<![\d.])(19|20)\d\d(?![\d.])", text), (where, re.search(r"(19|20)\d\d", text))
    assert not re.search(r"#[0-9A-Fa-f]{6}\b", text), where
    assert "data/" not in text, where


@pytest.mark.slow
def test_the_notebook_builds_a_made_up_partys_page(party, tmp_path):
    """The notebook itself, run by the installed script on the made-up party's files: its page names its own
    candidates and nothing of the shipped party."""
    d = party
    out = tmp_path / "greens.html"
    params = {"candidates": d / "candidates.csv", "transfers": d / "transfers.csv", "contests": d / "contests.csv",
              "rounds": d / "rounds.csv", "follow": "Ada Quill", "swept": "Cy Marrow", "reference": "",
              "comparison": "", "draws": "400", "colours": d / "colours.csv"}
    (d / "colours.csv").write_text("candidate,colour\nAda Quill,#0072B2\n", encoding="utf-8")
    args = ["run", str(NOTEBOOK), "-o", str(out), "-p", "calibration_polls", json.dumps([str(d / "poll-1999.csv")])]
    for k, v in params.items():
        args += ["-p", k, str(v)]
    proc = run_cli_process(*args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    for own in ("Ada Quill", "Bo Fenwick", "Cy Marrow", "Greens 1999"):
        assert own in page, own
    for foreign in sorted(_shipped_names() | {"Labor"}):
        assert not re.search(rf"\b{re.escape(foreign)}\b", page), foreign
