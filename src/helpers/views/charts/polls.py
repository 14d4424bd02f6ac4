"""Poll charts: the poll of polls, parties near the line, seat ranges, and the backtest's errors.

Each function takes plain data (DataFrames from :mod:`helpers.models.polls` and :mod:`helpers.models.simulate`, dicts of
display names) and returns a matplotlib Figure with a title, axis labels and a source note.
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba_array
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from helpers.views.charts import GRID, HIGHLIGHT, INK, PALETTE, colour_for, figure, plain_label, source_note
from helpers.views.charts.layout import display_name, finish_rows
from helpers.views.charts.output import describe, narrow

#: Clears / fails colours for probabilities (blue and vermillion stay distinct for colour-blind readers).
PASS_COLOUR = "#0072B2"
FAIL_COLOUR = "#D55E00"
BAND = "#B9C6D6"
#: The poll of polls names at most this many pollsters in its legend (as many as the palette has colours).
MAX_LEGEND_POLLSTERS = len(PALETTE)
#: A poll of polls panel with more dots than this draws them as an image (a page of tens of thousands of SVG
#: dots is slow to make and to show); every shipped polls file stays well under it.
MAX_VECTOR_DOTS = 1000


def _percent(p: float) -> str:
    """A probability as a reader says it: '<1%' and '>99%' rather than 0% or 100% from a finite sample."""
    if p <= 0:
        return "<1%" if p == 0 else "0%"
    if p >= 1:
        return ">99%"
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{100 * p:.0f}%"


def _legend_pollsters(points: pd.DataFrame, pollsters: list[str]) -> list[str]:
    """The pollsters the legend names: all of them, or when there are more than ``MAX_LEGEND_POLLSTERS`` (more
    than the palette has colours, so colours repeat) the ones with the most poll figures, in name order."""
    if len(pollsters) <= MAX_LEGEND_POLLSTERS:
        return pollsters
    counts = points["pollster"].value_counts()
    top = sorted(pollsters, key=lambda p: (-int(counts.get(p, 0)), p))[:MAX_LEGEND_POLLSTERS - 1]
    return sorted(top)


def poll_of_polls_chart(points: pd.DataFrame, trend: pd.DataFrame, *, parties: list[str], line: float,
                        unit: str, title: str, source: str, names: dict | None = None,
                        line_label: str | None = None, notes: dict | None = None, ncols: int = 4):
    """Small multiples, one panel per party (in the order of `parties`): a dot per poll coloured by pollster,
    the running average (line) and the band where about 90% of recent polls fall, and the line to clear
    (`line`, in the chart's `unit`: 'seats' or 'share' in percent) dashed in red.

    points: date, pollster, party, value. trend: date, party, value, low, high
    (:func:`helpers.models.polls.trend`). notes: {party: text} written inside that party's panel (e.g. the
    percentages published for a party every poll shows with 0 seats)."""
    polled = set(points["party"].unique())
    parties = [p for p in parties if p in polled]
    n = max(len(parties), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = figure(3.1 * ncols, 2.35 * nrows + 1.3, nrows=nrows, ncols=ncols, sharex=True, squeeze=False)
    pollsters = sorted(points["pollster"].unique())
    colours = colour_for(pollsters, PALETTE)
    # each point's colour by its pollster's code: one lookup for all points, no per-point Python
    rgba = to_rgba_array([colours[p] for p in pollsters]) if pollsters else np.zeros((0, 4))
    pollster_code = pd.Index(pollsters).get_indexer(points["pollster"])
    what = "seats" if unit == "seats" else "% of valid votes"
    for ax, party in zip(axes.flat, parties, strict=False):
        here = (points["party"] == party).to_numpy()
        pts = points[here]
        tr = trend[trend["party"] == party].sort_values("date")
        if len(tr):
            ax.fill_between(tr["date"], tr["low"], tr["high"], color=BAND, alpha=0.55, linewidth=0, zorder=1)
            ax.plot(tr["date"], tr["value"], color=INK, linewidth=1.8, zorder=3)
        # a panel of very many dots is drawn as one picture in the page, not an element per dot
        ax.scatter(pts["date"].to_numpy(), pts["value"].to_numpy(), s=14, c=rgba[pollster_code[here]], alpha=0.85,
                   linewidths=0, zorder=2, rasterized=len(pts) > MAX_VECTOR_DOTS)
        ax.axhline(line, color=HIGHLIGHT, linestyle="--", linewidth=1.1, zorder=2)
        top = max(float(pts["value"].max()) if len(pts) else 0.0, float(tr["high"].max()) if len(tr) else 0.0,
                  line * 1.6)
        ax.set_ylim(0, top * 1.08)
        last = f"{tr['value'].iloc[-1]:.1f}" if len(tr) else "–"
        ax.set_title(f"{display_name(names, party)}  ({last})", fontsize=10.5, loc="left")
        if notes and notes.get(party):
            ax.text(0.03, 0.93, notes[party], transform=ax.transAxes, ha="left", va="top", fontsize=8.5,
                    color=INK, wrap=True, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        ax.tick_params(labelsize=8.5)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=4))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    for ax in list(axes.flat)[len(parties):]:
        ax.set_visible(False)
    # a panel with no visible panel under it shows the dates itself
    for i, ax in enumerate(axes.flat):
        if i < len(parties) and i + ncols >= len(parties):
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(what, fontsize=9)
    handles = [Line2D([], [], marker="o", linestyle="", color=colours[p], markersize=5, label=p)
               for p in _legend_pollsters(points, pollsters)]
    if len(pollsters) > MAX_LEGEND_POLLSTERS:
        handles.append(Line2D([], [], linestyle="", label=f"+{len(pollsters) - len(handles)} more pollsters "
                                                          "(colours repeat)"))
    handles += [Line2D([], [], color=INK, linewidth=1.8, label="average (latest in brackets)"),
                Patch(color=BAND, alpha=0.55, label="90% of recent polls"),
                Line2D([], [], color=HIGHLIGHT, linestyle="--", label=line_label or f"line: {line:g}")]
    fig.suptitle(plain_label(title), x=0.01, ha="left", fontsize=13, fontweight="bold")
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1.0 - 0.55 / fig.get_figheight()),
               ncol=min(len(handles), 5), fontsize=8.5, frameon=False)
    legend_rows = math.ceil(len(handles) / 5)
    fig.tight_layout(rect=(0, 0.035, 1, 1 - (0.6 + 0.22 * legend_rows) / fig.get_figheight()))
    source_note(fig, source)
    if ncols > 2:  # on a phone: two panels a row
        narrow(fig, lambda: poll_of_polls_chart(points, trend, parties=parties, line=line, unit=unit, title=title,
                                                source=source, names=names, line_label=line_label, notes=notes,
                                                ncols=2))
    latest = [f"{display_name(names, p)} {tr['value'].iloc[-1]:.1f}" for p in parties
              if len(tr := trend[trend["party"] == p].sort_values("date"))]
    describe(fig, f"{plain_label(title)}: {len(points)} poll figures from {len(pollsters)} pollsters"
                  f" and the average of each party in {what}; latest average: {', '.join(latest) or 'none'};"
                  f" the line to clear is {line:g}.")
    return fig


def near_line_chart(rows: pd.DataFrame, *, line: float, title: str, source: str, names: dict | None = None,
                    what: str = "threshold", actual: dict | None = None, actual_label: str = "official result"):
    """Parties near the line: for each row (party, share_mean, share_p05, share_p95, p_pass), the simulated
    share's 90% range (bar) and mean (dot) against the line, with the probability of clearing it on the
    right. Blue when clearing is more likely than not, vermillion otherwise. `actual` ({party: share in
    percent}) marks what actually happened with a black diamond, named `actual_label` in a legend."""
    rows = rows.sort_values("share_mean", ascending=True).reset_index(drop=True)
    height = 1.4 + 0.48 * max(len(rows), 1)
    fig, ax = figure(9.5, height)
    for i, r in rows.iterrows():
        colour = PASS_COLOUR if r["p_pass"] >= 0.5 else FAIL_COLOUR
        ax.plot([r["share_p05"], r["share_p95"]], [i, i], color=colour, linewidth=6, alpha=0.35,
                solid_capstyle="butt")
        ax.plot([r["share_mean"]], [i], "o", color=colour, markersize=7)
    marked = [(i, float(actual[p])) for i, p in enumerate(rows["party"]) if actual and p in actual]
    if marked:
        ax.plot([x for _, x in marked], [i for i, _ in marked], "D", color=INK, markersize=6, linestyle="",
                label=actual_label, zorder=4)
        ax.legend(loc="lower right", fontsize=9, frameon=False)
    ax.axvline(line, color=HIGHLIGHT, linestyle="--", linewidth=1.3)
    ax.set_yticks(range(len(rows)), [display_name(names, p) for p in rows["party"]], fontsize=10)
    xmax = max(float(rows["share_p95"].max()) if len(rows) else line, line,
               max((x for _, x in marked), default=0.0)) * 1.08
    ax.set_xlim(0, xmax)
    ax.set_ylim(-0.6, len(rows) + 0.2)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("share of valid votes (%): dot = average of the simulated elections, bar = 90% range")
    sec = ax.secondary_yaxis("right")
    sec.set_yticks(range(len(rows)), [f"{_percent(p)} to clear" for p in rows["p_pass"]], fontsize=10)
    sec.tick_params(length=0)
    sec.spines["right"].set_visible(False)
    near_edge = line > 0.7 * xmax  # then the label goes left of the line, clear of the probabilities
    ax.text(line, len(rows) - 0.35, f" {what} {line:g}% " if not near_edge else f"{what} {line:g}% ",
            color=HIGHLIGHT, fontsize=9, va="bottom", ha="right" if near_edge else "left")
    ax.set_title(plain_label(title), loc="left")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    source_note(fig, source)
    describe(fig, f"{plain_label(title)}: chance of clearing the {what} of {line:g}% (average share, 90% range): "
             + "; ".join(f"{display_name(names, r['party'])} {_percent(r['p_pass'])} ({r['share_mean']:.1f}%, "
                         f"{r['share_p05']:.1f}–{r['share_p95']:.1f}%)" for _, r in rows.iloc[::-1].iterrows())
             + "." + (f" {actual_label[:1].upper() + actual_label[1:]}: " + "; ".join(
                 f"{display_name(names, p)} {x:.1f}%" for p, x in actual.items() if p in set(rows["party"])) + "."
                 if marked else ""))
    return fig


def seat_range_chart(summary: pd.DataFrame, *, title: str, source: str, names: dict | None = None,
                     colours: dict | None = None, total_seats: int, actual: dict | None = None,
                     actual_label: str = "official seats"):
    """Each party's seats: 90% range of the simulated elections (bar from seats_p05 to seats_p95), the median
    (dot) and the mean (tick), labelled 'median (range)' and, where it is above 1%, the chance of no seat.
    `actual` ({party: seats}) marks what actually happened with a black diamond, named in a legend."""
    rows = summary.sort_values(["seats_mean", "share_mean"], ascending=True).reset_index(drop=True)
    fig, ax = figure(9.5, 1.5 + 0.42 * max(len(rows), 1))
    for i, r in rows.iterrows():
        c = (colours or {}).get(r["party"]) or PASS_COLOUR
        ax.plot([r["seats_p05"], r["seats_p95"]], [i, i], color=c, linewidth=7, alpha=0.4,
                solid_capstyle="butt")
        ax.plot([r["seats_median"]], [i], "o", color=c, markersize=7, markeredgecolor="white")
        ax.plot([r["seats_mean"]], [i], "|", color=INK, markersize=12, markeredgewidth=1.5)
        label = f"{r['seats_median']:.0f} ({r['seats_p05']:.0f}–{r['seats_p95']:.0f})"
        if r["p_zero"] > 0.01:
            label += f", no seat: {_percent(r['p_zero'])}"
        ax.text(r["seats_p95"] + 0.6, i, label, va="center", fontsize=9, color=INK)
    marked = [(i, float(actual[p])) for i, p in enumerate(rows["party"]) if actual and p in actual]
    if marked:
        ax.plot([x for _, x in marked], [i for i, _ in marked], "D", color=INK, markersize=6, linestyle="",
                label=actual_label, zorder=4)
        ax.legend(loc="lower right", fontsize=9, frameon=False)
    top = max([float(rows["seats_p95"].max()) if len(rows) else 1.0] + [x for _, x in marked])
    describe(fig, f"{plain_label(title)}: median seats of {total_seats} (90% range) per party: " + "; ".join(
        f"{display_name(names, r['party'])} {r['seats_median']:.0f} ({r['seats_p05']:.0f}–{r['seats_p95']:.0f})"
        + (f", {actual_label} {actual[r['party']]:g}" if actual and r["party"] in actual else "")
        for _, r in rows.iloc[::-1].iterrows()) + ".")
    return finish_rows(fig, ax, range(len(rows)), [display_name(names, p) for p in rows["party"]],
                       xlim=(-0.8, top * 1.32 + 4),  # room for a dot at 0 seats
                       ylim=(-0.6, len(rows) - 0.4), bottom=0.05, title=title, source=source,
                       xlabel=f"seats of {total_seats}: dot = median, tick = mean, bar = 90% of simulated elections")


def backtest_chart(errors: pd.DataFrame, *, title: str, source: str, names: dict | None = None,
                   columns: dict | None = None):
    """Seat error per party: projection minus official seats, one bar per projection in `columns`
    ({column in `errors`: legend label}); `errors` has a ``party`` column. Bars right of 0 overstate the
    party, left of 0 understate it."""
    columns = columns or {"final_week_error": "final-week poll average", "model_error": "model"}
    rows = errors.iloc[::-1].reset_index(drop=True)
    k = len(columns)
    fig, ax = figure(9.5, 1.6 + 0.5 * max(len(rows), 1))
    height = 0.8 / k
    tints = [PASS_COLOUR, FAIL_COLOUR, "#009E73", "#CC79A7"]
    for j, (col, label) in enumerate(columns.items()):
        # the first projection on top, as in the legend
        y = np.arange(len(rows)) + ((k - 1) / 2 - j) * height
        ax.barh(y, rows[col].astype(float), height=height * 0.95, color=tints[j % len(tints)], label=label)
    ax.axvline(0, color=INK, linewidth=1)
    ax.set_yticks(range(len(rows)), [display_name(names, p) for p in rows["party"]], fontsize=10)
    span = float(np.nanmax(np.abs(rows[list(columns)].to_numpy(dtype=float)))) if len(rows) else 1.0
    ax.set_xlim(-span * 1.15 - 0.5, span * 1.15 + 0.5)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=GRID)
    ax.set_xlabel("seats: projection minus official result (right = overstated, left = understated)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=k, fontsize=9, frameon=False)
    ax.set_title(plain_label(title), loc="left", pad=26)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    source_note(fig, source)
    describe(fig, f"{plain_label(title)}: seats projected minus seats won, per party ("
             + " / ".join(plain_label(v) for v in columns.values()) + "): " + "; ".join(
                 f"{display_name(names, r['party'])} " + " / ".join(
                     "0" if round(float(r[c]), 1) == 0 else f"{float(r[c]):+.1f}".rstrip("0").rstrip(".")
                     for c in columns)
                 for _, r in errors.iterrows()) + ".")
    return fig
