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
#: The most years whose last leadership vote the bottom line names (the most recent ones; it says how many
#: earlier years it leaves out).
ANSWER_YEARS = 12


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
    values = dict(n=f"{len(shown):,}", span=last["start"].year - first["start"].year + 1, first=_when(first),
                  first_label=first["label"], last=_when(last), last_label=last["label"], top=and_list(top))
    if len(votes) > ANSWER_YEARS:
        template += (" It holds **{k}** leadership votes (events of the kind {kind}); the last of each of the "
                     "{years} most recent years with one: {votes} (the {older} earlier years with one are not "
                     "listed here).")
        values.update(k=f"{int(counts.get(LEADERSHIP, 0)):,}", kind=LEADERSHIP, years=ANSWER_YEARS,
                      votes="; ".join(f"{label} ({day})" for label, day in votes[-ANSWER_YEARS:]),
                      older=len(votes) - ANSWER_YEARS)
    elif votes:
        template += (" It holds **{k}** leadership votes (events of the kind {kind}); the last of each year: "
                     "{votes}.")
        values.update(k=f"{int(counts.get(LEADERSHIP, 0)):,}", kind=LEADERSHIP,
                      votes="; ".join(f"{label} ({day})" for label, day in votes))
    template += " The latest event in the file is dated {as_of}."
    values.update(as_of=_when(run.all_events.sort_values(["start"]).iloc[-1]))
    return section.answer(template, **values)


def record(run) -> dict:
    """The facts the report records (:func:`helpers.notebook.record`): as-of date, sources, outputs."""
    shown = run.shown
    sources = sorted({s for s in shown["source"] if s})
    if len(shown) > timeline.TABLE_EVENTS:  # the sources of the events the table lists (:func:`event_table`)
        edge = timeline.TABLE_EDGE
        listed = sorted({s for s in (*shown["source"].head(edge), *shown["source"].tail(edge)) if s})
        if len(sources) > len(listed):
            sources = listed + [f"… and {len(sources) - len(listed):,} more sources, of events the table does not "
                                f"list: every event's source is in {run.events}"]
    return {
        "as_of": shown["end"].max().date() if len(shown) else None,
        "sources": sources + [f"Compiled in {run.events}; see data/SOURCES.md"],
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
        n=f"{len(shown):,}",
        first=_when(shown.sort_values(["start", "n"]).iloc[0]) if len(shown) else "-",
        last=_when(shown.sort_values(["start", "n"]).iloc[-1]) if len(shown) else "-",
        filters=(" (filtered by " + "; ".join(filter(None, [", ".join(actors), ", ".join(categories)])) + ")")
        if (actors or categories) else "",
    )


def _counted_or_drawn(section: Section, events, lane_actors, run, *, title: str, source: str) -> Section:
    """`events` drawn one by one (:func:`helpers.views.charts.timeline.timeline_chart`) when there are at most
    :data:`~helpers.models.timeline.DRAWN_EVENTS`; more are counted per actor and per period
    (:func:`helpers.views.charts.timeline.count_chart`), the most recent
    :data:`~helpers.models.timeline.RECENT_EVENTS` drawn one by one under the counts, and the sentence says so."""
    if len(events) <= timeline.DRAWN_EVENTS:
        return section.figure(timeline_chart.timeline_chart(
            events, timeline.lanes(events, lane_actors), colours=run.colours, title=title, source=source))
    lane_rows = timeline.lanes(events, lane_actors)
    counts = timeline.aggregate(events, lane_rows)
    latest = timeline.recent(events, timeline.RECENT_EVENTS)
    section.values.update(counted=len(events), drawn=len(latest), period=counts.step_name)
    section.say(
        "These are **{n}** events, more than the {cap} a chart can draw one by one and stay readable, so the "
        "first chart counts them: per actor and per {period} (an event naming several of these actors counts "
        "under each of them{caveat}), and all of them per {period}, by kind. The second draws the **{k}** most "
        "recent one by one, from {first} to {last}; the other **{rest}** events appear only as counts (the table "
        "below summarises them and the events file holds every one).",
        caveat=("" if counts.step >= 12 else
                f"; one known only to the year counts in the {counts.step_name} where that year begins"),
        n=f"{len(events):,}", cap=timeline.DRAWN_EVENTS, period=counts.step_name, k=len(latest),
        first=_when(latest.iloc[0]), last=_when(latest.iloc[-1]), rest=f"{len(events) - len(latest):,}")
    section.figure(timeline_chart.count_chart(counts, colours=run.colours, title=f"{title}: how many",
                                              source=source, pooled=timeline.OTHER))
    return section.figure(timeline_chart.timeline_chart(
        latest, timeline.lanes(latest, lane_actors), colours=run.colours,
        title=f"The {len(latest)} most recent of these events, by actor", source=source))


