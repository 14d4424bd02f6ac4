"""The bottom line of the threshold and coalition reports (issue 15): numbers in words, the answer from the
run's own numbers, what happened from the official count, and one projection across the two reports."""

from __future__ import annotations

import csv
import html
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT, at_root
from helpers.sections import coalitions, thresholds
from helpers.views import words

DRAWS = 3000
RESULTS_2022 = "data/knesset/results/2022-11-01.csv"


# ----------------------------------------------------------------------------------------- numbers in words


@given(st.floats(0, 1))
def test_natural_frequency_is_never_more_certain_than_the_number(p):
    text = words.natural_frequency(p)
    if text == "almost certain":
        assert p >= 0.995
    elif text == "almost no chance":
        assert p < 0.005
    else:
        k, n = (int(x) for x in text.removeprefix("about ").split(" in "))
        assert 0 < k < n and abs(k / n - p) <= max(0.05, 0.6 * p)   # "about 1 in 25" for 4%, "7 in 10" for 74%


@given(st.floats(0, 1))
def test_percent_never_rounds_to_a_certainty(p):
    text = words.percent(p)
    if 0 < p < 1:
        assert text not in ("0%", "100%")


def test_words_by_hand():
    assert words.chance(0.74) == "74% (about 7 in 10)"
    assert words.chance(0.04) == "4% (about 1 in 25)"
    assert words.percent(0.999) == "more than 99%" and words.percent(0.001) == "less than 1%"
    assert words.and_list(["a", "b", "c"]) == "a, b and c" and words.and_list(["a"]) == "a"


# --------------------------------------------------------------------------------------------- the answers


