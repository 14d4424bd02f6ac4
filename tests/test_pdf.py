"""Reports printed to PDF (``--pdf``, ``--paper``) through Debian's headless Chromium: the PDF is published with
its report and named in the manifest, on A4 or Letter, with no table cut at the paper's width; without Chromium
the command stops before anything runs; a Chromium that hangs or is interrupted leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (
    ROOT,
    assert_clean_error,
    chromium_path,
    make_project,
    notebook_json,
    run_cli,
    run_cli_process,
    visit,
)

#: Paper sizes in PDF points (1/72 inch): ISO 216 A4 is 210 x 297 mm, US Letter 8.5 x 11 in.
POINTS = {"a4": (210 / 25.4 * 72, 297 / 25.4 * 72), "letter": (612.0, 792.0)}

#: A page whose script never ends: Chromium never gets to print it.
HANGING = b"<html><head><title>x</title></head><body><p>x</p><script>while (true) {}</script></body></html>"

TABLE_NOTEBOOK = notebook_json(
    ("code", "from helpers import notebook\nfrom helpers.views import tables\nimport pandas as pd\n"
             "notebook.start()\nnotebook.record(as_of='2022-11-01', sources=['test source'], seed=1)"),
    ("md", "## A wide table"),
    ("code", "tables.show(pd.DataFrame({f'column number {i}': [f'cell-{i}-{j} with several words' for j in "
             "range(40)] for i in range(9)}))"),
)


def need_chromium():
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PDF tests: install Debian's chromium (see .ci/run)")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium)")


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of every page of a PDF as Chromium writes it (page dictionaries in the clear)."""
    assert data.startswith(b"%PDF-"), data[:20]
    assert data.rstrip().endswith(b"%%EOF")
    sizes = []
    for body in re.findall(rb"\d+ 0 obj(.*?)endobj", data, re.S):
        if re.search(rb"/Type\s*/Page\b(?!s)", body):
            box = re.search(rb"/MediaBox\s*\[([\d.\s]+)\]", body)
            assert box, body[:200]
            x0, y0, x1, y1 = map(float, box.group(1).split())
            sizes.append((x1 - x0, y1 - y0))
    counts = [int(c) for c in re.findall(rb"/Type /Pages\b.*?/Count (\d+)", data, re.S)]
    assert counts and len(sizes) == max(counts), (len(sizes), counts)
    return sizes


def assert_paper(data: bytes, paper: str, min_pages: int = 1) -> None:
    sizes = pdf_pages(data)
    assert len(sizes) >= min_pages, len(sizes)
    w, h = POINTS[paper]
    for sw, sh in sizes:
        assert abs(sw - w) < 1 and abs(sh - h) < 1, (paper, sw, sh)


def print_processes(prefix: str) -> list[int]:
    """Running processes (zombies aside) whose environment carries a print mark starting with `prefix`."""
    import psutil

    from helpers.pipeline.pdf import PRINT_MARK

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if (proc.environ().get(PRINT_MARK) or "").startswith(prefix):
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found


# --- fast: checked before anything runs ----------------------------------------------------------------------


def test_pdf_without_chromium_stops_before_anything(tmp_path, kernel_starts):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "out"
    proc = run_cli("build", "--only", "thresholds", "--pdf", "--out", out, env={"PATH": str(empty)})
    assert_clean_error(proc, "--pdf", "install", "chromium")
    assert not out.exists()
    target = tmp_path / "run" / "x.html"
    proc = run_cli("run", ROOT / "notebooks/01_poll_thresholds.ipynb", "--pdf", "-o", target,
                   env={"PATH": str(empty)})
    assert_clean_error(proc, "--pdf", "chromium")
    assert not target.parent.exists()
    assert kernel_starts == []


def test_paper_without_pdf_is_bad_input(tmp_path, kernel_starts):
    proc = run_cli("build", "--only", "thresholds", "--paper", "letter", "--out", tmp_path / "out")
    assert_clean_error(proc, "--paper", "--pdf")
    assert not (tmp_path / "out").exists()
    proc = run_cli("run", ROOT / "notebooks/01_poll_thresholds.ipynb", "--paper", "legal")
    assert_clean_error(proc, "--paper", "letter")
    assert kernel_starts == []


def test_a_manifest_naming_a_pdf_outside_the_folder_is_not_read():
    from helpers.pipeline.publish import manifest_problem

    assert manifest_problem({"name": "r", "status": "ok", "html": "r.html", "pdf": "r.pdf"}) is None
    assert "not a report file name" in manifest_problem({"name": "r", "html": "r.html", "pdf": "../../x.pdf"})
    assert "'pdf' is not text" in manifest_problem({"name": "r", "html": "r.html", "pdf": 3})


