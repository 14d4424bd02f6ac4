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
from types import SimpleNamespace

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


def subject(rules: str = "", *, seats: int | None = None, threshold=None, error_model: str = "",
            agreements: str = "") -> SimpleNamespace:
    """The rules a report runs under: the rules file `rules` (:func:`helpers.data.load_rules`; empty: the
    project's, :data:`helpers.core.paths.RULES`), with what a parameter gives instead: `seats` (0 or None: the
    rules'), `threshold` (the words of :mod:`helpers.core.threshold`; empty or None: the rules'), `error_model`
    (empty: the rules' election-day error). `agreements` is the report's agreements file: a subject whose rules
    have no surplus agreements refuses one.

    Returns rules (the Rules), name (the body), seats, majority, threshold (an exact Fraction percent), line (its
    float, for the poll models), threshold_text (the reader's words: "3.25%", "1/150 of the valid votes (one full
    quota)"), method (the allocation method among the lists), agreements_method (None for none), polls_report,
    registry (the subject's party registry), parties (its path) and error_model."""
    from helpers.core import paths
    from helpers.core.errors import ParameterError
    from helpers.core.threshold import parse_threshold
    from helpers.data.rules import load_rules

    r = load_rules(rules or paths.RULES)
    n = int(seats) if seats else r.seats
    if threshold is None or (isinstance(threshold, str) and not threshold.strip()):
        if n == r.seats:
            percent, text = r.threshold, r.threshold_text
        else:  # the rules' words again, for this many seats ("1 quota" of another house)
            from helpers.data._table import read_yaml

            words = read_yaml(paths.resolve(rules or paths.RULES), "a rules file (YAML)")["threshold"]
            reading = parse_threshold(words, f"{r.path}, threshold", seats=n)
            percent, text = reading.percent, reading.text
    else:
        reading = parse_threshold(threshold, "parameter 'threshold'", seats=n)
        percent, text = reading.percent, reading.text
    if agreements and r.agreements_method is None:
        raise ParameterError(f"parameter 'agreements' names {agreements}, but {r.path} says the {r.name} has no "
                             "surplus-vote agreements (agreements: none); leave it empty.")
    return SimpleNamespace(rules=r, name=r.name, seats=n, majority=r.majority, threshold=percent,
                           line=float(percent), threshold_text=text, method=r.method,
                           agreements_method=r.agreements_method, polls_report=r.polls_report,
                           registry=r.registry(), parties=r.parties, error_model=error_model or r.election_day_error)


def agreements_left_out(section: Section, dropped, what: str = "left out", names=None) -> Section:
    """The sentence naming surplus agreements a model could not use (a partner not in the polls), by the lists'
    display names (`names`: key -> name; a key without one is shown as it is)."""
    names = names or {}
    if dropped:
        section.say("Surplus agreements " + what + " because a partner is not in the polls: {pairs}.",
                    pairs="; ".join(f"{names.get(a, a)} with {names.get(b, b)}" for a, b in dropped))
    return section


def pool_method(section: Section, average, result, poll_error: float, half_life_days: float) -> Section:
    """The method notes every report built on a poll of polls shares, from the run's own numbers: which polls
    the pool used and left out, the pooled sample, the residual for unlisted lists, the error model and any
    fixed extra error."""
    from helpers.models import polls as poll_model

    left = average.left_out
    dropped = [f"{len(left[key])} {what}" for key, what in (
        ("exit", "exit polls (they measure the vote itself)"), ("partial", "partial polls"),
        ("superseded", "older polls of a house with a newer one in the window"),
        ("older", f"polls published before the {poll_model.POOL_WINDOW_DAYS}-day window")) if left.get(key)]
    section.say(
        "**Poll of polls.** The newest complete poll of each polling house published in the last {window} days of "
        "polling up to the as-of date: **{n}** polls. Left out: {dropped}. Each poll weighs its sample size "
        "times one half for every {hl} days of age ({default} respondents when a poll does not say). Pollsters' "
        "errors correlate ({rho}, as in the R coalitions package), so the pooled polls count as **{ess}** "
        "respondents however many there are.",
        window=poll_model.POOL_WINDOW_DAYS, n=average.n_polls, dropped="; ".join(dropped) or "none",
        hl=f"{half_life_days:g}", default=poll_model.DEFAULT_SAMPLE_SIZE, rho=f"{poll_model.POLLSTER_CORRELATION:g}",
        ess=f"{average.effective_sample_size:,.0f}")
    if average.others > 0:
        section.say(
            "**Lists nobody polls.** They still take votes: **{others}%** of valid votes is kept for them (the "
            "mean on the kit's past elections), so the line is tested against all valid votes. A 0 without a "
            "published percentage means \"below the line\": it is estimated below the line, never at half of it.",
            others=f"{average.others:.1f}")
    section.say("**Election-day error.** The model is {model}.", model=result.error_model.describe())
    if poll_error > 0:
        section.say("A fixed extra error of **{p}** points is added on top (a log-normal factor whose standard "
                    "deviation is {p} points for every list or candidate).", p=f"{poll_error:g}")
    return section


