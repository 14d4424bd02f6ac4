"""Coalition charts: the seat projection, the hemicycle, blocs' seat distributions, what crossing the
threshold does to the blocs, and the what-ifs against the base.

Each function takes plain data (DataFrames and dicts from :mod:`helpers.models.scenarios` and
:mod:`helpers.models.simulate`, display names and colours) and returns a matplotlib Figure with a title, axis labels
and a source note. Probabilities arrive as shares 0-1 and are written as percentages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from helpers.views.charts import GRID, HIGHLIGHT, INK, MUTED, PALETTE, colour_for, figure, plain_label, source_note
from helpers.views.charts.layout import display_name, finish_rows
from helpers.views.charts.output import NARROW_INCHES as NARROW_WIDTH
from helpers.views.charts.output import describe, narrow

#: Colour of a party without one in the registry.
NEUTRAL = "#9E9E9E"


def _percent(p: float) -> str:
    """A probability as a reader says it: '<1%' and '>99%' rather than 0% or 100% from a finite sample."""
    if p != p:
        return "–"
    if p <= 0:
        return "<1%" if p == 0 else "0%"
    if p >= 1 or p > 0.99:
        return ">99%"
    if p < 0.01:
        return "<1%"
    return f"{100 * p:.0f}%"


def bloc_colours(blocs: Sequence[str]) -> dict[str, str]:
    """A colour per bloc (the house palette, in the scenario's order)."""
    return colour_for(list(blocs), PALETTE)


def seat_projection_chart(summary: pd.DataFrame, *, order: Sequence[str], title: str, source: str,
                          names: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None,
                          bloc_of: Mapping[str, str] | None = None, total_seats: int):
    """One bar per party (in `order`, top to bottom): mean seats over the simulated elections, a whisker over
    the 90% range (seats_p05 to seats_p95), and on the right 'mean (range)' and the chance of no seat.
    `summary` is :attr:`helpers.models.simulate.Simulation.summary`. Parties are grouped by `bloc_of` with the bloc's
    name above its group."""
    s = summary.set_index("party").loc[list(order)]
    bloc_of = bloc_of or {}
    # one blank row before each new bloc, for its heading
    rows: list[tuple[str, str]] = []
    last = None
    for p in s.index:
        b = bloc_of.get(p, "Outside the blocs")
        if b != last:
            rows.append(("bloc", b))
            last = b
        rows.append(("party", p))
    fig, ax = figure(10, 1.3 + 0.36 * len(rows))
    y = {}
    for i, (kind, key) in enumerate(rows):
        pos = len(rows) - 1 - i
        if kind == "bloc":
            ax.text(-0.5, pos - 0.1, key, fontsize=10, fontweight="bold", color=INK, ha="left", va="center")
            continue
        y[key] = pos
        r = s.loc[key]
        c = (colours or {}).get(key) or NEUTRAL
        ax.barh(pos, r["seats_mean"], height=0.62, color=c, alpha=0.85)
        ax.plot([r["seats_p05"], r["seats_p95"]], [pos, pos], color=INK, linewidth=1.3)
        for x in (r["seats_p05"], r["seats_p95"]):
            ax.plot([x, x], [pos - 0.16, pos + 0.16], color=INK, linewidth=1.3)
        label = f"{r['seats_mean']:.1f}  ({r['seats_p05']:.0f}–{r['seats_p95']:.0f})"
        if r["p_zero"] >= 0.005:
            label += f"   no seat: {_percent(r['p_zero'])}"
        ax.text(max(r["seats_p95"], r["seats_mean"]) + 0.8, pos, label, va="center", fontsize=9, color=INK)
    top = float(s["seats_p95"].max()) if len(s) else 1.0
    describe(fig, f"{plain_label(title)}: mean seats of {total_seats} (90% range) per party: " + "; ".join(
        f"{display_name(names, p)} {s.loc[p, 'seats_mean']:.1f} ({s.loc[p, 'seats_p05']:.0f}–"
        f"{s.loc[p, 'seats_p95']:.0f})" for p in s.index) + ".")
    return finish_rows(fig, ax, list(y.values()), [display_name(names, p) for p in y], xlim=(-0.5, top * 1.45 + 6),
                       ylim=(-0.7, len(rows) - 0.3), bottom=0.04, title=title, source=source,
                       xlabel=f"seats of {total_seats}: bar = mean of the simulated elections, whisker = 90% "
                              "of them")


def hemicycle_positions(total: int, rows: int | None = None) -> pd.DataFrame:
    """Seat positions of a parliament chart: `total` dots in `rows` semicircular rows (inner radius 0.4,
    outer 1), seats per row in proportion to its length. Columns x, y, angle (radians, pi on the left to 0
    on the right), row; sorted left to right (by angle), so consecutive seats form wedges."""
    if total <= 0:
        return pd.DataFrame(columns=["x", "y", "angle", "row"])
    rows = rows or max(1, min(12, round(math.sqrt(total / 3.3))))
    radii = np.linspace(0.4, 1.0, rows) if rows > 1 else np.array([0.7])
    share = radii / radii.sum()
    per_row = np.floor(share * total).astype(int)
    for i in np.argsort(-(share * total - per_row), kind="stable")[: total - per_row.sum()]:
        per_row[i] += 1
    out = []
    for row, (r, n) in enumerate(zip(radii, per_row, strict=True)):
        if n == 0:
            continue
        angles = np.array([math.pi / 2]) if n == 1 else np.linspace(math.pi, 0, n)
        out.extend({"x": r * math.cos(a), "y": r * math.sin(a), "angle": a, "row": row} for a in angles)
    frame = pd.DataFrame(out)
    return frame.sort_values(["angle", "row"], ascending=[False, True], kind="stable").reset_index(drop=True)


def hemicycle_chart(seats: pd.Series, *, majority: int, title: str, source: str,
                    names: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None,
                    highlight: Sequence[str] = (), highlight_name: str = "", width: float = 10.0):
    """A parliament chart: one dot per seat, parties in the order of `seats` (index party, whole seats) from
    left to right. The parties of `highlight` are drawn in full colour, the others faded; a dashed line marks
    where the majority-th seat ends (counted from the left). `width` in inches (a phone gets a narrow one)."""
    args = dict(seats=seats, majority=majority, title=title, source=source, names=names, colours=colours,
                highlight=highlight, highlight_name=highlight_name)
    seats = seats[seats > 0]
    total = int(seats.sum())
    pos = hemicycle_positions(total)
    owner = np.repeat(seats.index.to_numpy(), seats.to_numpy())
    lead = set(highlight)
    fig, ax = figure(width, 6.2 if width >= 10 else 6.0)  # a narrow one keeps room for its legend
    rows = int(pos["row"].max()) + 1 if len(pos) else 1
    gap = 0.6 / max(rows - 1, 1)  # distance between rows, in data units
    points_per_unit = 0.86 * width * 72 / 2.24  # the axes are about 86% of the figure's width, 2.24 units wide
    size = (0.78 * gap * points_per_unit) ** 2
    for party in seats.index:
        at = pos[owner == party]
        colour = (colours or {}).get(party) or NEUTRAL
        ax.scatter(at["x"], at["y"], s=size, color=colour, alpha=1.0 if (party in lead or not lead) else 0.25,
                   linewidths=0.6, edgecolors="white", zorder=3)
    if 0 < majority <= total:
        a = pos["angle"].iloc[majority - 1]
        b = pos["angle"].iloc[majority] if majority < total else a
        mid = (a + b) / 2
        ax.plot([0.3 * math.cos(mid), 1.1 * math.cos(mid)], [0.3 * math.sin(mid), 1.1 * math.sin(mid)],
                color=HIGHLIGHT, linestyle="--", linewidth=1.4, zorder=4)
        ax.text(1.15 * math.cos(mid), 1.15 * math.sin(mid), f"{majority} seats", color=HIGHLIGHT, fontsize=10,
                ha="center", va="bottom")
    held = int(seats[[p for p in seats.index if p in lead]].sum()) if lead else 0
    if lead:
        verdict = "a majority" if held >= majority else f"{majority - held} short of a majority"
        # inside the arc; a narrow chart has no room there, so the words go under it
        inside = width >= 10
        ax.annotate(f"{highlight_name}", (0, 0.0 if inside else -0.04),
                    xytext=(0, 10.5 * 1.3 * 2 + 4 if inside else 0), textcoords="offset points",
                    ha="center", va="bottom" if inside else "top", fontsize=12, fontweight="bold", color=INK)
        ax.annotate(f"{held} of {total} seats: {verdict}" if not inside else f"{held} of {total} seats:\n{verdict}",
                    (0, 0.0 if inside else -0.04), xytext=(0, 0 if inside else -16), textcoords="offset points",
                    ha="center", va="bottom" if inside else "top", fontsize=10.5, color=INK, linespacing=1.3)
    ax.set_xlim(-1.12, 1.12)
    ax.set_ylim(-0.08 if width >= 10 or not lead else -0.3, 1.22)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = []
    for party, n in seats.items():
        colour = (colours or {}).get(party) or NEUTRAL
        handles.append(Line2D([], [], marker="o", linestyle="", color=colour, markersize=8,
                              alpha=1.0 if (party in lead or not lead) else 0.35,
                              label=f"{display_name(names, party)} {n}"))
    ncol = 4 if len(handles) > 9 else 3
    heading = f"Seats (faded: outside {highlight_name})" if lead and highlight_name else "Seats"
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, fontsize=9.5,
              frameon=False, handletextpad=0.3, columnspacing=1.2, title=heading, title_fontsize=9.5,
              alignment="left")
    ax.set_title(plain_label(title), loc="left")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    source_note(fig, source)
    if width > NARROW_WIDTH:
        narrow(fig, lambda: hemicycle_chart(**args, width=NARROW_WIDTH))
    held_text = f" {plain_label(highlight_name)} holds {held} of {total} ({majority} for a majority)." if lead else ""
    describe(fig, f"{plain_label(title)}: a parliament of {total} seats, one dot each: " + ", ".join(
        f"{display_name(names, p)} {n}" for p, n in seats.items()) + "." + held_text)
    return fig


