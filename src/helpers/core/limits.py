"""Documented bounds on the counts the kit accepts, defined once for every entry point.

The command line (``ballotbook seats``/``simulate``/``coalitions``), the engine functions
(:func:`helpers.models.seats.allocate`, :func:`helpers.models.seats.allocate_batch`,
:func:`helpers.models.simulate.simulate`),
scenario files (``seats``, ``majority``) and notebook parameters (``seats``, ``draws``) all check against these
constants, so a value outside them is exit 2 with a sentence instead of a hang, a memory blow-up or an integer
that wraps.

- seats in a house: 1 to :data:`MAX_SEATS` (10,000; the largest real chamber has under 3,000 seats). With this
  bound every seat count, and every sum of seats of a coalition, fits in :data:`SEAT_DTYPE_BITS`-bit integers.
- simulation draws: 1 to :data:`MAX_DRAWS` (1,000,000; the draws are kept in memory, about 150 MB for 15
  parties).
- seeds: 0 to :data:`MAX_SEED` (2^63 - 1).
- ``build --jobs``: 1 to :data:`MAX_JOBS`; ``--timeout`` (per cell, seconds): 1 to :data:`MAX_TIMEOUT` (a week).
- exact power (``coalitions --power``): parties with seats squared times seats at most
  :data:`MAX_POWER_WORK`.
- data files: a seats poll's party or a seats file's total at most :data:`MAX_SEATS` seats.

The command line declares each option's kind with these names (``count 1..MAX_SEATS``, the words of
``helpers.pipeline.declarations``), as the notebooks declare their parameters, and checks them before any file
is read.

Standard library only: the command line imports this before anything heavy.
"""

from __future__ import annotations

#: Most seats a house may have (seats per simulation, per allocation, per scenario file).
MAX_SEATS = 10_000
#: Most draws one simulation may ask for.
MAX_DRAWS = 1_000_000
#: Largest random seed accepted.
MAX_SEED = 2**63 - 1
#: Largest election-day poll error, in percentage points (``simulate --poll-error``, notebooks' ``poll_error``).
MAX_POLL_ERROR = 50
#: Longest per-cell timeout, in seconds (a week).
MAX_TIMEOUT = 7 * 24 * 3600
#: Most reports built at once.
MAX_JOBS = 1024
#: Most work for exact a-priori power (parties with seats, squared, times the seats): about 5 s at the bound.
MAX_POWER_WORK = 2_000_000
#: Bits of the signed integers seat draws are stored in (int16 holds up to 32,767 >= MAX_SEATS).
SEAT_DTYPE_BITS = 16

assert MAX_SEATS <= 2 ** (SEAT_DTYPE_BITS - 1) - 1, "MAX_SEATS must fit the seat dtype"


def check_count(value, name: str, low: int, high: int) -> int:
    """`value` as an int when it is a whole number (not a bool) with low <= value <= high; else
    helpers.core.errors.DataError naming `name` and the bounds."""
    from numbers import Integral

    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        from helpers.core.errors import DataError

        shown = repr(value) if not isinstance(value, Integral) or isinstance(value, bool) else f"{int(value):,}"
        if len(shown) > 40:
            shown = shown[:40] + "…"
        raise DataError(f"{name} must be at least {low:,} and at most {high:,}, a whole number (got {shown}).")
    return int(value)