def polls_in_average(average, polls, path: str) -> Section:
    """The polls a poll of polls pooled (`average`, from the table `polls` read from the file `path`), folded
    away until a reader opens the list: every one, or past :data:`~helpers.views.polls.TABLE_POLLS` of them
    those that weigh most in the average, with a sentence counting the others and naming the file that holds
    them all."""
    from helpers.views import polls as poll_views

    frame = poll_views.polls_used_table(average, polls, limit=poll_views.TABLE_POLLS)
    rest = frame.attrs["not_listed"]
    total = len(frame) + rest
    section = Section(values={"polls": total, "listed": len(frame)})
    if rest:
        section.say(
            "This average pools **{n}** polls, too many to list one by one: the list below holds the {k} that "
            "weigh most in it. The other **{rest}** together carry {weight} of its weight; the polls file, {path}, "
            "holds every one.", n=f"{total:,}", k=len(frame), rest=f"{rest:,}",
            weight=f"{100 * frame.attrs['weight_not_listed']:.0f}%", path=path)
    listed = f"the {len(frame)} that weigh most" if rest else str(total)
    return section.table(frame, formats={"Weight %": ".0f"}, links=["Source"],
                         collapsed=f"Polls in this average ({listed}): pollster, date, sample size, weight")


def error_words(average, result, poll_error: float) -> str:
    """The uncertainty of a run in a phrase: the pooled sample and the election-day error model."""
    extra = f", plus a fixed extra error of {poll_error:g} points" if poll_error > 0 else ""
    return (f"sampling error of {average.effective_sample_size:,.0f} effective respondents and the "
            f"'{result.error_model.name}' election-day error{extra}")


def since_last(section: Section, current: dict, names=None, key: str = "p_pass", min_points: float = 5.0) -> Section:
    """The answer's "since the last report" sentence: against the last good build of this report
    (:func:`helpers.core.series.previous`), every list or candidate whose chance (``outputs[key]``) moved by
    `min_points` points or more, new ones and dropped ones. Nothing outside a pipeline build or on a first
    build; when the chances are those of the last build, it says nothing moved."""
    from helpers.core.series import previous
    from helpers.views import words

    last = previous()
    before = (last.get("outputs") or {}).get(key)
    if not isinstance(before, dict) or not before:
        return section
    names = names or {}
    moved = [f"{names.get(k, k)} {words.percent(before[k])} → {words.percent(v)}" for k, v in current.items()
             if k in before and abs(100 * (v - before[k])) >= min_points]
    new = [names.get(k, k) for k in current if k not in before]
    gone = [names.get(k, k) for k in before if k not in current]
    when = words.human_date(last.get("as_of")) if last.get("as_of") else "an earlier date"
    parts = ([f"moved by {min_points:g} points or more: " + "; ".join(moved)] if moved else
             [f"no chance moved by {min_points:g} points or more"])
    if new:
        parts.append("new: " + words.and_list(new))
    if gone:
        parts.append("no longer listed: " + words.and_list(gone))
    return section.answer("**Since the last report** (data as of {when}): {parts}.", when=when,
                          parts="; ".join(parts))
