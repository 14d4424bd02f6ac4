"""The timeline report (notebooks/04_timeline.ipynb): what happened when.

:func:`prepare` loads the events and selects those shown; each other function returns one section
(:class:`helpers.sections.Section`) in the order the report shows them; :func:`record` gives the facts the
report records for the pipeline.
"""

from __future__ import annotations

from types import SimpleNamespace

from helpers.data.events import load_events
from helpers.models import timeline
from helpers.sections import Section
from helpers.views.charts import timeline as timeline_chart
from helpers.views.words import and_list


def prepare(events: str, *, start: str = "", end: str = "", actors=(), categories=(), lanes=(),
            focus_start: str = "", focus_end: str = "") -> SimpleNamespace:
    """The parameters, every event (``all_events``), the events shown (``shown``), the actors with a lane
    of their own (``lane_actors``: `lanes`, or the five named most often) and one colour per category of the
    file (``colours``: the same in both charts)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    run.all_events = load_events(events)
    run.shown = timeline.select(run.all_events, start, end, actors, categories)
    run.lane_actors = lanes or timeline.main_actors(run.shown, 5)
    run.colours = timeline_chart.category_colours(run.all_events["category"])
    return run


def _when(row) -> str:
    """An event's date in words, to the precision it is known: "9 November 2005", "November 2005", "2007"."""
    start = row["start"]
    if row["precision"] == "day":
        return f"{start.day} {start:%B %Y}"
    if row["precision"] == "month":
        return f"{start:%B %Y}"
    return f"{start:%Y}"


#: The category whose events are leadership votes (primaries) in an events file.
LEADERSHIP = "primary"


def leadership_votes(shown) -> list[tuple[str, str]]:
    """The last leadership vote of each year: (label, date in words) of the last event of the
    :data:`LEADERSHIP` category in each year, in order of time."""
    votes = shown[shown["category"] == LEADERSHIP].sort_values(["start", "n"], kind="stable")
    last = votes.groupby(votes["start"].dt.year, sort=True).tail(1)
    return [(str(r["label"]), _when(r)) for _, r in last.iterrows()]


def answer(run) -> Section:
    """The report's bottom line, from the events shown: how many, over which years, of which kinds, and the
    leadership votes (the deciding one of each year)."""
    shown = run.shown
    if not len(shown):
        return Section(values={"events": 0}).answer("No event in the events file matches these filters.")
    ordered = shown.sort_values(["start", "n"], kind="stable")
    first, last = ordered.iloc[0], ordered.iloc[-1]
    counts = shown["category"].value_counts()
    top = [f"{c} ({n})" for c, n in counts.head(3).items()]
    votes = leadership_votes(shown)
    section = Section(values={"events": len(shown), "years": (first["start"].year, last["start"].year),
                              "leadership_votes": votes})
    template = ("The timeline shows **{n}** events over **{span}** years, from {first} ({first_label}) to {last} "
                "({last_label}); the most common kinds are {top}.")
    values = dict(n=len(shown), span=last["start"].year - first["start"].year + 1, first=_when(first),
                  first_label=first["label"], last=_when(last), last_label=last["label"], top=and_list(top))
    if votes:
        template += (" It holds **{k}** leadership votes (events of the kind {kind}); the last of each year: "
                     "{votes}.")
        values.update(k=int(counts.get(LEADERSHIP, 0)), kind=LEADERSHIP,
                      votes="; ".join(f"{label} ({day})" for label, day in votes))
    template += " The latest event in the file is dated {as_of}."
    values.update(as_of=_when(run.all_events.sort_values(["start"]).iloc[-1]))
    return section.answer(template, **values)


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, outputs."""
    shown = run.shown
    return {
        "as_of": shown["end"].max().date() if len(shown) else None,
        "sources": sorted({s for s in shown["source"] if s}) + [f"Compiled in {run.events}; see data/SOURCES.md"],
        "outputs": {"events_shown": len(shown), "first": str(shown["date"].iloc[0]) if len(shown) else None,
                    "last": str(shown["date"].iloc[-1]) if len(shown) else None},
    }


def overview(run) -> Section:
    """How many events, from when to when, and how to read the chart."""
    shown, actors, categories = run.shown, run.actors, run.categories
    return Section(values={"events": len(shown)}).say(
        "This timeline shows **{n}** events from **{first}** to **{last}**{filters}. Each column is an actor "
        "(events naming none of them are under *Other actors*); a dot is an event whose day is known, a hatched "
        "bar an event known only to the month or year, drawn across the whole period it could fall in. Dates "
        "marked ≈ are approximate in the sources.",
        n=len(shown),
        first=_when(shown.sort_values(["start", "n"]).iloc[0]) if len(shown) else "-",
        last=_when(shown.sort_values(["start", "n"]).iloc[-1]) if len(shown) else "-",
        filters=(" (filtered by " + "; ".join(filter(None, [", ".join(actors), ", ".join(categories)])) + ")")
        if (actors or categories) else "",
    )


def whole_period(run) -> Section:
    """The chart of every event shown, by actor; or that no event matches."""
    shown = run.shown
    if not len(shown):
        return Section().say("No event matches these filters.")
    return Section().figure(timeline_chart.timeline_chart(
        shown, timeline.lanes(shown, run.lane_actors), colours=run.colours,
        title="Events by actor, in order of time",
        source=f"Source: ballotbook events file ({run.events}); event sources listed at the foot of the report.",
    ))


def closer_look(run) -> Section:
    """The chart of the events from `focus_start` to `focus_end`; or that there is none."""
    focus = (timeline.select(run.all_events, run.focus_start, run.focus_end, run.actors, run.categories)
             if run.focus_start else run.shown.iloc[0:0])
    if not len(focus):
        return Section().say("No closer chart for these parameters.")
    return Section(values={"events": len(focus)}).say(
        "The **{n}** events from {start} to {end}, drawn closer (each category keeps its colour).", n=len(focus),
        start=_when(focus.sort_values("start").iloc[0]), end=_when(focus.sort_values("start").iloc[-1]),
    ).figure(timeline_chart.timeline_chart(
        focus, timeline.lanes(focus, run.lanes or timeline.main_actors(focus, 5)), colours=run.colours,
        title=f"Events from {run.focus_start} to {run.focus_end or 'the end'}",
        source=f"Source: ballotbook events file ({run.events}).",
    ))


def event_table(run) -> Section:
    """Every event shown, numbered in order of time, with its source."""
    table = timeline.event_table(run.shown)
    if len(run.shown):
        table["Date"] = [_when(r) + (f" ({r['date_note']})" if r["date_note"] else "")
                         for _, r in run.shown.iterrows()]
    return Section().table(table, links=["Source"], caption=f"{len(run.shown)} events")
