"""Leadership-race charts: scenario probabilities side by side, a flow of votes from round one to round two
(a Sankey-like diagram drawn with patches), transfer rates under an assumption, a sensitivity sweep, and the
range of a candidate's chance across the assumptions.

Every function takes plain data (DataFrames, dicts) computed by :mod:`helpers.models.primaries` and returns a Figure
with a title, axis labels and a source note."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from helpers.views.charts import GRID, INK, MUTED, PALETTE, colour_for, figure, plain_label, source_note
from helpers.views.charts.output import describe

HOME_COLOUR = "#BBBBBB"


def _wrap(text: str, width: int) -> str:
    text = plain_label(text)
    return "\n".join(textwrap.wrap(text, width)) or text


def _pct(p: float) -> str:
    if p <= 0:
        return "0%"
    if p < 0.001:
        return "<0.1%"
    return f"{100 * p:.1f}%"


def _dodge_down(wanted: list[float], spacing: float, low: float) -> list[float]:
    """Label centres for `wanted` (sorted top to bottom, descending): as close as possible, at least `spacing`
    apart, order kept; pushed back up if they would fall below `low`."""
    out: list[float] = []
    for w in wanted:
        out.append(min(w, out[-1] - spacing) if out else w)
    if out and out[-1] < low:
        out[-1] = low
        for i in range(len(out) - 2, -1, -1):
            out[i] = max(out[i], out[i + 1] + spacing)
    return out


def scenario_bars(table: pd.DataFrame, *, title: str, source: str, colours: Mapping[str, str] | None = None,
                  width: float = 10.0, height: float = 5.2):
    """Probability that each candidate wins, per scenario, side by side.

    `table`: one row per (scenario, candidate) with columns ``title`` (scenario title), ``candidate``,
    ``p_outright`` and ``p_runoff_win`` (shares 0-1), optional ``standing`` (False for a candidate who
    withdrew) and ``p_runoff`` (the scenario's chance of a runoff, written under its name). The solid part of
    a bar is a win in round one, the hatched part a win in the runoff."""
    titles = list(dict.fromkeys(table["title"]))
    cands = list(dict.fromkeys(table["candidate"]))
    colours = dict(colours or colour_for(cands))
    fig, ax = figure(width, height)
    n = len(cands)
    group = 0.8
    bw = group / max(n, 1)
    for gi, t in enumerate(titles):
        sub = table[table["title"] == t].set_index("candidate")
        for ci, c in enumerate(cands):
            if c not in sub.index:
                continue
            rec = sub.loc[c]
            x = gi - group / 2 + bw * (ci + 0.5)
            p1, p2 = float(rec["p_outright"]), float(rec["p_runoff_win"])
            col = colours.get(c, MUTED)
            ax.bar(x, 100 * p1, bw * 0.92, color=col, edgecolor=col, linewidth=0.8)
            ax.bar(x, 100 * p2, bw * 0.92, bottom=100 * p1, color="white", edgecolor=col, hatch="///",
                   linewidth=0.8)
            standing = bool(rec["standing"]) if "standing" in sub.columns else True
            label = _pct(p1 + p2) if standing else "withdrew"
            # Narrow bars (many candidates) get upright labels so that neighbours never overlap.
            ax.text(x, 100 * (p1 + p2) + 1.5, label, ha="center", va="bottom", fontsize=9, color=INK,
                    rotation=90 if n > 3 else 0)
    ax.set_xticks(range(len(titles)))
    ticks = []
    for t in titles:
        label = _wrap(t, 26)
        if "p_runoff" in table.columns:
            p = float(table.loc[table["title"] == t, "p_runoff"].iloc[0])
            label += f"\nrunoff in {_pct(p)} of contests"
        ticks.append(label)
    ax.set_xticklabels(ticks, fontsize=9.5)
    ax.set_xlim(-0.6, len(titles) - 0.4)
    ax.set_ylim(0, 112 if n <= 3 else 130)
    ax.set_yticks(range(0, 101, 20))
    ax.set_yticklabels([f"{v}%" for v in range(0, 101, 20)])
    ax.set_ylabel("Probability of winning the leadership")
    ax.grid(axis="x", visible=False)
    handles = [Rectangle((0, 0), 1, 1, facecolor=colours.get(c, MUTED), edgecolor=colours.get(c, MUTED))
               for c in cands]
    handles.append(Rectangle((0, 0), 1, 1, facecolor="white", edgecolor=MUTED, hatch="///"))
    # The legend goes below the (possibly multi-line) scenario names, so the space depends on their lines.
    lines = max(t.count("\n") + 1 for t in ticks) if ticks else 1
    label_in = 0.2 * lines + 0.15
    legend_in = 0.35
    note_in = 0.35
    bottom = (label_in + legend_in + note_in) / height
    ax.legend(handles, [*cands, "hatched: won in the runoff"], loc="upper center", ncol=len(cands) + 1,
              bbox_to_anchor=(0.5, -(label_in + 0.05) / (height * (0.9 - bottom))), fontsize=9)
    ax.set_title(plain_label(title))
    fig.subplots_adjust(bottom=bottom, top=0.9)
    source_note(fig, source)
    describe(fig, f"{plain_label(title)}: chance of winning (in round one or the runoff) per plan. " + " ".join(
        f"{plain_label(t)}: " + ", ".join(
            f"{plain_label(r['candidate'])} {_pct(float(r['p_outright']) + float(r['p_runoff_win']))}"
            for _, r in table[table["title"] == t].iterrows()) + "." for t in titles))
    return fig


def flow_chart(flows: pd.DataFrame, *, title: str, source: str, left_order: Sequence[str] | None = None,
               right_order: Sequence[str] | None = None, colours: Mapping[str, str] | None = None,
               left_label: str = "Round 1", right_label: str = "Round 2", width: float = 10.0,
               height: float = 6.0):
    """Votes flowing from round-one candidates (left) to the runoff finalists and "stayed home" (right).

    `flows`: columns ``source``, ``target``, ``votes``. Node heights and band widths are proportional to
    votes; each band has its source's colour. Nodes are labelled with their names and vote counts."""
    flows = flows[flows["votes"] > 0]
    lefts = list(left_order or dict.fromkeys(flows["source"]))
    rights = list(right_order or dict.fromkeys(flows["target"]))
    lefts = [n for n in lefts if n in set(flows["source"])]
    rights = [n for n in rights if n in set(flows["target"])]
    colours = dict(colours or colour_for(lefts))
    out_tot = flows.groupby("source")["votes"].sum()
    in_tot = flows.groupby("target")["votes"].sum()
    total = max(out_tot.sum(), in_tot.sum())
    gap_frac = 0.025
    fig, ax = figure(width, height)
    ax.set_axis_off()
    ax.grid(False)
    x0, x1, node_w = 0.0, 1.0, 0.035

    def stack(names, totals):
        gap = gap_frac * total
        span = sum(totals[n] for n in names) + gap * (len(names) - 1)
        y = span
        pos = {}
        for n in names:
            pos[n] = (y - totals[n], y)
            y -= totals[n] + gap
        return pos, span

    lpos, lspan = stack(lefts, out_tot)
    rpos, rspan = stack(rights, in_tot)
    span = max(lspan, rspan)
    # centre the shorter column
    loff, roff = (span - lspan) / 2, (span - rspan) / 2
    lpos = {k: (a + loff, b + loff) for k, (a, b) in lpos.items()}
    rpos = {k: (a + roff, b + roff) for k, (a, b) in rpos.items()}

    def colour(name):
        return HOME_COLOUR if name.startswith("(") else colours.get(name, MUTED)

    # Two-line labels need about this much height (data units) at the figure's size; small nodes' labels are
    # pushed apart and joined to their node by a short leader line.
    line_h = 0.085 * span * 6.0 / height

    def labels(pos, totals, side):
        names = sorted(pos, key=lambda k: -(pos[k][0] + pos[k][1]))
        wanted = [(pos[k][0] + pos[k][1]) / 2 for k in names]
        placed = _dodge_down(wanted, line_h, low=-0.02 * span)
        for k, want, y in zip(names, wanted, placed, strict=True):
            xa = x0 - node_w if side == "left" else x1 + node_w
            xt = xa - 0.03 if side == "left" else xa + 0.03
            if abs(y - want) > 1e-9 * span:
                ax.plot([xa, xt], [want, y], color=MUTED, linewidth=0.7)
            ax.text(xt + (-0.005 if side == "left" else 0.005), y, f"{k}\n{totals[k]:,.0f}",
                    ha="right" if side == "left" else "left", va="center", fontsize=9.5, color=INK)

    for n, (a, b) in lpos.items():
        ax.add_patch(Rectangle((x0 - node_w, a), node_w, b - a, facecolor=colour(n), edgecolor="none"))
    for n, (a, b) in rpos.items():
        ax.add_patch(Rectangle((x1, a), node_w, b - a, facecolor=colour(n), edgecolor="none"))
    labels(lpos, out_tot, "left")
    labels(rpos, in_tot, "right")

    # Bands leave each source top-down in target order and arrive at each target top-down in source order.
    lcur = {n: lpos[n][1] for n in lefts}
    rcur = {n: rpos[n][1] for n in rights}
    for s in lefts:
        for t in rights:
            sel = flows[(flows["source"] == s) & (flows["target"] == t)]
            v = float(sel["votes"].sum())
            if v <= 0:
                continue
            ly1, ly0 = lcur[s], lcur[s] - v
            ry1, ry0 = rcur[t], rcur[t] - v
            lcur[s], rcur[t] = ly0, ry0
            xm = (x0 + x1) / 2
            verts = [(x0, ly1), (xm, ly1), (xm, ry1), (x1, ry1), (x1, ry0), (xm, ry0), (xm, ly0), (x0, ly0),
                     (x0, ly1)]
            codes = [Path.MOVETO, *[Path.CURVE4] * 3, Path.LINETO, *[Path.CURVE4] * 3, Path.CLOSEPOLY]
            ax.add_patch(PathPatch(Path(verts, codes), facecolor=colour(s), alpha=0.45, edgecolor="none"))
    ax.text(x0 - node_w / 2, span * 1.04, left_label, ha="center", va="bottom", fontsize=11,
            fontweight="bold", color=INK)
    ax.text(x1 + node_w / 2, span * 1.04, right_label, ha="center", va="bottom", fontsize=11,
            fontweight="bold", color=INK)
    ax.set_xlim(-0.42, 1.42)
    ax.set_ylim(-0.02 * span, span * 1.1)
    ax.set_title(plain_label(title))
    fig.subplots_adjust(bottom=0.07, top=0.9, left=0.02, right=0.98)
    source_note(fig, source)
    return fig


def calibration_chart(family: pd.DataFrame, lines: Mapping[str, str], *, title: str, xlabel: str,
                      ylabel: str, source: str, x: str = "assumed", colours: Mapping[str, str] | None = None,
                      mark: float | None = None, mark_label: str = "", width: float = 10.0,
                      height: float = 5.0):
    """Transfer rates that give back a real runoff's counts, for each value of one assumption (each line is one
    slice of the range the counts allow).

    `family`: from :func:`helpers.models.primaries.calibration_family` — an `x` column (percent) and one column per
    entry of `lines` (column -> legend label, percent); rows with ``feasible`` False are shaded as
    impossible (a rate below 0 or above 100). `mark` draws a vertical line at the assumption the report
    uses."""
    fig, ax = figure(width, height)
    colours = dict(colours or {})
    for i, (col, label) in enumerate(lines.items()):
        ax.plot(family[x], family[col], color=colours.get(col, PALETTE[i % len(PALETTE)]), linewidth=2.2,
                label=label)
    if "feasible" in family.columns and not family["feasible"].all():
        xs = family[x].to_numpy()
        bad = ~family["feasible"].to_numpy(dtype=bool)
        step = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
        first = True
        for xi, b in zip(xs, bad, strict=True):
            if b:
                ax.axvspan(xi - step, xi + step, color=GRID, alpha=0.7, linewidth=0,
                           label="impossible (a rate outside 0-100%)" if first else None)
                first = False
    if mark is not None:
        ax.axvline(mark, color=INK, linestyle="--", linewidth=1)
        if mark_label:
            ax.text(mark, 101, mark_label, ha="center", va="bottom", fontsize=9, color=INK)
    ax.set_xlim(family[x].min(), family[x].max())
    lowest = float(np.nanmin(family[list(lines)].to_numpy()))
    ax.set_ylim(max(min(0.0, lowest) - 2, -12), 108)
    ax.axhline(0, color=MUTED, linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(4, len(lines) + 1))
    ax.set_title(plain_label(title))
    fig.subplots_adjust(bottom=0.3, top=0.88)
    source_note(fig, source)
    return fig


#: The plans' colours (Paul Tol's muted scheme): no plan takes a colour of the house palette, which the candidates
#: and parties use, so a plan is never read as a candidate.
PLAN_PALETTE = ["#332288", "#882255", "#44AA99", "#999933", "#661100", "#888888"]


def sweep_chart(frame: pd.DataFrame, *, follow: str, swept: str, title: str, source: str,
                floor: float | None = None, floor_label: str = "", marks: Mapping[str, float] | None = None,
                width: float = 10.0, height: float = 5.2):
    """P(`follow` wins) under each scenario (one line per ``title``) as `swept`'s first-round share (the
    ``share`` column, percent) varies. `floor`: below it a runoff is (almost) never held (shaded, and named by
    `floor_label` in the legend).
    `marks`: labelled vertical lines (label -> share; None or out of range is skipped)."""
    fig, ax = figure(width, height)
    titles = list(dict.fromkeys(frame["title"]))
    styles = ["-", "--", "-."]
    for i, t in enumerate(titles):
        sub = frame[frame["title"] == t]
        ax.plot(sub["share"], 100 * sub["p_win"], color=PLAN_PALETTE[i % len(PLAN_PALETTE)], linewidth=2.2,
                linestyle=styles[i % len(styles)], label=_wrap(t, 40))
    lo, hi = float(frame["share"].min()), float(frame["share"].max())
    if floor is not None and floor > lo:
        # named in the legend, not inside the band: a narrow band cannot hold its words
        ax.axvspan(lo, min(floor, hi), color=GRID, alpha=0.5, linewidth=0,
                   label=" ".join((floor_label or "no runoff possible").split()))
    for label, xv in (marks or {}).items():
        if xv is None or not lo <= xv <= hi:
            continue
        ax.axvline(xv, color=INK, linestyle=":", linewidth=1)
        ax.text(xv + 0.004 * (hi - lo), 101, label, ha="left", va="bottom", fontsize=9, color=INK)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 108)
    ax.set_yticks(range(0, 101, 20))
    ax.set_yticklabels([f"{v}%" for v in range(0, 101, 20)])
    ax.set_xlabel(f"{swept}'s first-round share (percent; the others keep their proportions)")
    ax.set_ylabel(f"Probability that {follow} wins")
    handles = ax.get_legend_handles_labels()[0]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(len(handles), 2), fontsize=9)
    ax.set_title(plain_label(title))
    fig.subplots_adjust(bottom=0.3 if len(handles) <= 2 else 0.36, top=0.88)
    source_note(fig, source)
    return fig


