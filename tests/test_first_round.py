"""The first-round report (notebooks/06_first_round.ipynb, helpers.sections.first_round) and the unordered runoff
pairs under it (helpers.models.runoffs).

The pairs are checked against a count of their own over the draws; the report's sentences against the official
round files in data/primaries; the built report (slow) as a reader gets it."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, assert_clean_error, at_root, run_cli
from helpers.core.errors import DataError
from helpers.models import runoffs, simulate
from helpers.sections import first_round
from helpers.views.tables import text as escaped

ROUND1 = "data/primaries/labor-2007-round1.csv"
ROUND2 = "data/primaries/labor-2007-round2.csv"
POLLS = "data/polls/labor-leadership.csv"



def counts(path: str) -> dict[str, int]:
    with open(ROOT / path, encoding="utf-8", newline="") as f:
        return {r["candidate"]: int(r["votes"]) for r in csv.DictReader(f)}


def sim_of(shares: np.ndarray, line: float) -> simulate.Simulation:
    """A Simulation of given draws (rows: shares 0-1 per candidate), each candidate reaching `line` percent."""
    parties = [f"c{i}" for i in range(shares.shape[1])]
    passed = shares * 100 >= line
    return simulate.Simulation(parties=parties, shares=shares, seats=None, passed=passed,
                               summary=simulate.summarise(parties, shares, passed, None), threshold=line,
                               total_seats=0, seed=0, sample_size=1000.0, poll_error=0.0)


# ------------------------------------------------------------------------------------ unordered runoff pairs


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 6), n=st.integers(1, 300),
       line=st.sampled_from([30.0, 40.0, 50.0, 101.0]))
def test_pairs_and_no_runoff_add_up_to_one_and_each_pair_is_counted_once(seed, k, n, line):
    shares = np.random.default_rng(seed).dirichlet(np.ones(k), size=n)
    sim = sim_of(shares, line)
    table = runoffs.runoff_pair_table(sim)
    assert table["probability"].sum() == pytest.approx(1.0)
    pairs = [frozenset((a, b)) for a, b in zip(table["first"], table["second"], strict=True)
             if a != runoffs.NO_RUNOFF]
    assert len(pairs) == len(set(pairs))  # {A, B} and {B, A} never both
    # a count of our own: in each draw where nobody reaches the line, the two largest shares
    expected = Counter()
    for row in shares:
        if not (row * 100 >= line).any():
            a, b = np.argsort(-row, kind="stable")[:2]
            expected[frozenset((f"c{a}", f"c{b}"))] += 1
    got = {p: round(q * n) for p, q in zip(pairs, table.loc[table["first"] != runoffs.NO_RUNOFF, "probability"],
                                          strict=True)}
    assert got == dict(expected)
    nobody = table.loc[table["first"] == runoffs.NO_RUNOFF, "probability"].sum()
    assert nobody == pytest.approx(1 - runoffs.p_runoff(sim))
    assert runoffs.p_runoff(sim) == pytest.approx(sum(expected.values()) / n)


def test_a_pair_led_by_either_candidate_is_one_row_where_the_ordered_table_has_two():
    # draws 0-2: A leads B; draws 3-4: B leads A; draw 5: A reaches the line
    shares = np.array([[0.38, 0.35, 0.27], [0.36, 0.34, 0.30], [0.39, 0.31, 0.30],
                       [0.33, 0.37, 0.30], [0.32, 0.38, 0.30], [0.45, 0.30, 0.25]])
    sim = sim_of(shares, 40.0)
    ordered = simulate.runoff_pairs(sim)
    assert len(ordered[ordered["first"] != "nobody"]) == 2
    table = runoffs.runoff_pair_table(sim)
    rows = table[table["first"] != runoffs.NO_RUNOFF]
    assert len(rows) == 1 and {rows.iloc[0]["first"], rows.iloc[0]["second"]} == {"c0", "c1"}
    assert rows.iloc[0]["probability"] == pytest.approx(5 / 6)
    assert table.iloc[-1]["first"] == runoffs.NO_RUNOFF and table.iloc[-1]["probability"] == pytest.approx(1 / 6)


def test_places_first_place_adds_up_to_one_and_runoff_places_to_two_per_runoff():
    shares = np.random.default_rng(7).dirichlet([5, 4, 2, 1], size=500)
    sim = sim_of(shares, 40.0)
    places = runoffs.places(sim)
    assert places["p_first"].sum() == pytest.approx(1.0)
    assert places["p_runoff_place"].sum() == pytest.approx(2 * runoffs.p_runoff(sim))
    leader = np.argmax(shares, axis=1)
    assert places.loc[0, "p_first"] == pytest.approx((leader == 0).mean())
    assert list(places["p_pass"]) == pytest.approx(list((shares * 100 >= 40).mean(axis=0)))


# ------------------------------------------------------------------------------------------- the sections


@pytest.fixture(scope="module")
def run():
    with at_root():
        return first_round.prepare(POLLS, draws=2000, round1=ROUND1, round2=ROUND2)


@pytest.fixture(scope="module")
def ahead():
    with at_root():
        return first_round.prepare(POLLS, draws=2000)


def test_the_answer_names_the_real_round_one_leader_and_says_there_was_a_runoff(run):
    r1, r2 = counts(ROUND1), counts(ROUND2)
    total = sum(r1.values())
    leader, second = sorted(r1, key=r1.get, reverse=True)[:2]
    assert 100 * r1[leader] / total < 40  # the file's own count: nobody reached the line
    parts = first_round.answer(run).of("answer")
    assert len(parts) == 2 and parts[1].startswith("What happened")  # the model's call, then the count
    text = " ".join(parts)
    assert escaped(leader) in text and escaped(f"{100 * r1[leader] / total:.1f}%") in text
    assert escaped(second) in text and "there was a runoff" in text
    winner = max(r2, key=r2.get)
    assert escaped(f"{100 * r2[winner] / sum(r2.values()):.1f}%") in text and escaped(winner) in text
    # the model's own numbers: P(runoff) from the draws, and no "outright winner" when none is likely
    assert first_round.answer(run).values["p_runoff"] == pytest.approx(1 - run.result.passed.any(axis=1).mean())
    if run.result.passed.mean(axis=0).max() < 0.5:
        assert "outright winner" not in text
    assert "in 10" in text or "in 100" in text  # a natural frequency
    assert first_round.answer(run).values["official_leader"] == leader


def test_without_round_files_the_answer_is_the_model_only(ahead):
    parts = first_round.answer(ahead).of("answer")
    assert len(parts) == 1
    text = parts[0]
    assert "What happened" not in text and "runoff" in text
    assert first_round.happened(ahead).of("table") == []
    assert "official_round1" not in first_round.record(ahead)["outputs"]


def test_the_pair_in_the_answer_is_the_likeliest_unordered_pair(run):
    top = first_round.answer(run).values["pair"]
    # a count of our own over the report's draws
    runoff = ~run.result.passed.any(axis=1)
    lead = np.argsort(-run.result.shares[runoff], axis=1, kind="stable")[:, :2]
    pairs = Counter(frozenset((run.result.parties[a], run.result.parties[b])) for a, b in lead)
    best, n = pairs.most_common(1)[0]
    assert frozenset(top[:2]) == best and top[2] == pytest.approx(n / run.result.draws)


def test_what_happened_sets_the_official_shares_beside_the_model(run):
    r1 = counts(ROUND1)
    total = sum(r1.values())
    section = first_round.happened(run)
    frame, _ = section.of("table")[0]
    assert list(frame["Candidate"]) == sorted(r1, key=r1.get, reverse=True)
    for r in frame.itertuples():
        assert r[4] == f"{100 * r1[r.Candidate] / total:.1f}%"
    summary = run.summary.set_index("party")
    inside = sum(summary.loc[c, "share_p05"] <= 100 * v / total <= summary.loc[c, "share_p95"]
                 for c, v in r1.items() if c in summary.index)
    assert section.values["inside"] == inside
    out = first_round.record(run)["outputs"]
    assert out["official_round1"] == {c: round(100 * v / total, 2) for c, v in r1.items()}
    assert out["official_outcome"] == "runoff"


def test_the_polls_table_lists_every_poll_and_keeps_exit_polls_out_of_the_average(run):
    with open(ROOT / POLLS, encoding="utf-8", newline="") as f:
        raw = [r for r in csv.DictReader(f) if r["question"] == run.asked]
    frame, _ = first_round.overview(run).of("table")[0]
    assert len(frame) == len({r["poll_id"] for r in raw})
    exits = {r["poll_id"] for r in raw if "exit" in r["poll_type"]}
    assert (frame["In the average"] == "no: exit poll").sum() == len(exits)
    assert frame["In the average"].str.startswith("yes").sum() == run.average.n_polls


def test_reader_tables_use_display_words(run):
    for section in (first_round.candidates(run), first_round.runoff_pairs(run), first_round.happened(run)):
        frame, _ = section.of("table")[0]
        assert not any("_" in c for c in frame.columns)
        cells = frame.astype(str).to_numpy().ravel()
        assert not any(v in ("<NA>", "nan", "True", "False", "-0.0") for v in cells)
    pairs = first_round.runoff_pairs(run)
    assert pairs.values["total"] == pytest.approx(1.0)


def test_no_parliament_wording_in_any_section(run):
    prose = []
    for fn in ("answer", "overview", "runoff_pairs", "candidates", "happened", "method", "this_run"):
        section = getattr(first_round, fn)(run)
        prose += section.of("say") + section.of("answer")
        prose += [" ".join(map(str, f.columns)) + " " + " ".join(f.astype(str).to_numpy().ravel())
                  for f, _ in section.of("table")]
    words = " ".join(prose).lower()
    assert "seat" not in words and "parliament" not in words


# -------------------------------------------------------------------------------------- the built report


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.slow
def test_labor_first_round_builds_as_its_own_report(shipped_build):
    proc, out = shipped_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = (out / "labor-first-round.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "labor-first-round.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok" and manifest["notebook"].endswith("06_first_round.ipynb")
    first_image = min(i for i in (page.find("<img"), page.find("<picture"), page.find("<svg")) if i >= 0)
    assert 0 <= page.find('id="answer"') < first_image
    r1, r2 = counts(ROUND1), counts(ROUND2)
    total = sum(r1.values())
    text = visible_text(page)
    leader = max(r1, key=r1.get)
    assert f"{leader} led round one with {100 * r1[leader] / total:.1f}%" in re.sub(r"\s+", " ", text)
    for candidate, votes in r1.items():
        assert f"{100 * votes / total:.1f}%" in text, candidate
    assert not re.search(r"parliament|\bseats?\b", text, flags=re.I)
    out = manifest["outputs"]
    assert out["line"] == 40.0 and "seats_median" not in out
    assert out["official_round1"] == {c: round(100 * v / total, 2) for c, v in r1.items()}
    assert out["official_runoff"] == {c: round(100 * v / sum(r2.values()), 2) for c, v in r2.items()}
    pairs = [frozenset(p["pair"]) for p in out["runoff_pairs"]]
    assert len(pairs) == len(set(pairs))
    assert sum(p["probability"] for p in out["runoff_pairs"]) == pytest.approx(out["p_runoff"], abs=1e-3)
    assert max(out["p_pass"].values()) < 0.5  # the 2007 polls pointed to a runoff, as it was
    assert set(manifest["parameters"]) >= {"round1", "round2", "line"}


def test_the_chance_chart_marks_the_official_round_one_share(run, ahead):
    from helpers.views.charts.output import describe_figure

    r1 = counts(ROUND1)
    total = sum(r1.values())
    section = first_round.chances(run)
    assert section.values["marked"] == pytest.approx({c: 100 * v / total for c, v in r1.items()})
    words = describe_figure(section.of("figure")[0])
    leader = max(r1, key=r1.get)
    assert f"Official round one: {leader} {100 * r1[leader] / total:.1f}%" in words
    assert first_round.chances(ahead).values["marked"] == {}
    assert "Official" not in describe_figure(first_round.chances(ahead).of("figure")[0])


def test_the_polls_table_links_each_poll_to_its_source(run):
    from helpers.views.tables import to_html

    frame, options = first_round.overview(run).of("table")[0]
    with open(ROOT / POLLS, encoding="utf-8", newline="") as f:
        urls = {r["source_url"] for r in csv.DictReader(f) if r["question"] == run.asked and r["source_url"]}
    assert set(frame["Source"]) == urls and options["links"] == ["Source"]
    page = to_html(frame, **options)
    assert all(f'href="{html.escape(u, quote=True)}"' in page for u in urls)


@pytest.mark.parametrize("line", [40.0, 36.0, 30.0])
def test_the_answer_says_when_the_model_did_not_expect_the_runoff_that_happened(line):
    with at_root():
        run = first_round.prepare(POLLS, line=line, draws=2000, round1=ROUND1)
    r1 = counts(ROUND1)
    top = max(r1.values()) / sum(r1.values()) * 100
    text = " ".join(first_round.answer(run).of("answer"))
    expected_runoff = (~run.result.passed.any(axis=1)).mean()  # our own count over the draws
    assert ("gave a runoff only" in text) == (top < line and expected_runoff < 0.5)
    assert ("there was a runoff" in text) == (top < line)
    assert ("won round one outright" in text) == (top >= line)


@pytest.mark.parametrize("name, value, needle", [("line", "100", "parameter 'line'"), ("line", "0", "parameter 'line'"),
                                                 ("round1", "data/nope.csv", "does not exist")])
def test_bad_parameters_stop_before_any_kernel(name, value, needle, tmp_path, kernel_starts):
    proc = run_cli("run", "notebooks/06_first_round.ipynb", "-p", name, value, "-o", tmp_path / "x.html")
    assert_clean_error(proc, needle)
    assert kernel_starts == []


def test_a_runoff_of_another_contest_is_refused():
    with at_root(), pytest.raises(DataError, match="did not stand in round one"):
        first_round.prepare(POLLS, draws=100, round1=ROUND1, round2="data/primaries/labor-2011-round2.csv")
