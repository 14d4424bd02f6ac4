"""Issue 12, part D: no silent wrong numbers, and text from data stays text.

Numbers: seats, draws and every count option have documented bounds (helpers.core.limits) checked at every entry
point (command line, engine functions, scenario files, data files), seat draws live in an integer type the bound
fits, and a seats poll with no seats at all is "nothing to compute". Text: a party name holding a line break, a
bare URL, "$...$", a right-to-left override or a zero-width space renders, through the renderer nbconvert uses
and the report's sanitiser, as exactly its characters with no heading, list, link or math; the loaders see
`Likud` and `Likud` + a zero-width space as one name. One slow test builds the threshold report on hostile
party names and opens it in Chromium."""

from __future__ import annotations

import html
import textwrap
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import ROOT, assert_clean_error, run_cli, run_cli_process, visit
from helpers.core import limits
from helpers.core.errors import DataError

ONE_POLL = ROOT / "tests" / "data" / "polls-one-poll.csv"
VOTES_2022 = ROOT / "data" / "knesset" / "results" / "2022-11-01.csv"


# ------------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize("args, needles", [
    (["simulate", ONE_POLL, "--seats", "100000"], ["--seats", "10,000", "100,000"]),
    (["simulate", ONE_POLL, "--seats", "32768"], ["--seats", "10,000"]),
    (["simulate", ONE_POLL, "--draws", "0"], ["--draws", "1,000,000"]),
    (["simulate", ONE_POLL, "--draws", str(10**9)], ["--draws", "1,000,000", "1,000,000,000"]),
    (["simulate", ONE_POLL, "--seed", "-1"], ["--seed"]),
    (["simulate", ONE_POLL, "--seed", str(2**64)], ["--seed"]),
    (["seats", VOTES_2022, "--seats", "1000000000"], ["--seats", "10,000"]),
    (["seats", VOTES_2022, "--seats", "1e9"], ["--seats", "1e9", "not a whole number"]),
    (["seats", VOTES_2022, "--seats", "9" * 5000], ["--seats", "too large"]),
    (["coalitions", "seats.csv", "--majority", "100000"], ["--majority", "10,000"]),
    (["build", "--jobs", "100000", "--out", "out"], ["--jobs"]),
    (["build", "--timeout", "0", "--out", "out"], ["--timeout"]),
    (["run", "nosuch.ipynb", "--timeout", str(10**12)], ["--timeout"]),
])
def test_count_options_out_of_bounds_are_exit_2_before_any_file(args, needles, tmp_path, kernel_starts):
    proc = run_cli(*args, cwd=tmp_path)
    assert_clean_error(proc, *needles)
    assert len(proc.stderr) < 300
    assert proc.stdout == ""
    assert kernel_starts == []
    assert not (tmp_path / "out").exists()


def test_bounds_are_checked_before_the_file_is_read(tmp_path):
    # the votes file does not exist: the message is about --seats, so nothing was read (or allocated) first
    proc = run_cli("seats", tmp_path / "missing.csv", "--seats", "1000000000")
    assert_clean_error(proc, "--seats")
    assert "missing.csv" not in proc.stderr


