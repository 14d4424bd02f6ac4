"""The threshold and backtest reports, built as the pipeline builds them (slow: real kernels)."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import ROOT, run_cli_process

pytestmark = pytest.mark.slow

MINE = ("thresholds", "thresholds-2009", "labor-first-round", "backtest-2022", "backtest-2009")


def manifest(out, name) -> dict:
    return json.loads((out / f"{name}.json").read_text(encoding="utf-8"))


def test_reports_build(shipped_build):
    proc, out = shipped_build
    for name in MINE:
        m = manifest(out, name)
        assert m["status"] == "ok", (name, m.get("error"), proc.stderr[-2000:])
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "Traceback" not in html and "<script" not in html.lower()
        assert m["seed"] == 0


def test_threshold_reports_record_their_numbers(shipped_build):
    _, out = shipped_build
    m22 = manifest(out, "thresholds")
    # the pool: the newest poll of each house published in the 14 days up to the last poll (from the raw file)
    with open(ROOT / "data/polls/knesset-2022.csv", newline="", encoding="utf-8") as f:
        houses = {r["pollster"] for r in csv.DictReader(f) if "2022-10-15" <= r["date"] <= "2022-10-28"}
    assert m22["as_of"] == "2022-10-28" and m22["outputs"]["polls_used"] == len(houses) == 7
    assert m22["outputs"]["error_model"] == "historical" and 1 < m22["outputs"]["others"] < 4
    p = m22["outputs"]["p_pass"]
    assert p["likud"] == 1.0 and p["balad"] < 0.5 < p["labor"]
    assert sum(m22["outputs"]["seats_median"].values()) in range(110, 131)
    m09 = manifest(out, "thresholds-2009")
    assert m09["as_of"] == "2009-02-06" and m09["outputs"]["line"] == 2.0
    labor = manifest(out, "labor-first-round")
    assert labor["outputs"]["line"] == 40.0 and "seats_median" not in labor["outputs"]
    # the 2007 polls pointed to a runoff, as it was
    assert max(labor["outputs"]["p_pass"].values()) < 0.5


def test_backtests_state_their_errors(shipped_build):
    _, out = shipped_build
    for name, calls in (("backtest-2022", 13), ("backtest-2009", 14)):
        o = manifest(out, name)["outputs"]
        assert o["engine_reproduced"] == o["elections"] == 5
        assert o["threshold_calls"] == calls and 0 < o["mae_model"] < 5 and 0 < o["mae_final_week"] < 5
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "Mean absolute seat error" in html and "Seat-engine audit" in html


def test_backtests_score_their_probabilities_beside_the_baselines(shipped_build):
    _, out = shipped_build
    history = (ROOT / "data/model/elections.csv").read_text(encoding="utf-8").splitlines()[1:]
    for name, election in (("backtest-2022", "2022-11-01"), ("backtest-2009", "2009-02-10")):
        o = manifest(out, name)["outputs"]
        assert o["error_model"] == "historical" and o["extra_poll_error"] == 0
        by = o["scores_by_days_before"]
        assert set(by) == {"1", "7", "28"}  # both polls files reach four weeks back
        for lead, s in by.items():
            assert s["as_of"] < election and s["lists"] == o["threshold_calls"]
            for key in ("brier_model", "brier_baseline_average", "brier_baseline_polls", "log_score_model",
                        "log_score_baseline_average", "log_score_baseline_polls"):
                assert 0 <= s[key] <= 14, (name, lead, key)
            assert 0 <= s["coverage_90"] <= 1 and s["width_90"] >= 0
        assert o["brier_model"] == by["1"]["brier_model"]
        track = o["track_record"]
        assert track["elections"] == len([line for line in history if line.strip()])
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        for heading in ("Scoring the probabilities", "Reliability", "Track record"):
            assert heading in html
        assert "fitted on the other elections only" in html
        assert "1.5 points" not in html and "points of election-day error" not in html


def test_run_an_earlier_as_of(tmp_path):
    target = tmp_path / "early.html"
    proc = run_cli_process("run", "notebooks/01_poll_thresholds.ipynb", "-p", "as_of", "2022-10-01",
                           "-p", "draws", "2000", "-o", target, timeout=300)
    assert proc.returncode == 0, proc.stderr
    html = target.read_text(encoding="utf-8")
    assert "2022-10-01" in html and "Who clears the electoral threshold?" in html
