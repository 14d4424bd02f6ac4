"""`ballotbook render EXECUTED.ipynb -o OUT.html`: a notebook executed outside the kit (papermill's API, as
Airflow's PapermillOperator calls it) gets the kit's page: header, sanitiser, Content-Security-Policy, no code,
the footer; a failed notebook is shown with its error (exit 1); bad input leaves OUT as it was (exit 2)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, assert_clean_error, run_cli, run_cli_process

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)><b>bold kept</b>"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _notebook(*cells: tuple[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("label = 'default'  # a label")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Made by the scheduler\n\nWhat the scheduler ran."), params]
    nb.cells += [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                 for kind, src in cells]
    return nb


GOOD = _notebook(
    ("code", "code_only_marker = 7\nfrom helpers import notebook\n"
             "notebook.record(as_of='2024-05-06', sources=['https://example.org/polls'], seed=11)"),
    ("md", "## Findings\n\nProse between the cells. <script>alert(3)</script><img src=y onerror=alert(4)>"),
    ("code", f"from IPython.display import HTML, display\ndisplay(HTML({HOSTILE!r}))\nprint('printed', label)"),
)
FAILING = _notebook(("code", "print('before the error')"), ("code", "1 / 0"), ("code", "print('never run')"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Two notebooks run by papermill's execute_notebook, as Airflow's PapermillOperator runs them (with
    parameters): one that succeeds and records the kit's facts, one that stops with an error."""
    import papermill as pm

    folder = tmp_path_factory.mktemp("airflow")
    done = {}
    for name, nb in (("good", GOOD), ("failing", FAILING)):
        source, out = folder / f"{name}-input.ipynb", folder / f"{name}.ipynb"
        nbformat.write(nb, source)
        try:
            pm.execute_notebook(str(source), str(out), parameters={"label": "from-airflow"}, kernel_name="python3",
                                cwd=str(ROOT), progress_bar=False)
        except pm.PapermillExecutionError:
            assert name == "failing"
        done[name] = out
    done["unexecuted"] = folder / "good-input.ipynb"
    return done


def _header(page: str) -> str:
    found = re.search(r'<header class="bb-header">(.*?)</header>', page, re.S)
    assert found, "the page has no header"
    return found.group(1)


def _footer(page: str) -> str:
    found = re.search(r'<footer class="bb-footer">(.*?)</footer>', page, re.S)
    assert found, "the page has no footer"
    return found.group(1)


def test_render_gives_an_executed_notebook_the_kits_page(executed, tmp_path, kernel_starts):
    out = tmp_path / "pages" / "good.html"
    proc = run_cli("render", executed["good"], "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert kernel_starts == []  # it renders, it runs nothing
    page = out.read_text(encoding="utf-8")
    meta = BeautifulSoup(page, features="html.parser").find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert meta is not None and meta["content"] == CSP
    # no code: not a cell's source, not an input area
    assert "code_only_marker" not in page and "import helpers" not in page and "jp-CodeMirrorEditor" not in page
    # the hostile output and Markdown: their script and handlers are gone, the rest of them is on the page
    assert "<script" not in page.lower() and "onerror" not in page.lower()
    assert "src=x" not in page and "src=y" not in page and 'src="y"' not in page
    assert "<b>bold kept</b>" in page and "printed from-airflow" in page
    header = _header(page)
    assert re.search(r"<h1>\s*Made by the scheduler\s*</h1>", header), header
    assert "Data as of 2024-05-06" in header
    assert "Prose between the cells." in page and "What the scheduler ran." in page
    assert re.search(r"<h2[^>]*>\s*Findings", page) and "# Made by the scheduler" not in page
    footer = _footer(page)
    assert "How this report was made" in footer
    assert "<code>label</code> = &#34;from-airflow&#34;" in footer or '<code>label</code> = "from-airflow"' in footer
    assert "<dt>Seed</dt><dd>11</dd>" in footer and 'href="https://example.org/polls"' in footer
    assert "good-input.ipynb" in footer  # the notebook papermill ran, from its metadata
    assert not list(out.parent.glob(".*.tmp-*"))


def test_the_default_page_is_beside_the_notebook_and_the_title_can_be_given(executed, tmp_path):
    nb = tmp_path / "copy.ipynb"
    nb.write_bytes(executed["good"].read_bytes())
    proc = run_cli("render", nb, "--title", "Thresholds <b>today</b>", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = _header((tmp_path / "copy.html").read_text(encoding="utf-8"))
    assert "<h1>Thresholds &lt;b&gt;today&lt;/b&gt;</h1>" in header, header


def test_a_failed_notebook_is_rendered_with_its_error_and_exits_1(executed, tmp_path):
    """The installed script, end to end: a notebook that stopped with an error is worth seeing."""
    out = tmp_path / "failing.html"
    proc = run_cli_process("render", executed["failing"], "-o", out)
    assert proc.returncode == 1, proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "ZeroDivisionError" in err and "failing.ipynb" in err and "failing.html" in err, err
    page = out.read_text(encoding="utf-8")
    assert "This notebook stopped with an error" in page and "ZeroDivisionError: division by zero" in page
    assert "before the error" in page and "never run" not in page
    assert "papermill-error-cell" not in page  # papermill's own banner (a link into the notebook) is replaced
    header = _header(page)
    assert re.search(r"<h1>\s*Made by the scheduler", header), header
    assert "Data as of not stated" in header  # no record of the kit in it
    assert "<script" not in page.lower() and CSP in page


def test_bad_input_is_refused_and_leaves_the_page_as_it_was(executed, tmp_path):
    out = tmp_path / "page.html"
    out.write_text("the last good page", encoding="utf-8")
    text = tmp_path / "notes.ipynb"
    text.write_text("these are notes, not a notebook", encoding="utf-8")
    other_json = tmp_path / "data.ipynb"
    other_json.write_text(json.dumps({"rows": [1, 2]}), encoding="utf-8")
    bad_output = tmp_path / "bad-output.ipynb"
    broken = json.loads(executed["good"].read_text(encoding="utf-8"))
    broken["cells"][2]["outputs"] = [{"output_type": "display_data", "data": "not a mapping", "metadata": {}}]
    bad_output.write_text(json.dumps(broken), encoding="utf-8")
    cases = [
        ((text,), "notes.ipynb"),
        ((other_json,), "data.ipynb"),
        ((bad_output,), "bad-output.ipynb"),
        ((executed["unexecuted"],), "has not been executed"),
        ((tmp_path / "missing.ipynb",), "missing.ipynb"),
        ((tmp_path,), ""),
    ]
    for args, needle in cases:
        proc = run_cli("render", *args, "-o", out)
        assert_clean_error(proc, needle)
        assert out.read_text(encoding="utf-8") == "the last good page", args
    assert_clean_error(run_cli("render", executed["good"], "-o", tmp_path / "page.pdf"), ".html")
    (tmp_path / "folder.html").mkdir()
    assert_clean_error(run_cli("render", executed["good"], "-o", tmp_path / "folder.html"), "folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["page.html", "notes.ipynb", "data.ipynb", "bad-output.ipynb", "folder.html"])