def test_the_largest_house_is_allowed_and_exact():
    proc = run_cli("simulate", ONE_POLL, "--seats", str(limits.MAX_SEATS), "--draws", "200", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    import json

    parties = json.loads(proc.stdout)["parties"]
    assert all(p["seats_p05"] >= 0 and p["seats_mean"] >= 0 for p in parties)
    assert sum(p["seats_mean"] for p in parties) == pytest.approx(limits.MAX_SEATS)


def test_engine_functions_check_the_same_bounds():
    from helpers.models.seats import allocate, allocate_batch
    from helpers.models.simulate import simulate

    shares = {"a": 60.0, "b": 40.0}
    with pytest.raises(DataError, match="10,000"):
        allocate({"a": 10, "b": 5}, seats=limits.MAX_SEATS + 1)
    with pytest.raises(DataError, match="10,000"):
        allocate_batch(np.array([[10, 5]]), seats=100_000)
    with pytest.raises(DataError, match="10,000"):
        simulate(shares, 1000, draws=10, seats=200_000)
    with pytest.raises(DataError, match="1,000,000"):
        simulate(shares, 1000, draws=limits.MAX_DRAWS + 1)
    with pytest.raises(DataError, match="draws"):
        simulate(shares, 1000, draws=True)
    assert allocate({"a": 10, "b": 5}, seats=limits.MAX_SEATS).seats == (6667, 3333)


def test_seat_draws_use_an_integer_type_the_bound_fits():
    from helpers.models.simulate import SEAT_DTYPE, simulate

    assert np.iinfo(SEAT_DTYPE).max >= limits.MAX_SEATS
    sim = simulate({"a": 99.0, "b": 1.0}, 100_000, draws=20, seats=limits.MAX_SEATS, threshold=0)
    assert sim.seats.dtype == SEAT_DTYPE
    assert (sim.seats.sum(axis=1, dtype=np.int64) == limits.MAX_SEATS).all()
    assert sim.seats[:, 0].min() > 9_000  # the big party: a wrapped int16 would show a negative number here


@settings(max_examples=40, deadline=None)
@given(seats=st.integers(1, limits.MAX_SEATS),
       shares=st.lists(st.floats(0.5, 60.0), min_size=2, max_size=7),
       seed=st.integers(0, 2**32), method=st.sampled_from(["dhondt", "bader-ofer", "sainte-lague", "hare"]))
@example(seats=limits.MAX_SEATS, shares=[95.0, 5.0], seed=0, method="dhondt")
@example(seats=limits.MAX_SEATS, shares=[50.0, 50.0], seed=1, method="bader-ofer")
def test_simulated_seats_are_never_negative_and_fill_the_house(seats, shares, seed, method):
    from helpers.models.simulate import simulate

    sim = simulate({f"p{i}": s for i, s in enumerate(shares)}, 2000, draws=30, seed=seed, seats=seats,
                   threshold=0, method=method)
    assert sim.seats.min() >= 0
    assert (sim.seats.sum(axis=1, dtype=np.int64) == seats).all()
    assert (sim.summary["seats_p05"] >= 0).all()


def test_scenario_files_bound_seats_and_majority(tmp_path):
    from helpers.data.scenarios import load_scenario

    base = "polls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\n"
    for extra, where in (("seats: 100000\n", "seats"), ("seats: 32768\n", "seats"),
                         ("majority: 100000\n", "majority")):
        path = tmp_path / "s.yml"
        path.write_text(base + extra, encoding="utf-8")
        with pytest.raises(DataError, match=where) as err:
            load_scenario(path)
        assert "10,000" in str(err.value) or "120" in str(err.value)


def test_coalition_counts_refuse_a_majority_beyond_the_bound():
    from helpers.models.scenarios import paths_to_majority
    from helpers.models.simulate import simulate

    sim = simulate({"a": 60.0, "b": 40.0}, 1000, draws=20, seats=120, threshold=0)
    with pytest.raises(DataError, match="majority"):
        paths_to_majority(sim, 40_000)
    assert paths_to_majority(sim, 61).table["p_majority"].max() > 0


@pytest.mark.parametrize("parties, seats_each", [(3000, 1), (150, 3), (25, 400)])
def test_exact_power_refuses_a_computation_beyond_its_bound(tmp_path, parties, seats_each):
    """Exact power grows with parties squared times seats: past limits.MAX_POWER_WORK it is refused with the
    reason (it used to run for minutes, or for ever at 3,000 parties)."""
    path = tmp_path / "s.csv"
    path.write_text("party,seats\n" + "".join(f"p{i},{seats_each}\n" for i in range(parties)), encoding="utf-8")
    assert parties ** 2 * (parties * seats_each) > limits.MAX_POWER_WORK
    assert_clean_error(run_cli("coalitions", path, "--power"), "too large", "merge")


def test_exact_power_within_the_bound_still_works(tmp_path):
    """A large real-sized case inside the bound: 14 parties in a 10,000-seat house; shares sum to 1."""
    import json

    path = tmp_path / "s.csv"
    path.write_text("party,seats\n" + "".join(f"p{i},{700 + i}\n" for i in range(14)), encoding="utf-8")
    proc = run_cli("coalitions", path, "--power", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert sum(r["banzhaf"] for r in rows) == pytest.approx(1) and sum(r["shapley_shubik"] for r in rows) == \
        pytest.approx(1)


def test_data_files_bound_seats(tmp_path):
    seats = tmp_path / "seats.csv"
    seats.write_text("party,seats\na,40000\nb,10\n", encoding="utf-8")
    assert_clean_error(run_cli("coalitions", seats), "seats.csv", "10,000")
    polls = tmp_path / "polls.csv"
    polls.write_text("date,pollster,sample_size,party,seats\n2022-10-01,P,,a,40000\n2022-10-01,P,,b,10\n",
                     encoding="utf-8")
    assert_clean_error(run_cli("simulate", polls), "polls.csv", "row 2", "10,000")


@pytest.mark.parametrize("text, row", [
    # the whole file: every party of its one poll has 0 seats
    ("date,pollster,sample_size,party,seats\n2022-10-01,P,,a,0\n2022-10-01,P,,b,0\n", "row 2"),
    # one poll of two: the second (rows 4-5) has no seats at all
    ("date,pollster,sample_size,party,seats\n2022-10-01,P,,a,70\n2022-10-01,P,,b,50\n"
     "2022-10-02,Q,,a,0\n2022-10-02,Q,,b,0\n", "row 4"),
])
def test_a_seats_poll_with_no_seats_is_nothing_to_compute(text, row, tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text(text, encoding="utf-8")
    proc = run_cli("simulate", path)  # default threshold 3.25: this was a 50/50 race
    assert_clean_error(proc, "nothing to compute", "zero.csv", row, "seats")
    assert proc.stdout == ""


# --------------------------------------------------------------------------------------------------- text

HEADING = "x\n# Likud wins 70 seats"
HOSTILE = [
    HEADING,
    "a\r\n- item\n1. item\n> quote\n---",
    "see https://evil.example/x and www.evil.example or mail a@evil.example",
    "[link](https://evil.example) <https://evil.example> <b>bold</b> **strong** _em_ `code` | a | b |",
    "cost $x_y$ and $$z^2$$ and \\$",
    "\u202eABC 123",
    "Likud\u200b",
    "tab\tand\u2028line\u2029sep\x0bvt\x85nel",
]


class _Tags(HTMLParser):
    """Start tags in order, and the text inside <bdi> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str] = []
        self.bdi: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))
        if tag == "bdi":
            self._depth += 1
            self.bdi.append("")

    def handle_endtag(self, tag):
        if tag == "bdi":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.bdi[-1] += data


def _parse(markup: str) -> _Tags:
    p = _Tags()
    p.feed(markup)
    p.close()
    return p


TEMPLATES = {
    "**{v}** leads": ["p", "strong", "bdi"],
    "- {v}": ["ul", "li", "bdi"],
    "{v}": ["p", "bdi"],
    "Data from file `{v}`.": ["p", "code", "bdi"],
    "1. {v} and {v}": ["ol", "li", "bdi", "bdi"],
}


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("template", list(TEMPLATES))
def test_say_renders_data_as_its_own_characters_and_nothing_else(template, value):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from helpers.core.text import one_line
    from helpers.views import tables

    source = tables.markdown(template, v=value)
    assert "$" not in source  # a Markdown viewer with MathJax (JupyterLab) finds no math
    assert "\n" not in source and "\u202e" not in source
    rendered = _parse(markdown2html_mistune(source))
    # the template's own structure, no more: no heading, list item, link, math, emphasis or code from the value
    assert rendered.tags == TEMPLATES[template], (value, rendered.tags)
    assert rendered.links == []
    # each value shows exactly its characters (one line, no bidi controls): "$" and "\" are not doubled
    assert rendered.bdi == [one_line(value)] * len(rendered.bdi)


def test_escaped_values_survive_the_report_sanitiser():
    import nbformat

    from helpers.pipeline.render import sanitise_outputs
    from helpers.views import tables

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": tables.markdown("Parties in doubt: {v}.", v=" ; ".join(HOSTILE))})]
    nb.cells.append(cell)
    sanitise_outputs(nb)
    out = cell.outputs[0]["data"]["text/html"]
    parsed = _parse(out)
    assert parsed.tags == ["p", "bdi"], parsed.tags
    assert parsed.links == []
    assert "evil.example" in parsed.bdi[0] and "\u202e" not in out


@pytest.mark.parametrize("value", HOSTILE)
def test_tables_show_data_on_one_line_without_bidi_controls(value):
    import pandas as pd

    from helpers.views import tables

    frame = pd.DataFrame({"Party": [value], "Seats": [3]})
    markup = tables.to_html(frame, caption=value)
    parsed = _parse(markup)
    assert parsed.tags == ["table", "caption", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]
    assert parsed.links == []
    for bad in ("\n", "\r", "\u2028", "\u2029", "\u202e", "<b>"):
        assert bad not in markup
    from helpers.core.text import one_line

    assert html.unescape(markup).count(f">{one_line(value)}</") == 2  # the caption and the cell, as text


def test_chart_labels_are_one_line_without_bidi_controls():
    from helpers.views.charts import plain_label

    assert plain_label(HEADING) == "x # Likud wins 70 seats"
    assert plain_label("\u202eABC 123") == "ABC 123"


# --------------------------------------------------------------------------------------------- loaders


def test_names_differing_by_invisible_characters_are_one_name(tmp_path):
    from helpers.data.knesset import load_pairs, load_votes
    from helpers.data.polls import load_parties, load_polls
    from helpers.data.primaries import load_round

    def write(name, text):
        p = tmp_path / name
        p.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return p

    votes = write("votes.csv", "list,votes\nLikud,100\n\"Likud\u200b\",50\n")
    with pytest.raises(DataError, match="row 3.*already appears in row 2"):
        load_votes(votes)
    with pytest.raises(DataError, match="already"):
        load_votes(write("nfc.csv", "list,votes\nCaf\u00e9,100\nCafe\u0301,50\n"))
    with pytest.raises(DataError, match="already appears"):
        load_round(write("round.csv", "candidate,votes\nA B,1\n\"A \u2060 B\ufeff\",2\n"))
    with pytest.raises(DataError, match="already"):
        load_pairs(write("pairs.csv", "list_a,list_b\nLikud,Shas\n\"\u200bLikud\",Noam\n"))
    with pytest.raises(DataError, match="appears twice in poll"):
        load_polls(write("polls.csv", "date,pollster,sample_size,party,share\n2022-10-01,P,,likud,60\n"
                                      "2022-10-01,P,,\"likud\u200d\",40\n"))
    with pytest.raises(DataError, match="row 3.*already"):
        load_parties(write("parties.csv", "key,name\nlikud,Likud\n\"likud\u200b\",Other\n"))
    with pytest.raises(DataError, match="already names party"):
        load_parties(write("parties2.csv", "key,name\nlikud,Likud\nother,\"Li\u200bkud\"\n"))
    with pytest.raises(DataError, match="row 2.*invisible"):
        load_votes(write("blank.csv", "list,votes\n\"\u200b\u200b\",5\nB,4\n"))
    # a clean file still reads, with the names as written
    frame = load_votes(write("ok.csv", "list,votes\n\"Yesh  Atid\n\",100\nLikud,50\n"))
    assert list(frame["list"]) == ["Yesh Atid", "Likud"]


def test_a_scenario_names_a_party_through_invisible_characters(tmp_path):
    from helpers.data.scenarios import load_scenario

    path = tmp_path / "s.yml"
    path.write_text("polls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\n"
                    "blocs: {\"Left\u200b \": [\"\u200blikud\"]}\n", encoding="utf-8")
    sc = load_scenario(path)
    assert sc.blocs == {"Left": ["likud"]}


# ------------------------------------------------------------------------------------- the real report


def _hostile_polls(path, names: dict, question: str | None = None):
    """The one-poll test file with some parties renamed (and a question column when `question` is given)."""
    lines = ONE_POLL.read_text(encoding="utf-8").splitlines()
    out = [lines[0] + (",question" if question is not None else "")]
    for line in lines[1:]:
        fields = line.split(",")
        if fields[3] in names:
            fields[3] = '"' + names[fields[3]] + '"'
        out.append(",".join(fields) + (',"' + question + '"' if question is not None else ""))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


_STRAY_BIDI = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const bad = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (/[\\u202a-\\u202e\\u2066-\\u2069]/.test(n.data) && !n.parentElement.closest('bdi')) bad.push(n.data);
    }
    return bad;
}"""

_DIGIT_ORDER = """(words) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        for (const word of words) {
            const i = n.data.indexOf(word);
            if (i < 0) continue;
            const at = k => { const r = document.createRange(); r.setStart(n, k); r.setEnd(n, k + 1);
                              return r.getBoundingClientRect().left; };
            out.push([word, at(i + 4), at(i + 6)]);  // first digit, last digit (a number never wraps)
        }
    }
    return out;
}"""


def _build_and_check(tmp_path, browser_context, polls, texts: dict, words: list[str],
                     notebook: str = "notebooks/01_poll_thresholds.ipynb"):
    """Run the threshold report (or `notebook`) on `polls`, open it in Chromium and check that hostile text
    stayed text:
    each of `texts` shows at least the given number of times, no heading or list item holds "Likud wins", no
    link goes to evil.example, no bidi override sits outside <bdi>, and each of `words` ("ABC 123") reads left
    to right on screen (an override would show its digits reversed)."""
    report = tmp_path / f"{polls.stem}.html"
    proc = run_cli_process("run", ROOT / notebook, "-p", "draws", "2000",
                           "-p", "polls", polls, "-o", report, timeout=900)
    assert proc.returncode == 0, proc.stderr
    page, errors, remote, dialogs = visit(browser_context, report)
    assert errors == [] and remote == [] and dialogs == []
    headings = page.eval_on_selector_all("h1, h2, h3, h4, h5, h6", "els => els.map(e => e.textContent)")
    assert headings and not any("Likud wins" in h for h in headings), headings
    assert page.locator("li").filter(has_text="Likud wins").count() == 0
    assert page.locator("a[href*='evil.example']").count() == 0
    body = page.inner_text("body")
    for text, times in texts.items():
        assert body.count(text) >= times, (text, times)
    assert "\\$" not in body and "\\_" not in body
    assert page.evaluate(_STRAY_BIDI) == []
    order = page.evaluate(_DIGIT_ORDER, words)
    assert {w for w, *_ in order} == set(words), order
    assert all(first < last for _, first, last in order), order
    page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_party_names_stay_text_in_the_threshold_report(tmp_path, browser_context):
    # a parliament: the hostile parties are near the line, so they appear in the table and in the sentence
    # about the parties in doubt (Markdown) as well as in the charts
    names = {"a": "a\n# Likud wins 70 seats", "b": "see https://evil.example/x", "c": "\u202eABC 123",
             "d": "$x_y$ party"}
    polls = _hostile_polls(tmp_path / "parliament.csv", names)
    _build_and_check(tmp_path, browser_context, polls,
                     {"a # Likud wins 70 seats": 2, "see https://evil.example/x": 2, "ABC 123": 2,
                      "$x_y$ party": 1}, ["ABC 123"])
    # a leadership first round (the file has a question), in its own report: the question is free text that
    # only the view guards (the loader keeps its line breaks and bidi controls), shown beside the names
    names = {"d": "\u202eDEF 789\n- Likud wins", "e": "www.evil.example"}
    question = "Who?\n## Likud wins 70 seats, https://evil.example/q \u202eXYZ 456 $q$"
    polls = _hostile_polls(tmp_path / "first_round.csv", names, question)
    _build_and_check(tmp_path, browser_context, polls,
                     {"Who? ## Likud wins 70 seats, https://evil.example/q XYZ 456 $q$": 1,
                      "DEF 789 - Likud wins": 2, "www.evil.example": 2}, ["XYZ 456", "DEF 789"],
                     notebook="notebooks/06_first_round.ipynb")
