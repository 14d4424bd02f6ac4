"""Text measured once per process (``helpers.views.charts.textmetrics``): the same numbers as the renderer's
own, whatever renderer asks, and the same chart to the byte."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.figure
import matplotlib.text as mtext
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties

from helpers.views import charts
from helpers.views.charts import layout, output, textmetrics


def test_installed_with_the_charts():
    assert mtext._get_text_metrics_with_cache is textmetrics._shared


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.sampled_from("abc XYZ 0123456789%().,-'"), min_size=1, max_size=40),
       size=st.sampled_from([6.5, 8, 9, 10, 13]), weight=st.sampled_from(["normal", "bold"]),
       dpi=st.sampled_from([72, 100, 150]))
def test_a_shared_measurement_is_the_one_the_renderer_gives(text, size, weight, dpi):
    prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
    for make in (lambda: RendererAgg(300, 200, dpi), lambda: RendererSVG(300, 200, io.StringIO())):
        first = textmetrics._shared(make(), text, prop, False, dpi)
        again = textmetrics._shared(make(), text, prop, False, dpi)  # another renderer of the kind
        assert first == again == make().get_text_width_height_descent(text, prop, False)


def test_a_renderer_at_another_resolution_or_hinting_is_measured_again():
    prop = FontProperties(family="DejaVu Sans", size=9)
    text = "Share of the vote (%) in the final week"
    low, high = (textmetrics._shared(RendererAgg(300, 200, dpi), text, prop, False, dpi) for dpi in (72, 200))
    assert high[0] > low[0] * 2
    hinted = textmetrics._shared(RendererAgg(300, 200, 100), text, prop, False, 100)
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        plain = RendererAgg(300, 200, 100)
        unhinted = textmetrics._shared(plain, text, prop, False, 100)
        assert unhinted == plain.get_text_width_height_descent(text, prop, False) != hinted


def _chart():
    fig, ax = charts.figure(10, 5)
    names = [f"List number {i} with a rather long name" for i in range(8)]
    ax.barh(range(8), [3.1, 4.5, 2.2, 8.0, 1.4, 6.6, 5.0, 2.9], color=charts.PALETTE[0], label="median share")
    ax.legend(loc="lower right")
    layout.finish_rows(fig, ax, list(range(8)), names, xlim=(0, 10), ylim=(-0.6, 7.6),
                       xlabel="Share of the vote (%)", title="Chance of clearing the threshold",
                       source="Source: made-up numbers for a test, long enough to wrap on a phone screen "
                              "when the chart is laid out again for one.", bottom=0.05)
    return fig


def test_a_chart_is_the_same_to_the_byte_with_matplotlib_s_own_measuring(monkeypatch):
    fig = _chart()
    try:
        shared = output.figure_html(fig)
    finally:
        charts.close(fig)
    monkeypatch.setattr(mtext, "_get_text_metrics_with_cache", textmetrics._REAL)
    fig = _chart()
    try:
        own = output.figure_html(fig)
    finally:
        charts.close(fig)
    assert "<source media=" in shared  # the phone rendering (a resized figure, a new renderer) is in it
    assert shared == own


_WORDS = st.lists(st.text(st.sampled_from("abcdefghij WXYZ0123456789%()-,."), min_size=0, max_size=14),
                  min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(words=_WORDS, breaks=st.sets(st.integers(0, 29), max_size=3), width=st.floats(1.0, 9.0),
       x=st.floats(0.0, 0.9), ha=st.sampled_from(["left", "center", "right"]), size=st.sampled_from([8, 10, 13]))
def test_wrapping_by_halves_gives_matplotlib_s_lines(words, breaks, width, x, ha, size):
    """The bisecting wrap (:func:`textmetrics._wrapped_text`) against matplotlib's own word-by-word scan, on
    texts with long and empty words, hard line breaks, and any room left to the figure's edge."""
    text = "".join(w + ("\n" if i in breaks else " ") for i, w in enumerate(words)).rstrip(" ")
    fig = matplotlib.figure.Figure(figsize=(width, 3), dpi=100)
    t = fig.text(x, 0.5, text, wrap=True, ha=ha, fontsize=size)
    t._renderer = FigureCanvasAgg(fig).get_renderer()
    assert textmetrics._wrapped_text(t) == textmetrics._REAL_WRAP(t)


def test_wrapping_is_installed_and_wraps():
    assert mtext.Text._get_wrapped_text is textmetrics._wrapped_text
    fig = matplotlib.figure.Figure(figsize=(2, 2), dpi=100)
    t = fig.text(0.05, 0.5, "a source note long enough to need three lines at least here", wrap=True)
    t._renderer = FigureCanvasAgg(fig).get_renderer()
    assert t._get_wrapped_text().count("\n") >= 2
