"""The timeline report at scale: 10,000 events stay readable and small (the chart counts them, the table is
summarised, every cap is said in words), the shipped events are shown as before (nothing capped), and the counts
add up (property tests of :func:`helpers.models.timeline.aggregate`)."""

from __future__ import annotations

import csv
import random
import shutil
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

from conftest import ROOT, at_root, run_cli_process  # noqa: E402
from helpers.models import timeline as model  # noqa: E402
from helpers.sections import timeline  # noqa: E402

N = 10_000
ACTORS = [f"Actor {i:02d}" for i in range(30)]
KINDS = ["election", "primary", "cabinet", "party", "court", "poll", "scandal"]
#: The page budget of every report (the issue's own was 1.5 MB), and a figure height a desktop or a phone can
#: still scroll (inches).
MAX_HTML = 250_000
MAX_FIGURE_INCHES = 16.0


def generate_events(path: Path, n: int = N, seed: int = 20) -> Path:
    """A seeded events file of `n` events over 2000-2023 among 30 actors (a few named far more often), seven
    kinds, one in ten known only to the year and one in seven only to the month, every event with its own
    source."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(ACTORS))]
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["date", "date_precision", "date_note", "actors", "category", "label", "description",
                      "source"])
        for i in range(n):
            year, month, day = rng.randint(2000, 2023), rng.randint(1, 12), rng.randint(1, 28)
            r = rng.random()
            date, precision = ((f"{year}", "year") if r < 0.1 else (f"{year}-{month:02d}", "month") if r < 0.24
                               else (f"{year}-{month:02d}-{day:02d}", "day"))
            names = list(dict.fromkeys(rng.choices(ACTORS, weights, k=rng.choice([1, 1, 2, 3]))))
            out.writerow([date, precision, "approximate" if rng.random() < 0.03 else "", "; ".join(names),
                          rng.choice(KINDS), f"Event {i}", f"Something numbered {i} happened.",
                          f"https://example.org/events/{i}"])
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = generate_events(tmp_path_factory.mktemp("scale") / "events-10k.csv")
    with at_root():
        return timeline.prepare(str(path), focus_start="2007-01", focus_end="2008-12")


@pytest.fixture(scope="module")
def shipped():
    with at_root():
        return timeline.prepare("data/events.csv", focus_start="2007-01", focus_end="2008-12")


def _prose(section) -> str:
    """The section's prose as a reader sees it (escapes and isolation marks of :func:`tables.markdown` off)."""
    import re

    text = " ".join(section.of("say") + section.of("answer"))
    return re.sub(r"\\(.)", r"\1", text.replace("<bdi>", "").replace("</bdi>", ""))


def _close(section) -> None:
    import matplotlib.pyplot as plt

    for fig in section.of("figure"):
        plt.close(fig)


# --- 10,000 events --------------------------------------------------------------------------------------------

def test_the_whole_period_is_counted_and_the_latest_drawn(big):
    assert len(big.shown) == N
    section = timeline.whole_period(big)
    counted, latest = section.of("figure")
    text = _prose(section)
    assert "10,000" in text and f"{N - model.RECENT_EVENTS:,}" in text
    assert f"**{model.RECENT_EVENTS}** most recent" in text
    for fig in (counted, latest):
        assert fig.get_size_inches()[1] <= MAX_FIGURE_INCHES
    # Bounded drawing: the counts are one mesh and one collection of bars, a number per cell and per bar.
    heat, bars = counted.axes
    assert len(heat.collections) == 1 and len(bars.collections) == 1 and not bars.patches
    assert len(heat.texts) <= model.MAX_PERIODS * len(heat.get_xticks())
    assert len(bars.texts) <= model.MAX_PERIODS
    assert len(latest.bb_labels) == model.RECENT_EVENTS
    # The bars are the events of each year: all 10,000 of them, whatever the year of each.
    years = big.shown["start"].dt.year
    assert [int(t.get_text().replace(",", "")) for t in bars.texts] == years.value_counts().sort_index().tolist()
    _close(section)


