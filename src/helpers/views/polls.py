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


#: The most polls the table of the polls in an average lists (those with the most weight), and the most pollsters
#: the house effects table lists (those with the most polls): past these a report lists the most telling rows
#: and counts the others, so that a file of thousands of polls still makes a page a reader can take in (and
#: one of at most 250 KB).
TABLE_POLLS = 40
TABLE_POLLSTERS = 20


def house_effects_table(effects: pd.DataFrame, parties=None, min_polls: int = 1,
                        limit: int | None = None) -> pd.DataFrame:
    """House effects as a wide table: one row per pollster with at least `min_polls` polls, one column per
    party (points, rounded to 0.1 for reading). `limit`: at most that many pollsters, those with the most polls
    (ties by name), in the table's order; ``attrs["not_listed"]`` counts the others."""
    counts = effects.groupby("pollster")["polls"].max()
    keep = counts[counts >= min_polls].index
    effects = effects[effects["pollster"].isin(keep)]
    if effects.empty:
        out = pd.DataFrame(columns=["pollster", "polls"])
        out.attrs["not_listed"] = 0
        return out
    not_listed = 0
    if limit is not None and len(keep) > limit:
        most = sorted(keep, key=lambda p: (-int(counts[p]), str(p)))[:limit]
        not_listed = len(keep) - limit
        effects = effects[effects["pollster"].isin(most)]
    wide = effects.pivot(index="pollster", columns="party", values="house_effect").round(1) + 0.0
    if parties is not None:
        wide = wide[[p for p in parties if p in wide.columns]]
    wide.insert(0, "polls", counts.reindex(wide.index).astype(int))
    out = wide.reset_index().rename_axis(columns=None)
    out.attrs["not_listed"] = not_listed
    return out


def polls_used_table(average, polls: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """The polls a poll of polls averaged (:class:`helpers.models.polls.PollOfPolls`), newest first, for
    readers: Pollster, Media, Published (date), Sample size (or "not given"), Weight % (its share of the
    average), Source (the file's ``source``/``source_url`` text, where it has one: addresses become links).
    `limit`: at most that many polls, those with the most weight (ties: the newer), still newest first;
    ``attrs`` then holds ``not_listed`` (how many others) and ``weight_not_listed`` (their share, 0 to 1)."""
    per = polls.drop_duplicates("poll_id").set_index("poll_id")
    w = average.weights.sort_values(["date", "poll_id"], ascending=[False, True], kind="stable").reset_index(
        drop=True)
    not_listed, weight_not_listed = 0, 0.0
    if limit is not None and len(w) > limit:
        kept = w.sort_values("weight_share", ascending=False, kind="stable").index[:limit]
        weight_not_listed = float(w["weight_share"].drop(kept).sum())
        not_listed = len(w) - limit
        w = w.loc[w.index.isin(kept)]
    given = per["sample_size"] if "sample_size" in per else pd.Series(dtype="Int64")

    def cell(pid, column):
        return str(per.at[pid, column]) if column in per and pd.notna(per.at[pid, column]) else ""

    table = pd.DataFrame({
        "Pollster": w["pollster"].to_numpy(),
        "Media": [cell(p, "media") for p in w["poll_id"]],
        "Published": [d.strftime("%Y-%m-%d") for d in w["date"]],
        "Sample size": [f"{int(given[p]):,}" if p in given.index and pd.notna(given[p]) else "not given"
                        for p in w["poll_id"]],
        "Weight %": 100 * w["weight_share"].to_numpy(),
        "Source": [cell(p, "source") or cell(p, "source_url") for p in w["poll_id"]],
    })
    table.attrs.update(not_listed=not_listed, weight_not_listed=weight_not_listed)
    return table
