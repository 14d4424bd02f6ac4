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


def prepare(events: str, *, start: str = "", end: str = "", actors=(), categories=(), lanes=(),
            focus_start: str = "", focus_end: str = "") -> SimpleNamespace:
    """The parameters, every event (``all_events``), the events shown (``shown``) and the actors with a lane
    of their own (``lane_actors``: `lanes`, or the five named most often)."""
    run = SimpleNamespace(**{k: v for k, v in locals().items()})
    run.all_events = load_events(events)
    run.shown = timeline.select(run.all_events, start, end, actors, categories)
    run.lane_actors = lanes or timeline.main_actors(run.shown, 5)
    return run


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
        first=shown["date"].iloc[0] if len(shown) else "-",
        last=shown["date"].iloc[-1] if len(shown) else "-",
        filters=(" (filtered by " + "; ".join(filter(None, [", ".join(actors), ", ".join(categories)])) + ")")
        if (actors or categories) else "",
    )


def whole_period(run) -> Section:
    """The chart of every event shown, by actor; or that no event matches."""
    shown = run.shown
    if not len(shown):
        return Section().say("No event matches these filters.")
    return Section().figure(timeline_chart.timeline_chart(
        shown, timeline.lanes(shown, run.lane_actors),
        title="Events by actor, in order of time",
        source=f"Source: ballotbook events file ({run.events}); event sources listed at the foot of the report.",
    ))


def closer_look(run) -> Section:
    """The chart of the events from `focus_start` to `focus_end`; or that there is none."""
    focus = (timeline.select(run.all_events, run.focus_start, run.focus_end, run.actors, run.categories)
             if run.focus_start else run.shown.iloc[0:0])
    if not len(focus):
        return Section().say("No closer chart for these parameters.")
    return Section(values={"events": len(focus)}).figure(timeline_chart.timeline_chart(
        focus, timeline.lanes(focus, run.lanes or timeline.main_actors(focus, 5)),
        title=f"Events from {run.focus_start} to {run.focus_end or 'the end'}",
        source=f"Source: ballotbook events file ({run.events}).",
    ))


def event_table(run) -> Section:
    """Every event shown, numbered in order of time, with its source."""
    return Section().table(timeline.event_table(run.shown), caption=f"{len(run.shown)} events")
