"""Two-round leadership primaries: the first-round rule, runoffs, withdrawals, vote transfers, simulation.

Pure model: no I/O, no plotting. Units: *percent* (0-100) for published shares and thresholds, *share*
(0-1) for fractions of a candidate's voters (transfer rates), *votes* for counts.

The contest rule (Labor's, and the default): a candidate whose first-round share is over the threshold
(40 percent) wins outright; otherwise the two leading candidates meet in a runoff. Sources disagree on two
points, so both are parameters:

* ``inclusive`` — whether exactly the threshold is enough (``>=``) or the share must be over it (``>``);
* the denominator — the votes for candidates (valid votes, the default) or every ballot cast (``ballots``,
  which also counts blank, invalid and "none of the above" ballots).

Comparisons are exact (integers and fractions), so 40 of 100 votes is exactly 40 percent.

Stated rules for the corner cases (they are rare in real contests but a count must never be silently decided):

* Several candidates over the threshold: the one with the most votes wins.
* The most votes shared by two or more candidates: nobody wins outright, even over the threshold; they meet in
  the runoff.
* A tie for a runoff place (second place shared, or first place shared by three or more): the runoff cannot
  be named from the count. The outcome is ``"runoff"``; ``runoff`` lists the leader and *every* candidate tied
  for the last place, and ``tie`` names the tied candidates, so the caller reports it instead of guessing.
* A single candidate wins whatever the threshold: there is nobody to meet in a runoff.

The package, by concept: :mod:`~helpers.models.primaries.rules` (the first round, exactly),
:mod:`~helpers.models.primaries.transfers` (round two: transfers, and the range of them that two real
counts allow),
:mod:`~helpers.models.primaries.race` (a :class:`Plan` for the race and :func:`simulate_race`),
:mod:`~helpers.models.primaries.replay` (past contests and polls replayed; the member-poll bias;
scores against what happened). The sentences written for the reader live in :mod:`helpers.views.primaries`.
"""

from __future__ import annotations

from helpers.models.primaries.race import (
    DEFAULT_CONCENTRATION,
    DEFAULT_SAMPLE_SIZE,
    MarginBias,
    Plan,
    SimulationResult,
    compare,
    draw_first_round,
    gains,
    margin_shift,
    matchups,
    outputs,
    plans_from_frame,
    rescale,
    share_in,
    shift_margin,
    simulate_race,
    stack,
    sweep,
    vary_plan,
)
from helpers.models.primaries.replay import (
    PollBias,
    contest_of_poll,
    margin_miss,
    poll_bias,
    poll_misses,
    replay,
    resolve_name,
    score_winner,
)
from helpers.models.primaries.rules import boundary, check_threshold, clears, first_round, runoff_floor
from helpers.models.primaries.transfers import (
    NEW_VOTERS,
    NEWCOMERS,
    STAY_HOME,
    Calibration,
    TransferBounds,
    bounds_sensitivity,
    calibrate,
    calibration_family,
    calibration_flows,
    check_reproduction,
    extreme_plans,
    family_at,
    family_solve,
    runoff_votes,
    transfer_bounds,
    vertex_plan,
)

__all__ = [
    "DEFAULT_CONCENTRATION", "DEFAULT_SAMPLE_SIZE", "NEWCOMERS", "NEW_VOTERS", "STAY_HOME", "Calibration",
    "MarginBias", "Plan", "PollBias", "SimulationResult", "TransferBounds", "boundary", "bounds_sensitivity",
    "calibrate", "calibration_family", "calibration_flows", "check_reproduction", "check_threshold", "clears",
    "compare", "contest_of_poll", "draw_first_round", "extreme_plans", "family_at", "family_solve",
    "first_round", "gains",
    "margin_miss", "margin_shift", "matchups", "outputs", "plans_from_frame", "poll_bias", "poll_misses",
    "rescale", "replay", "resolve_name", "runoff_floor", "runoff_votes", "score_winner", "share_in",
    "shift_margin", "simulate_race", "stack", "sweep", "transfer_bounds", "vary_plan", "vertex_plan",
]