def test_the_closer_look_is_counted_by_month(big):
    section = timeline.closer_look(big)
    focus = big.all_events[(big.all_events["end"] >= "2007-01-01") & (big.all_events["start"] <= "2008-12-31")]
    assert section.values["events"] == len(focus) > model.DRAWN_EVENTS
    counted, latest = section.of("figure")
    assert counted.get_size_inches()[1] <= MAX_FIGURE_INCHES
    assert "per month" in _prose(section)
    # An event known only to "2006" that overlaps nothing in 2007 is not here; one known only to "2007" is,
    # counted in January 2007.
    assert counted.axes[0].get_yticklabels()[0].get_text() == "Jan 2007"
    _close(section)


def test_the_table_is_summarised_and_says_what_it_leaves_out(big):
    section = timeline.event_table(big)
    tables = [frame for frame, _ in section.of("table")]
    by_actor, by_kind, first, latest = tables
    assert len(first) == len(latest) == model.TABLE_EDGE
    assert first["#"].tolist() == list(range(1, model.TABLE_EDGE + 1))
    assert latest["#"].tolist() == list(range(N - model.TABLE_EDGE + 1, N + 1))
    assert f"{N - 2 * model.TABLE_EDGE:,}" in _prose(section) and "events file" in _prose(section)
    assert sorted(by_kind["Kind"]) == sorted(KINDS) and by_kind["Events"].sum() == N
    named = pd.Series([a for names in big.shown["actors"] for a in names]).value_counts()
    assert dict(zip(by_actor["Actor"], by_actor["Events"], strict=True)) == {a: named[a] for a in by_actor["Actor"]}
    assert len(by_actor) == min(model.TABLE_NAMES, len(named))


def test_the_answer_and_the_sources_are_bounded(big):
    answer = _prose(timeline.answer(big))
    assert "**10,000** events" in answer
    assert f"the {timeline.ANSWER_YEARS} most recent years" in answer and "not listed" in answer
    sources = timeline.record(big)["sources"]
    assert len(sources) <= 2 * model.TABLE_EDGE + 2
    assert f"{N - 2 * model.TABLE_EDGE:,} more sources" in sources[-2]


# --- the shipped events: nothing capped -------------------------------------------------------------------------

def test_the_shipped_events_are_shown_one_by_one(shipped):
    count = len(shipped.shown)
    assert count <= model.DRAWN_EVENTS and count <= model.TABLE_EVENTS
    whole = timeline.whole_period(shipped)
    (fig,) = whole.of("figure")
    assert len(fig.bb_labels) == count and "most recent" not in _prose(whole)
    closer = timeline.closer_look(shipped)
    (fig2,) = closer.of("figure")
    assert len(fig2.bb_labels) == closer.values["events"]
    ((table, options),) = timeline.event_table(shipped).of("table")
    assert len(table) == count and options["caption"] == f"{count} events"
    answer = _prose(timeline.answer(shipped))
    assert "not listed" not in answer
    record = timeline.record(shipped)
    assert not any("more sources" in s for s in record["sources"])
    assert len(record["sources"]) == shipped.shown["source"].replace("", np.nan).nunique() + 1
    _close(whole)
    _close(closer)


# --- the counts add up --------------------------------------------------------------------------------------------