def official_2022():
    """list -> (share %, seats), from the official file, with the 3.25% threshold on all valid votes."""
    with open(ROOT / RESULTS_2022, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    total = sum(int(r["votes"]) for r in rows)
    return {r["list"]: (100 * int(r["votes"]) / total, int(r["seats"])) for r in rows}


@pytest.fixture(scope="module")
def threshold_run():
    with at_root():
        return thresholds.prepare("data/polls/knesset-2022.csv", threshold=3.25, draws=DRAWS,
                                  agreements="data/knesset/agreements/2022-11-01.csv", results=RESULTS_2022)


def test_threshold_answer_groups_the_lists_by_their_own_probabilities(threshold_run):
    run = threshold_run
    section = thresholds.answer(run)
    text = section.of("answer")[0]
    p = run.summary.set_index("party")["p_pass"]
    assert section.values["safe"] == int((p >= 0.98).sum()) and section.values["doubt"] == int(
        ((p >= 0.2) & (p < 0.8)).sum())
    toss = text.split("Toss\\-ups:**")[1].split("**Likely out")[0] if "Toss\\-ups" in text else \
        text.split("Toss-ups:**")[1].split("**Likely out")[0]
    for key in p[(p >= 0.2) & (p < 0.8)].index:
        assert run.names[key].replace("'", "&#x27;") in toss
    assert words.human_date(run.facts["as_of"]) in text


def test_threshold_answer_says_what_happened_from_the_official_count(threshold_run):
    run = threshold_run
    official = official_2022()
    missed = [k for k in run.summary["party"] if k in official and official[k][0] < 3.25]
    assert missed                                     # 2022: Meretz, Balad and The Jewish Home
    what = thresholds.answer(run).of("answer")[1]
    assert "What happened" in what
    for key in missed:
        assert run.names[key] in what
    biggest = max(official, key=lambda k: official[k][1])
    assert run.names[biggest] in what and str(official[biggest][1]) in what


def test_no_outcome_no_what_happened():
    with at_root():
        run = thresholds.prepare("data/polls/knesset-2022.csv", threshold=3.25, draws=500)
    assert len(thresholds.answer(run).of("answer")) == 1


def test_coalition_answer_from_the_paths_and_the_official_seats():
    with at_root():
        run = coalitions.prepare("data/scenarios/knesset-2022.yml", draws=DRAWS, results=RESULTS_2022)
    section = coalitions.answer(run)
    assert section.values["p_any"] == run.paths.p_any
    first, what = section.of("answer")
    assert words.percent(run.paths.p_any).replace("%", "\\%") in first
    official = official_2022()
    for name, members in run.sc.blocs.items():
        n = sum(official.get(m, (0, 0))[1] for m in members)
        assert f"{name} won {n} seats" in what.replace("\\", "")


# ------------------------------------------------------------------------------------------- one projection


@pytest.mark.slow
def test_threshold_and_coalition_reports_give_the_same_numbers(shipped_build):
    _, out = shipped_build
    a = json.loads((out / "thresholds.json").read_text(encoding="utf-8"))["outputs"]
    b = json.loads((out / "coalitions.json").read_text(encoding="utf-8"))["outputs"]
    assert a["p_pass"] == b["p_pass"] and len(a["p_pass"]) >= 10
    assert a["parliament"] == b["parliament"] and sum(a["parliament"].values()) == 120
    assert min(a["parliament"].values()) >= int(3.25 / 100 * 120)
    for name in ("thresholds", "coalitions"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        at = html.find('id="answer"')
        assert 0 < at < min(i for i in (html.find("<img"), html.find("<picture")) if i >= 0)
        assert html.count('id="answer"') == 1


def test_polls_in_this_average_lists_the_pool_folded(threshold_run):
    """One row per pooled poll (the newest of each house, counted from the raw file), weights summing to 100,
    "not given" exactly where the file gives no sample size; shown folded under its summary line."""
    run = threshold_run
    section = thresholds.polls_used(run)
    frame, options = section.of("table")[0]
    with open(ROOT / "data/polls/knesset-2022.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if "2022-10-15" <= r["date"] <= "2022-10-28"]
    newest = {}
    for r in rows:
        if r["date"] >= newest.get(r["pollster"], {}).get("date", ""):
            newest[r["pollster"]] = r
    assert sorted(frame["Pollster"]) == sorted(newest)
    assert abs(frame["Weight %"].sum() - 100) < 1e-9
    for r in frame.itertuples():
        given = newest[r.Pollster]["sample_size"]
        assert r._4 == (f"{int(given):,}" if given else "not given")
    assert options["collapsed"].startswith(f"Polls in this average ({len(newest)})")


@pytest.mark.slow
@pytest.mark.browser
def test_every_report_answers_on_its_first_screen(shipped_build, browser_context, tmp_path):
    """At 1280x800 every shipped report's answer box starts on the first screen, above every chart, and at
    390 px it is still the first thing after the title; screenshots of three reports at both widths are kept
    in the test's folder for a reader to look at."""
    from conftest import visit

    proc, out = shipped_build
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = sorted(p.stem for p in out.glob("*.json"))
    import yaml

    assert names == sorted(r["name"] for r in yaml.safe_load((ROOT / "reports.yml").read_text())["reports"])
    for width, height in ((1280, 800), (390, 844)):
        for name in names:
            page, errors, remote, dialogs = visit(browser_context, out / f"{name}.html")
            page.set_viewport_size({"width": width, "height": height})
            box = page.evaluate("""() => {
                const a = document.getElementById('answer');
                const imgs = [...document.querySelectorAll('img, svg, picture')]
                    .map(e => e.getBoundingClientRect().top);
                return a ? {top: a.getBoundingClientRect().top, text: a.innerText,
                            firstChart: Math.min(...imgs)} : null;
            }""")
            assert box is not None, name
            assert box["top"] < box["firstChart"], (name, box)
            if width == 1280:
                assert box["top"] < height, (name, box["top"])
            assert len(box["text"]) > 40 and any(ch.isdigit() for ch in box["text"]), name
            assert errors == [] and remote == [] and dialogs == []
            if name in ("thresholds", "coalitions", "leadership-2007-poll"):
                page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=False)
            page.close()


# ------------------------------------------------------------------------------------- since the last report


def test_since_last_names_the_chances_that_moved(threshold_run):
    """Against the last good build's p_pass: lists that moved by 5 points or more, new and dropped lists; a
    first build (nothing recorded) says nothing."""
    from helpers.core import series

    run = threshold_run
    now = run.summary.set_index("party")["p_pass"]
    try:
        series.set_previous({})
        assert len(thresholds.answer(run).of("answer")) == 2          # the answer and what happened
        before = {k: float(v) for k, v in now.items()}
        before["meretz"] = float(now["meretz"]) + 0.2                 # 20 points more in the last build
        before["labor"] = float(now["labor"]) + 0.01                  # 1 point: not worth a word
        before["gone_list"] = 0.5
        del before["balad"]
        series.set_previous({"as_of": "2022-10-04", "outputs": {"p_pass": before}})
        since = [t for t in thresholds.answer(run).of("answer") if "Since the last report" in t]
        assert len(since) == 1
        text = since[0].replace("\\", "").replace("&#58;", ":")
        assert "4 October 2022" in text and "Meretz" in text and "Labor" not in text
        assert "new: Balad" in text and "no longer listed: gone_list" in text
    finally:
        series.set_previous({})


@pytest.mark.slow
def test_the_pipeline_hands_the_last_good_build_to_the_next(tmp_path):
    """`ballotbook run` twice into one place: the second kernel sees the first build's as-of date and outputs
    (helpers.core.series), and the hidden cell that hands them over is not in the page."""
    from conftest import make_project, notebook_json, run_cli_process

    nb = notebook_json(("code", "from helpers import notebook\nfrom helpers.core import series\n"
                                "last = series.previous()\nprint('LAST', last.get('as_of'), last.get('outputs'))\n"
                                "notebook.record(as_of=day, outputs={'n': n})"),
                       parameters='day: "date" = "2020-01-01"\nn: "count 1..10" = 1')
    project = make_project(tmp_path / "p", "reports: []\n", {"t.ipynb": nb})
    target = tmp_path / "out" / "t.html"
    first = run_cli_process("run", "notebooks/t.ipynb", "-p", "n", "3", "-o", target, cwd=project)
    assert first.returncode == 0, first.stderr
    assert "LAST None None" in target.read_text(encoding="utf-8")
    second = run_cli_process("run", "notebooks/t.ipynb", "-p", "day", "2020-02-01", "-o", target, cwd=project)
    assert second.returncode == 0, second.stderr
    page = target.read_text(encoding="utf-8")
    assert "LAST 2020-01-01 {'n': 3}" in html.unescape(page)  # the text a reader sees, however it is escaped
    assert "set_previous" not in page and "_bb_series" not in page


def test_past_elections_are_marked_on_the_charts(threshold_run):
    """What happened is on the charts too: the official seats on the threshold report's seat ranges and the
    blocs' official seats on the coalition report's bloc chart, as their descriptions (alt text) say."""
    from helpers.views.charts.output import describe_figure

    official = official_2022()
    text = describe_figure(thresholds.seats(threshold_run).of("figure")[0])
    assert f"Likud {threshold_run.summary.set_index('party').loc['likud', 'seats_median']:.0f}" in text
    assert f"official seats {official['likud'][1]}" in text
    with at_root():
        run = coalitions.prepare("data/scenarios/knesset-2022.yml", draws=DRAWS, results=RESULTS_2022)
    text = describe_figure(coalitions.blocs(run).of("figure")[0])
    for name, members in run.sc.blocs.items():
        assert f"{name} wins" in text
        assert f"(official: {sum(official.get(m, (0, 0))[1] for m in members)})" in text
