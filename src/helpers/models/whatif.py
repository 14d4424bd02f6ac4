"""What-ifs: the base a scenario starts from (polls as of a date, or an official count), each what-if's steps
applied to its shares and politics (:func:`apply_what_if`), and one simulation per variant
(:func:`simulate_variants`, same sample size, draws, seed and error model as the base).

Pure model over plain data (no I/O, no plotting); shares are percent of valid votes and sum to 100 after
every step. The step formats and rules: :mod:`helpers.data.scenarios`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.core.errors import DataError
from helpers.data.scenarios import Politics, Scenario, Step, StepProblem, WhatIf
from helpers.models import simulate as sim_model

#: A results base is simulated as a poll this large: its shares are the count, practically without sampling
#: error (the election-day error, when asked for, still applies).
RESULTS_SAMPLE_SIZE = 1e12


@dataclass
class Base:
    """The shares a scenario starts from: percent of valid votes per list (largest first), the sample size
    behind them (respondents; RESULTS_SAMPLE_SIZE for an official count), the as-of date, the kind ('polls'
    or 'results') and the number of polls averaged (polls only)."""

    shares: pd.Series
    sample_size: float
    kind: str
    as_of: str | None = None
    polls_used: int | None = None
    poll_of_polls: object = None
    others: float = 0.0
    error_model: str = "historical"


def base_from_polls(polls: pd.DataFrame, as_of, *, threshold: float, house_seats: int, merges=None) -> Base:
    """The poll of polls as of `as_of` (:func:`helpers.models.polls.poll_of_polls`, default half-life) of the
    file's main question; `threshold` (percent) turns seats polls' zeros into shares, and seats polls are read
    as shares of `house_seats`."""
    from helpers.models import polls as poll_model

    chosen, _ = poll_model.select_question(polls, "")
    average = poll_model.poll_of_polls(chosen, as_of or None, threshold=threshold, house_seats=house_seats,
                                          merges=merges)
    return Base(shares=average.shares.copy(), sample_size=average.effective_sample_size, kind="polls",
                as_of=average.as_of.date().isoformat(), polls_used=average.n_polls, poll_of_polls=average,
                others=average.others, error_model="historical")


def base_from_results(votes: pd.DataFrame, as_of: str | None = None) -> Base:
    """An official result (a votes file: list, votes) as shares, percent of all valid votes, largest first."""
    counts = pd.Series(votes["votes"].to_numpy(dtype=float), index=votes["list"].astype(str).to_numpy())
    total = float(counts.sum())
    if not total > 0:
        raise DataError("the results hold no votes, so there is nothing to simulate.")
    shares = (counts / total * 100.0).sort_values(ascending=False, kind="stable")
    shares.index.name = "party"
    return Base(shares=shares, sample_size=RESULTS_SAMPLE_SIZE, kind="results", as_of=as_of, others=0.0,
                error_model="sampling")


@dataclass
class Variant:
    """The base or one what-if: shares (percent per running list), politics (agreements, vetoes, blocs,
    coalitions, threshold), the lists its steps touched (changed) and the steps in words."""

    name: str
    shares: pd.Series
    politics: Politics
    description: str = ""
    changed: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()

    @property
    def is_base(self) -> bool:
        return not self.steps

    @property
    def threshold(self) -> float:
        return self.politics.threshold

    @property
    def agreements(self) -> list[tuple[str, str]]:
        return list(self.politics.agreements)


def _scaled(shares: pd.Series, total: float) -> pd.Series:
    s = float(shares.sum())
    return shares * (total / s) if s > 0 else shares


def apply_step(shares: pd.Series, politics: Politics, step: Step) -> tuple[pd.Series, Politics]:
    """One what-if step on shares (percent, summing to 100) and politics. StepProblem when it cannot apply
    (a list not running, more votes moved than a list has)."""
    politics_after = politics.after(step)
    s = shares.astype(float).copy()
    kind = step.kind
    if kind == "move":
        a, b = step.parties
        if step.amount > s[a] + 1e-12:
            raise StepProblem(f"moves {step.amount:g} points from {a}, which has only {s[a]:.2f}%.",
                              ("move",))
        s[a] -= step.amount
        s[b] += step.amount
        s[a] = max(s[a], 0.0)
    elif kind == "merge":
        members = list(step.parties)
        joint = float(s[members].sum()) * step.amount / 100.0
        if joint >= 100:
            raise StepProblem(f"keeps {step.amount:g}% of {joint * 100 / step.amount:.1f}%, which leaves "
                              "nothing for the other lists.", ("keep",))
        others = _scaled(s.drop(members), 100.0 - joint)
        pos = list(s.index).index(members[0])
        before = [k for k in list(s.index)[:pos] if k not in members]
        order = before + [step.into] + [k for k in others.index if k not in before]
        s = pd.concat([others, pd.Series({step.into: joint})]).reindex(order)
    elif kind == "split":
        party = step.parties[0]
        whole = float(s[party])
        parts = pd.Series({k: whole * pct / 100.0 for k, pct in step.parts})
        pos = list(s.index).index(party)
        s = pd.concat([s.iloc[:pos], parts, s.iloc[pos + 1:]])
    elif kind == "drop":
        party = step.parties[0]
        gone = float(s[party])
        s = s.drop(party)
        for k, pct in step.parts:
            s[k] += gone * pct / 100.0
        s = _scaled(s, 100.0)
    elif kind == "run":
        party = step.parties[0]
        new = float(step.amount)
        for k, pct in step.parts:
            take = new * pct / 100.0
            if take > s[k] + 1e-12:
                raise StepProblem(f"takes {take:.2f} points from {k}, which has only {s[k]:.2f}%.",
                                  ("from", k))
            s[k] -= take
        # what the named lists did not give comes from every list in proportion
        s = _scaled(s, 100.0 - new)
        s[party] = new
    s = s.clip(lower=0.0)
    s.name = "share"
    s.index.name = "party"
    return s, politics_after


def apply_what_if(base: Variant, what_if: WhatIf) -> Variant:
    """The base after every step of `what_if`, in order. DataError naming the what-if and the step when a
    step cannot apply to this base."""
    shares, politics = base.shares, base.politics
    changed: list[str] = []
    for j, step in enumerate(what_if.steps, start=1):
        try:
            shares, politics = apply_step(shares, politics, step)
        except StepProblem as exc:
            raise DataError(f"what-if '{what_if.name}', step {j} ({step.text}): {exc.problem}") from None
        for k in (*step.parties, *([step.into] if step.into else []), *(k for k, _ in step.parts)):
            if k not in changed:
                changed.append(k)
    return Variant(name=what_if.name, shares=shares, politics=politics, description=what_if.description,
                   changed=tuple(changed), steps=tuple(s.text for s in what_if.steps))


def variants(scenario: Scenario, shares: pd.Series) -> list[Variant]:
    """The base (first) and every what-if of `scenario`, starting from `shares` (percent per list)."""
    shares = pd.Series(shares, dtype=float)
    shares = _scaled(shares, 100.0)
    base = Variant(name="Base", shares=shares, politics=Politics.of(scenario, list(shares.index)),
                   description=scenario.title)
    return [base] + [apply_what_if(base, w) for w in scenario.what_if]


def simulate_variants(items: Sequence[Variant], base: Base, *, draws: int, seed: int, seats: int,
                      poll_error: float = 0.0, error_model=None) -> list[sim_model.Simulation]:
    """One simulation per variant, each with the base's sample size and residual ``others``, the same draws,
    seed and error model (default: the base's own: 'historical' for a poll of polls, 'sampling' for an
    official count). Every list draws from its own random stream (:func:`helpers.models.simulate.list_streams`),
    so a list a what-if leaves alone gets the same random numbers in every variant: differences come from the
    what-if, not from a different stream."""
    model = base.error_model if error_model is None else error_model
    return [sim_model.simulate(v.shares, base.sample_size, draws=draws, seed=seed, seats=seats,
                               threshold=v.threshold, poll_error=poll_error, agreements=v.agreements,
                               error_model=model, others=base.others)
            for v in items]
