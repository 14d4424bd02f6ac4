"""Round two, deterministically: vote transfers between the rounds and their calibration on real runoffs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Target name for voters who vote in round one but not in round two (or, for a withdrawal, not at all).
STAY_HOME = "(stayed home)"
#: Source name, in flows, for round-two voters beyond everyone who came back (net new voters).
NEW_VOTERS = "(new voters, net)"


def _retention_of(retention: float | Mapping[str, float], name: str) -> float:
    if isinstance(retention, Mapping):
        return float(retention.get(name, 1.0))
    return float(retention)


def runoff_votes(round1: Mapping[str, float], finalists: Sequence[str],
                 transfers: Mapping[str, Mapping[str, float]] | None = None,
                 retention: float | Mapping[str, float] = 1.0) -> dict[str, float]:
    """Expected round-two votes of each finalist, and of :data:`STAY_HOME`.

    A finalist keeps `retention` (share 0-1, default 1) of its round-one voters. An eliminated candidate's
    voters go to each finalist at the rates in ``transfers[eliminated]`` (shares 0-1; what is left over stays
    home). A rate towards another eliminated candidate (a second choice who is out too) is spread over the
    finalists and home in proportion. An eliminated candidate without a row splits evenly between the
    finalists. Rates adding up to more than 1 are taken as given (the group brought net new voters; the
    stay-home count is then negative)."""
    f1, f2 = finalists
    transfers = transfers or {}
    out = {f1: 0.0, f2: 0.0, STAY_HOME: 0.0}
    for name, v in round1.items():
        if name in (f1, f2):
            r = _retention_of(retention, name)
            out[name] += r * v
            out[STAY_HOME] += (1 - r) * v
            continue
        row = transfers.get(name)
        if row is None:
            a = b = 0.5
        else:
            a, b = float(row.get(f1, 0.0)), float(row.get(f2, 0.0))
            elsewhere = sum(float(x) for t, x in row.items() if t not in (f1, f2, name))
            if 0 < elsewhere < 1:
                a, b = a / (1 - elsewhere), b / (1 - elsewhere)
            elif elsewhere >= 1:
                a = b = 0.5
        out[f1] += a * v
        out[f2] += b * v
        out[STAY_HOME] += (1 - a - b) * v
    return out


@dataclass
class Calibration:
    """Transfer rates that reproduce a real runoff (see :func:`calibrate`).

    ``rates`` maps each round-one group (a candidate, or the pooled ``free`` group named ``label``) to
    ``{finalist: share, STAY_HOME: share}``; a negative stay-home share means the runoff had more voters than
    came from that group (net new voters). ``flows`` has one row per (source, target, votes)."""

    finalists: tuple[str, str]
    rates: dict[str, dict[str, float]]
    free: list[str]
    label: str
    retention: dict[str, float]
    round1: dict[str, int]
    round2: dict[str, int]
    flows: pd.DataFrame = field(repr=False, default=None)

    def reproduced(self) -> dict[str, float]:
        """Round-two votes (and stay-home) the calibrated rates give back through :func:`runoff_votes`; equal
        to the real counts up to float rounding."""
        transfers = {}
        for group, row in self.rates.items():
            members = self.free if group == self.label else [group]
            for m in members:
                transfers[m] = {k: v for k, v in row.items() if k != STAY_HOME}
        return runoff_votes(self.round1, self.finalists, transfers, self.retention)

    def table(self) -> pd.DataFrame:
        """One row per round-one group: its votes and the share of them going to each finalist / home."""
        rows = []
        for group, row in self.rates.items():
            members = self.free if group == self.label else [group]
            rows.append({"group": group, "votes": sum(self.round1[m] for m in members),
                         **{k: 100 * v for k, v in row.items()}})
        return pd.DataFrame(rows)


def calibrate(round1: Mapping[str, int], round2: Mapping[str, int], *,
              fixed: Mapping[str, Mapping[str, float]] | None = None,
              retention: float | Mapping[str, float] = 1.0, label: str | None = None) -> Calibration:
    """Solve for the transfer rates that turn a real first round into the real runoff.

    The finalists are the candidates of `round2` (exactly two, both in `round1`); they keep `retention` of
    their own round-one voters. The eliminated candidates named in `fixed` send their voters at the given
    rates (shares 0-1 to each finalist; the rest stays home). All other eliminated candidates form one pooled
    group (named `label`, default their names joined by " + ") whose rates are solved exactly so that each
    finalist's runoff count is reproduced; whatever is left over is the group's stay-home share (negative when
    the runoff drew more voters than it lost, i.e. net new voters). Two equations, two unknowns: with more
    than one free group the answer is not identified, hence the pooling.

    Accounts for turnout change: it is whatever the counts imply after the stated retention."""
    fixed = dict(fixed or {})
    finalists = tuple(round2)
    if len(finalists) != 2:
        raise ValueError(f"a runoff has two finalists; got {len(finalists)}")
    for f in finalists:
        if f not in round1:
            raise ValueError(f"finalist {f!r} is not in the first round")
    eliminated = [c for c in round1 if c not in finalists]
    for name in fixed:
        if name not in eliminated:
            raise ValueError(f"{name!r} is not an eliminated candidate")
    free = [c for c in eliminated if c not in fixed]
    if not free:
        raise ValueError("every eliminated candidate has fixed rates; nothing is left to solve")
    label = label or " + ".join(free)
    pool = sum(round1[c] for c in free)
    if pool <= 0:
        raise ValueError("the free group has no votes; its rates cannot be solved")
    fixed_rows = {n: {f: float(r.get(f, 0.0)) for f in finalists} for n, r in fixed.items()}
    base = runoff_votes({k: v for k, v in round1.items() if k not in free}, finalists, fixed_rows, retention)
    rates_free = {f: (round2[f] - base[f]) / pool for f in finalists}
    rates_free[STAY_HOME] = 1.0 - sum(rates_free.values())
    rates = {}
    for n, r in fixed_rows.items():
        rates[n] = {**r, STAY_HOME: 1.0 - sum(r.values())}
    rates[label] = rates_free
    ret = {f: _retention_of(retention, f) for f in finalists}
    cal = Calibration(finalists=finalists, rates=rates, free=free, label=label, retention=ret,
                      round1=dict(round1), round2=dict(round2))
    cal.flows = calibration_flows(cal)
    return cal


def calibration_flows(cal: Calibration) -> pd.DataFrame:
    """Flows of votes from round one to round two: columns ``source``, ``target``, ``votes``.

    Sources are round-one candidates (the pooled group split back into its members in proportion to their
    votes) and, when the runoff drew more voters than returned, :data:`NEW_VOTERS`; targets are the two
    finalists and :data:`STAY_HOME`. Per finalist the flows add up to its real runoff count."""
    rows = []
    f1, f2 = cal.finalists
    new_to = {f1: 0.0, f2: 0.0}
    for name, v in cal.round1.items():
        if name in cal.finalists:
            r = cal.retention[name]
            rows.append((name, name, r * v))
            rows.append((name, STAY_HOME, (1 - r) * v))
            continue
        row = cal.rates[cal.label] if name in cal.free else cal.rates[name]
        a, b = row[f1], row[f2]
        home = 1.0 - a - b
        if home < 0:  # more runoff votes than this group had: the surplus are net new voters
            scale = 1.0 / (a + b)
            for f, x in ((f1, a), (f2, b)):
                new_to[f] += x * v - x * scale * v
            a, b, home = a * scale, b * scale, 0.0
        rows += [(name, f1, a * v), (name, f2, b * v), (name, STAY_HOME, home * v)]
    for f, x in new_to.items():
        if x > 0:
            rows.append((NEW_VOTERS, f, x))
    flows = pd.DataFrame(rows, columns=["source", "target", "votes"])
    return flows[flows["votes"] > 0].reset_index(drop=True)


def calibration_family(round1: Mapping[str, int], round2: Mapping[str, int], vary: Iterable[str],
                       values: Sequence[float], *, towards: str, stay_home: float = 0.0,
                       retention: float | Mapping[str, float] = 1.0) -> pd.DataFrame:
    """The rates the free group needs for each assumption about the `vary` group.

    For each x in `values` (share 0-1), the candidates in `vary` send x of their voters who vote to the
    finalist `towards` and the rest to the other finalist, with `stay_home` (share) of them not voting; the
    remaining eliminated candidates are solved as one group (:func:`calibrate`). Returns one row per x:
    ``assumed`` (percent), ``<finalist>`` and ``STAY_HOME`` columns (percent of the free group's voters) and
    ``feasible`` (both solved rates to the finalists between 0 and 100; a negative stay-home share is allowed:
    net new voters)."""
    vary = list(vary)
    finalists = list(round2)
    if towards not in finalists:
        raise ValueError(f"{towards!r} is not a finalist")
    other = finalists[1] if finalists[0] == towards else finalists[0]
    rows = []
    for x in values:
        fixed = {n: {towards: x * (1 - stay_home), other: (1 - x) * (1 - stay_home)} for n in vary}
        cal = calibrate(round1, round2, fixed=fixed, retention=retention)
        r = cal.rates[cal.label]
        pct = {k: 100 * v for k, v in r.items()}
        rows.append({"assumed": 100 * x, **pct,
                     "feasible": all(-1e-9 <= pct[f] <= 100 + 1e-9 for f in finalists)})
    return pd.DataFrame(rows)


def check_reproduction(cal: Calibration) -> pd.DataFrame:
    """The real runoff count beside what the calibrated rates give back: columns ``finalist``, ``real``
    (votes), ``reproduced`` (votes) and ``difference``."""
    back = cal.reproduced()
    return pd.DataFrame([{"finalist": f, "real": int(cal.round2[f]), "reproduced": back[f],
                          "difference": back[f] - cal.round2[f]} for f in cal.finalists])


def family_at(family: pd.DataFrame, column: str, assumed: float) -> float:
    """A :func:`calibration_family` column (percent) at an assumption (percent), interpolated linearly."""
    return float(np.interp(assumed, family["assumed"], family[column]))


def family_solve(family: pd.DataFrame, column: str, level: float) -> float | None:
    """The assumption (percent) at which a :func:`calibration_family` column reaches `level` (percent); the
    family is linear in the assumption, so the answer is exact up to float rounding. None if never."""
    x, y = family["assumed"].to_numpy(float), family[column].to_numpy(float)
    if len(x) < 2 or y[-1] == y[0]:
        return None
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    at = x[0] + (level - y[0]) / slope
    return float(at) if x.min() - 1e-9 <= at <= x.max() + 1e-9 else None
