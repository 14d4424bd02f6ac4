"""Views: matplotlib charts in one house style.

Each family of charts has its own module (``timeline`` and those the reports add); the shared style lives
here. Chart functions take plain data (DataFrames, dicts) and return a matplotlib Figure; they never compute
model results themselves.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"} else None  # noqa: E501

import matplotlib.pyplot as plt  # noqa: E402

from helpers.core.text import one_line  # noqa: E402
from helpers.views.charts import textmetrics  # noqa: E402

textmetrics.install()  # text measured once per process, not once per renderer (the same numbers)

#: A qualitative palette readable by people with the common colour-vision deficiencies (Okabe-Ito + greys).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
           "#7F7F7F", "#8C564B", "#17BECF", "#BCBD22"]
INK = "#222222"
MUTED = "#777777"
GRID = "#DDDDDD"
HIGHLIGHT = "#C62828"

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # a fixed title height: no chart puts tick labels above its plot, and matplotlib's automatic title
    # placement measures every tick label of every panel on each layout pass (most of a many-panel chart's time)
    "axes.titley": 1.0,
    "axes.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "font.size": 10,
    "font.family": ["DejaVu Sans"],
    "svg.fonttype": "none",
    "text.parse_math": False,  # names in data may hold "$": never read them as TeX
}


def use_style() -> None:
    """Apply the house style to matplotlib's global settings (notebooks call it once)."""
    plt.rcParams.update(STYLE)


def figure(width: float = 10.0, height: float = 5.0, **kwargs):
    """A new figure and axes in the house style."""
    with plt.rc_context(STYLE):
        return plt.subplots(figsize=(width, height), **kwargs)


def plain_label(text) -> str:
    """Data text for a chart: one line, no bidi controls (:func:`helpers.core.text.one_line`). Names, titles
    and event labels pass through it; "$" needs nothing here (``text.parse_math`` is off in :data:`STYLE`)."""
    return one_line(text)


def source_note(fig, text: str) -> None:
    """A small 'Source: …' line at the bottom left of the figure (every chart has one)."""
    fig.text(0.01, 0.005, plain_label(text), ha="left", va="bottom", fontsize=8, color=MUTED, wrap=True)


def colour_for(keys, palette=PALETTE) -> dict:
    """A stable colour per key in the order given."""
    return {k: palette[i % len(palette)] for i, k in enumerate(keys)}


def close(fig) -> None:
    """Release a figure after it has been displayed (keeps memory flat in long notebooks)."""
    plt.close(fig)


def describe(fig, text: str) -> None:
    """Attach a one-sentence description of what `fig` shows, from the chart's own numbers: the chart's alt text
    on the page (:mod:`helpers.views.charts.output`)."""
    from helpers.views.charts.output import describe as attach

    attach(fig, text)


def narrow(fig, remake) -> None:
    """Attach `remake`, a function of no arguments drawing `fig`'s chart again laid out for a phone (say, fewer
    panels a row): the narrow rendering is made from it (:mod:`helpers.views.charts.output`)."""
    from helpers.views.charts.output import narrow as attach

    attach(fig, remake)


def show(fig) -> None:
    """Display a figure in the notebook once, then release it (:func:`close`): the one call a report makes per
    chart. The page gets it as SVG with real text, a narrow rendering for phones and its description as alt
    text (:func:`helpers.views.charts.output.figure_html`)."""
    from IPython.display import HTML, display

    from helpers.views.charts.output import figure_html

    try:
        markup = figure_html(fig)
    finally:
        close(fig)
    display(HTML(markup))
