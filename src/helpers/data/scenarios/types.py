"""What a scenario file holds once read (steps, what-ifs, the scenario), its defaults and its keys."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

#: Election-day error (points) when a scenario on polls does not give one: the threshold report's default.
DEFAULT_POLL_ERROR = 0.0
DEFAULT_THRESHOLD = 3.25
DEFAULT_SEATS = 120

TOP_KEYS = ("title", "description", "rules", "polls", "as_of", "results", "threshold", "seats", "majority",
            "agreements", "poll_error", "valid_votes", "vetoes", "required", "excluded", "blocs",
            "coalitions", "what_if")

#: Each what-if action and the option keys its step may hold (besides the action key itself).
STEP_KEYS = {
    "move": ("unit", "from", "to"),
    "merge": ("into", "label", "keep"),
    "split": ("into", "labels"),
    "drop": ("to",),
    "run": ("share", "from", "label", "bloc"),
    "agreement_add": (),
    "agreement_remove": (),
    "threshold": (),
    "veto_add": (),
    "veto_remove": (),
}

_NEW_KEY = re.compile(r"[a-z0-9_]+(\+[a-z0-9_]+)*")


@dataclass(frozen=True)
class Step:
    """One what-if step, its party names resolved to keys.

    kind: one of STEP_KEYS. parties: the lists it names, in order (move: (from, to); merge: the members;
    split/drop/run: the one list; agreement_*/veto_*: the pair). into: the joint list's key (merge). parts:
    {key: percent} (split: the new lists; drop: where its share goes; run: where its share comes from).
    amount: points to move (already converted from seats), the share of a new list (run), the threshold
    (threshold) or keep (merge, percent). label: display name of a new list (merge, run); labels (split).
    bloc: the bloc a new list joins (run). text: the step as written, for messages."""

    kind: str
    parties: tuple[str, ...] = ()
    into: str | None = None
    parts: tuple[tuple[str, float], ...] = ()
    amount: float | None = None
    label: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    bloc: str | None = None
    text: str = ""


@dataclass(frozen=True)
class WhatIf:
    """A named what-if: steps applied to the base in order."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""


@dataclass
class Scenario:
    """A checked scenario file. Party names are registry keys (or a results file's list names).

    polls / results: the base file as written (exactly one is set); as_of: 'YYYY-MM-DD' (required with polls).
    threshold: percent of valid votes (a float, what the models take); threshold_percent: the same, exact, as the
    threshold words read it (Fraction(2, 3) for "1/150"); threshold_text: the words a reader is shown ("3.25%",
    "1/150 of the valid votes (one full quota)"); seats; majority (seats). agreements_file and agreements (pairs of list
    keys, as loaded). poll_error: points, or None for the kit's default for the base (see
    :meth:`default_poll_error`). valid_votes: for turning points into votes, or None. vetoes: pairs; required,
    excluded: keys; blocs, coalitions: {name: [keys]}; what_if: WhatIf list. base_lists: the lists running in
    the scenario's own base. rules: the rules file as written (None: the Knesset's defaults); method: the
    allocation method its rules give (None: the kit's default, bader-ofer with agreements, dhondt without);
    parties: the party registry its names resolve against, as written (None: the project's)."""

    path: str
    title: str
    polls: str | None
    results: str | None
    as_of: str | None
    threshold: float
    seats: int
    majority: int
    agreements_file: str | None
    agreements: list[tuple[str, str]]
    poll_error: float | None
    valid_votes: int | None
    vetoes: list[tuple[str, str]]
    required: list[str]
    excluded: list[str]
    blocs: dict[str, list[str]]
    coalitions: dict[str, list[str]]
    what_if: list[WhatIf]
    description: str = ""
    base_lists: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    rules: str | None = None
    method: str | None = None
    parties: str | None = None
    threshold_percent: Fraction | None = None
    threshold_text: str = ""

    @property
    def base_file(self) -> str:
        return self.polls or self.results or ""

    def effective_poll_error(self, override: float | None = None) -> float:
        """The fixed extra election-day error to use (points, on top of the error model): `override` when it is
        >= 0, else the file's, else 0."""
        if override is not None and override >= 0:
            return float(override)
        if self.poll_error is not None:
            return self.poll_error
        return DEFAULT_POLL_ERROR

    def sources(self) -> list[str]:
        """The files this scenario reads (project-relative as written)."""
        out = [self.path, self.base_file]
        if self.agreements_file:
            out.append(self.agreements_file)
        if self.rules:
            out += [self.rules, self.parties or ""]
        return out