# --- Chromium itself -----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_a_hanging_print_times_out_and_leaves_no_process(tmp_path):
    need_chromium()
    from helpers.core.errors import ReportError
    from helpers.pipeline.pdf import print_pdf

    target = tmp_path / ".r.pdf.tmp-1"
    started = time.monotonic()
    with pytest.raises(ReportError, match="longer than 3 s"):
        print_pdf(HANGING, target, "a4", timeout=3)
    assert time.monotonic() - started < 30
    assert print_processes(f"{os.getpid()}-") == []
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.browser
def test_an_interrupted_print_leaves_no_process(tmp_path):
    need_chromium()
    target = tmp_path / "r.pdf"
    page = tmp_path / "page.html"
    page.write_bytes(HANGING)
    code = ("import sys; from pathlib import Path; from helpers.pipeline.pdf import print_pdf\n"
            "try:\n    print_pdf(Path(sys.argv[1]).read_bytes(), Path(sys.argv[2]), 'a4', timeout=120)\n"
            "except KeyboardInterrupt:\n    sys.exit(130)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(page), str(target)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(print_processes(f"{child.pid}-")) < 2:
            time.sleep(0.2)
        assert print_processes(f"{child.pid}-"), "Chromium never started"
        time.sleep(1)
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 130
    finally:
        if child.poll() is None:
            child.kill()
    assert print_processes(f"{child.pid}-") == []
    assert not target.exists()


@pytest.mark.slow
@pytest.mark.browser
def test_a_worker_whose_build_is_gone_stops_its_chromium(tmp_path):
    """What a pool worker does when its build dies (helpers.pipeline.kernels.warm_worker): stop_all ends a print
    still running in another thread, and that print fails instead of publishing."""
    need_chromium()
    import threading

    from helpers.pipeline.pdf import print_pdf, stop_all

    target = tmp_path / "r.pdf"
    outcome = []

    def printing():
        try:
            print_pdf(HANGING, target, "letter", timeout=120)
            outcome.append("printed")
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=printing)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(print_processes(f"{os.getpid()}-")) < 2:
        time.sleep(0.2)
    assert print_processes(f"{os.getpid()}-"), "Chromium never started"
    stop_all()
    thread.join(timeout=30)
    assert outcome == ["ReportError"]
    assert print_processes(f"{os.getpid()}-") == []
    assert not target.exists()


# --- through the command line --------------------------------------------------------------------------------


def printable_width_px(paper: str) -> float:
    """The width inside the page margins the kit prints with, in CSS pixels (96 per inch)."""
    from helpers.pipeline.pdf import PAPERS

    _, margin = PAPERS[paper]
    number, unit = float(margin[:-2]), margin[-2:]
    margin_in = number / 25.4 if unit == "mm" else number
    assert unit in ("mm", "in"), margin
    return (POINTS[paper][0] / 72 - 2 * margin_in) * 96


def assert_tables_fit(context, html: Path, width: float) -> None:
    """Opened at `width` CSS px as print media: no table wider than the page or cut by a scrolling box."""
    page, errors, remote, dialogs = visit(context, html)
    page.set_viewport_size({"width": int(width), "height": 1000})
    page.emulate_media(media="print")
    page.wait_for_timeout(200)
    assert remote == [] and dialogs == []
    clipped = page.evaluate("""() => [...document.querySelectorAll('main table')].filter(t => {
        const r = t.getBoundingClientRect();
        let el = t.parentElement, hidden = false;
        while (el) { if (getComputedStyle(el).overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
                     hidden = true; el = el.parentElement; }
        return hidden || r.right > window.innerWidth + 1;
    }).length""")
    tables = page.evaluate("document.querySelectorAll('main table').length")
    wide = page.evaluate("document.documentElement.scrollWidth")
    page.close()
    assert tables > 0, html.name
    assert clipped == 0, (html.name, width, clipped)
    assert wide <= int(width) + 1, (html.name, width, wide)


