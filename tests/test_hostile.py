"""Hostile text in every field that reaches a report: party names, pollsters, media, candidates, event
descriptions and labels, scenario, bloc, coalition and what-if names. Every report is built from such data and
opened in real headless Chromium: no script runs, nothing is requested from the network, nothing is injected,
and the text is shown literally."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from conftest import ROOT, run_cli_process, visit

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>*em* [l](javascript:alert(3)) $x$"


def _rewrite_csv(path, column, match, value):
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert rows and column in rows[0], (path, column)
    for row in rows:
        if match(row):
            row[column] = value
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    project = tmp_path_factory.mktemp("hostile")
    shutil.copytree(ROOT / "data", project / "data")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    shutil.copy(ROOT / "reports.yml", project / "reports.yml")
    d = project / "data"
    _rewrite_csv(d / "parties.csv", "name", lambda r: r["key"] == "meretz", "Meretz " + HOSTILE)
    for polls in ("knesset-2022.csv", "knesset-2009.csv"):
        _rewrite_csv(d / "polls" / polls, "pollster", lambda r: r["pollster"] == "Midgam" or
                     r["pollster"].startswith("Dialog"), HOSTILE)
        _rewrite_csv(d / "polls" / polls, "media", lambda r: True, "TV " + HOSTILE)
    _rewrite_csv(d / "polls" / "labor-leadership.csv", "pollster", lambda r: True, HOSTILE)
    _rewrite_csv(d / "events.csv", "description", lambda r: r["date"].startswith("2007"), HOSTILE)
    _rewrite_csv(d / "events.csv", "label", lambda r: r["date"].startswith("2008"), HOSTILE)
    # A candidate: one more name on the 2008 ballot (the historical contests stay as they were).
    with open(d / "primaries/candidates-2008.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([HOSTILE, 0, "", 2008, "test", HOSTILE])
    scenario = d / "scenarios/knesset-2022.yml"
    quoted = '"' + HOSTILE.replace('"', '\\"') + '"'
    scenario.write_text(scenario.read_text(encoding="utf-8")
                        .replace("Netanyahu bloc:", f"{quoted[:-1]} bloc\":")
                        .replace("Right-religious:", f"{quoted[:-1]} coalition\":")
                        .replace("- name: Labor and Meretz merge", f"- name: {quoted}")
                        .replace("title: ", f"title: {HOSTILE} ", 1), encoding="utf-8")
    out = project / "reports"
    only = [a for name in HOSTILE_READERS for a in ("--only", name)]
    proc = run_cli_process("build", "--jobs", "2", *only, cwd=project, timeout=900)
    return proc, out


#: One report of every notebook, which between them read every file made hostile above (the other shipped
#: reports run the same notebooks on the same kinds of file).
HOSTILE_READERS = ("timeline", "thresholds-2009", "labor-first-round", "backtest-2022", "leadership", "coalitions")


def test_a_report_of_every_notebook_builds_with_hostile_text_in_every_file(hostile_build):
    proc, out = hostile_build
    assert proc.returncode == 0, proc.stderr
    built = [json.loads(m.read_text(encoding="utf-8")) for m in out.glob("*.json")]
    assert sorted(m["name"] for m in built) == sorted(HOSTILE_READERS)
    assert {m["notebook"] for m in built} == {f"notebooks/{n.name}" for n in (ROOT / "notebooks").glob("*.ipynb")}
    read = {i["path"] for m in built for i in m["inputs"]}
    for hostile in ("data/parties.csv", "data/polls/knesset-2022.csv", "data/polls/knesset-2009.csv",
                    "data/polls/labor-leadership.csv", "data/events.csv", "data/primaries/candidates-2008.csv",
                    "data/scenarios/knesset-2022.yml"):
        assert hostile in read, hostile
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text.lower(), page.name
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", ""), page.name
        assert "javascript:" not in text.lower().replace("(javascript:alert(3))", ""), page.name


def test_hostile_text_is_inert_and_literal_in_chromium(hostile_build, browser_context):
    proc, out = hostile_build
    assert proc.returncode == 0, proc.stderr
    shown = 0
    for path in sorted(out.glob("*.html")):
        page, errors, remote, dialogs = visit(browser_context, path)
        assert dialogs == [] and remote == [] and errors == [], (path.name, dialogs, remote, errors)
        assert page.locator("img[src='x'], script, a[href^='javascript']").count() == 0, path.name
        if "<img src=x onerror=alert(1)><script>alert(2)</script>" in page.inner_text("body"):
            shown += 1
        page.close()
    # The literal text is on the page wherever a hostile field is shown as text (tables, prose, index).
    assert shown >= 6, shown