@st.composite
def event_frames(draw):
    n = draw(st.integers(1, 80))
    first = draw(st.integers(1900 * 12, 2030 * 12))
    spread = draw(st.sampled_from([0, 5, 40, 400, 4000]))
    months = [first + draw(st.integers(0, spread)) for _ in range(n)]
    pool = ["A", "B", "C", "D", "E", "F"]
    actors = [tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))) for _ in range(n)]
    kinds = [draw(st.sampled_from(["x", "y", "z"])) for _ in range(n)]
    starts = [pd.Timestamp(year=m // 12, month=m % 12 + 1, day=draw(st.integers(1, 28))) for m in months]
    frame = pd.DataFrame({"row": range(2, n + 2), "date": [f"{s:%Y-%m-%d}" for s in starts], "start": starts,
                          "end": starts, "precision": "day", "date_note": "", "actors": actors,
                          "category": kinds, "label": "e", "description": "e", "source": ""})
    lanes = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    most = draw(st.integers(1, 60))
    return model.select(frame), lanes, most


@settings(max_examples=50, deadline=None)
@given(event_frames())
def test_counts_add_up_per_actor_and_per_period(case):
    events, lane_actors, most = case
    lane_rows = model.lanes(events, lane_actors)
    counts = model.aggregate(events, lane_rows, most)
    # Every event once in the totals and in the kinds, each in the period its start falls in.
    assert int(counts.total.sum()) == len(events) == int(counts.categories.to_numpy().sum())
    assert len(counts.periods) <= most or counts.step == model.PERIODS[-1][0]
    assert np.all(np.diff(counts.periods) == counts.step)
    month = events["start"].dt.year * 12 + events["start"].dt.month - 1
    for i, p in enumerate(counts.periods):
        inside = (month >= p) & (month < p + counts.step)
        assert counts.total.iloc[i] == inside.sum()
        assert counts.categories.iloc[i].to_dict() == {
            k: int((inside & (events["category"] == k)).sum()) for k in counts.categories.columns}
        for actor in lane_actors:
            if actor in counts.lanes.columns:
                assert counts.lanes[actor].iloc[i] == int((inside & events["actors"].map(
                    lambda names, a=actor: a in names)).sum())
    # Per actor over all periods: the events naming the actor; "Other actors": those naming no lane actor.
    for actor in lane_actors:
        naming = int(events["actors"].map(lambda names, a=actor: a in names).sum())
        assert int(counts.lanes.get(actor, pd.Series([0])).sum()) == naming
    none = int(events["actors"].map(lambda names: not set(names) & set(lane_actors)).sum())
    assert int(counts.lanes.get(model.OTHER, pd.Series([0])).sum()) == none


@settings(max_examples=60, deadline=None)
@given(st.integers(1000 * 12, 2500 * 12), st.integers(0, 3000), st.integers(1, 80))
def test_the_period_is_the_shortest_that_fits(first, span, most):
    lo = pd.Timestamp(year=first // 12, month=first % 12 + 1, day=1)
    last = first + span
    hi = pd.Timestamp(year=last // 12, month=last % 12 + 1, day=1)
    step, _ = model.period_months(lo, hi, most)
    def fits(s):
        return last // s - first // s + 1 <= most
    lengths = [s for s, _ in model.PERIODS]
    assert fits(step) or step == lengths[-1]
    assert not any(fits(s) for s in lengths if s < step)


# --- the page -----------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_10000_event_page_is_small(tmp_path):
    # a short path, as a project's own file has: the charts' source line then fits a phone, which gets its own
    # rendering of each chart (with pytest's long folder names the narrow count charts were given up: 68 KB less)
    short = Path(tempfile.mkdtemp(prefix="bbtl-", dir="/tmp"))
    try:
        events = generate_events(short / "events.csv")
        out = tmp_path / "timeline.html"
        proc = run_cli_process("run", ROOT / "notebooks/04_timeline.ipynb", "-p", "events", events, "-o", out)
    finally:
        shutil.rmtree(short, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = out.read_text(encoding="utf-8")
    assert page.count("<source ") == 2  # both count charts have their phone rendering
    assert len(page.encode("utf-8")) < MAX_HTML, len(page.encode("utf-8"))
    assert "10,000" in page and f"{N - model.RECENT_EVENTS:,}" in page and f"{N - 2 * model.TABLE_EDGE:,}" in page
    assert page.count("<figure") == 4
