"""Rules files: a subject's electoral rules as data (``data/knesset/rules.yml`` for the Knesset).

A rules file is a small YAML mapping (its shape in ``schemas/rules.schema.json``)::

    name: Knesset                   # the body, as prose says it
    country: Israel                 # optional
    seats: 120                      # seats in the house, 1 to 10,000
    majority: 61                    # seats a government needs (default: floor(seats / 2) + 1)
    threshold: "3.25%"              # a percent of valid votes ("3.25%", or a bare number 3.25), an exact
                                    #   fraction of the valid votes "1/150", or "1 quota" (= 1/seats)
    method: dhondt                  # allocation among the lists over the threshold
    agreements: bader-ofer          # surplus-vote agreements, allocated with this method; or none
    polls_report: seats             # what published polls give: seats or shares
    parties: data/parties.csv       # the subject's party registry (relative to the project root)
    election_day_error: historical  # optional: historical (the kit's fitted model) or sampling (default)

:func:`load_rules` reads and checks one: a DataError (exit 2) names the file, the key and its line. The party
registry it names is loaded and checked too. The threshold words are the kit's one threshold parser's
(:func:`helpers.core.threshold.parse_threshold`), the same a ``--threshold`` option and a notebook parameter accept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.core.limits import MAX_SEATS
from helpers.data import schema

#: The allocation methods a rules file may name (helpers.models.seats METHODS; data may not import models, so
#: tests/test_rules.py checks the two agree).
METHODS = ("dhondt", "sainte-lague", "modified-sainte-lague", "hare", "droop", "bader-ofer")
#: The methods surplus-vote agreements may be allocated with ("none": the subject has no agreements).
AGREEMENT_METHODS = ("bader-ofer",)
#: The election-day error of a subject whose rules file does not say: the polls' sampling error only (the
#: historical model is fitted on the Knesset's past elections).
DEFAULT_ERROR = "sampling"


@dataclass(frozen=True)
class Rules:
    """A checked rules file. threshold: an exact percent of valid votes (Fraction(100, 150) for "1/150");
    threshold_text: how readers are told it ("3.25%", "1/150 of the valid votes (one full quota)");
    agreements_method: None when the subject has no surplus agreements; parties: the registry's path as written
    (project-relative); path: the rules file as messages name it."""

    name: str
    country: str
    seats: int
    majority: int
    threshold: Fraction
    threshold_text: str
    method: str
    agreements_method: str | None
    polls_report: str
    parties: str
    election_day_error: str
    path: str = ""
    threshold_words: str = ""  #: the threshold as the file writes it ("3.25%", "1/150", "1 quota")

    @property
    def threshold_option(self) -> float | str:
        """The threshold as a ``--threshold`` option gives it: a float percent when it is a short decimal (5.0,
        3.25), else the file's own words ("1/150", "1 quota"), read again against the seats really allocated
        (a quota of an explicit ``--seats`` is a quota of those seats)."""
        if self.threshold_text.endswith("%"):
            return float(self.threshold_text[:-1])
        return self.threshold_words

    def allocation_method(self, agreements: bool = False) -> str:
        """The allocation method to use: the agreements' method when surplus agreements are in play, else
        :attr:`method`."""
        return self.agreements_method if agreements and self.agreements_method else self.method

    def registry(self):
        """The subject's party registry (helpers.data.polls.load_parties of :attr:`parties`)."""
        from helpers.data.polls import load_parties

        return load_parties(paths.resolve(self.parties))


def _fail(name: str, root, key: str, problem: str) -> DataError:
    at = schema.node_at(root, (key,))
    line = f" (line {at[0]})" if at else ""
    return DataError(f"{name}, {key}{line}: {problem}")


def rules_name(path: str | os.PathLike) -> str:
    """The name a rules file gives its subject (its ``name``, as :func:`load_rules` takes it), read without the
    rest of the check: the index page groups reports by it, in the build's process, which then needs neither
    jsonschema nor the party registry (pandas). DataError when the file cannot be read as YAML or its name is
    not text."""
    from helpers.data._table import read_yaml

    p = paths.resolve(path)
    data = read_yaml(p, "a rules file (YAML)")
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"{paths.display(p)}: 'name' is not given as text; expected the subject's name.")
    return name.strip()


def load_rules(path: str | os.PathLike) -> Rules:
    """Read and check a rules file (see the module docstring): a :class:`Rules`. DataError naming the file, the
    key and its line for anything wrong, including a party registry that does not load."""
    from helpers.core.threshold import parse_threshold
    from helpers.data._table import read_yaml

    p = paths.resolve(path)
    data, root = read_yaml(p, "a rules file (YAML)", tree=True)
    name = paths.display(p)
    schema.check(data, "rules", name, root)

    seats = data["seats"]
    if not 1 <= seats <= MAX_SEATS:
        raise _fail(name, root, "seats", f"{seats} is not a whole number of seats from 1 to {MAX_SEATS:,}.")
    majority = data.get("majority")
    if majority is None:
        majority = seats // 2 + 1
    elif not 1 <= majority <= seats:
        raise _fail(name, root, "majority", f"{majority} is not a whole number of seats from 1 to the {seats} "
                                            "seats of the house.")
    at = schema.node_at(root, ("threshold",))
    reading = parse_threshold(data["threshold"], f"{name}, threshold" + (f" (line {at[0]})" if at else ""),
                              seats=seats)
    registry_file = data["parties"].strip()
    if not registry_file:
        raise _fail(name, root, "parties", "blank text is not a file path; expected the subject's party "
                                           "registry (a CSV file, relative to the project root).")
    rules = Rules(
        name=data["name"].strip(),
        country=(data.get("country") or "").strip(),
        seats=seats,
        majority=majority,
        threshold=reading.percent,
        threshold_text=reading.text,
        method=data["method"],
        agreements_method=None if data["agreements"] == "none" else data["agreements"],
        polls_report=data["polls_report"],
        parties=registry_file,
        election_day_error=data.get("election_day_error") or DEFAULT_ERROR,
        path=name,
        threshold_words=str(data["threshold"]).strip(),
    )
    try:
        rules.registry()
    except DataError as exc:
        raise _fail(name, root, "parties", str(exc)) from None
    return rules


def default_rules() -> Rules | None:
    """The project's default subject (:data:`helpers.core.paths.RULES` under the project root), or None when
    the project has no such file (or there is no project)."""
    root = paths.find_root()
    p = root / paths.RULES if root else None
    return load_rules(p) if p and p.is_file() else None
