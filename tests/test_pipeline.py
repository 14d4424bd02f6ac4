"""The report pipeline with real kernels: publish, failure, cache, index, escaping, self-contained HTML."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT, make_project, notebook_json, run_cli_process

pytestmark = pytest.mark.slow

GOOD = notebook_json(
    ("code", "from helpers import data, notebook\nfrom helpers.views import tables\n"
             "notebook.start()\nev = data.load_events(events)\n"
             "more = data.load_events('data/more.csv')  # read, but not named by a parameter\n"
             "notebook.record(as_of='2022-11-01', sources=['test source'], seed=7, outputs={'n': len(ev)})\n"
             "if fail:\n    raise ValueError('boom: the data made this report fail')"),
    ("md", "## Events"),
    ("code", "tables.show(ev[['date', 'description']])"),
    parameters="events = 'data/events.csv'  # events file\nfail = False  # make the report fail",
)
BROKEN = notebook_json(("code", "1 / 0"))

YML = """reports:
  - name: good
    notebook: notebooks/good.ipynb
    title: A good report
  - name: broken
    notebook: notebooks/broken.ipynb
"""


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path, YML, {"good.ipynb": GOOD, "broken.ipynb": BROKEN},
                        {"data/events.csv": ROOT / "data/events.csv", "data/more.csv": ROOT / "data/events.csv"})


def manifest(project, name):
    return json.loads((project / "reports" / f"{name}.json").read_text())


def test_build_publishes_good_reports_and_shows_failures(project):
    proc = run_cli_process("build", "--jobs", "2", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "broken failed" in proc.stderr and "good ok" in proc.stderr
    out = project / "reports"
    good = manifest(project, "good")
    assert good["status"] == "ok" and good["as_of"] == "2022-11-01" and good["seed"] == 7
    assert good["outputs"] == {"n": 56}
    assert [i["path"] for i in good["inputs"]] == ["data/events.csv", "data/more.csv"]
    assert len(good["inputs"][0]["sha256"]) == 64
    assert good["html_bytes"] == (out / "good.html").stat().st_size
    for key in ("started", "finished", "duration_s", "version", "parameters", "cache_key"):
        assert key in good
    broken = manifest(project, "broken")
    assert broken["status"] == "failed" and "ZeroDivisionError" in broken["error"]
    assert not (out / "broken.html").exists()
    index = (out / "index.html").read_text()
    assert 'href="good.html"' in index and "ZeroDivisionError" in index
    assert not list(out.glob(".*.tmp-*"))

    # Nothing changed: the good report is not rebuilt.
    again = run_cli_process("build", "--only", "good", cwd=project)
    assert again.returncode == 0 and "good up to date" in again.stderr
    assert manifest(project, "good")["finished"] == good["finished"]

    # A file it read without a parameter naming it changed: rebuilt, then up to date again.
    with open(project / "data/more.csv", "a", encoding="utf-8") as f:
        f.write("2023-01-01,day,,Someone,party,New event,A new event,test\n")
    assert "good ok" in run_cli_process("build", "--only", "good", cwd=project).stderr
    assert "good up to date" in run_cli_process("build", "--only", "good", cwd=project).stderr

    # A data file named by a parameter changed: rebuilt.
    with open(project / "data/events.csv", "a", encoding="utf-8") as f:
        f.write("2023-01-01,day,,Someone,party,New event,A new event,test\n")
    third = run_cli_process("build", "--only", "good", cwd=project)
    assert third.returncode == 0 and "good ok" in third.stderr
    assert manifest(project, "good")["outputs"] == {"n": 57}


def test_a_failed_rebuild_keeps_the_last_good_report(project):
    assert run_cli_process("build", "--only", "good", cwd=project).returncode == 0
    html_before = (project / "reports/good.html").read_bytes()
    good_before = manifest(project, "good")
    (project / "reports.yml").write_text(YML.replace("title: A good report",
                                                     "title: A good report\n    parameters: {fail: true}"))
    proc = run_cli_process("build", "--only", "good", cwd=project)
    assert proc.returncode == 1
    assert (project / "reports/good.html").read_bytes() == html_before
    after = manifest(project, "good")
    assert after["status"] == "failed" and "boom" in after["error"]
    assert after["last_good"] == good_before["last_good"]
    index = (project / "reports/index.html").read_text()
    assert 'href="good.html"' in index and "boom: the data made this report fail" in index


def test_run_writes_a_self_contained_report_with_no_code(tmp_path):
    out = tmp_path / "timeline.html"
    proc = run_cli_process("run", ROOT / "notebooks/04_timeline.ipynb", "-o", out)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert "<script" not in page.lower()
    # a link (<a href>) loads nothing until a reader follows it; anything else with a URL would load on open
    assert not re.search(r'(src|srcset)\s*=\s*["\']?(https?:)?//', page), "nothing may load from the network"
    assert not re.search(r'<(link|script|iframe|object|embed)\b[^>]*(https?:)?//', page, re.I)
    assert "import helpers" not in page and "notebook.start()" not in page
    assert 'src="data:image/svg+xml' in page  # charts as SVG with real text
    header = re.search(r'<header class="bb-header">(.*?)</header>', page, re.S)
    assert header, "the report has no header"
    assert re.search(r"<h1>\s*Labor leadership timeline", header.group(1)), header.group(1)[:500]
    assert "Data as of 2022-11-01" in header.group(1)
    made = re.search(r'<footer class="bb-footer">(.*?)</footer>', page, re.S).group(1)
    assert "How this report was made" in made and "<dt>Parameters</dt>" in made and "sha256" in made
    m = json.loads((tmp_path / "timeline.json").read_text())
    assert m["status"] == "ok" and m["parameters"]["events"] == "data/events.csv"


def test_hostile_event_text_is_shown_as_text(hostile_timeline):
    proc, out = hostile_timeline
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert "<script" not in page.lower()
    assert "<img src=x" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
