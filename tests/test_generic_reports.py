"""The report notebooks are generic: they read the subject (seats, threshold, method, agreements, the party
registry, the body's name) from a rules file, and say nothing of the Knesset unless the rules say so. The
Dutch reports of reports.yml are built with the same notebooks as the Israeli ones (issue 17)."""

from __future__ import annotations

import html
import os
import re
from fractions import Fraction
from types import SimpleNamespace

import pytest
import yaml

from conftest import ROOT, at_root, rows
from helpers.core.errors import ParameterError
from helpers.data import load_votes
from helpers.models import backtest as backtest_model
from helpers.pipeline import index
from helpers.sections import backtest, subject, thresholds
from helpers.views import words

DUTCH_RULES = "data/tweede-kamer/rules.yml"
DUTCH_RESULTS = "data/tweede-kamer/results/2023-11-22.csv"
#: What a Dutch report must never say.
ISRAELI = ("Knesset", "Israel", "Israeli", "Bader-Ofer", "120 seats", "61 seats", "shekel")


def page_text(path) -> str:
    """A built page's visible text, one space between words (scripts and styles left out)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def plain(markdown: str) -> str:
    """A section's escaped Markdown as the words a reader sees."""
    return re.sub(r"\\(.)", r"\1", re.sub(r"</?bdi>|\*\*", "", markdown))


def dutch_reports() -> dict[str, dict]:
    """The reports of reports.yml run under the Dutch rules, by name."""
    config = yaml.safe_load((ROOT / "reports.yml").read_text(encoding="utf-8"))
    return {r["name"]: r for r in config["reports"] if (r.get("parameters") or {}).get("rules") == DUTCH_RULES}


# ------------------------------------------------------------------------------------------ the rules, read


def test_the_subject_comes_from_the_rules_and_a_parameter_overrides_it():
    with at_root():
        dutch = subject(DUTCH_RULES)
        knesset = subject("")  # the project's default subject
        custom = subject(DUTCH_RULES, seats=100, threshold="2 quotas")
    assert (dutch.seats, dutch.majority, dutch.threshold, dutch.agreements_method) == (150, 76, Fraction(2, 3), None)
    assert dutch.threshold_text == "1/150 of the valid votes (one full quota)"
    assert words.the_threshold(dutch.threshold_text) == "the threshold of 1/150 of the valid votes (one full quota)"
    assert (knesset.name, knesset.seats, knesset.line, knesset.agreements_method) == ("Knesset", 120, 3.25,
                                                                                      "bader-ofer")
    assert words.the_threshold(knesset.threshold_text) == "the 3.25% threshold"
    assert (custom.seats, custom.threshold) == (100, Fraction(2))
    with at_root(), pytest.raises(ParameterError, match="no surplus-vote agreements"):
        subject(DUTCH_RULES, agreements="data/knesset/agreements/2022-11-01.csv")


def test_the_seat_law_sentence_names_agreements_only_when_the_rules_have_them():
    with at_root():
        dutch, knesset = words.seat_law(subject(DUTCH_RULES)), words.seat_law(subject(""))
    assert "Tweede Kamer" in dutch and "150" in dutch and "D'Hondt" in dutch and "1/150" in dutch
    assert "agreement" not in dutch and "Bader" not in dutch
    assert "Knesset" in knesset and "Bader-Ofer" in knesset and "3.25%" in knesset


def test_the_threshold_report_says_what_the_polls_publish_from_the_data_and_the_rules():
    with at_root():
        shares = thresholds.prepare("tests/data/madeup/polls.csv", rules="tests/data/madeup/rules.yml", draws=200)
        seats = thresholds.prepare("data/polls/knesset-2022.csv", draws=200)
    said = plain(" ".join(thresholds.overview(shares).of("say")))
    assert "publish vote shares" in said and "Assembly of Freedonia" in said and "5%" in said
    assert "publish seats" not in said and "Knesset" not in said
    said = plain(" ".join(thresholds.overview(seats).of("say")))
    assert "publish seats, not vote shares" in said and "Knesset" in said


#: Two invented seats polls of the 150-seat house (made-up numbers, for the seats scale only).
INVENTED_POLLS = "tests/data/polls-invented-150-seats.csv"