def bloc_seats_chart(distribution: pd.DataFrame, *, majority: int, title: str, source: str,
                     colours: Mapping[str, str] | None = None, p_majority: Mapping[str, float] | None = None,
                     actual: Mapping[str, int] | None = None):
    """One panel per bloc or coalition: how often it wins each number of seats (bars; those at or above the
    majority dark, below it light), the majority as a dashed line, and P(majority) in the panel's title.
    `distribution` has name, seats, probability (:func:`helpers.models.scenarios.seat_distribution`).
    `actual` ({name: official seats}) marks what actually happened with a black line and its label."""
    groups = list(dict.fromkeys(distribution["name"]))
    n = max(len(groups), 1)
    fig, axes = figure(10, 1.2 + 2.0 * n, nrows=n, ncols=1, sharex=True, squeeze=False)
    official = list((actual or {}).values())
    lo = min([float(distribution["seats"].min()), majority] + official) - 2 if len(distribution) else 0
    hi = max([float(distribution["seats"].max()), majority] + official) + 2 if len(distribution) else majority + 2
    for ax, g in zip(axes[:, 0], groups, strict=False):
        d = distribution[distribution["name"] == g]
        colour = (colours or {}).get(g) or PALETTE[0]
        reach = d["seats"] >= majority
        ax.bar(d.loc[~reach, "seats"], 100 * d.loc[~reach, "probability"], width=0.85, color=colour,
               alpha=0.35)
        ax.bar(d.loc[reach, "seats"], 100 * d.loc[reach, "probability"], width=0.85, color=colour)
        ax.axvline(majority - 0.5, color=HIGHLIGHT, linestyle="--", linewidth=1.2)
        if actual and g in actual:
            ax.axvline(actual[g], color=INK, linewidth=2)
            ax.text(actual[g] + 0.3, 0.95, f"official: {actual[g]}", transform=ax.get_xaxis_transform(),
                    va="top", fontsize=9, color=INK)
        p = (p_majority or {}).get(g, float(d.loc[reach, "probability"].sum()))
        ax.set_title(f"{g}: {majority}+ seats in {_percent(p)} of simulated elections", fontsize=11,
                     loc="left")
        ax.set_ylabel("% of elections", fontsize=9)
        ax.grid(axis="x", visible=False)
        ax.set_xlim(lo, hi)
    axes[-1, 0].set_xlabel(f"seats won together (dark: {majority} or more, the majority)")
    fig.suptitle(plain_label(title), x=0.01, ha="left", fontsize=13, fontweight="bold")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    source_note(fig, source)
    said = []
    for g in groups:
        d = distribution[distribution["name"] == g]
        p = (p_majority or {}).get(g, float(d.loc[d["seats"] >= majority, "probability"].sum()))
        likeliest = int(d.loc[d["probability"].idxmax(), "seats"]) if len(d) else 0
        said.append(f"{plain_label(g)} wins {majority}+ seats in {_percent(p)}, most often {likeliest}"
                    + (f" (official: {actual[g]})" if actual and g in actual else ""))
    describe(fig, f"{plain_label(title)}: " + "; ".join(said) + ".")
    return fig


