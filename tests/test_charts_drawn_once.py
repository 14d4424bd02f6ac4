"""A chart is drawn as few times as it needs: once to save an SVG (tight or not), and a bounded number of
layout passes for the phone rendering. Counts of ``Figure.draw``, not timings, so a reintroduced double draw
(savefig's ``bbox_inches="tight"`` or its pre-draw for a layout engine) fails here."""

from __future__ import annotations

import io
import re

import matplotlib.figure
import pytest

from helpers.views import charts
from helpers.views.charts import layout, output


@pytest.fixture
def draws(monkeypatch):
    """The number of Figure.draw calls so far (a list of one, reset by the test as it goes)."""
    count = [0]
    real = matplotlib.figure.Figure.draw

    def counted(self, renderer):
        count[0] += 1
        return real(self, renderer)

    monkeypatch.setattr(matplotlib.figure.Figure, "draw", counted)
    return count


def _rows_chart():
    """A one-row-per-item chart as the reports draw them: long row names, a title, a legend, a source note,
    laid out by tight_layout (which leaves an inert layout engine on the figure)."""
    fig, ax = charts.figure(10, 5)
    names = [f"List number {i} with a rather long name" for i in range(8)]
    ax.barh(range(8), [3.1, 4.5, 2.2, 8.0, 1.4, 6.6, 5.0, 2.9], color=charts.PALETTE[0], label="median share")
    ax.axvline(3.25, color=charts.HIGHLIGHT, label="threshold 3.25%")
    ax.legend(loc="lower right")
    layout.finish_rows(fig, ax, list(range(8)), names, xlim=(0, 10), ylim=(-0.6, 7.6),
                              xlabel="Share of the vote (%)", title="Chance of clearing the threshold",
                              source="Source: made-up numbers for a test.", bottom=0.05)
    return fig


def _svg_size(svg: str) -> tuple[float, float]:
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    return float(m.group(1)), float(m.group(2))


def test_an_svg_is_drawn_once_tight_or_not(draws):
    fig = _rows_chart()
    try:
        draws[0] = 0
        output.svg_text(fig)
        assert draws[0] == 1
        fig.draw_without_rendering()
        draws[0] = 0
        output.svg_text(fig, tight=True)
        assert draws[0] == 1
    finally:
        charts.close(fig)


def test_a_chart_desktop_and_phone_is_drawn_a_bounded_number_of_times(draws):
    fig = _rows_chart()
    try:
        draws[0] = 0
        markup = output.figure_html(fig)
    finally:
        charts.close(fig)
    assert "<source media=" in markup  # the phone rendering was made: its layout passes are counted too
    # the wide SVG once and the narrow SVG once; the narrow layout is measured, not drawn (it was 11: each save
    # drew twice, each overlap check drew again, each layout pass drew three times; then 4: a draw for the
    # narrow ticks and one ending the layout pass)
    assert draws[0] <= 2


def test_the_tight_svg_is_the_size_savefig_tight_gives():
    fig = _rows_chart()
    try:
        fig.legend(["a figure legend pushed past the right edge"], loc="center left", bbox_to_anchor=(0.95, 0.5))
        fig.draw_without_rendering()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.06)
        want = _svg_size(buf.getvalue())
        full = tuple(x * 72 for x in fig.get_size_inches())
        got = _svg_size(output.svg_text(fig, tight=True))
    finally:
        charts.close(fig)
    assert abs(want[0] - full[0]) > 5  # the legend past the edge makes the tight box differ from the figure
    assert got[0] == pytest.approx(want[0], abs=1) and got[1] == pytest.approx(want[1], abs=1)
