"""Issue 18 (no cliffs), the page of a file of thousands of polls: the table of the polls in the average lists
those that weigh most (at most views.polls.TABLE_POLLS) and counts the others, the house effects table the
pollsters with the most polls (TABLE_POLLSTERS), and a panel of very many dots, drawn as a picture, keeps few
colours; so the thresholds report on 100x the 2022 polls stays a page a reader can take in, under 250 KB."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import urllib.parse
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import ROOT, run_cli_process
from helpers.sections import polls_in_average
from helpers.views import polls as poll_views
from helpers.views.charts import output

PAGE_LIMIT = 250_000


def average_of(weights: list[float], days: list[int]) -> tuple[SimpleNamespace, pd.DataFrame]:
    """A stand-in for a poll of polls' weights (the only part polls_used_table reads) and its polls table."""
    ids = [f"p{i}" for i in range(len(weights))]
    dates = [pd.Timestamp("2022-10-01") + pd.Timedelta(days=d) for d in days]
    total = sum(weights)
    w = pd.DataFrame({"poll_id": ids, "date": dates, "pollster": [f"House {i % 5}" for i in range(len(ids))],
                      "weight_share": [x / total for x in weights]})
    polls = pd.DataFrame({"poll_id": ids, "sample_size": [600] * len(ids), "media": ["Paper"] * len(ids),
                          "source": [""] * len(ids)})
    return SimpleNamespace(weights=w), polls


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 1000), st.integers(0, 30)), min_size=1, max_size=120),
       st.integers(1, 50))
def test_the_polls_listed_are_those_that_weigh_most_newest_first(polls, limit):
    average, table = average_of([float(w) for w, _ in polls], [d for _, d in polls])
    frame = poll_views.polls_used_table(average, table, limit=limit)
    everything = poll_views.polls_used_table(average, table)
    assert len(everything) == len(polls) and everything.attrs["not_listed"] == 0
    assert len(frame) == min(limit, len(polls))
    assert frame.attrs["not_listed"] == len(polls) - len(frame)
    assert list(frame["Published"]) == sorted(frame["Published"], reverse=True)  # newest first, as before
    if frame.attrs["not_listed"]:
        # no poll left out weighs more than one listed
        listed = frame["Weight %"].min()
        left_out = everything["Weight %"].sum() - frame["Weight %"].sum()
        assert frame.attrs["weight_not_listed"] * 100 == pytest.approx(left_out)
        heaviest = sorted(everything["Weight %"], reverse=True)
        assert listed == pytest.approx(heaviest[len(frame) - 1])
    else:
        assert frame.attrs["weight_not_listed"] == 0


def test_the_house_effects_listed_are_the_pollsters_with_the_most_polls():
    rows = [{"pollster": f"H{i:02d}", "party": party, "house_effect": 0.1 * i, "polls": 3 + i % 4}
            for i in range(30) for party in ("x", "y")]
    effects = pd.DataFrame(rows)
    full = poll_views.house_effects_table(effects, ["x", "y"], min_polls=3)
    top = poll_views.house_effects_table(effects, ["x", "y"], min_polls=3, limit=10)
    assert len(full) == 30 and full.attrs["not_listed"] == 0
    assert len(top) == 10 and top.attrs["not_listed"] == 20
    most = sorted((-(3 + i % 4), f"H{i:02d}") for i in range(30))[:10]
    assert sorted(top["pollster"]) == sorted(name for _, name in most)
    assert top.columns.tolist() == ["pollster", "polls", "x", "y"]


def test_a_short_pool_is_listed_whole_without_a_word_more():
    average, table = average_of([1.0, 2.0, 3.0], [0, 1, 2])
    section = polls_in_average(average, table, "data/polls.csv")
    assert section.of("say") == []
    frame, options = section.of("table")[0]
    assert len(frame) == 3 and options["collapsed"].startswith("Polls in this average (3)")
    assert section.values == {"polls": 3, "listed": 3}


def test_a_long_pool_says_how_many_are_not_listed_and_where_they_are():
    n = poll_views.TABLE_POLLS + 25
    average, table = average_of([1.0] * n, list(range(n)))
    section = polls_in_average(average, table, "data/polls/many.csv")
    said = section.of("say")[0]  # Markdown, each value escaped and isolated (<bdi>)
    assert f"pools **<bdi>{n}</bdi>** polls" in said and "The other **<bdi>25</bdi>** together" in said
    assert "data\\/polls\\/many\\.csv" in said and "<bdi>38\\%</bdi> of its weight" in said  # 25 of 65 equal
    frame, options = section.of("table")[0]
    assert len(frame) == poll_views.TABLE_POLLS
    assert options["collapsed"].startswith(f"Polls in this average (the {poll_views.TABLE_POLLS} that weigh most)")
    assert section.values == {"polls": n, "listed": poll_views.TABLE_POLLS}


