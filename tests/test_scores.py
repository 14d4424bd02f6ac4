"""Scoring probabilities (helpers.models.backtest: brier, log_score, interval_coverage, mean_width,
reliability_table and the two naive baselines), and the backtest report's scores section on the shipped 2022
data, checked against a computation of this file's own from the raw files and the simulated probabilities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_sections
from helpers.models import backtest as scoring
from helpers.sections import backtest
from helpers.views.tables import text as escaped
from test_sections import rows

probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
events = st.lists(st.tuples(probability, st.booleans()), min_size=1, max_size=40)
GRID = np.linspace(0.0, 1.0, 201)
backtest_run = test_sections.backtest_run  # the report tests' 2022 run (2,000 draws), a fixture


def expected(score, p: float, q: float) -> float:
    """The expected score of forecasting q for an event that happens with probability p."""
    return p * score([q], [True]) + (1 - p) * score([q], [False])


# -------------------------------------------------------------------------------------------- proper scores


@settings(max_examples=60, deadline=None)
@given(p=probability)
@pytest.mark.parametrize("score", [scoring.brier, scoring.log_score], ids=["brier", "log_score"])
def test_scores_are_proper_forecasting_the_true_probability_is_never_worse(score, p):
    truth = expected(score, p, p)
    worst_gap = min(expected(score, p, q) - truth for q in GRID)
    assert worst_gap >= -1e-12


@pytest.mark.parametrize("score", [scoring.brier, scoring.log_score], ids=["brier", "log_score"])
def test_a_wrong_forecast_costs_strictly_more_than_the_truth(score):
    # strictness away from the clipped ends: forecasting 0.7 when the truth is 0.3 is worse
    assert expected(score, 0.3, 0.7) > expected(score, 0.3, 0.3) + 0.01


@settings(max_examples=100, deadline=None)
@given(outcomes=st.lists(st.booleans(), min_size=1, max_size=40))
def test_perfect_forecasts_score_zero(outcomes):
    perfect = [1.0 if y else 0.0 for y in outcomes]
    assert scoring.brier(perfect, outcomes) == 0
    assert scoring.log_score(perfect, outcomes) == pytest.approx(-math.log(1 - scoring.LOG_SCORE_CLIP), abs=1e-12)
    assert scoring.log_score(perfect, outcomes) < 1e-5


@settings(max_examples=100, deadline=None)
@given(pairs=events)
def test_scores_lie_in_their_documented_ranges_and_match_a_plain_loop(pairs):
    ps, ys = [p for p, _ in pairs], [y for _, y in pairs]
    b, ls = scoring.brier(ps, ys), scoring.log_score(ps, ys)
    clip = scoring.LOG_SCORE_CLIP
    assert 0 <= b <= 1
    assert -math.log(1 - clip) - 1e-12 <= ls <= -math.log(clip) + 1e-9
    by_hand_b = sum((p - y) ** 2 for p, y in pairs) / len(pairs)
    by_hand_l = sum(-math.log(min(max(p, clip), 1 - clip) if y else 1 - min(max(p, clip), 1 - clip))
                    for p, y in pairs) / len(pairs)
    assert b == pytest.approx(by_hand_b, abs=1e-12)
    assert ls == pytest.approx(by_hand_l, rel=1e-9, abs=1e-12)


def test_a_certain_call_that_fails_costs_the_clip_not_infinity():
    assert scoring.log_score([0.0], [True]) == pytest.approx(-math.log(1e-6))
    assert scoring.log_score([1.0], [False]) == pytest.approx(-math.log(1e-6))
    assert scoring.brier([1.0], [False]) == 1
    assert scoring.brier([0.5, 0.5], [True, False]) == 0.25
    assert scoring.log_score([0.5], [False]) == pytest.approx(math.log(2))


@pytest.mark.parametrize("ps, ys", [([], []), ([0.5], [True, False]), ([1.2], [True]), ([-0.1], [False]),
                                    ([float("nan")], [True])])
def test_bad_probabilities_are_refused(ps, ys):
    with pytest.raises(ValueError):
        scoring.brier(ps, ys)
    with pytest.raises(ValueError):
        scoring.log_score(ps, ys)


# ------------------------------------------------------------------------------------------------- ranges

ranges = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20), st.integers(0, 80)), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(rows=ranges)
def test_coverage_is_a_share_and_equals_a_hand_count(rows):
    lower = [lo for lo, _, _ in rows]
    upper = [lo + w for lo, w, _ in rows]
    actual = [x for _, _, x in rows]
    cov = scoring.interval_coverage(lower, upper, actual)
    inside = 0
    for lo, hi, x in zip(lower, upper, actual, strict=True):
        if lo <= x <= hi:
            inside += 1
    assert 0 <= cov <= 1
    assert cov == inside / len(rows)
    assert scoring.mean_width(lower, upper) == pytest.approx(sum(w for _, w, _ in rows) / len(rows))


def test_range_ends_count_as_inside():
    assert scoring.interval_coverage([4, 4, 4], [9, 9, 9], [4, 9, 10]) == pytest.approx(2 / 3)
    assert scoring.mean_width([4, 0], [9, 0]) == 2.5


# ------------------------------------------------------------------------------------------- reliability


@settings(max_examples=100, deadline=None)
@given(pairs=events, cuts=st.lists(st.floats(0.01, 0.99), max_size=6, unique=True))
def test_reliability_bins_partition_the_forecasts(pairs, cuts):
    ps, ys = [p for p, _ in pairs], [y for _, y in pairs]
    bins = [0.0, *sorted(cuts), 1.0]
    table = scoring.reliability_table(ps, ys, bins)
    assert len(table) == len(bins) - 1
    assert table["count"].sum() == len(ps)
    for r in table.itertuples():
        last = r.upper == 1.0
        members = [(p, y) for p, y in pairs if r.lower <= p < r.upper or (last and p == 1.0)]
        assert r.count == len(members)
        if members:
            assert r.mean_forecast == pytest.approx(sum(p for p, _ in members) / len(members))
            assert r.observed == pytest.approx(sum(y for _, y in members) / len(members))
            assert r.lower <= r.mean_forecast <= r.upper
        else:
            assert math.isnan(r.mean_forecast) and math.isnan(r.observed)


# --------------------------------------------------------------------------------------------- baselines


def test_average_call_is_one_at_or_over_the_line_and_zero_below_or_unlisted():
    week = pd.Series({"a": 3.9, "b": 3.89, "c": 30.0})
    got = scoring.average_call(week, ["a", "b", "c", "d"], line=3.9)
    assert got.to_dict() == {"a": 1.0, "b": 0.0, "c": 1.0, "d": 0.0}


def test_share_of_polls_counts_the_polls_that_list_the_party():
    by_poll = pd.DataFrame({"poll_id": ["p1", "p1", "p2", "p2", "p3"],
                            "party": ["a", "b", "a", "b", "a"],
                            "seats": [4, 0, 0, 5, 4]})
    got = scoring.share_of_polls_with_seats(by_poll, ["a", "b", "c"])
    assert got.to_dict() == {"a": pytest.approx(2 / 3), "b": 0.5, "c": 0.0}


# ----------------------------------------------------------------------------- the 2022 report, end to end


def test_2022_eve_scores_match_a_straightforward_computation(backtest_run):
    section = backtest.scores(backtest_run)
    table = section.values["scores"].set_index("lead_days")
    got = table.loc[1]
    assert got["as_of"] == "2022-10-31"  # the eve: the report's own as_of, so its own simulation
    raw = rows("data/knesset/results/2022-11-01.csv")
    total = sum(int(r["votes"]) for r in raw)
    seats = {r["list"]: int(r["seats"]) for r in raw}
    cleared = {r["list"]: int(r["votes"]) / total * 100 >= 3.25 for r in raw}
    summary = backtest_run.result.summary.set_index("party")  # the report's simulated probabilities
    polled = [p for p in summary.index if p in seats]  # the polled lists that ran (2022: no merged columns)
    assert section.values["events"] == got["lists"] == len(polled) == len(summary)
    n = len(polled)
    probs = {p: float(summary.at[p, "p_pass"]) for p in polled}
    brier = sum((probs[p] - cleared[p]) ** 2 for p in polled) / n
    logs = sum(-math.log(min(max(probs[p] if cleared[p] else 1 - probs[p], 1e-6), 1 - 1e-6)) for p in polled) / n
    assert got["brier"] == pytest.approx(brier, abs=1e-12)
    assert got["log_score"] == pytest.approx(logs, abs=1e-12)

    # the baselines from the raw polls file: the seven days up to 2022-10-31
    week = [r for r in rows("data/polls/knesset-2022.csv") if "2022-10-25" <= r["date"] <= "2022-10-31"]
    listed: dict[str, list[float]] = {}
    for r in week:
        listed.setdefault(r["party"], []).append(float(r["seats"]))
    average = {p: (1.0 if p in listed and sum(listed[p]) / len(listed[p]) >= 3.25 * 120 / 100 else 0.0)
               for p in polled}
    share = {p: (sum(s > 0 for s in listed[p]) / len(listed[p]) if p in listed else 0.0) for p in polled}
    for name, forecast in (("average_call", average), ("share_with_seats", share)):
        assert got[f"{name}_brier"] == pytest.approx(sum((forecast[p] - cleared[p]) ** 2 for p in polled) / n)
        clipped = {p: min(max(forecast[p], 1e-6), 1 - 1e-6) for p in polled}
        assert got[f"{name}_log_score"] == pytest.approx(
            sum(-math.log(clipped[p] if cleared[p] else 1 - clipped[p]) for p in polled) / n)

    # coverage and width of the 90% ranges over the polled lists, by hand from the summary's 5% and 95% seats
    inside = sum(summary.at[p, "seats_p05"] <= seats[p] <= summary.at[p, "seats_p95"] for p in polled)
    width = sum(summary.at[p, "seats_p95"] - summary.at[p, "seats_p05"] for p in polled) / n
    assert got["coverage"] == pytest.approx(inside / n)
    assert got["width"] == pytest.approx(width)

    # the record carries the eve's numbers under the old keys, and every lead time under scores_by_days_before
    out = backtest.record(backtest_run)["outputs"]
    assert out["brier_model"] == round(brier, 4) and out["log_score_model"] == round(logs, 4)
    assert out["coverage_90"] == round(inside / n, 4) and out["width_90"] == round(width, 4)
    assert out["brier_baseline_average"] == round(got["average_call_brier"], 4)
    assert out["error_model"] == "historical" and out["extra_poll_error"] == 0
    by = out["scores_by_days_before"]
    assert set(by) == {"1", "7", "28"}
    for lead, r in table.iterrows():
        assert by[str(lead)]["brier_model"] == round(r["brier"], 4)
        assert by[str(lead)]["brier_baseline_polls"] == round(r["share_with_seats_brier"], 4)


def test_2022_earlier_lead_times_use_only_the_polls_published_by_then(backtest_run):
    table = backtest.scores(backtest_run).values["scores"].set_index("lead_days")
    assert table.loc[7, "as_of"] == "2022-10-25" and table.loc[28, "as_of"] == "2022-10-04"
    # the polls pooled four weeks out: one per house among the polls published by 2022-10-04
    houses = {r["pollster"] for r in rows("data/polls/knesset-2022.csv") if r["date"] <= "2022-10-04"}
    assert 0 < table.loc[28, "polls"] <= len(houses)
    assert (table["lists"] == table.loc[1, "lists"]).all()


def test_2022_scores_section_shows_one_table_of_three_lead_times(backtest_run):
    section = backtest.scores(backtest_run)
    assert [i[0] for i in section.items] == ["say", "table"]
    frame, _ = section.of("table")[0]
    assert len(frame) == 3 and list(frame["Days before"]) == [1, 7, 28]
    for col in ("Brier: model", "Brier: final-week average", "Brier: share of polls", "Log: model"):
        assert col in frame.columns
    # the sentence says who beat whom as the numbers do
    text = section.of("say")[0]
    t = section.values["scores"]
    for score in ("brier", "log_score"):
        assert escaped(backtest.comparison(t, score)) in text
    for col, name in backtest.BASELINES.items():
        won = (t[f"{col}_brier"] - t["brier"] > backtest.LEVEL).any()
        assert ("beat " + name in backtest.comparison(t, "brier")) == won


def test_comparison_names_the_winner_at_each_lead_time():
    t = pd.DataFrame({"lead_days": [1, 7, 28], "brier": [0.02, 0.05, 0.05],
                      "average_call_brier": [0.05, 0.05, 0.01], "share_with_seats_brier": [0.03, 0.06, 0.07]})
    text = backtest.comparison(t, "brier")
    assert text == ("beat the final-week average's yes-or-no call on the eve and lost to it four weeks before "
                    "and was level with it a week before; it beat the share of final-week polls giving the list "
                    "seats at every lead time")


def test_2022_reliability_partitions_the_eve_calls(backtest_run):
    section = backtest.reliability(backtest_run)
    table = section.values["reliability"]
    summary = backtest_run.result.summary
    assert table["count"].sum() == len(summary)
    p = summary["p_pass"].to_numpy()
    assert section.values["sure"] == int(((p < 0.1) | (p >= 0.9)).sum())
    assert section.values["middle"] == len(p) - section.values["sure"]


def test_track_record_never_forecasts_an_election_with_a_model_fitted_on_it(backtest_run):
    section = backtest.track_record(backtest_run)
    t = section.values["track"]
    history = rows("data/model/elections.csv")
    assert sorted(set(t["election"])) == sorted(r["election"] for r in history)
    for r in t.itertuples():
        assert r.election[:4] not in r.fitted_on.split()
    assert section.values["fitted_on_own"] == []
    # the sentences name every election where an eve baseline beat the model, from the table's own numbers
    eve = t[t["lead_days"] == 1]
    text = " ".join(section.of("say"))
    for col in backtest.BASELINES:
        wins = sorted(eve.loc[eve[f"{col}_brier"] < eve["brier"] - backtest.LEVEL, "election"])
        assert sorted(section.values["baseline_wins"][col]) == wins
        for day in wins:
            assert escaped(day).removeprefix("<bdi>").removesuffix("</bdi>") in text
    out = backtest.record(backtest_run)["outputs"]["track_record"]
    assert out["elections"] == len(history) and set(out["pooled_by_days_before"]) >= {"1"}


def test_a_lead_time_the_polls_do_not_reach_is_skipped_and_said():
    with test_sections.at_root():
        run = backtest.prepare("data/polls/knesset-2013.csv", "data/knesset/results/2013-01-22.csv",
                               as_of="2013-01-21", threshold=2.0, agreements="data/knesset/agreements/2013-01-22.csv",
                               election="2013-01-22", draws=test_sections.DRAWS)
    first = min(r["date"] for r in rows("data/polls/knesset-2013.csv"))
    day = pd.Timestamp("2013-01-22")
    reached = [d for d in backtest.LEADS if (day - pd.Timedelta(days=d)).date().isoformat() >= first]
    section = backtest.scores(run)
    assert list(section.values["scores"]["lead_days"]) == reached
    skipped = [lead for lead, _ in section.values["skipped"]]
    assert skipped == [d for d in backtest.LEADS if d not in reached] and skipped
    assert escaped(first).removeprefix("<bdi>").removesuffix("</bdi>") in section.of("say")[0]
    assert set(backtest.record(run)["outputs"]["scores_by_days_before"]) == {str(d) for d in reached}