def test_the_threshold_report_under_the_dutch_rules_reads_150_seat_polls_and_says_nothing_israeli():
    from matplotlib.text import Text

    with at_root():
        run = thresholds.prepare(INVENTED_POLLS, rules=DUTCH_RULES, results=DUTCH_RESULTS, draws=300)
    assert (run.seats, run.facts["seats_off"], run.result.method) == (150, 0, "dhondt")
    sections = [f(run) for f in (thresholds.answer, thresholds.overview, thresholds.poll_of_polls,
                                 thresholds.near_line, thresholds.verdict, thresholds.seats, thresholds.method)]
    text = " ".join([plain(m) for s in sections for m in s.of("say") + s.of("answer")]
                    + [t.get_text() for s in sections for fig in s.of("figure") for t in fig.findobj(Text)])
    assert "the threshold of 1/150 of the valid votes (one full quota)" in text
    assert "150 seats, threshold 1/150 of the valid votes" in text and "Tweede Kamer" in text
    for word in ISRAELI + ("Bader", "surplus", "120"):
        assert not re.search(rf"\b{re.escape(word)}\b", text), word
    assert thresholds.record(run)["outputs"]["line"] == pytest.approx(100 / 150)


def test_the_backtest_under_the_dutch_rules_reads_only_the_files_it_is_given():
    from helpers.core import paths

    paths.FILES_READ.clear()
    with at_root():
        run = backtest.prepare(INVENTED_POLLS, DUTCH_RESULTS, as_of="2023-11-21", election="2023-11-22",
                               rules=DUTCH_RULES, draws=300)
    sections = [f(run) for f in (backtest.answer, backtest.official, backtest.errors, backtest.calls,
                                 backtest.scores, backtest.reliability, backtest.audit, backtest.track_record)]
    text = " ".join(plain(m) for s in sections for m in s.of("say") + s.of("answer"))
    assert "Tweede Kamer" in text and "the threshold of 1/150 of the valid votes (one full quota)" in text
    for word in ISRAELI + ("Bader", "surplus", "120", "track record below"):
        assert not re.search(rf"\b{re.escape(word)}\b", text), word
    assert len(run.audit) == 1 and bool(run.audit["reproduced"].iloc[0]) and run.past == []
    # the first screen names the largest seat miss of the errors table, with the seats won
    worst = run.table.loc[run.table["model_error"].abs().idxmax()]
    said = plain(backtest.answer(run).of("answer")[0])
    assert f"Its largest miss: {run.names.get(worst.party, worst.party)}, " in said
    assert f"against {worst.official:.0f} won." in said
    assert not [f for f in backtest.record(run)["sources"] if "knesset" in f or f.startswith("data/model")]
    read = [os.path.relpath(f, ROOT) for f in paths.FILES_READ]
    assert read and not [f for f in read if "knesset" in f or f.startswith("data/model")], read


# ---------------------------------------------------------------------------------- the seat-engine audit


def _audit_run(**given):
    return SimpleNamespace(**{"elections": "", "audit_results": [], "audit_agreements": [], "election": "2023-11-22",
                              "pairs": [], "line": 2 / 3, "threshold": Fraction(2, 3), "seats": 150, **given})


def test_without_an_elections_file_the_audit_is_this_election():
    with at_root():
        run = _audit_run()
        run.official = backtest_model.official_outcome(load_votes(DUTCH_RESULTS), threshold=run.threshold,
                                                       seats=150)
        audit = backtest._audit(run, None)
    assert len(audit) == 1 and audit["seats"].iloc[0] == 150
    assert bool(audit["reproduced"].iloc[0]) and audit["lists"].iloc[0] == len(rows(DUTCH_RESULTS))


def test_the_audit_files_follow_the_elections_file_and_are_checked_against_it():
    days = [r["date"] for r in rows("data/knesset/elections.csv")]
    files = [f"data/knesset/results/{d}.csv" for d in days]
    pairs = [f"data/knesset/agreements/{d}.csv" for d in days]
    with at_root():
        audit = backtest._audit(_audit_run(elections="data/knesset/elections.csv", audit_results=files,
                                           audit_agreements=pairs), None)
        assert list(audit["election"]) == days and audit["reproduced"].all()
        with pytest.raises(ParameterError, match="in that file's order"):
            backtest._audit(_audit_run(elections="data/knesset/elections.csv", audit_results=files[::-1]), None)
        with pytest.raises(ParameterError, match=f"needs {len(days)} results files"):
            backtest._audit(_audit_run(elections="data/knesset/elections.csv", audit_results=files[:-1]), None)


