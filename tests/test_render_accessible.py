"""The page exporter adds what nbconvert's adds after its template (alternative text for an image without one,
focusable cells) to the start tags themselves, without parsing and writing out the whole page: the page must
be the same document as nbconvert's own exporter makes, for a real report and for awkward markup."""

from __future__ import annotations

import nbformat
import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from helpers.pipeline import render

META = {"title": "A report", "as_of": "2022-11-01", "parameters": {"n": "1"}, "seed": 1, "sources": ["test"],
        "built": "2026-11-30", "version": "0", "commit": None, "notebook": "t.ipynb", "inputs": []}


def _document(page: str) -> str:
    """`page` parsed and written out again with every element's attributes in name order: two pages are the
    same document when these are equal."""
    soup = BeautifulSoup(page, features="html.parser")
    for tag in soup.find_all(True):
        tag.attrs = dict(sorted(tag.attrs.items()))
    return str(soup)


def _both(nb) -> tuple[str, str]:
    """The page of `nb` by the kit's exporter and by nbconvert's own (same settings, same sanitised notebook)."""
    text = nbformat.writes(nb)
    ours = render.render_html(nbformat.reads(text, as_version=4), META)
    saved = render._EXPORTER
    render._EXPORTER = render.make_exporter(stock=True)
    try:
        theirs = render.render_html(nbformat.reads(text, as_version=4), META)
    finally:
        render._EXPORTER = saved
    return ours, theirs


def _awkward_notebook(html_outputs: list[str]):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Awkward\n\nA question? <!-- a comment <img src=x> -->"))
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": h}) for h in html_outputs]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="a > b and <img> in text\n"))
    nb.cells.append(cell)
    return nb


AWKWARD = [
    '<img src="data:image/png;base64,iVBORw0KGgo=">',                       # no alternative text
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="a > b, \'quoted\'">',  # one with ">" in it
    "<img alt='' src='data:image/png;base64,iVBORw0KGgo='/>",                # empty but present, single quotes
    '<IMG SRC="data:image/png;base64,iVBORw0KGgo=">',                       # upper case
    '<div class="jp-OutputArea-output x" title="a>b">data that looks like an output area</div>',
    '<div class="other">plain</div><p>text with <b>bold</b> &amp; <br> a break</p>',
    '<table><tr><td data-label="Party">Likud</td><td>32</td></tr></table>',
]


def test_a_page_with_awkward_markup_is_the_same_document_as_nbconverts():
    ours, theirs = _both(_awkward_notebook(AWKWARD))
    assert _document(ours) == _document(theirs)
    assert ours.count(render.NO_ALT) == theirs.count(render.NO_ALT) >= 2
    assert 'alt="a &gt; b' in ours or "alt=\"a > b" in ours  # the given text kept


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(AWKWARD + [
    '<div class="jp-Cell-inputWrapper" tabindex="-1">focus</div>', "<img src='data:image/gif;base64,R0lGOD=' >",
    '<span title="<div class=jp-OutputArea-output>">not a tag</span>', "<!-- <img> -->",
    "<style>.jp-OutputArea-output { color: red }</style>"]), max_size=6))
def test_any_mix_of_outputs_gives_the_same_document(outputs):
    ours, theirs = _both(_awkward_notebook(outputs))
    assert _document(ours) == _document(theirs)


@pytest.mark.slow
def test_a_real_report_is_the_same_document_as_nbconverts():
    import papermill as pm

    nb = pm.execute_notebook(str(ROOT / "notebooks/04_timeline.ipynb"), None, kernel_name="python3", cwd=str(ROOT),
                             progress_bar=False)
    ours, theirs = _both(nb)
    assert _document(ours) == _document(theirs)
    assert ours.count('tabindex="0"') == theirs.count('tabindex="0"') > 0


def test_the_notebook_is_still_checked_against_the_format_once(monkeypatch):
    """One check after the last preprocessor instead of one after each: a notebook a preprocessor leaves
    invalid still fails."""
    checked = []
    exporter = render.make_exporter()
    original = nbformat.validate

    def counting(nb, *a, **k):
        checked.append(1)
        return original(nb, *a, **k)

    nb = _awkward_notebook(AWKWARD[:1])
    monkeypatch.setattr(nbformat, "validate", counting)
    exporter.from_notebook_node(nb)
    assert len(checked) == 1
    checked.clear()
    render.make_exporter(stock=True).from_notebook_node(nb)
    assert len(checked) > 5  # nbconvert's: one after each preprocessor
    bad = _awkward_notebook(AWKWARD[:1])
    bad.cells[1].outputs[0]["output_type"] = "not an output type"
    with pytest.raises(Exception, match="not an output type|is not valid|ValidationError"):
        exporter.from_notebook_node(bad)
