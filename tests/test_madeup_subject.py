"""A made-up subject (issue 17, must show): the invented Assembly of Freedonia (tests/data/madeup: 50 seats, a
majority of 26, a 5% threshold, Sainte-Laguë, no agreements, polls in shares, its own party registry) runs
through `simulate`, `seats`, a scenario and the threshold notebook from its own rules and registry files, with
no code change."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from conftest import ROOT, assert_clean_error, at_root, run_cli, run_cli_process
from helpers import data

MADEUP = ROOT / "tests" / "data" / "madeup"
RULES, POLLS, VOTES = MADEUP / "rules.yml", MADEUP / "polls.csv", MADEUP / "votes.csv"
KEYS = ["firefly", "liberty", "green_valley", "workers", "farmers", "sylvania"]  # tests/data/madeup/parties.csv


def simulate_json(*extra) -> dict:
    proc = run_cli("simulate", POLLS, "--rules", RULES, "--draws", "2000", "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_simulate_reads_the_house_and_the_parties_from_the_rules():
    doc = simulate_json()
    assert (doc["seats"], doc["method"]) == (50, "sainte-lague")
    assert doc["agreements"] == [] and doc["error_model"] == "sampling"
    # the polls write FP, Fireflies and Firefly Party: one party in Freedonia's registry
    assert sorted(p["party"] for p in doc["parties"]) == sorted(KEYS)
    by = {p["party"]: p for p in doc["parties"]}
    # every draw allocates 50 seats, so the mean seats sum to 50 (each rounded to 6 places)
    assert abs(sum(p["seats_mean"] for p in doc["parties"]) - 50) < 1e-4
    # Friends of Sylvania polls 2% against a 5% line: never in, never a seat
    assert by["sylvania"]["p_pass"] == 0 and by["sylvania"]["seats_p95"] == 0 and by["sylvania"]["seats_mean"] == 0
    # explicit options win over the rules
    dhondt = simulate_json("--method", "dhondt")
    assert dhondt["method"] == "dhondt" and dhondt["parties"] != doc["parties"]
    more = simulate_json("--seats", "60")
    assert more["seats"] == 60 and abs(sum(p["seats_mean"] for p in more["parties"]) - 60) < 1e-4


def _sainte_lague(votes: dict[str, float], seats: int) -> dict[str, int]:
    """Highest averages with the divisors 1, 3, 5, ... (written here, not the kit's)."""
    won = dict.fromkeys(votes, 0)
    for _ in range(seats):
        best = max(votes, key=lambda k: votes[k] / (2 * won[k] + 1))
        won[best] += 1
    return won


def test_in_every_simulated_election_a_list_under_5_percent_gets_no_seat_and_the_rest_share_50_by_sainte_lague():
    from helpers.models import polls as model
    from helpers.models.simulate import simulate

    rules = data.load_rules(RULES)
    with at_root():
        table = data.load_polls(POLLS, parties=data.polls.registry_for(RULES))
    pp = model.poll_of_polls(model.select_question(table)[0], threshold=float(rules.threshold))
    sim = simulate(pp.shares, pp.effective_sample_size, draws=3000, seed=1, seats=rules.seats,
                   threshold=rules.threshold, method=rules.method, error_model=rules.election_day_error)
    assert (sim.seats.sum(axis=1) == 50).all()
    under = sim.shares < 0.05
    assert under.any() and (~under).any()
    assert (sim.seats[under] == 0).all() and not sim.passed[under].any() and sim.passed[~under].all()
    # the draws' seats are Sainte-Laguë's among the lists over the line (compared on 300 draws)
    for i in range(300):
        over = {p: sim.shares[i, j] for j, p in enumerate(sim.parties) if sim.passed[i, j]}
        expected = _sainte_lague(over, 50)
        assert [expected.get(p, 0) for p in sim.parties] == sim.seats[i].tolist(), i


def seats_of(*extra) -> dict[str, int]:
    proc = run_cli("seats", VOTES, "--rules", RULES, *extra)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "list,votes,seats,tie"
    return {line.split(",")[0]: int(line.split(",")[2]) for line in lines[1:]}


def test_seats_with_the_rules_is_sainte_lague_over_5_percent_worked_by_hand():
    # votes 50,000 / 28,000 / 12,000 / 5,200 / 4,800 of 100,000. Sylvania's 4.8% is under the 5% line; the
    # other four share 95,200 votes. Sainte-Laguë = rounding votes / 1,904 (95,200 / 50) to the nearest whole
    # number: 26.26 -> 26, 14.71 -> 15, 6.30 -> 6, 2.73 -> 3, summing to 50.
    assert seats_of() == {"firefly": 26, "liberty": 15, "green_valley": 6, "workers": 3, "sylvania": 0}
    # D'Hondt (explicit --method wins) floors votes / 1,850 instead: 27.03, 15.14, 6.49, 2.81 -> 27, 15, 6, 2
    assert seats_of("--method", "dhondt") == {"firefly": 27, "liberty": 15, "green_valley": 6, "workers": 2,
                                              "sylvania": 0}
    # an explicit --threshold 0 lets Sylvania in: votes / 2,000 = 25, 14, 6, 2.6 -> 3, 2.4 -> 2
    assert seats_of("--threshold", "0") == {"firefly": 25, "liberty": 14, "green_valley": 6, "workers": 3,
                                            "sylvania": 2}
    # and without --rules nothing changes: the Knesset's 120 seats, no threshold, D'Hondt
    plain = run_cli("seats", VOTES)
    assert plain.returncode == 0 and sum(int(x.split(",")[2]) for x in plain.stdout.split()[1:]) == 120


def test_a_scenario_of_freedonia_loads_and_its_coalitions_need_26():
    from helpers.models import scenarios as coalition_model
    from helpers.models import whatif

    sc = data.load_scenario(MADEUP / "scenario.yml")
    assert (sc.seats, sc.majority, sc.threshold) == (50, 26, 5.0)
    with at_root():
        registry = data.polls.registry_for(sc.rules)
        table = data.load_polls(sc.polls, parties=registry)
    base = whatif.base_from_polls(table, sc.as_of, threshold=sc.threshold, house_seats=sc.seats)
    sim = whatif.simulate_variants(whatif.variants(sc, base.shares), base, draws=2000, seed=0, seats=sc.seats)[0]
    assert (sim.seats.sum(axis=1) == 50).all()
    paths = coalition_model.paths_to_majority(sim, sc.majority, vetoes=sc.vetoes)
    assert paths.majority == 26 and len(paths.table)
    for members, p in zip(paths.table["members"], paths.table["p_majority"], strict=True):
        assert not any({a, b} <= set(members) for a, b in sc.vetoes), members
        held = sim.seats[:, [sim.parties.index(m) for m in members]].sum(axis=1)
        assert p == pytest.approx(float((held >= 26).mean())), members
    # some path sits right at the line: a majority of 26 in some simulated elections and not in others
    assert any(0 < p < 1 for p in paths.table["p_majority"])
    opposition = sim.seats[:, [sim.parties.index(m) for m in sc.blocs["Opposition"]]].sum(axis=1)
    p_opposition = coalition_model.p_majority(sim, sc.blocs["Opposition"], sc.majority)
    assert p_opposition == pytest.approx(float((opposition >= 26).mean())) and p_opposition > 0.5


def test_a_bad_rules_parameter_stops_the_threshold_notebook_before_any_kernel(tmp_path, kernel_starts):
    bad = tmp_path / "rules.yml"
    bad.write_text((RULES.read_text(encoding="utf-8")).replace("method: sainte-lague", "method: saint-lague"),
                   encoding="utf-8")
    proc = run_cli("run", "notebooks/01_poll_thresholds.ipynb", "-p", "polls", "tests/data/madeup/polls.csv",
                   "-p", "rules", bad, "-o", tmp_path / "out.html")
    assert_clean_error(proc, "rules.yml", "method (line", "sainte-lague")
    assert kernel_starts == [] and not (tmp_path / "out.html").exists()


class _Text(HTMLParser):
    """The words a reader sees: the page's text, without scripts and styles."""

    def __init__(self):
        super().__init__()
        self.hidden, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, text):
        if not self.hidden:
            self.parts.append(text)


@pytest.mark.slow
def test_the_threshold_notebook_reports_freedonia_from_its_rules_and_nothing_israeli(tmp_path):
    out = tmp_path / "freedonia.html"
    proc = run_cli_process("run", "notebooks/01_poll_thresholds.ipynb", "-p", "polls", "tests/data/madeup/polls.csv",
                           "-p", "rules", "tests/data/madeup/rules.yml", "-p", "draws", "2000", "-o", out)
    assert proc.returncode == 0, proc.stderr
    page = _Text()
    page.feed(out.read_text(encoding="utf-8"))
    text = " ".join(" ".join(page.parts).split())
    for name in ("Firefly Party", "Liberty League", "Green Valley Union", "Workers' Front", "Farmers and Fishers",
                 "Friends of Sylvania", "Assembly of Freedonia"):
        assert name in text, name
    assert "5%" in text
    for israeli in ("Knesset", "Israel", "Hebrew", "Bader", "120", "61"):
        assert not re.search(rf"\b{israeli}\b", text), (israeli, text[:2000])
