"""The polls for the reader: sentences about what was flagged in the polls, and the house effects table."""

from __future__ import annotations

import pandas as pd

from helpers.models.polls import DEFAULT_SAMPLE_SIZE, HOUSE_SEATS


def flag_notes(facts: dict, house_seats: int = HOUSE_SEATS) -> list[str]:
    """Plain sentences about what was flagged in the polls (from :func:`overview`), for a report."""
    notes = []
    if facts["seats_off"]:
        notes.append(f"{facts['seats_off']} of the polls do not sum to {house_seats} seats (kept; their "
                     f"seats are read on a {house_seats}-seat scale, so a poll listing only some parties "
                     "still counts for those it lists)")
    if facts["merged"]:
        notes.append(f"{facts['merged']} polls have a column merging several lists (split between them in "
                     "proportion to the polls that list them separately)")
    if facts["no_sample_size"]:
        notes.append(f"{facts['no_sample_size']} polls give no sample size (counted as {DEFAULT_SAMPLE_SIZE} "
                     "respondents)")
    if facts["partial"]:
        notes.append(f"{facts['partial']} polls report only some parties' figures (shown, not averaged)")
    if facts.get("exit"):
        notes.append(f"{facts['exit']} of them are exit polls or exit-poll projections, taken on the day "
                     "of the vote itself (shown, never averaged with the pre-election polls)")
    if facts["later"]:
        notes.append(f"{facts['later']} polls published after {facts['as_of']} are left out")
    return notes


def house_effects_table(effects: pd.DataFrame, parties=None, min_polls: int = 1) -> pd.DataFrame:
    """House effects as a wide table: one row per pollster with at least `min_polls` polls, one column per
    party (points, rounded to 0.1 for reading)."""
    counts = effects.groupby("pollster")["polls"].max()
    keep = counts[counts >= min_polls].index
    effects = effects[effects["pollster"].isin(keep)]
    if effects.empty:
        return pd.DataFrame(columns=["pollster", "polls"])
    wide = effects.pivot(index="pollster", columns="party", values="house_effect").round(1) + 0.0
    if parties is not None:
        wide = wide[[p for p in parties if p in wide.columns]]
    wide.insert(0, "polls", counts.reindex(wide.index).astype(int))
    return wide.reset_index().rename_axis(columns=None)


def polls_used_table(average, polls: pd.DataFrame) -> pd.DataFrame:
    """The polls a poll of polls averaged (:class:`helpers.models.polls.PollOfPolls`), newest first, for
    readers: Pollster, Media, Published (date), Sample size (or "not given"), Weight % (its share of the
    average), Source (the file's ``source``/``source_url`` text, where it has one: addresses become links)."""
    per = polls.drop_duplicates("poll_id").set_index("poll_id")
    w = average.weights.sort_values(["date", "poll_id"], ascending=[False, True], kind="stable")
    given = per["sample_size"] if "sample_size" in per else pd.Series(dtype="Int64")

    def cell(pid, column):
        return str(per.at[pid, column]) if column in per and pd.notna(per.at[pid, column]) else ""

    return pd.DataFrame({
        "Pollster": w["pollster"].to_numpy(),
        "Media": [cell(p, "media") for p in w["poll_id"]],
        "Published": [d.strftime("%Y-%m-%d") for d in w["date"]],
        "Sample size": [f"{int(given[p]):,}" if p in given.index and pd.notna(given[p]) else "not given"
                        for p in w["poll_id"]],
        "Weight %": 100 * w["weight_share"].to_numpy(),
        "Source": [cell(p, "source") or cell(p, "source_url") for p in w["poll_id"]],
    })
