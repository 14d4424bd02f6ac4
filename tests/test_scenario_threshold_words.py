"""A scenario's threshold in the kit's one set of threshold words (helpers.core.threshold): `threshold:` and a
what-if's `{threshold: X}` read "1/150" and "N quota(s)" of the scenario's seats as a rules file does, keep a
plain number as it always was, and show readers the words."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from conftest import ROOT
from helpers.core.errors import DataError
from helpers.data import load_votes
from helpers.data.rules import load_rules
from helpers.data.scenarios import load_scenario
from helpers.models import whatif

DUTCH_RULES = "data/tweede-kamer/rules.yml"
DUTCH = f"""\
title: t
rules: {DUTCH_RULES}
results: data/tweede-kamer/results/2023-11-22.csv
as_of: 2023-12-04
"""
ISRAELI = """\
polls: data/polls/knesset-2022.csv
as_of: 2022-10-28
"""
WORDS = "an exact fraction of the valid votes such as 1/150, or a number of quotas such as 1 quota"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)


def load(tmp_path, text: str, name: str = "s.yml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_scenario(p)


def simulated(s, draws: int = 400) -> list:
    """The seats of the base and each what-if of a results-based scenario, the same draws for each."""
    base = whatif.base_from_results(load_votes(s.results), s.as_of)
    return whatif.simulate_variants(whatif.variants(s, base.shares), base, draws=draws, seed=11, seats=s.seats)


def test_a_fraction_of_the_valid_votes_is_the_rules_one_quota(tmp_path):
    """threshold: 1/150 of 150 seats is what the Dutch rules file's "1 quota" gives: the same exact percent and
    the same simulated seats, draw for draw."""
    assert load_rules(DUTCH_RULES).threshold_words == "1 quota" and load_rules(DUTCH_RULES).seats == 150
    words = load(tmp_path, DUTCH + "threshold: 1/150\n", "words.yml")
    rules = load(tmp_path, DUTCH, "rules.yml")  # no threshold: the rules' "1 quota"
    assert words.threshold_percent == rules.threshold_percent == Fraction(100, 150)
    assert words.threshold == rules.threshold == 100 / 150
    assert words.threshold_text == "1/150 of the valid votes (one full quota)"
    a, b = simulated(words)[0], simulated(rules)[0]
    assert a.parties == b.parties and a.threshold == b.threshold
    np.testing.assert_array_equal(a.seats, b.seats)


def test_two_quotas_are_four_thirds_of_a_percent(tmp_path):
    quotas = load(tmp_path, DUTCH + "threshold: 2 quotas\n", "quotas.yml")
    assert quotas.threshold_percent == Fraction(2 * 100, 150) == Fraction(4, 3)
    assert quotas.threshold == 4 / 3
    assert quotas.threshold_text == "2/150 of the valid votes (two full quotas)"
    number = load(tmp_path, DUTCH + f"threshold: {4 / 3!r}\n", "number.yml")
    one = load(tmp_path, DUTCH, "one.yml")
    a, b, c = simulated(quotas)[0], simulated(number)[0], simulated(one)[0]
    np.testing.assert_array_equal(a.seats, b.seats)
    # the lists with one seat in 2023 (under 4/3% of the votes) are out at two quotas: the line matters here
    assert not np.array_equal(a.seats, c.seats)


def test_quotas_count_the_scenarios_own_seats(tmp_path):
    s = load(tmp_path, ISRAELI + "threshold: 1 quota\n")
    assert s.seats == 120 and s.threshold_percent == Fraction(100, 120) and s.threshold == 100 / 120
    assert s.threshold_text == "1/120 of the valid votes (one full quota)"
    # the rules' "1 quota" in a scenario that sets its own seats is one quota of those seats
    s = load(tmp_path, DUTCH + "seats: 100\n", "hundred.yml")
    assert s.threshold_percent == Fraction(1) and s.threshold == 1.0
    assert s.threshold_text == "1/100 of the valid votes (one full quota)"


def test_a_what_if_step_in_threshold_words(tmp_path):
    """{threshold: "1/150"} after a base at two quotas simulates the same seats as the one-quota base."""
    s = load(tmp_path, DUTCH + 'threshold: 2 quotas\nwhat_if:\n  - name: Back to one quota\n'
                               '    steps: [{threshold: "1/150"}]\n', "step.yml")
    (step,) = s.what_if[0].steps
    assert step.kind == "threshold" and step.amount == 100 / 150
    assert step.text == "threshold 1/150 of the valid votes (one full quota)"
    one = load(tmp_path, DUTCH, "one.yml")
    sims, base = simulated(s), simulated(one)[0]
    assert sims[1].threshold == base.threshold
    np.testing.assert_array_equal(sims[1].seats, base.seats)
    assert not np.array_equal(sims[0].seats, base.seats)
    s = load(tmp_path, ISRAELI + "what_if:\n  - {name: Q, steps: [{threshold: 1 quota}]}\n", "q.yml")
    assert s.what_if[0].steps[0].amount == 100 / 120


def test_numbers_read_as_before(tmp_path):
    """A plain number keeps its float and its words (f"{t:g}%", as the loader always wrote them)."""
    s = load(tmp_path, ISRAELI + "threshold: 2.0\nwhat_if:\n  - {name: X, steps: [{threshold: 3.25}]}\n")
    assert s.threshold == 2.0 and s.threshold_percent == Fraction(2) and s.threshold_text == "2%"
    assert s.what_if[0].steps[0].amount == 3.25 and s.what_if[0].steps[0].text == "threshold 3.25%"
    s = load(tmp_path, ISRAELI + 'threshold: "3.25%"\n', "pct.yml")
    assert s.threshold == 3.25 and s.threshold_percent == Fraction(13, 4) and s.threshold_text == "3.25%"
    for path in ("data/scenarios/knesset-2022.yml", "data/scenarios/knesset-2009.yml",
                 "data/tweede-kamer/scenarios/2023.yml"):
        s = load_scenario(path)
        assert s.threshold == float(s.threshold_percent)
        for w in s.what_if:
            for st in w.steps:
                if st.kind == "threshold":
                    assert st.text == f"threshold {st.amount:g}%", st.text
    assert load_scenario("data/scenarios/knesset-2009.yml").threshold_text == "2%"


@pytest.mark.parametrize("words, shown", [
    ('"1/0"', "'1/0' is a fraction of the valid votes outside 0 <= a/b < 1"),
    ("banana", "'banana' is not a threshold"),
    ("150 quotas", "'150 quotas' is 150 quotas of 150 seats"),
    ("100", "100 is out of range"),
])
def test_bad_words_name_the_file_the_place_and_what_is_accepted(tmp_path, words, shown):
    for text, place in ((DUTCH + f"threshold: {words}\n", "s.yml, threshold (line 5): "),
                        (DUTCH + f"what_if:\n  - name: X\n    steps:\n      - {{threshold: {words}}}\n",
                         "s.yml, what_if[0] ('X').steps[0].threshold (line 8): ")):
        with pytest.raises(DataError) as exc:
            load(tmp_path, text)
        msg = str(exc.value)
        assert place + shown in msg, msg
        assert WORDS in msg and len(msg.splitlines()) == 1 and msg.count(". ") == 0, msg


def test_the_report_shows_the_words(tmp_path):
    """The coalition report's scenario section tells readers the scenario's threshold in words, and the official
    outcome's exact threshold is the words' exact percent."""
    from helpers.sections import coalitions

    p = tmp_path / "report.yml"
    p.write_text(DUTCH + "threshold: 2 quotas\n", encoding="utf-8")
    run = coalitions.prepare(str(p), draws=200)
    assert run.threshold == Fraction(4, 3) and isinstance(run.threshold, Fraction)
    assert run.threshold_text == "2/150 of the valid votes (two full quotas)"
    section = coalitions.scenario(run)
    kind, template, values = section.items[0]
    assert "Threshold **{threshold}**{of_votes}, " in template
    assert values["threshold"] == "2/150 of the valid votes (two full quotas)" and values["of_votes"] == ""
    said = section.of("say")[0]  # the Markdown, its values escaped
    assert r"Threshold **<bdi>2\/150 of the valid votes \(two full quotas\)</bdi>**," in said, said
    assert "1.33333" not in said
