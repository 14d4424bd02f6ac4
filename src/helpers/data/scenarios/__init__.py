"""Coalition scenario files: ``data/scenarios/*.yml``, read and checked by :func:`load_scenario`.

A scenario says what to simulate (a base: polls as of a date, or an official result), the rules of the
house, the politics (who will not sit with whom, the blocs, the coalitions to evaluate) and named what-ifs.
Every relative path in it is relative to the project root, wherever the scenario file lives. A party may be
named by its key, display name, Hebrew name or an alias from ``data/parties.csv``, in any letter case (or,
with a results base, by a ``list`` name of the votes file).

Keys (only ``polls`` + ``as_of`` or ``results`` are required)::

    title: Knesset 2022, final week          # text; the file name otherwise
    description: ...                         # optional text shown under the title
    rules: data/knesset/rules.yml            # the house's rules file (helpers.data.rules): seats, threshold,
                                             #   majority and agreements come from it unless given here, and
                                             #   party names resolve against its registry (default: the
                                             #   Knesset's numbers below and data/parties.csv)
    polls: data/polls/knesset-2022.csv       # base: a polls file (with as_of) ...
    as_of: 2022-10-28                        # ... using the polls published up to this date (YYYY-MM-DD)
    results: data/knesset/results/2022-11-01.csv   # ... or instead an official votes file (list,votes)
    threshold: 3.25                          # electoral threshold: a percent (3.25, "3.25%"), an exact fraction of
                                             #   the valid votes ("1/150") or "N quota(s)" of the seats
                                             #   (default: the rules', else 3.25)
    seats: 120                               # seats in the house (default 120; 1 to 10,000)
    majority: 61                             # seats needed to govern (default floor(seats / 2) + 1)
    agreements: data/knesset/agreements/2022-11-01.csv   # surplus-vote agreements (list_a,list_b); optional
    poll_error: 0                            # a fixed extra election-day error, percentage points, on top of the
                                             #   kit's error model (default 0); the notebook's poll_error overrides
    valid_votes: 4764742                     # valid votes, to turn points into votes (default: a results
                                             #   file's total; none for polls)
    vetoes: [[religious_zionism, raam]]      # pairs of parties that will not sit together; [a, [b, c]]
                                             #   is short for [a, b] and [a, c]
    required: [likud]                        # parties every coalition must hold
    excluded: [balad]                        # parties no coalition holds
    blocs: {Netanyahu bloc: [likud, shas]}   # named groups whose chance of a majority is reported
    coalitions: {Right-religious: [likud, religious_zionism, shas, utj]}   # named coalitions to evaluate
    what_if:                                 # named changes, each a list of steps applied in order
      - name: Labor and Meretz merge
        steps:
          - {merge: [labor, meretz], into: labor_meretz, label: Labor–Meretz}

What-if steps (each step is a mapping with exactly one action key; shares are percent of valid votes, and
after every step the lists' shares sum to 100 again):

- ``{move: 1.5, unit: points, from: likud, to: yesh_atid}``: move 1.5 points of vote share (``unit: seats``:
  that many seats' worth, 100 / seats points each) from one list to another.
- ``{merge: [labor, meretz], into: labor_meretz, label: Labor–Meretz, keep: 90}``: the lists run as one.
  ``into`` is a party (one of the members or any known party) or a new key written lower_snake_case
  (default: the first member); ``label`` its display name; ``keep`` the percent of the members' combined
  share the joint list holds (default 100; the rest spreads over the other lists in proportion, and above 100
  the extra comes from them in proportion).
- ``{split: labor_meretz, into: {labor: 55, meretz: 45}}``: one list becomes several; the percentages of its
  share must sum to 100. ``labels: {new_key: Name}`` names new lists.
- ``{drop: jewish_home, to: {likud: 50, religious_zionism: 30}}``: the list does not run. ``to`` (optional)
  sends percentages of its share to named lists; the rest spreads over every list in proportion (the same, for
  shares of valid votes, as those voters staying home).
- ``{run: new_right, share: 2.0, from: {likud: 50}, label: New Right, bloc: Netanyahu bloc}``: a list that
  is not in the base runs with ``share`` percent; ``from`` (optional) takes percentages of it from named
  lists, the rest comes from every list in proportion; ``bloc`` (optional) puts it in one of the scenario's
  blocs.
- ``{agreement_add: [raam, hadash_taal]}`` / ``{agreement_remove: [labor, meretz]}``: a surplus-vote agreement
  is signed or cancelled (a list may hold one agreement).
- ``{threshold: 2.0}``: a different electoral threshold, in the same words (``{threshold: 1/150}``,
  ``{threshold: 2 quotas}``).
- ``{veto_add: [likud, labor]}`` / ``{veto_remove: [likud, yesh_atid]}``: a party rules a partner in or out.

Lists touched by a merge carry their politics over: the joint list takes its first member's place in the
blocs, is in every named coalition that held a member, inherits every veto of a member, and is required or
excluded when a member was. A pair inside a merger loses its surplus agreement; a member's agreement with an
outside list passes to the joint list (when it has none yet). A dropped list leaves the blocs, coalitions and
vetoes; a split list's parts take its place in them (its surplus agreement lapses).

Every problem is a :class:`~helpers.core.errors.DataError` naming the file, the place in it (``vetoes[0][1]``,
``what_if[1] ('Jewish Home withdraws').steps[0].drop``) with its line, and what was expected; an unknown party
name lists the closest known names. The files a scenario names are loaded and checked with their own loaders,
and the what-ifs are dry-run against the base's lists (a step naming a list that is not running is an error).
"""

from __future__ import annotations

from helpers.data.scenarios.loader import load_scenario
from helpers.data.scenarios.politics import Politics, StepProblem
from helpers.data.scenarios.types import (
    DEFAULT_POLL_ERROR,
    DEFAULT_SEATS,
    DEFAULT_THRESHOLD,
    STEP_KEYS,
    TOP_KEYS,
    Scenario,
    Step,
    WhatIf,
)

__all__ = ["DEFAULT_POLL_ERROR", "DEFAULT_SEATS", "DEFAULT_THRESHOLD", "STEP_KEYS", "TOP_KEYS", "Politics",
           "Scenario", "Step", "StepProblem", "WhatIf", "load_scenario"]
