"""Timeline model and chart: filtering, lanes, labels that never overlap, uncertain dates drawn as spans."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

from conftest import ROOT  # noqa: E402
from helpers import data  # noqa: E402
from helpers.models import timeline
from helpers.views.charts import timeline as chart  # noqa: E402


@pytest.fixture(scope="module")
def events():
    return data.load_events(ROOT / "data/events.csv")


def test_select_window_overlaps_partial_dates(events):
    shown = timeline.select(events, "2007-06", "2007-06")
    # Events on a day in June 2007, plus the one known only as "June 2007".
    assert set(shown["date"]) >= {"2007-06-03", "2007-06-12", "2007-06"}
    assert all(shown["start"] <= pd.Timestamp("2007-06-30")) and all(shown["end"] >= pd.Timestamp("2007-06-01"))
    assert shown["n"].tolist() == list(range(1, len(shown) + 1))
    # The year-precision 2008 event overlaps a window inside 2008.
    assert "2008" in set(timeline.select(events, "2008-03-01", "2008-03-31")["date"])


def test_select_by_actor_and_category_case_insensitive(events):
    shown = timeline.select(events, actors=["ami ayalon"], categories=["PRIMARY"])
    assert len(shown) > 0
    assert all("Ami Ayalon" in a for a in shown["actors"])
    assert set(shown["category"]) == {"primary"}


def test_main_actors_and_lanes(events):
    top = timeline.main_actors(events, 3)
    assert top[0] == "Amir Peretz"  # named in the most events
    lanes = timeline.lanes(timeline.select(events), top)
    # Every event has exactly one labelled lane; an event naming none of the actors goes to "Other actors".
    assert lanes.groupby("n")["first"].sum().eq(1).all()
    assert timeline.OTHER in set(lanes["lane"])


def _chart(events, **kw):
    shown = timeline.select(events, **kw)
    return shown, chart.timeline_chart(shown, timeline.lanes(shown, timeline.main_actors(shown, 5)),
                                       title="t", source="s")


def test_labels_never_overlap_on_the_full_set(events):
    shown, fig = _chart(events)
    assert len(fig.bb_labels) == len(shown) == 56
    assert chart.labels_overlap(fig) == []


def test_uncertain_dates_are_drawn_as_spans(events):
    from matplotlib.patches import Rectangle

    shown, fig = _chart(events, start="2007", end="2008")
    lanes = timeline.lanes(shown, timeline.main_actors(shown, 5))
    uncertain = set(shown.loc[shown["precision"] != "day", "n"])
    expected = int(lanes["n"].isin(uncertain).sum())
    rects = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert expected > 0 and len(rects) == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=60), st.floats(0.5, 5))
def test_dodge_keeps_order_and_spacing(wanted, spacing):
    wanted = sorted(wanted)
    got = chart.dodge(wanted, spacing, 0, 1e9)
    assert all(b - a >= spacing - 1e-9 for a, b in zip(got, got[1:], strict=False))
    assert all(g >= w - 1e-9 for g, w in zip(got, wanted, strict=False))