# ------------------------------------------------------------------------------------ a picture of dots


def dots_figure(n: int):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    fig, ax = plt.subplots(figsize=(4, 3))
    colours = np.array([[0.1, 0.4, 0.7, 1], [0.8, 0.3, 0.1, 1], [0.2, 0.6, 0.2, 1], [0.5, 0.2, 0.6, 1]])
    ax.scatter(rng.uniform(0, 1, n), rng.normal(0.5, 0.1, n), s=14, c=colours[rng.integers(0, 4, n)],
               alpha=0.85, linewidths=0, rasterized=True)
    ax.set_title("Many dots")
    return fig


def pictures(svg: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r"data:image/png;base64, ?([A-Za-z0-9+/=\s]+)", svg)]


def test_a_picture_of_many_dots_keeps_few_colours_and_looks_the_same():
    import matplotlib.pyplot as plt

    fig = dots_figure(3000)
    try:
        raw = io.StringIO()
        fig.savefig(raw, format="svg")
        page = output.svg_text(fig)
    finally:
        plt.close(fig)
    (before,), (after,) = pictures(raw.getvalue()), pictures(page)
    assert len(after) < 0.6 * len(before)
    with Image.open(io.BytesIO(before)) as a, Image.open(io.BytesIO(after)) as b:
        assert b.mode == "P" and a.size == b.size
        x = np.asarray(a.convert("RGBA"), dtype=float)
        y = np.asarray(b.convert("RGBA"), dtype=float)
    white = np.array([255.0, 255, 255])

    def on_white(p):
        return p[..., :3] * p[..., 3:] / 255 + white * (1 - p[..., 3:] / 255)

    assert np.abs(on_white(x) - on_white(y)).mean() < 8.0  # of 255 (3%): the same to the eye


@pytest.mark.parametrize("uri", ["data:image/png;base64,bm90IGEgcGljdHVyZQ==", "data:image/png;base64,%%%"])
def test_a_picture_that_cannot_be_read_is_left_as_it_is(uri):
    assert output._smaller_png(uri) == uri


# ------------------------------------------------------------------------------------ the whole page


def write_copies(src, dst, copies: int) -> int:
    """`copies` copies of every poll of `src` into `dst` (copy 0 is the file itself), each further copy a
    pollster of its own, 0-3 days earlier within the file's range, with its own poll ids; the number of polls.
    (benchmarks/bench_scale_polls.py uses this one too.)"""
    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    first = min(dt.date.fromisoformat(r["date"]) for r in rows)
    with open(dst, "w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        for c in range(copies):
            for r in rows:
                r = dict(r)
                if c:
                    r["date"] = max(dt.date.fromisoformat(r["date"]) - dt.timedelta(days=c % 4), first).isoformat()
                    r["poll_id"] = f"{r['poll_id']}-x{c}"
                    r["pollster"] = f"{r['pollster']} {c}"
                out.writerow(r)
    return copies * len({r["poll_id"] for r in rows})


@pytest.mark.slow
def test_the_thresholds_report_on_100x_the_polls_is_a_page_under_250_kb(tmp_path):
    polls = tmp_path / "polls.csv"
    assert write_copies(ROOT / "data/polls/knesset-2022.csv", polls, 100) == 4900
    page = tmp_path / "many.html"
    proc = run_cli_process("run", "notebooks/01_poll_thresholds.ipynb", "-p", "polls", polls, "-o", page,
                           timeout=600)
    assert proc.returncode == 0, proc.stderr
    body = page.read_bytes()
    assert len(body) < PAGE_LIMIT, len(body)
    text = body.decode("utf-8")
    assert "too many to list one by one" in text and str(polls) in text
    assert re.search(r"the 20 pollsters with the most polls, [\d,]+ others with three or more not listed", text)
    assert text.count("<tr") < 120  # the tables list the most telling rows, not thousands
    # the poll-of-polls chart draws its dots as pictures of few colours, in both renderings
    for uri in re.findall(r'(?:src|srcset)="(data:image/svg\+xml,[^"]+)"', text):
        svg = urllib.parse.unquote(uri[len("data:image/svg+xml,"):])
        for png in pictures(svg):
            with Image.open(io.BytesIO(png)) as picture:
                assert picture.mode == "P"
