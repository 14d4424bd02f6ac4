"""Seat allocation: exact apportionment of seats to lists from their votes.

The rules are composed from small parts with domain names, as in votelib:

- a :class:`Threshold` (percent of all valid votes; lists below it drop out),
- an optional :class:`Gauge` start (the Knesset's first step: every list gets floor(votes / gauge) seats),
- a seat rule: a :class:`DivisorRule` (D'Hondt, Sainte-Laguë, modified Sainte-Laguë) awarding seats one at a
  time to the largest quotient votes / divisor, or a :class:`LargestRemainder` quota rule (Hare, Droop),
- :class:`SurplusAgreements`: each pair of lists that signed a surplus-vote agreement (and both cleared the
  threshold) takes part as one list; the pair's seats are then split between its two lists by a split rule.

The Knesset law (Bader-Ofer) is one composition of them: ``Method("bader-ofer", rule=DHONDT, start=Gauge(),
split=DHONDT)``; the other methods are compositions too (:data:`METHODS`).

Arithmetic is exact: votes are integers, quotients are compared by cross-multiplication, and what the audit
shows is a :class:`fractions.Fraction`.

Ties. When the last seat is decided by an exact tie (two or more lists or pairs with the same quotient, or the
same remainder, competing for fewer seats than there are of them) the seat goes to the one that comes first in
the input (a pair counts at the place of its first list), and every list involved gets ``tie=True``. The
audit has a ``tie`` row naming them. Only the tie for the *last* seat matters: ties earlier in the order are
settled by later seats and change nothing. Inside a surplus agreement the same holds for the pair's last seat.
With the gauge start, a tie can only arise in the seats given after the gauge step.

Degenerate inputs. A list with no votes never clears a threshold (not even 0%). The gauge start needs enough
votes that floor(votes / gauge) does not give out more seats than there are (always true from seats² valid
votes of passing lists up, e.g. 14,400 for 120 seats); the Droop quota needs enough votes that the remainder
seats do not outnumber the lists. Otherwise :class:`~helpers.core.errors.DataError` says so.

:func:`allocate_batch` is the fast vectorised allocator for simulations (many draws at once); it gives the
same seats and resolves ties by the same rule as :func:`allocate` on every draw (float shares are first
converted to whole vote counts by :func:`to_vote_counts`).
"""

from __future__ import annotations

from helpers.models.seats.batch import BATCH_CHUNK, VOTE_SCALE, allocate_batch, to_vote_counts
from helpers.models.seats.exact import Allocation, allocate
from helpers.models.seats.rules import (
    DHONDT,
    DROOP,
    HARE,
    METHODS,
    MODIFIED_SAINTE_LAGUE,
    SAINTE_LAGUE,
    DivisorRule,
    Gauge,
    LargestRemainder,
    Method,
    SurplusAgreements,
    Threshold,
    method_for,
)

__all__ = [
    "Allocation", "allocate", "allocate_batch", "to_vote_counts", "Threshold", "Gauge", "DivisorRule",
    "LargestRemainder", "SurplusAgreements", "Method", "METHODS", "DHONDT", "SAINTE_LAGUE",
    "MODIFIED_SAINTE_LAGUE", "HARE", "DROOP", "VOTE_SCALE", "BATCH_CHUNK", "method_for",
]
