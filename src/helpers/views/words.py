"""Numbers in words for readers: percentages, natural frequencies ("about 7 in 10"), lists of names.

The bottom line of every report (:meth:`helpers.sections.Section.answer`) says its probabilities twice, as a
percentage and as a natural frequency, which readers without statistics judge better.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def percent(p: float) -> str:
    """A probability (0-1) as a whole percentage, never rounded to a certainty it is not: 0.996 is
    "more than 99%", 0.004 "less than 1%"."""
    text = f"{100 * p:.0f}%"
    if text == "100%" and p < 1:
        return "more than 99%"
    if text == "0%" and p > 0:
        return "less than 1%"
    return text


def natural_frequency(p: float) -> str:
    """A probability (0-1) as a natural frequency: "about 7 in 10", "about 1 in 25", "about 97 in 100";
    "almost certain" above 0.995 and "almost no chance" below 0.005."""
    if p >= 0.995:
        return "almost certain"
    if p < 0.005:
        return "almost no chance"
    if 0.1 <= p <= 0.95 and round(10 * p) < 10:
        return f"about {round(10 * p)} in 10"
    if p < 0.1:
        return f"about 1 in {round(1 / p)}"
    return f"about {min(round(100 * p), 99)} in 100"


def chance(p: float) -> str:
    """Both forms: "74% (about 7 in 10)"."""
    return f"{percent(p)} ({natural_frequency(p)})"


def and_list(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def human_date(value) -> str:
    """A date as a reader writes it: '28 October 2022', 'May 2007', '2008'; a timestamp with its time in UTC
    ('30 November 2026, 11:14 UTC'). Anything else is returned as it came (escaped by the caller)."""
    import datetime as dt

    text = str(value or "").strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return text
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return dt.date.fromisoformat(text + "-01").strftime("%B %Y")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = dt.date.fromisoformat(text)
            return f"{d.day} {d:%B %Y}"
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return f"{stamp.day} {stamp:%B %Y, %H:%M} UTC"


#: How readers are told an allocation method (helpers.models.seats METHODS).
METHOD_NAMES = {"dhondt": "D'Hondt", "sainte-lague": "Sainte-Laguë", "modified-sainte-lague": "modified Sainte-Laguë",
                "hare": "largest remainders (Hare quota)", "droop": "largest remainders (Droop quota)",
                "bader-ofer": "Bader-Ofer"}


def method_name(method: str | None) -> str:
    """An allocation method as readers know it: 'dhondt' is "D'Hondt"."""
    return METHOD_NAMES.get(str(method), str(method))


def threshold_amount(text: str) -> str:
    """A threshold's words (helpers.core.threshold: "3.25%", "1/150 of the valid votes (one full quota)") as an
    amount of the valid votes: "3.25% of valid votes", "1/150 of the valid votes (one full quota)"."""
    return f"{text} of valid votes" if text.endswith("%") else text


def the_threshold(text: str) -> str:
    """A threshold's words as a noun phrase: "the 3.25% threshold", "the threshold of 1/150 of the valid votes
    (one full quota)"."""
    return f"the {text} threshold" if text.endswith("%") else f"the threshold of {text}"


def threshold_short(text: str) -> str:
    """A threshold's words without the parenthesis, for a chart title: "3.25%", "1/150 of the valid votes"."""
    return text.split(" (")[0]


def seat_law(subject) -> str:
    """The seat law of a subject (:func:`helpers.sections.subject`) in a sentence, Markdown: the body, its seats,
    the threshold, the allocation method and the surplus-vote agreements where the rules have them."""
    agreements = ("; surplus-vote agreements between two lists are allocated by "
                  + method_name(subject.agreements_method) if subject.agreements_method else "")
    return (f"**Seat law.** The {subject.name}: **{subject.seats}** seats; a list needs "
            f"{threshold_amount(subject.threshold_text)} to take part; seats are allocated by "
            f"{method_name(subject.method)} among the lists that do{agreements}.")
