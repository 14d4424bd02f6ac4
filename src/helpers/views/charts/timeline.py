"""Timeline chart: time runs down the page; each actor has a column (lane); every event is a dot in the lane
of each actor it names (a vertical bar when its date is only known to the month or year, so the reader sees
the uncertainty), and its label sits in a column on the right, joined to its date by a leader line. Labels are
spaced so that none overlap, whatever the density of events, while keeping their order in time."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from helpers.views.charts import GRID, INK, MUTED, PALETTE, STYLE, plain_label, source_note
from helpers.views.charts.output import describe

LABEL_SIZE = 8.5
LINE = 0.19          # inches between label baselines at the least
LANE_WIDTH = 0.62    # inches per actor column
CALENDAR_WEIGHT = 0.3  # 1 = a purely calendar time axis; 0 = events evenly spaced
#: 20 distinguishable colours for many categories (matplotlib's tab20, dark and light in turn).
CATEGORY_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
                    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"]


def dodge(wanted: list[float], spacing: float, low: float, high: float) -> list[float]:
    """1-D label placement: positions as close as possible to `wanted` (sorted ascending), at least `spacing`
    apart, within [low, high] when they fit. Order is kept."""
    out: list[float] = []
    for w in wanted:
        out.append(max(w, low, out[-1] + spacing) if out else max(w, low))
    # Pushed past the end: walk back from the end so the tail fits, then keep the spacing going forwards.
    if out and out[-1] > high:
        out[-1] = high
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - spacing)
    return out


def date_text(row) -> str:
    approx = "≈ " if "approx" in str(row["date_note"]).lower() else ""
    start = row["start"]
    if row["precision"] == "year":
        return f"{approx}{start:%Y}"
    if row["precision"] == "month":
        return f"{approx}{start:%b %Y}"
    return f"{approx}{start.day} {start:%b %Y}"


def category_colours(categories) -> dict[str, str]:
    """One colour per category, the same in every chart that is given this mapping: the sorted categories take
    the palette in turn (the 20-colour one when there are more categories than the house palette holds)."""
    categories = sorted(set(categories))
    palette = PALETTE if len(categories) <= len(PALETTE) else CATEGORY_PALETTE
    return {c: palette[i % len(palette)] for i, c in enumerate(categories)}


def timeline_chart(events: pd.DataFrame, lane_rows: pd.DataFrame, *, title: str, source: str,
                   width: float = 12.0, colours: dict[str, str] | None = None):
    """Draw `events` (from :func:`helpers.models.timeline.select`) in the lanes of `lane_rows`
    (:func:`helpers.models.timeline.lanes`). `colours`: category -> colour, to keep a category's colour across
    charts (:func:`category_colours`; default: from this chart's own categories). Returns the Figure;
    ``fig.bb_labels`` holds the label Text artists (tests check that none overlap)."""
    lane_names = lane_rows.drop_duplicates("lane_index").sort_values("lane_index")["lane"].tolist()
    categories = sorted(events["category"].unique())
    colour = {**category_colours(categories), **(colours or {})}
    ev = events.set_index("n")
    n_events = len(events)

    lo = events["start"].min()
    hi = events["end"].max()
    days = max((hi - lo).days, 1)
    time_height = max(6.0, n_events * LINE * 1.15)   # inches of time axis
    top, bottom = 0.9, 1.0                            # inches for the title and the legend
    lane_x0 = 1.0                                     # year labels sit left of the lanes
    label_x = lane_x0 + LANE_WIDTH * len(lane_names) + 0.5
    height = time_height + top + bottom

    # The time axis is a blend of calendar time and event order, so busy months get room and quiet years
    # shrink; the year rules keep the reader oriented, and order in time is always kept.
    starts = np.sort(np.array([(t - lo).days for t in events["start"]], dtype=float))
    ranks = np.linspace(0.0, 1.0, len(starts)) if len(starts) > 1 else np.zeros(1)

    def y_of(ts) -> float:  # inches from the bottom; earlier is higher
        d = (ts - lo).days
        frac = CALENDAR_WEIGHT * d / days + (1 - CALENDAR_WEIGHT) * float(np.interp(d, starts, ranks))
        return bottom + time_height * (1 - frac)

    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")

    # Years: a faint rule and the year at the left.
    for year in range(lo.year, hi.year + 1):
        first = max(pd.Timestamp(year=year, month=1, day=1), lo)
        last = min(pd.Timestamp(year=year, month=12, day=31), hi)
        y_top, y_bottom = y_of(first), y_of(last)
        ax.plot([lane_x0 - 0.9, lane_x0 + LANE_WIDTH * len(lane_names)], [y_top, y_top], color=GRID, lw=0.6,
                zorder=0)
        if y_top - y_bottom > 0.12:
            ax.text(lane_x0 - 0.15, (y_top + y_bottom) / 2, str(year), ha="right", va="center", fontsize=9,
                    color=MUTED)
    # Lanes: a column per actor, named at the top (names wrap at the first space when long).
    for i, name in enumerate(lane_names):
        x = lane_x0 + LANE_WIDTH * (i + 0.5)
        ax.plot([x, x], [bottom, bottom + time_height], color="#EEEEEE", lw=1.2, zorder=0)
        name = plain_label(name)
        shown = name.replace(" ", "\n", 1) if len(name) > 9 else name
        ax.text(x, bottom + time_height + 0.12, shown, ha="center", va="bottom", fontsize=8.5, color=INK,
                rotation=0, linespacing=1.0)

    # Events.
    for n, group in lane_rows.groupby("n"):
        row = ev.loc[n]
        c = colour[row["category"]]
        xs = [lane_x0 + LANE_WIDTH * (i + 0.5) for i in group["lane_index"]]
        y0, y1 = y_of(row["start"]), y_of(row["end"])
        exact = row["precision"] == "day" and y0 == y1
        if len(xs) > 1:
            ax.plot([min(xs), max(xs)], [y0, y0], color=c, lw=0.8, alpha=0.6, zorder=1)
        for x in xs:
            if exact:
                ax.plot([x], [y0], marker="o", ms=5.5, color=c, mec="white", mew=0.7, zorder=3, ls="none")
            else:
                ax.add_patch(Rectangle((x - 0.06, y1), 0.12, max(y0 - y1, 0.03), facecolor=c, alpha=0.45,
                                       edgecolor=c, lw=0.7, hatch="////", zorder=2))

    # Labels: in time order, dodged so they never overlap, each joined to its event by a leader line.
    order = events.sort_values(["start", "n"])["n"].tolist()
    wanted = [y_of(ev.loc[n, "start"]) for n in order]
    # dodge works upwards in y; time runs downwards, so place on the flipped axis.
    flipped = dodge([-w for w in wanted], LINE, -(bottom + time_height), -bottom + 0.0)
    fig.bb_labels = []
    right_edge = lane_x0 + LANE_WIDTH * len(lane_names)
    for n, want, got in zip(order, wanted, flipped, strict=True):
        row = ev.loc[n]
        y = -got
        ax.plot([right_edge, label_x - 0.35, label_x - 0.08], [want, want, y], color="#BBBBBB", lw=0.5,
                zorder=1)
        ax.plot([label_x - 0.04], [y], marker="s", ms=4, color=colour[row["category"]], ls="none")
        t = ax.text(label_x + 0.04, y, f"{date_text(row)}  ·  {plain_label(row['label'])}", ha="left",
                    va="center", fontsize=LABEL_SIZE, color=INK, clip_on=False)
        fig.bb_labels.append(t)

    ax.text(0.15, height - 0.25, plain_label(title), ha="left", va="top", fontsize=13, fontweight="bold",
            color=INK)
    handles = [Patch(facecolor=colour[c], label=c) for c in categories]
    handles.append(Line2D([], [], marker="o", color=MUTED, ls="none", label="exact day"))
    handles.append(Patch(facecolor="#CCCCCC", hatch="////", edgecolor=MUTED,
                         label="month or year only (bar spans it)"))
    fig.legend(handles=handles, loc="lower left", ncol=min(len(handles), 6), fontsize=8,
               bbox_to_anchor=(0.01, 0.22 / height), frameon=False)
    source_note(fig, source)
    first, last = events.sort_values(["start", "n"]).iloc[[0, -1]].to_dict("records") if n_events else ({}, {})
    describe(fig, f"{plain_label(title)}: {n_events} events from {date_text(first) if n_events else '–'} "
                  f"({plain_label(first.get('label', ''))}) to {date_text(last) if n_events else '–'} "
                  f"({plain_label(last.get('label', ''))}), one column per actor ("
                  + ", ".join(plain_label(n) for n in lane_names) + "), coloured by category ("
                  + ", ".join(plain_label(c) for c in categories) + ").")
    return fig


def labels_overlap(fig) -> list[tuple[str, str]]:
    """Pairs of label texts whose drawn boxes intersect (an empty list is the goal)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer=renderer)) for t in fig.bb_labels]
    boxes.sort(key=lambda b: b[1].y0)
    clashes = []
    for (ta, a), (tb, b) in zip(boxes, boxes[1:], strict=False):
        if a.y1 > b.y0 + 0.5 and a.x0 < b.x1 and b.x0 < a.x1:
            clashes.append((ta, tb))
    return clashes


