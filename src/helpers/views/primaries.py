"""The leadership race for the reader: plain sentences (no markup) written from the primaries model's numbers.

The models compute; this module says what the numbers mean, in the words the reports print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from helpers.models.primaries import SimulationResult, margin_shift, runoff_floor


def _rival(res: SimulationResult, follow: str) -> str | None:
    others = [c for c in res.standing if c != follow]
    return max(others, key=lambda c: res.first_round.get(c, 0.0)) if others else None


def sweep_summary(frame: pd.DataFrame, follow: str, swept: str, gap: float = 0.02) -> list[str]:
    """Plain sentences about a :func:`sweep`: up to which share of `swept` the round-two-only scenarios give
    `follow` the same chance as the first scenario (within `gap`), and from which share they differ."""
    titles = list(dict.fromkeys(frame["title"]))
    if len(titles) < 2:
        return []
    base = frame[frame["title"] == titles[0]].set_index("share")["p_win"]
    out = []
    for t in titles[1:]:
        other = frame[frame["title"] == t].set_index("share")["p_win"]
        diff = (other - base).reindex(base.index)
        apart = diff[diff.abs() > gap]
        if apart.empty:
            out.append(f"{t}: within {100 * gap:.0f} points of {titles[0]} at every share of {swept} tried.")
            continue
        first = float(apart.index.min())
        at_max = float(diff.iloc[-1])
        out.append(f"{t}: differs from {titles[0]} by more than {100 * gap:.0f} points once {swept} has "
                   f"{first:g}% or more; at {float(diff.index[-1]):g}% it moves {follow}'s chance by "
                   f"{100 * at_max:+.1f} points.")
    return out





def explain(results: Sequence[SimulationResult], shares: Mapping[str, float], follow: str,
            threshold: float = 40.0) -> list[str]:
    """Plain sentences (no markup) saying why the scenarios give `follow` different chances (or the same).

    Written from the numbers: the chance of a runoff in each scenario, the arithmetic that rules a runoff in
    or out (:func:`runoff_floor`), and how many points of first-round margin a withdrawal moves."""
    if not results:
        return []
    base = results[0]
    floor = runoff_floor(threshold)
    pct = lambda p: f"{100 * p:.1f}%"  # noqa: E731
    out = []
    rival = _rival(base, follow)
    chances = [f"{pct(r.p_win[follow])} under {r.plan.title or r.plan.name}" for r in results]
    out.append(f"{follow} wins with probability " + "; ".join(chances) + ".")
    out.append(
        f"A runoff happens only when nobody has over {threshold:g}% in round one, and that needs the "
        f"candidates outside the top two to hold at least {floor:g}% between them. In the first plan they "
        f"hold {base.outside_top_two:.1f}% on average, so a runoff happens in {pct(base.p_runoff)} of the "
        "simulated contests.")
    for res in results[1:]:
        sc = res.plan
        name = sc.title or sc.name
        diff = res.p_win[follow] - base.p_win[follow]
        if sc.withdrawals:
            withdrawn = ", ".join(sc.withdrawals)
            shift = margin_shift(shares, sc, follow, rival) if rival else 0.0
            out.append(
                f"{name}: {withdrawn} leaves before round one, so their voters count in the round that "
                f"decides. They move {abs(shift):.1f} points of margin towards "
                f"{rival if shift >= 0 else follow}, and {follow}'s chance changes by {100 * diff:+.1f} "
                f"points (to {pct(res.p_win[follow])}).")
        elif res.p_runoff < 0.005:
            out.append(
                f"{name}: this changes only what happens in a second round, and there (almost) never is one, "
                f"so {follow}'s chance changes by {100 * diff:+.1f} points (it stays at "
                f"{pct(res.p_win[follow])}). A promise for round two is worth nothing when round one already "
                "decides.")
        else:
            out.append(
                f"{name}: this changes the second round, which happens in {pct(res.p_runoff)} of contests; "
                f"there the promised voters decide some runoffs, and {follow}'s chance changes by "
                f"{100 * diff:+.1f} points (to {pct(res.p_win[follow])}).")
    return out
