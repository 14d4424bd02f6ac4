"""The coalition report, built as the pipeline builds it (slow: real kernels), and its command-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT, assert_clean_error, run_cli, run_cli_process
from helpers.data import polls as poll_data
from helpers.data.scenarios import load_scenario
from helpers.models import scenarios as scen
from helpers.models import whatif

NOTEBOOK = "notebooks/02_coalition_scenarios.ipynb"


def manifest(out, name) -> dict:
    return json.loads((out / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(shipped_build):
    """The coalition reports of the one build of the shipped set that the test session shares."""
    return shipped_build


@pytest.mark.slow
def test_reports_build(built):
    proc, out = built
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name, bloc in (("coalitions", "p_bloc_netanyahu_bloc"),
                       ("coalitions-2009", "p_bloc_right_religious_bloc")):
        m = manifest(out, name)
        assert m["status"] == "ok", (name, m.get("error"))
        assert m["seed"] == 0 and m["outputs"]["draws"] == 20000 and 0 <= m["outputs"][bloc] <= 1
        assert m["outputs"]["paths"] > 0 and "what_if" in m["outputs"]
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "Traceback" not in html and "<script" not in html.lower()
        for heading in ("Seat projection", "The average parliament", "Paths to a majority", "Who is pivotal",
                        "The parties near the threshold", "What if?"):
            assert heading in html, (name, heading)
        assert html.count("<img") >= 5
    m22 = manifest(out, "coalitions")
    assert m22["as_of"] == "2022-10-28" and "data/scenarios/knesset-2022.yml" in m22["sources"]
    assert set(m22["outputs"]["what_if"]) >= {"Base", "Labor and Meretz merge", "Jewish Home withdraws"}


@pytest.mark.slow
def test_report_probabilities_are_the_share_of_raw_draws(built):
    """The manifest's P(majority) of every named coalition and bloc equals the share of draws in which the
    members' seats reach the majority, counted here from Simulation.seats of the same simulation."""
    _, out = built
    m = manifest(out, "coalitions")
    s = load_scenario(ROOT / "data/scenarios/knesset-2022.yml")
    registry = poll_data.load_parties(ROOT / "data/parties.csv")
    polls = poll_data.load_polls(ROOT / s.polls, parties=registry)
    base = whatif.base_from_polls(polls, s.as_of, threshold=s.threshold, house_seats=s.seats,
                                merges=poll_data.merges_of(registry, polls["party"].unique()))
    sims = whatif.simulate_variants(whatif.variants(s, base.shares)[:1], base,
                                  draws=m["outputs"]["draws"], seed=m["seed"], seats=s.seats,
                                  poll_error=m["outputs"]["poll_error"], error_model=m["outputs"]["error_model"])
    sim = sims[0]
    checked = 0
    for kind, groups in (("coalition", s.coalitions), ("bloc", s.blocs)):
        for name, members in groups.items():
            cols = [sim.parties.index(p) for p in members if p in sim.parties]
            share = np.count_nonzero(sim.seats[:, cols].sum(axis=1) >= s.majority) / sim.draws
            assert m["outputs"][f"p_{kind}_{scen.slug(name)}"] == share, name
            checked += 1
    assert checked == len(s.coalitions) + len(s.blocs) >= 4


@pytest.mark.slow
def test_run_with_overrides(tmp_path):
    target = tmp_path / "r.html"
    proc = run_cli_process("run", NOTEBOOK, "-p", "scenario", "data/scenarios/knesset-2009.yml",
                   "-p", "draws", "3000", "-p", "poll_error", "0", "-p", "highlight", "kadima-led",
                   "-o", target, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    assert m["outputs"]["draws"] == 3000 and m["outputs"]["poll_error"] == 0.0
    assert "Kadima-led" in target.read_text(encoding="utf-8")


def test_unknown_party_fails_before_any_kernel(tmp_path, kernel_starts):
    bad = tmp_path / "bad.yml"
    bad.write_text("title: Bad\npolls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\n"
                   "vetoes:\n  - [Likkud, yesh_atid]\n", encoding="utf-8")
    target = tmp_path / "out.html"
    proc = run_cli("run", NOTEBOOK, "-p", "scenario", bad, "-o", target)
    assert_clean_error(proc, "bad.yml", "vetoes[0][0]", "'Likkud'", "did you mean 'likud'")
    assert not target.exists() and not target.with_suffix(".json").exists()
    assert kernel_starts == []


@pytest.mark.parametrize("content, needle", [
    (None, "does not exist"),
    ("polls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\nmajority: 0\n", "whole number of seats > 0"),
    ("polls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\n"
     "what_if:\n  - {name: X, steps: [{drop: kadima}]}\n", "'kadima' is not running"),
])
def test_bad_scenarios_exit_2(tmp_path, content, needle, kernel_starts):
    path = tmp_path / "s.yml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    proc = run_cli("run", NOTEBOOK, "-p", "scenario", path, "-o", tmp_path / "out.html")
    assert_clean_error(proc, needle)
    assert kernel_starts == []
    assert not (tmp_path / "out.html").exists()


@pytest.mark.slow
def test_hostile_scenario_names_are_shown_as_text(tmp_path):
    hostile = "<img src=x onerror=alert(1)>"
    path = tmp_path / "hostile.yml"
    path.write_text(
        "title: '<script>alert(2)</script> week'\n"
        "polls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\n"
        f"blocs: {{'{hostile}': [likud, shas]}}\n"
        f"coalitions: {{'{hostile} gov': [likud, religious_zionism, shas, utj]}}\n"
        f"what_if:\n  - {{name: '{hostile} | **x**', steps: [{{threshold: 2}}]}}\n", encoding="utf-8")
    target = tmp_path / "h.html"
    proc = run_cli_process("run", NOTEBOOK, "-p", "scenario", path, "-p", "draws", "2000", "-o", target,
                           timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = target.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script" not in html.lower()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