def threshold_swing_chart(frame: pd.DataFrame, *, majority: int, title: str, source: str,
                          names: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None):
    """For each party near the threshold (rows) and each bloc (panels): the bloc's chance of a majority in the
    simulated elections where the party clears the line (filled dot) and where it misses it (open dot), joined
    by a line. `frame` is :func:`helpers.models.scenarios.threshold_sensitivity`."""
    blocs = [b for b in dict.fromkeys(frame["bloc"]) if b]
    parties = list(dict.fromkeys(frame["party"]))
    n = max(len(blocs), 1)
    fig, axes = figure(10, 1.6 + 0.42 * len(parties), nrows=1, ncols=n, sharey=True, squeeze=False)
    labels = [f"{display_name(names, p)} ({_percent(frame.loc[frame['party'] == p, 'p_pass'].iloc[0])} to clear)"
              for p in parties]
    for ax, b in zip(axes[0], blocs, strict=False):
        d = frame[frame["bloc"] == b].set_index("party").loc[parties]
        colour = (colours or {}).get(b) or PALETTE[0]
        for i, (_, r) in enumerate(d.iterrows()):
            y = len(parties) - 1 - i
            a, c = r["p_bloc_if_pass"], r["p_bloc_if_fail"]
            if a == a and c == c:
                ax.plot([100 * a, 100 * c], [y, y], color=GRID, linewidth=3, zorder=1)
            if a == a:
                ax.plot([100 * a], [y], "o", color=colour, markersize=8, zorder=3)
            if c == c:
                ax.plot([100 * c], [y], "o", markerfacecolor="white", markeredgecolor=colour, markersize=8,
                        markeredgewidth=1.8, zorder=3)
        if len(d):
            ax.axvline(100 * float(d["p_bloc"].iloc[0]), color=MUTED, linestyle=":", linewidth=1.2)
        ax.set_xlim(-3, 103)
        ax.set_title(b, fontsize=11, loc="left")
        ax.set_xlabel(f"chance of {majority}+ seats (%)")
        ax.grid(axis="y", visible=False)
    axes[0, 0].set_yticks(range(len(parties)), labels[::-1], fontsize=9.5)
    handles = [Line2D([], [], marker="o", linestyle="", color=INK, markersize=7, label="if the party clears"),
               Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor=INK,
                      markersize=7, label="if it misses"),
               Line2D([], [], color=MUTED, linestyle=":", label="overall")]
    fig.suptitle(plain_label(title), x=0.01, ha="left", fontsize=13, fontweight="bold")
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.45 / fig.get_figheight()),
               ncol=3, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1 - 0.7 / fig.get_figheight()))
    source_note(fig, source)
    said = [f"{plain_label(r['bloc'])} with {display_name(names, r['party'])} in {_percent(r['p_bloc_if_pass'])}, "
            f"without {_percent(r['p_bloc_if_fail'])}" for _, r in frame[frame["bloc"].astype(bool)].iterrows()]
    describe(fig, f"{plain_label(title)}: chance of {majority}+ seats if the party clears the line and if it "
                  "misses: " + "; ".join(said) + ".")
    return fig