def whole_period(run) -> Section:
    """The chart of every event shown, by actor (counted, with the most recent drawn, when there are too many to
    draw one by one); or that no event matches."""
    shown = run.shown
    if not len(shown):
        return Section().say("No event matches these filters.")
    return _counted_or_drawn(
        Section(), shown, run.lane_actors, run, title="Events by actor, in order of time",
        source=f"Source: ballotbook events file ({run.events}); event sources listed at the foot of the report.")


def closer_look(run) -> Section:
    """The chart of the events from `focus_start` to `focus_end` (counted when there are too many, as in
    :func:`whole_period`); or that there is none."""
    focus = (timeline.select(run.all_events, run.focus_start, run.focus_end, run.actors, run.categories)
             if run.focus_start else run.shown.iloc[0:0])
    if not len(focus):
        return Section().say("No closer chart for these parameters.")
    section = Section(values={"events": len(focus)}).say(
        "The **{n}** events from {start} to {end}, drawn closer (each category keeps its colour).", n=f"{len(focus):,}",
        start=_when(focus.sort_values("start").iloc[0]), end=_when(focus.sort_values("start").iloc[-1]),
    )
    return _counted_or_drawn(
        section, focus, run.lanes or timeline.main_actors(focus, 5), run,
        title=f"Events from {run.focus_start} to {run.focus_end or 'the end'}",
        source=f"Source: ballotbook events file ({run.events}).")


def _dated(table, events):
    """`table` (:func:`helpers.models.timeline.event_table` of `events`) with each date in words."""
    if len(events):
        table["Date"] = [_when(r) + (f" ({r['date_note']})" if r["date_note"] else "")
                         for _, r in events.iterrows()]
    return table


def event_table(run) -> Section:
    """Every event shown, numbered in order of time, with its source; past
    :data:`~helpers.models.timeline.TABLE_EVENTS` events, a summary instead: how many name each actor and are of
    each kind, the first and the most recent :data:`~helpers.models.timeline.TABLE_EDGE`, and a sentence saying
    how many are not listed and where they all are."""
    shown = run.shown
    if len(shown) <= timeline.TABLE_EVENTS:
        return Section().say("Every event shown above, numbered in order of time, with the source for each.").table(
            _dated(timeline.event_table(shown), shown), links=["Source"], caption=f"{len(shown)} events")
    edge = timeline.TABLE_EDGE
    first, latest = shown.head(edge), shown.tail(edge)
    by_actor, actors_left = timeline.name_counts(shown, "actors")
    by_kind, kinds_left = timeline.name_counts(shown, "category")
    section = Section(values={"listed": len(first) + len(latest), "not_listed": len(shown) - 2 * edge})
    section.say(
        "There are **{n}** events, too many to list one by one here (the table lists at most {cap}). Below are how "
        "many name each actor and how many are of each kind, then the first {edge} and the {edge} most recent "
        "events. The other **{rest}** events are not listed; the events file, {path}, holds every one with its "
        "source.",
        n=f"{len(shown):,}", cap=timeline.TABLE_EVENTS, edge=edge, rest=f"{len(shown) - 2 * edge:,}",
        path=run.events)
    section.table(by_actor.rename(columns={"Name": "Actor"}), caption=(
        f"Events naming each actor, the {len(by_actor)} named most; {actors_left:,} other actors not listed"
        if actors_left else f"Events naming each actor ({len(by_actor)} actors)"))
    section.table(by_kind.rename(columns={"Name": "Kind"}), caption=(
        f"Events of each kind, the {len(by_kind)} most common; {kinds_left:,} other kinds not listed"
        if kinds_left else f"Events of each kind ({len(by_kind)} kinds)"))
    section.table(_dated(timeline.event_table(first), first), links=["Source"],
                  caption=f"The first {len(first)} of {len(shown):,} events")
    return section.table(_dated(timeline.event_table(latest), latest), links=["Source"],
                         caption=f"The {len(latest)} most recent of {len(shown):,} events")