@pytest.mark.slow
@pytest.mark.browser
def test_build_only_thresholds_pdf_publishes_a4_then_letter(tmp_path, browser_context):
    need_chromium()
    out = tmp_path / "reports"
    proc = run_cli_process("build", "--only", "thresholds", "--pdf", "--out", out)
    assert proc.returncode == 0, proc.stderr
    pdf = (out / "thresholds.pdf").read_bytes()
    assert_paper(pdf, "a4", min_pages=2)
    manifest = json.loads((out / "thresholds.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert (manifest["pdf"], manifest["pdf_paper"], manifest["pdf_bytes"]) == ("thresholds.pdf", "a4", len(pdf))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "index.html", "thresholds.html", "thresholds.json", "thresholds.pdf"]
    assert not list(out.glob(".*.tmp-*"))
    assert_tables_fit(browser_context, out / "thresholds.html", printable_width_px("a4"))
    assert_tables_fit(browser_context, out / "thresholds.html", printable_width_px("letter"))

    # Unchanged and printed on that paper: up to date. Another paper: the published page printed again, the
    # notebook not run (the page is byte for byte the same, built at the same time).
    proc = run_cli_process("build", "--only", "thresholds", "--pdf", "--out", out)
    assert proc.returncode == 0 and "up to date" in proc.stderr, proc.stderr
    assert (out / "thresholds.pdf").read_bytes() == pdf
    page = (out / "thresholds.html").read_bytes()
    dry = run_cli_process("build", "--only", "thresholds", "--pdf", "--paper", "letter", "--out", out, "--dry-run")
    assert dry.returncode == 0 and "no letter PDF of it yet" in dry.stdout and "not run" in dry.stdout, dry.stdout
    proc = run_cli_process("build", "--only", "thresholds", "--pdf", "--paper", "letter", "--out", out)
    assert proc.returncode == 0 and "up to date" not in proc.stderr, proc.stderr
    assert_paper((out / "thresholds.pdf").read_bytes(), "letter", min_pages=2)
    again = json.loads((out / "thresholds.json").read_text(encoding="utf-8"))
    assert (again["status"], again["pdf_paper"], again["pdf_bytes"]) == (
        "ok", "letter", len((out / "thresholds.pdf").read_bytes()))
    assert (out / "thresholds.html").read_bytes() == page
    assert again["last_good"] == manifest["last_good"] and again["cache_key"] == manifest["cache_key"]
    proc = run_cli_process("build", "--only", "thresholds", "--pdf", "--paper", "letter", "--out", out)
    assert proc.returncode == 0 and "up to date" in proc.stderr, proc.stderr


@pytest.mark.slow
@pytest.mark.browser
def test_run_pdf_writes_the_pdf_beside_the_html_and_a_rebuild_without_drops_it(tmp_path, browser_context):
    need_chromium()
    project = make_project(tmp_path / "p", "reports: []\n", {"wide.ipynb": TABLE_NOTEBOOK})
    target = tmp_path / "out" / "x.html"
    proc = run_cli_process("run", "notebooks/wide.ipynb", "--pdf", "--paper", "letter", "-o", target, cwd=project)
    assert proc.returncode == 0, proc.stderr
    pdf = (target.parent / "x.pdf").read_bytes()
    assert_paper(pdf, "letter")
    manifest = json.loads((target.parent / "x.json").read_text(encoding="utf-8"))
    assert (manifest["html"], manifest["pdf"], manifest["pdf_paper"]) == ("x.html", "x.pdf", "letter")
    for paper in ("a4", "letter"):
        assert_tables_fit(browser_context, target, printable_width_px(paper))
    # Published again without --pdf: the old PDF would show the old numbers, so it is gone.
    proc = run_cli_process("run", "notebooks/wide.ipynb", "-o", target, cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert not (target.parent / "x.pdf").exists()
    assert json.loads((target.parent / "x.json").read_text(encoding="utf-8"))["pdf"] is None


@pytest.mark.slow
def test_a_failed_print_publishes_nothing_and_keeps_the_last_good_report(tmp_path):
    """A Chromium that fails (here a stand-in `chromium` on PATH that exits 1): the report fails with the reason,
    and neither its HTML nor a PDF replaces what was there."""
    project = make_project(tmp_path / "p", "reports: []\n", {"wide.ipynb": TABLE_NOTEBOOK})
    target = tmp_path / "out" / "x.html"
    proc = run_cli_process("run", "notebooks/wide.ipynb", "-o", target, cwd=project)
    assert proc.returncode == 0, proc.stderr
    before = target.read_bytes()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "chromium").write_text("#!/bin/sh\necho 'ERROR: cannot print' >&2\nexit 1\n")
    (fake / "chromium").chmod(0o755)
    env = {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    proc = run_cli_process("run", "notebooks/wide.ipynb", "--pdf", "-o", target, cwd=project, env=env)
    assert proc.returncode == 1, proc.stderr
    manifest = json.loads((target.parent / "x.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and "PDF could not be printed" in manifest["error"], manifest["error"]
    assert target.read_bytes() == before
    assert not (target.parent / "x.pdf").exists()
    assert not list(target.parent.glob(".*.tmp-*"))