# --------------------------------------------------------------------------------------- the index groups


def test_the_index_groups_a_subjects_reports_under_its_body():
    with at_root():
        dutch = index.subject_of({"notebook": "notebooks/02_coalition_scenarios.ipynb",
                                  "parameters": {"rules": DUTCH_RULES}})
        default = index.subject_of({"notebook": "notebooks/02_coalition_scenarios.ipynb",
                                    "parameters": {"rules": "data/knesset/rules.yml"}})
        none = index.subject_of({"notebook": "notebooks/02_coalition_scenarios.ipynb", "parameters": {"rules": ""}})
    assert dutch == "Tweede Kamer (House of Representatives)"
    assert default == none == "Coalition scenarios"


@pytest.mark.parametrize(("text", "group"), [
    ("name: '  Folketing  '\nseats: -1\n", "Folketing"),  # the name only: the build checked the file before it ran
    ("seats: 179\n", None), ("name: 7\n", None), ("name: ' '\n", None), ("- a list\n", None),
    ("name: [unclosed\n", None), (None, None)])
def test_the_index_takes_a_subjects_name_from_its_rules_file_or_shows_the_file(tmp_path, text, group):
    rules = tmp_path / "rules.yml"
    if text is not None:
        rules.write_text(text, encoding="utf-8")
    with at_root():
        shown = index.subject_of({"notebook": "notebooks/02_coalition_scenarios.ipynb",
                                  "parameters": {"rules": str(rules)}})
    assert shown == (group or str(rules))


# ------------------------------------------------------------------------------------- the Dutch reports


@pytest.mark.slow
def test_the_dutch_reports_build_with_the_same_notebooks_and_say_nothing_israeli(shipped_build):
    proc, out = shipped_build
    reports = dutch_reports()
    assert reports, "reports.yml has no report under the Dutch rules"
    israeli_notebooks = {r["notebook"] for r in yaml.safe_load((ROOT / "reports.yml").read_text())["reports"]
                         if r["name"] not in reports}
    # the three the issue asks for: who clears the quota, the coalitions for 76 seats, the backtest
    assert {r["notebook"] for r in reports.values()} >= {"notebooks/01_poll_thresholds.ipynb",
                                                         "notebooks/02_coalition_scenarios.ipynb",
                                                         "notebooks/05_backtest.ipynb"}
    for name, report in reports.items():
        assert report["notebook"] in israeli_notebooks, name
        assert (out / f"{name}.html").is_file(), (name, proc.stderr[-2000:])
        text = page_text(out / f"{name}.html")
        for word in ISRAELI:
            assert not re.search(rf"\b{re.escape(word)}\b", text), (name, word)
        assert re.search(r"\bPVV\b", text), name
        assert "Tweede Kamer" in text and "1/150 of the valid votes" in text, name
    for name, report in reports.items():
        text = page_text(out / f"{name}.html")
        if report["notebook"] in ("notebooks/01_poll_thresholds.ipynb", "notebooks/05_backtest.ipynb"):
            # the Dutch rules give sampling error only: no sentence may claim an error fitted on past elections
            assert "'sampling'" in text and "fitted on past elections" not in text, name
        if report["notebook"] == "notebooks/05_backtest.ipynb":
            assert "PVV -8." in text or "PVV -9." in text, name  # the famous miss: PVV 37 against ~28
            assert "Its largest miss: PVV" in text and "against 37 won." in text, name  # on the first screen
            assert "reproduces the official seats of 1 of 1 elections" in text and "1/150 (0.67%)" in text, name
            assert "Other 150" not in text, name  # a registry without blocs gives no one-row bloc table
    group = re.search(r"<h2>Tweede Kamer \(House of Representatives\)</h2><ul>(.*?)</ul>",
                      (out / "index.html").read_text(encoding="utf-8"), re.S)
    assert group and all(f"<code>{name}</code>" in group.group(1) for name in reports)
