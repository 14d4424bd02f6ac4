"""Layout shared by the charts: display names on rows and the finish of a one-row-per-item chart."""

from __future__ import annotations

from helpers.views.charts import plain_label, source_note


def display_name(names, key: str) -> str:
    """`key`'s display name from `names` (key -> name; None or a missing key: the key itself), as a chart
    label (:func:`plain_label`)."""
    return plain_label((names or {}).get(key, key))


def finish_rows(fig, ax, ticks, labels, *, xlim, ylim, xlabel: str, title: str, source: str, bottom: float):
    """Finish a chart of one horizontal row per item: `labels` at the rows' places `ticks`, the axes' limits, no
    horizontal grid, the x label, the title, the layout (room of `bottom` for the source) and the source
    note. Returns the figure."""
    ax.set_yticks(ticks, labels, fontsize=10)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(xlabel)
    ax.set_title(plain_label(title), loc="left")
    fig.tight_layout(rect=(0, bottom, 1, 1))
    source_note(fig, source)
    return fig