def range_chart(table: pd.DataFrame, *, follow: str, title: str, source: str, base: str = "as in the files",
                width: float = 10.0, height: float = 4.6):
    """The followed candidate's chance under each plan as the assumptions change: per plan (a column of
    `table` other than ``assumption``) a line from the lowest to the highest chance over the rows (each row is
    one assumption changed), a dot at every row, and a diamond at the `base` row. Chances are shares 0-1."""
    plans = [c for c in table.columns if c != "assumption"]
    fig, ax = figure(width, height)
    y = np.arange(len(plans))[::-1]
    for yi, plan, colour in zip(y, plans, PLAN_PALETTE, strict=False):
        values = 100 * table[plan].to_numpy(float)
        ax.plot([values.min(), values.max()], [yi, yi], color=colour, linewidth=6, alpha=0.35,
                solid_capstyle="round")
        ax.scatter(values, np.full(len(values), yi), color=colour, s=18, zorder=3)
        at = table.loc[table["assumption"] == base, plan]
        if len(at):
            ax.scatter([100 * float(at.iloc[0])], [yi], color=INK, marker="D", s=40, zorder=4,
                       label=base if yi == y[0] else None)
    ax.set_yticks(y)
    ax.set_yticklabels([_wrap(p, 34) for p in plans], fontsize=9)
    ax.set_xlim(-2, 102)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{v}%" for v in range(0, 101, 20)])
    ax.set_xlabel(f"Share of simulated contests {follow} wins (each dot: one assumption changed)")
    ax.grid(axis="x", color=GRID)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, fontsize=9)
    ax.set_title(plain_label(title))
    fig.subplots_adjust(left=0.3, bottom=0.3, top=0.88)
    source_note(fig, source)
    base_row = table[table["assumption"] == base]
    describe(fig, f"{plain_label(title)}: the chance that {plain_label(follow)} wins, lowest to highest over "
                  f"{len(table)} assumptions" + (f" ({plain_label(base)} in brackets)" if len(base_row) else "")
             + ": " + "; ".join(
                 f"{plain_label(p)} {_pct(float(table[p].min()))}–{_pct(float(table[p].max()))}"
                 + (f" ({_pct(float(base_row[p].iloc[0]))})" if len(base_row) else "") for p in plans) + ".")
    return fig