#: Inches per period (row) of a count chart, and the most cells whose numbers it writes in them.
COUNT_ROW = 0.27
COUNT_NUMBERS = 600
#: The most characters of an actor's name the phone layout of a count chart shows (upright above its column).
SLIM_NAME = 24


def count_chart(counts, *, title: str, source: str, width: float = 12.0, colours: dict[str, str] | None = None,
                pooled: str = "Other actors"):
    """Events counted per period, for more events than a chart can draw one by one: time runs down the page as in
    :func:`timeline_chart`; on the left a column per actor (lane) whose cells are shaded by, and show, the number
    of events naming that actor in the period; on the right a bar per period of all its events, split by
    category. `counts` is a :class:`helpers.models.timeline.Counts`; `pooled` names its lane of the events
    naming none of the listed actors (not shaded past the busiest actor's cell). Drawn with a fixed number of artists
    whatever the number of events (one mesh, one collection of bars, a number per cell and per bar)."""
    from matplotlib.collections import PolyCollection

    from helpers.views.charts import narrow

    lanes, total, by_cat = counts.lanes, counts.total, counts.categories
    rows, lane_names, categories = len(total), list(lanes.columns), list(by_cat.columns)
    colour = {**category_colours(categories), **(colours or {})}
    slim = width < 8                                   # the phone layout: actor names upright, legend in rows
    names = [plain_label(n) for n in lane_names]
    if slim:  # upright names: a long one is cut, so the header keeps a bounded height
        names = [n if len(n) <= SLIM_NAME else n[: SLIM_NAME - 1] + "…" for n in names]
    name_h = max(len(n) for n in names) * 0.075 + 0.2 if slim else 0.5
    top, left = 0.75 + name_h, (0.75 if slim else 1.0)  # inches: title, axis words and actor names; periods
    bottom = 0.6 + 0.2 * ((len(categories) + (2 if slim else 6)) // (3 if slim else 7))  # legend and source
    grid_h = rows * COUNT_ROW
    height = grid_h + top + bottom
    usable = width - left - 0.3
    heat_w = usable * (0.55 if slim else 0.58)
    bar_x = left + heat_w + 0.2
    bar_w = width - bar_x - (0.35 if slim else 0.45)

    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((left / width, bottom / height, heat_w / width, grid_h / height))
        bars = fig.add_axes((bar_x / width, bottom / height, bar_w / width, grid_h / height), sharey=ax)

    values = lanes.to_numpy()
    # The shading runs up to the busiest named actor's cell: "Other actors" (many actors together) would
    # otherwise leave every named actor pale; its darker cells all take the darkest shade, and the number says.
    named = [i for i, n in enumerate(lane_names) if n != pooled]
    peak = max(int(values[:, named].max()) if named else int(values.max()), 1)
    # the grid of cells is one picture in the page (a few KB of flat colour), not a path per cell; its numbers,
    # names and periods stay text
    ax.pcolormesh(np.arange(len(lane_names) + 1), np.arange(rows + 1), values, cmap="Blues", vmin=0,
                  vmax=peak * 1.15, edgecolors="white", linewidth=0.8, rasterized=True)
    ax.set_ylim(rows, 0)
    ax.set_xlim(0, len(lane_names))
    ax.grid(False)
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_yticks(np.arange(rows) + 0.5, counts.labels, fontsize=9)
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(len(lane_names)) + 0.5,
                  names if slim else [(n.replace(" ", "\n", 1) if len(n) > 9 else n) for n in names],
                  fontsize=8.5, linespacing=1.0, rotation=90 if slim else 0)
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("Naming each actor" if slim else f"Events naming each actor, per {counts.step_name}",
                  fontsize=9, color=MUTED, labelpad=6)
    if values.size <= COUNT_NUMBERS:
        for (r, c), v in np.ndenumerate(values):
            if v:
                ax.text(c + 0.5, r + 0.5, f"{v:,}", ha="center", va="center", fontsize=8,
                        color="white" if v > 0.6 * peak else INK)

    # All events of each period, split by category: one collection of rectangles.
    stack = by_cat.to_numpy()
    ends = stack.cumsum(axis=1)
    starts = ends - stack
    r_idx, c_idx = np.nonzero(stack)
    y0, y1 = r_idx + 0.15, r_idx + 0.85
    x0, x1 = starts[r_idx, c_idx], ends[r_idx, c_idx]
    verts = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y0]), np.column_stack([x1, y1]),
                      np.column_stack([x0, y1])], axis=1)
    bars.add_collection(PolyCollection(verts, facecolors=[colour[categories[c]] for c in c_idx],
                                       edgecolors="none"))
    most = max(int(total.max()), 1)
    bars.set_xlim(0, most * 1.18)
    for r, v in enumerate(total.to_numpy()):
        bars.text(v + most * 0.015, r + 0.5, f"{v:,}", ha="left", va="center", fontsize=8, color=INK)
    bars.grid(False)
    bars.tick_params(length=0, labelleft=False, labelbottom=False)
    for side in ("left", "bottom"):
        bars.spines[side].set_visible(False)
    bars.xaxis.set_label_position("top")
    bars.set_xlabel("All, by kind" if slim else f"All events per {counts.step_name}, by category", fontsize=9,
                    color=MUTED, labelpad=6 + (name_h * 72 - 6 if not slim else 0) * 0.75)

    fig.text(0.15 / width, 1 - 0.2 / height, plain_label(title), ha="left", va="top", fontsize=13,
             fontweight="bold", color=INK, wrap=slim)
    handles = [Patch(facecolor=colour[c], label=plain_label(c)) for c in categories]
    fig.legend(handles=handles, loc="lower left", ncol=min(len(handles), 3 if slim else 7), fontsize=9 if slim else 8,
               bbox_to_anchor=(0.01, 0.3 / height), frameon=False)
    source_note(fig, source)

    busiest = total.idxmax()
    lane_sums = lanes.sum()
    cat_sums = by_cat.sum().sort_values(ascending=False, kind="stable")
    describe(fig, f"{plain_label(title)}: {int(total.sum()):,} events counted per {counts.step_name} from "
                  f"{counts.labels[0]} to {counts.labels[-1]}; the busiest {counts.step_name} is {busiest} "
                  f"({int(total.max()):,} events). Events naming each actor: "
                  + ", ".join(f"{plain_label(n)} {int(v):,}" for n, v in lane_sums.items())
                  + ". By category: " + ", ".join(f"{plain_label(c)} {int(v):,}" for c, v in cat_sums.items())
                  + ".")
    if width > 6:
        narrow(fig, lambda: count_chart(counts, title=title, source=source, width=4.6, colours=colours,
                                        pooled=pooled))
    return fig
