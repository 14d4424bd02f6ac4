"""The coalition scenario report's tables and sentences for the reader: display names, rounded numbers,
steps and vetoes in words. Built from what :mod:`helpers.models.scenarios` and :mod:`helpers.models.whatif`
compute; nothing here changes a number."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.data.scenarios import Scenario, Step
from helpers.models.scenarios import Paths


def _join(members, names: Mapping[str, str], sep: str = " + ") -> str:
    return sep.join(names.get(m, m) for m in members)


def projection_table(summary: pd.DataFrame, order: Sequence[str], names: Mapping[str, str],
                     bloc_of: Mapping[str, str]) -> pd.DataFrame:
    """The seat projection for readers, in `order`: Party, Bloc, Share %, Mean seats, Seats 90% range,
    P(no seat) %."""
    s = summary.set_index("party").loc[list(order)]
    return pd.DataFrame({
        "Party": [names.get(p, p) for p in s.index],
        "Bloc": [bloc_of.get(p, "—") for p in s.index],
        "Share %": s["share_mean"].to_numpy(),
        "Mean seats": s["seats_mean"].to_numpy(),
        "Seats 90% range": [f"{a:.0f}–{b:.0f}" for a, b in zip(s["seats_p05"], s["seats_p95"], strict=True)],
        "P(no seat) %": 100 * s["p_zero"].to_numpy(),
    })


def paths_table(paths: Paths, names: Mapping[str, str], limit: int = 15) -> pd.DataFrame:
    """The first `limit` paths (in the table's order: most often exact first) for readers: Coalition,
    Parties, P(every member needed) %, P(majority) %, Mean seats, Mean surplus, P(comfortable) %."""
    t = paths.table.head(limit)
    return pd.DataFrame({
        "Coalition": [_join(m, names) for m in t["members"]],
        "Parties": [len(m) for m in t["members"]],
        "P(every member needed) %": 100 * t["p_minimal"].to_numpy(dtype=float),
        f"P({paths.majority}+) %": 100 * t["p_majority"].to_numpy(dtype=float),
        "Mean seats": t["seats_mean"].to_numpy(dtype=float),
        "Mean surplus": t["surplus_mean"].to_numpy(dtype=float),
        f"P({paths.comfortable}+) %": 100 * t["p_comfortable"].to_numpy(dtype=float),
    })


def groups_table(table: pd.DataFrame, names: Mapping[str, str], majority: int, comfortable: int,
                 notes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Blocs or named coalitions for readers (from :func:`group_table`)."""
    out = pd.DataFrame({
        "Name": table["name"].to_numpy(),
        "Members": [_join(m, names, ", ") for m in table["members"]],
        "Mean seats": table["seats_mean"].to_numpy(dtype=float),
        "Seats 90% range": [f"{a:.0f}–{b:.0f}" for a, b in zip(table["seats_p05"], table["seats_p95"],
                                                               strict=True)],
        f"P({majority}+) %": 100 * table["p_majority"].to_numpy(dtype=float),
        f"P({comfortable}+) %": 100 * table["p_comfortable"].to_numpy(dtype=float),
    })
    if notes:
        out["Note"] = [notes.get(n, "") for n in table["name"]]
    return out


def pivots_table(pivots: pd.DataFrame, needed: pd.Series, names: Mapping[str, str],
                 order: Sequence[str]) -> pd.DataFrame:
    """P(pivotal) per party for readers, percent: Party, Needed by some path %, then one column per group
    ('—' where the party is not a member). Parties never pivotal anywhere are left out."""
    cols = {"Party": [names.get(p, p) for p in order],
            "Needed by some path %": [100 * float(needed.get(p, 0.0)) for p in order]}
    for g in pivots.columns:
        cols[f"Pivotal for {g} %"] = [100 * pivots.loc[p, g] if p in pivots.index else np.nan for p in order]
    out = pd.DataFrame(cols)
    values = out.drop(columns="Party").fillna(0).to_numpy()
    return out[(values > 0).any(axis=1)].reset_index(drop=True)


def sensitivity_table(frame: pd.DataFrame, names: Mapping[str, str], threshold: float,
                      line: str | None = None) -> pd.DataFrame:
    """Threshold sensitivity for readers, one row per party: Party, Share %, Points to the line (+ = short,
    − = cushion; `line` names it, by default "`threshold`%"), Votes (approx.), P(clears) %, then per bloc
    'P(bloc majority) if it clears / misses'."""
    if frame.empty:
        return pd.DataFrame()
    first = frame.drop_duplicates("party")
    out = pd.DataFrame({
        "Party": [names.get(p, p) for p in first["party"]],
        "Share %": first["share"].to_numpy(),
        f"Points to {line or f'{threshold:g}%'}": first["gap_points"].to_numpy(),
        "Votes (approx.)": [f"{v:+,.0f}" if v == v else "" for v in first["gap_votes"]],
        "P(clears) %": 100 * first["p_pass"].to_numpy(),
    })
    for bloc in [b for b in dict.fromkeys(frame["bloc"]) if b]:
        part = frame[frame["bloc"] == bloc].set_index("party").loc[first["party"]]
        out[f"{bloc}: P(majority) if it clears %"] = 100 * part["p_bloc_if_pass"].to_numpy()
        out[f"{bloc}: … if it misses %"] = 100 * part["p_bloc_if_fail"].to_numpy()
    return out


def comparison_table(frame: pd.DataFrame, majority: int) -> pd.DataFrame:
    """Base against each what-if for readers: one row per variant, one column per bloc, named coalition
    and 'some allowed coalition', each P(majority) in percent."""
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(column=[f"{n} P({majority}+) %" for n in frame["name"]])
    wide = frame.pivot_table(index="variant", columns="column", values="p_majority", sort=False,
                             aggfunc="first") * 100
    wide = wide.reindex(list(dict.fromkeys(frame["variant"])))
    wide.columns.name = None
    return wide.reset_index().rename(columns={"variant": "Scenario"})


def changed_table(frame: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """The lists each what-if touched, for readers: What-if, Party, Share % base → what-if, Mean seats base →
    what-if, P(no seat) % base → what-if."""
    def pair(a, b, fmt):
        return f"{'—' if a != a else format(a, fmt)} → {'—' if b != b else format(b, fmt)}"

    return pd.DataFrame({
        "What-if": frame["variant"].to_numpy(),
        "Party": [names.get(p, p) for p in frame["party"]],
        "Share %": [pair(a, b, ".1f") for a, b in zip(frame["base_share"], frame["share"], strict=True)],
        "Mean seats": [pair(a, b, ".1f") for a, b in zip(frame["base_seats_mean"], frame["seats_mean"],
                                                          strict=True)],
        "P(no seat) %": [pair(100 * a, 100 * b, ".0f") for a, b in zip(frame["base_p_zero"], frame["p_zero"],
                                                                       strict=True)],
    })


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def step_text(step: Step, names: Mapping[str, str]) -> str:
    """A what-if step in words, with display names."""
    n = [names.get(p, p) for p in step.parties]
    parts = [(names.get(k, k), pct) for k, pct in step.parts]
    if step.kind == "move":
        return f"{step.amount:g} points of the vote move from {n[0]} to {n[1]}"
    if step.kind == "merge":
        keep = f", keeping {step.amount:g}% of their votes" if step.amount != 100 else ""
        return f"{_and(n)} run together as {names.get(step.into, step.label or step.into)}{keep}"
    if step.kind == "split":
        return f"{n[0]} splits into " + _and([f"{k} ({pct:g}%)" for k, pct in parts])
    if step.kind == "drop":
        where = "; its votes spread over the other lists in proportion"
        if parts:
            where = "; " + ", ".join(f"{pct:g}% of its votes go to {k}" for k, pct in parts) + \
                (", the rest spread in proportion" if sum(p for _, p in parts) < 100 else "")
        return f"{n[0]} does not run{where}"
    if step.kind == "run":
        src = (", taking " + ", ".join(f"{pct:g}% of it from {k}" for k, pct in parts) + " and the rest from "
               "every list in proportion") if parts else ", taking its votes from every list in proportion"
        return f"{names.get(step.parties[0], step.label or step.parties[0])} runs with {step.amount:g}%{src}"
    if step.kind == "agreement_add":
        return f"{n[0]} and {n[1]} sign a surplus-vote agreement"
    if step.kind == "agreement_remove":
        return f"{n[0]} and {n[1]} cancel their surplus-vote agreement"
    if step.kind == "veto_add":
        return f"{n[0]} and {n[1]} will not sit together"
    if step.kind == "veto_remove":
        return f"{n[0]} and {n[1]} drop their veto"
    return f"the threshold becomes {step.amount:g}%"


def vetoes_text(vetoes: Sequence[tuple[str, str]], names: Mapping[str, str]) -> str:
    """'Religious Zionism with Ra'am, Hadash–Ta'al; Likud with Yesh Atid': vetoes grouped by their first
    party, in words."""
    grouped: dict[str, list[str]] = {}
    for a, b in vetoes:
        grouped.setdefault(a, []).append(b)
    return "; ".join(f"{names.get(a, a)} with {', '.join(names.get(b, b) for b in bs)}"
                     for a, bs in grouped.items())


def what_if_table(scenario: Scenario, names: Mapping[str, str]) -> pd.DataFrame:
    """The scenario's what-ifs for readers: What-if, Changes (the steps in words), Note (its description)."""
    return pd.DataFrame({
        "What-if": [w.name for w in scenario.what_if],
        "Changes": ["; ".join(step_text(s, names) for s in w.steps) for w in scenario.what_if],
        "Note": [w.description for w in scenario.what_if],
    })
