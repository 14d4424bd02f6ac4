"""The parts seat methods are made of: threshold, divisor and quota rules, the gauge, surplus agreements.

A :class:`Method` composes them (the Knesset's Bader-Ofer is ``Method("bader-ofer", rule=DHONDT,
start=Gauge(), split=DHONDT)``); :data:`METHODS` holds every method by name and :func:`method_for` picks one.
See :mod:`helpers.models.seats` for how they are applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from helpers.core.errors import DataError


def _decimal(x: Fraction | int, places: int = 3) -> str:
    """A readable decimal for a number >= 0: 154854.115, 13/4 -> 3.25; '…' marks one cut to `places`."""
    x = Fraction(x)
    n, d = x.numerator, x.denominator
    if d == 1:
        return f"{n:,}"
    unit = 10**places
    q, r = divmod(n * unit, d)
    if 2 * r >= d:
        q += 1
    text = f"{q // unit:,}.{q % unit:0{places}d}".rstrip("0").rstrip(".")
    return text if r == 0 else text + "…"


@dataclass(frozen=True)
class Threshold:
    """The share of all valid votes, in percent, a list needs to take part: a list passes when
    votes >= percent/100 x total, compared exactly (3.25% of 4,764,742 is 154,854.115, so 154,855 passes and
    154,854 does not). A list with no votes never passes."""

    percent: Fraction = Fraction(0)

    @classmethod
    def of(cls, value, seats: int | None = None) -> Threshold:
        """A threshold from the kit's threshold words (:func:`helpers.core.threshold.parse_threshold`): a percent
        as a number, a decimal string ("3.25", "3.25%") or a Fraction, 0 <= t < 100; an exact fraction of the
        valid votes ("1/150"); or "N quota(s)", which needs `seats`.

        A float is read as the decimal it prints as (3.25 -> 13/4, 0.1 -> 1/10): what the user typed."""
        if isinstance(value, Threshold):
            return value
        from helpers.core.threshold import parse_threshold

        parsed = parse_threshold(value, "The threshold", seats=seats)
        if parsed.percent is None:
            raise DataError(f"The threshold {value!r} counts quotas, which needs the number of seats.")
        return cls(parsed.percent)

    def minimum(self, total: int) -> Fraction:
        """The exact number of votes (possibly fractional) a list needs out of `total` valid votes."""
        return self.percent * total / 100

    def passes(self, votes: int, total: int) -> bool:
        p = self.percent
        return votes > 0 and votes * 100 * p.denominator >= p.numerator * total


@dataclass(frozen=True)
class DivisorRule:
    """A highest-averages rule: the next seat goes to the largest votes / divisor(seats held).

    Divisors are kept as integers after multiplying them all by `scale` (1.4 -> 7 with scale 5), so that
    quotients compare exactly by cross-multiplication. divisor(k) = first for k == 0, else
    step x k + offset."""

    name: str
    first: int
    step: int
    offset: int
    scale: int = 1

    def divisor(self, held: int) -> int:
        """The scaled divisor for a list already holding `held` seats."""
        return self.first if held == 0 else self.step * held + self.offset

    def quotient(self, votes: int, held: int) -> Fraction:
        """votes / divisor for a list holding `held` seats, in votes."""
        return Fraction(votes * self.scale, self.divisor(held))


DHONDT = DivisorRule("dhondt", first=1, step=1, offset=1)
SAINTE_LAGUE = DivisorRule("sainte-lague", first=1, step=2, offset=1)
#: First divisor 1.4, then 3, 5, 7, ... (Norway, Sweden before 2018); divisors scaled by 5 to stay integers.
MODIFIED_SAINTE_LAGUE = DivisorRule("modified-sainte-lague", first=7, step=10, offset=5, scale=5)


@dataclass(frozen=True)
class LargestRemainder:
    """A quota rule: each list gets floor(votes / quota) seats, the seats left go one each to the largest
    remainders. Hare: quota = votes / seats (exact). Droop: quota = floor(votes / (seats + 1)) + 1."""

    name: str
    droop: bool = False

    def quota(self, total: int, seats: int) -> Fraction:
        return Fraction(total // (seats + 1) + 1) if self.droop else Fraction(total, seats)


HARE = LargestRemainder("hare")
DROOP = LargestRemainder("droop", droop=True)


@dataclass(frozen=True)
class Gauge:
    """The Knesset's first step: gauge = integer part of (votes of passing lists / seats), and every passing
    list first gets floor(votes / gauge) seats. The seat rule then gives out the seats left."""

    def gauge(self, passing_votes: int, seats: int) -> int:
        return passing_votes // seats


@dataclass(frozen=True)
class SurplusAgreements:
    """Surplus-vote agreements: pairs of lists that take part in the allocation as one list. An agreement is
    void when either list misses the threshold; its lists then stand alone."""

    pairs: tuple[tuple[int, int], ...] = ()

    def units(self, passed: Sequence[bool]) -> tuple[list[tuple[int, ...]], list[tuple[int, int, bool]]]:
        """The lists that take part, grouped: each unit is a tuple of list positions, ordered by the unit's
        first list; and each agreement with whether it is in force."""
        partner: dict[int, int] = {}
        status = []
        for a, b in self.pairs:
            live = passed[a] and passed[b]
            status.append((a, b, live))
            if live:
                partner[a], partner[b] = b, a
        units = []
        for i, ok in enumerate(passed):
            if not ok:
                continue
            j = partner.get(i)
            if j is None:
                units.append((i,))
            elif i < j:
                units.append((i, j))
        return units, status


@dataclass(frozen=True)
class Method:
    """A composed allocation method: seat rule, optional gauge start, and the rule that splits a pair's
    seats between its two lists."""

    name: str
    rule: DivisorRule | LargestRemainder
    start: Gauge | None = None
    split: DivisorRule | LargestRemainder | None = None

    @property
    def split_rule(self) -> DivisorRule | LargestRemainder:
        return self.split or self.rule


METHODS: dict[str, Method] = {
    "bader-ofer": Method("bader-ofer", DHONDT, start=Gauge(), split=DHONDT),
    "dhondt": Method("dhondt", DHONDT),
    "sainte-lague": Method("sainte-lague", SAINTE_LAGUE),
    "modified-sainte-lague": Method("modified-sainte-lague", MODIFIED_SAINTE_LAGUE),
    "hare": Method("hare", HARE),
    "droop": Method("droop", DROOP),
}


def method_for(method: str | None, has_agreements: bool = False) -> Method:
    """The Method for a name; None means bader-ofer when there are agreements, else dhondt."""
    if method is None:
        method = "bader-ofer" if has_agreements else "dhondt"
    if isinstance(method, Method):
        return method
    key = str(method).strip().lower().replace("_", "-").replace("'", "").replace("ë", "e")
    key = {"d-hondt": "dhondt", "webster": "sainte-lague", "bader-offer": "bader-ofer"}.get(key, key)
    if key not in METHODS:
        raise DataError(f"Unknown method '{method}'; use one of {', '.join(METHODS)}.")
    return METHODS[key]