def what_if_chart(frame: pd.DataFrame, *, majority: int, title: str, source: str,
                  colours: Mapping[str, str] | None = None, kinds: Sequence[str] = ("bloc",)):
    """Base against each what-if (rows, the base on top): each group's chance of a majority as a dot, the
    base's value as a thin line of the same colour. `frame` is :func:`helpers.models.scenarios.comparison`; only
    the groups of `kinds` ('bloc', 'coalition', 'any') are drawn."""
    d = frame[frame["kind"].isin(kinds)]
    variants = list(dict.fromkeys(frame["variant"]))
    groups = list(dict.fromkeys(d["name"]))
    cols = dict(colour_for(groups, PALETTE))
    cols.update({k: v for k, v in (colours or {}).items() if k in cols})
    fig, ax = figure(10, 1.7 + 0.5 * len(variants))
    base = variants[0] if variants else None
    for g in groups:
        rows = d[d["name"] == g].set_index("variant")
        if base in rows.index:
            ax.axvline(100 * rows.loc[base, "p_majority"], color=cols[g], linewidth=1, alpha=0.5, zorder=1)
        for i, v in enumerate(variants):
            if v in rows.index:
                ax.plot([100 * rows.loc[v, "p_majority"]], [len(variants) - 1 - i], "o", color=cols[g],
                        markersize=9, zorder=3, markeredgecolor="white")
    ax.set_yticks(range(len(variants)), variants[::-1], fontsize=10)
    ax.set_xlim(-3, 103)
    ax.set_ylim(-0.6, len(variants) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"chance of {majority}+ seats (%); thin lines: the base")
    handles = [Line2D([], [], marker="o", linestyle="", color=cols[g], markersize=8, label=g) for g in groups]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=min(len(handles), 4),
              frameon=False, fontsize=9.5)
    ax.set_title(plain_label(title), loc="left", pad=28)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    source_note(fig, source)
    said = [f"{plain_label(v)}: " + ", ".join(f"{plain_label(g)} {_percent(r['p_majority'])}" for g, r in
                                             d[d["variant"] == v].set_index("name").iterrows())
            for v in variants]
    describe(fig, f"{plain_label(title)}: chance of {majority}+ seats. " + "; ".join(said) + ".")
    return fig
