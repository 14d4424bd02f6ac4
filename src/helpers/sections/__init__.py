"""Sections: what each section of a report shows, one tested function per section.

A layer above the views: a section function takes the report's parameters (or the run a report's ``prepare``
function returned), calls the data loaders, models and views, and returns a :class:`Section`: the prose, tables
and figures the section shows, in the order a reader sees them, plus the numbers behind them (``values``).
The notebook only displays it (``section.show()``). One module per report: :mod:`.thresholds`,
:mod:`.coalitions`, :mod:`.leadership`, :mod:`.timeline`, :mod:`.backtest`, :mod:`.first_round`. Nothing below
imports this package.

Data text stays text: prose is a Markdown template with its values apart (shown by
:func:`helpers.views.tables.say`, which escapes every value), tables are DataFrames shown by
:func:`helpers.views.tables.show`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers.views import charts, tables


@dataclass
class Section:
    """What one section shows, in order: ``items`` holds ``("say", template, values)``, ``("answer", template,
    values)`` (the report's bottom line),
    ``("table", frame, options)`` and ``("figure", fig)``; ``values`` holds the numbers behind them."""

    items: list = field(default_factory=list)
    values: dict = field(default_factory=dict)

    def say(self, template: str, **values) -> Section:
        self.items.append(("say", template, values))
        return self

    def answer(self, template: str, **values) -> Section:
        """The report's bottom line: prose like :meth:`say`, shown in the answer box (``id="answer"``) under the
        title, before any chart."""
        self.items.append(("answer", template, values))
        return self

    def table(self, frame, **options) -> Section:
        self.items.append(("table", frame, options))
        return self

    def figure(self, fig) -> Section:
        self.items.append(("figure", fig))
        return self

    def of(self, kind: str) -> list:
        """The items of one kind: figures, (frame, options) pairs, or the Markdown of each prose item."""
        if kind in ("say", "answer"):
            return [tables.markdown(i[1], **i[2]) for i in self.items if i[0] == kind]
        if kind == "table":
            return [(i[1], i[2]) for i in self.items if i[0] == "table"]
        return [i[1] for i in self.items if i[0] == kind]

    def show(self) -> None:
        """Display every item in order (prose and tables escaped; each figure shown once, then released)."""
        answered = False
        for item in self.items:
            if item[0] == "say":
                tables.say(item[1], **item[2])
            elif item[0] == "answer":
                if not answered:  # every answer item of the section in one box, where the first one stands
                    tables.answer(self.of("answer"))
                    answered = True
            elif item[0] == "table":
                tables.show(item[1], **item[2])
            else:
                charts.show(item[1])


def agreements_left_out(section: Section, dropped, what: str = "left out", names=None) -> Section:
    """The sentence naming surplus agreements a model could not use (a partner not in the polls), by the lists'
    display names (`names`: key -> name; a key without one is shown as it is)."""
    names = names or {}
    if dropped:
        section.say("Surplus agreements " + what + " because a partner is not in the polls: {pairs}.",
                    pairs="; ".join(f"{names.get(a, a)} with {names.get(b, b)}" for a, b in dropped))
    return section
