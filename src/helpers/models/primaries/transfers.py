"""Round two, deterministically: vote transfers between the rounds, and what two real counts say about them.

Two counts do not identify the transfers: :func:`transfer_bounds` gives the whole range of flows that give back
both counts exactly under stated assumptions (partial identification), and that range is the result.
:func:`calibrate` solves for one point of it under an extra assumption (two equations, two unknowns): it gives
back the counts by construction, so it illustrates an assumption and tests nothing."""

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


def _finalists(round1: Mapping[str, float], round2: Mapping[str, float]) -> tuple[tuple, list]:
    """The runoff's two finalists (each must have run in round one) and the candidates eliminated in round one."""
    finalists = tuple(round2)
    if len(finalists) != 2:
        raise ValueError(f"a runoff has two finalists; got {len(finalists)}")
    for f in finalists:
        if f not in round1:
            raise ValueError(f"finalist {f!r} is not in the first round")
    return finalists, [c for c in round1 if c not in finalists]


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
    """One set of transfer rates that turns a real first round into the real runoff, under assumptions.

    The finalists are the candidates of `round2` (exactly two, both in `round1`); they keep `retention` of
    their own round-one voters. The eliminated candidates named in `fixed` send their voters at the given
    rates (shares 0-1 to each finalist; the rest stays home). All other eliminated candidates form one pooled
    group (named `label`, default their names joined by " + ") whose rates are solved exactly so that each
    finalist's runoff count is reproduced; whatever is left over is the group's stay-home share (negative when
    the runoff drew more voters than it lost, i.e. net new voters). Two equations, two unknowns: it gives back
    the counts by construction, whatever the truth; with more than one free group the answer is not
    identified, hence the pooling. For what the counts alone allow, see :func:`transfer_bounds`.

    Accounts for turnout change: it is whatever the counts imply after the stated retention."""
    fixed = dict(fixed or {})
    finalists, eliminated = _finalists(round1, round2)
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


# ---------------------------------------------------------------------------------------------------------
# What the counts allow: partial identification of the transfers between two rounds
# ---------------------------------------------------------------------------------------------------------

#: Target name, in bounds, for the round-two voters who had not voted in round one (gross newcomers).
NEWCOMERS = "(newcomers)"
#: At most this many eliminated groups: the vertices are enumerated exactly, and their number grows fast.
MAX_GROUPS = 4


@dataclass
class TransferBounds:
    """Every flow from round one to round two that gives back both rounds' counts exactly, under stated
    assumptions (see :func:`transfer_bounds`), summarised by the vertices of that set.

    ``vertices``: one row per vertex, columns ``"<group> -> <finalist>"``, ``"<group> -> (stayed home)"``
    (votes), ``"<finalist> kept"`` (votes), ``"(newcomers) -> <finalist>"`` (votes). A linear quantity (a
    transfer rate, a pooled rate) takes its smallest and largest value over the whole set at vertices, so
    :meth:`range` is exact: it is the sharp range the counts and the assumptions allow."""

    finalists: tuple[str, str]
    groups: dict[str, list[str]]
    votes: dict[str, int]
    round1: dict[str, int]
    round2: dict[str, int]
    retention_floor: float
    newcomers: float
    vertices: pd.DataFrame = field(repr=False, default=None)

    def flow(self, groups: str | Sequence[str], target: str) -> np.ndarray:
        """Votes from the eliminated `groups` (a label or several) to `target` at every vertex."""
        labels = [groups] if isinstance(groups, str) else list(groups)
        return sum(self.vertices[f"{g} -> {target}"].to_numpy(float) for g in labels)

    def range(self, groups: str | Sequence[str], target: str) -> tuple[float, float]:
        """The smallest and largest share (0-1) of the voters of `groups` (a label, or several pooled) that
        went to `target` (a finalist or :data:`STAY_HOME`), over every flow the counts allow."""
        labels = [groups] if isinstance(groups, str) else list(groups)
        total = sum(self.votes[g] for g in labels)
        share = self.flow(labels, target) / total
        return float(share.min()), float(share.max())

    def witness(self, groups: str | Sequence[str], target: str, end: str = "high") -> dict[str, float]:
        """The flows (votes, columns as in ``vertices``) of a vertex where the share of `groups` to `target`
        is at its low or high `end`: a complete flow that gives back both counts at that bound."""
        labels = [groups] if isinstance(groups, str) else list(groups)
        values = self.flow(labels, target)
        i = int(np.argmax(values) if end == "high" else np.argmin(values))
        return {k: float(v) for k, v in self.vertices.iloc[i].items()}

    def table(self) -> pd.DataFrame:
        """One row per eliminated group (and one for all of them pooled, when there are several): ``group``,
        ``votes`` and, per finalist and :data:`STAY_HOME`, ``"<target> low"`` / ``"<target> high"`` (percent
        of the group's round-one voters)."""
        rows = []
        labels = list(self.groups)
        keys = [[g] for g in labels] + ([labels] if len(labels) > 1 else [])
        for key in keys:
            row = {"group": key[0] if len(key) == 1 else "all of them, pooled",
                   "votes": int(sum(self.votes[g] for g in key))}
            for target in (*self.finalists, STAY_HOME):
                lo, hi = self.range(key, target)
                row[f"{target} low"], row[f"{target} high"] = 100 * lo, 100 * hi
            rows.append(row)
        return pd.DataFrame(rows)


def _vertices(a_eq: np.ndarray, b_eq: np.ndarray, tol: float) -> np.ndarray:
    """Every basic feasible solution of ``a_eq @ x = b_eq, x >= 0`` (rows of the result), by trying every
    basis: exact for the small systems here (a few thousand bases at most)."""
    from itertools import combinations

    m, n = a_eq.shape
    bases = np.array(list(combinations(range(n), m)))
    mats = a_eq[:, bases].transpose(1, 0, 2)  # bases x m x m
    det = np.linalg.det(mats)
    ok = np.abs(det) > 1e-9
    sol = np.linalg.solve(mats[ok], np.broadcast_to(b_eq, (int(ok.sum()), m))[..., None])[..., 0]
    feasible = (sol >= -tol).all(axis=1)
    out = np.zeros((int(feasible.sum()), n))
    rows = np.arange(len(out))[:, None]
    out[rows, bases[ok][feasible]] = np.clip(sol[feasible], 0.0, None)
    # keep only those that satisfy the system (guards against an ill-conditioned basis)
    good = np.abs(out @ a_eq.T - b_eq).max(axis=1) <= tol * 10 if len(out) else np.zeros(0, bool)
    return out[good]


def transfer_bounds(round1: Mapping[str, int], round2: Mapping[str, int],
                    groups: Mapping[str, Sequence[str]] | None = None, *, retention_floor: float = 0.0,
                    newcomers: float | None = None) -> TransferBounds:
    """The range of vote transfers that the two counts of a runoff allow (partial identification).

    The finalists are the candidates of `round2` (two, both in `round1`); the eliminated candidates form
    `groups` (label -> names; default one group per eliminated candidate, at most :data:`MAX_GROUPS`).
    Assumptions, each stated by a parameter:

    * a finalist's round-one voters vote for that finalist again or stay home (nobody switches between the
      finalists), and at least `retention_floor` (share 0-1; default 0, no assumption) of them come back;
    * an eliminated group's voters go to either finalist or stay home, in any proportions;
    * at most `newcomers` round-two voters had not voted in round one (votes; default the least the counts
      need: the rise in the number of votes, or 0 when it fell).

    Every flow meeting these and giving back each finalist's runoff count exactly is allowed; the result
    holds the vertices of that set (:class:`TransferBounds`). ValueError when no flow does (the assumptions
    contradict the counts)."""
    finalists, eliminated = _finalists(round1, round2)
    if groups is None:
        groups = {c: [c] for c in eliminated}
    groups = {str(k): list(v) for k, v in groups.items()}
    named = [c for members in groups.values() for c in members]
    if sorted(named) != sorted(eliminated):
        raise ValueError("the groups must hold every eliminated candidate exactly once "
                         f"({', '.join(eliminated)})")
    if not 1 <= len(groups) <= MAX_GROUPS:
        raise ValueError(f"between 1 and {MAX_GROUPS} groups of eliminated candidates; got {len(groups)} "
                         "(pool some of them)")
    if not 0 <= retention_floor <= 1:
        raise ValueError(f"the retention floor is a share between 0 and 1; got {retention_floor!r}")
    gain = sum(int(v) for v in round2.values()) - sum(int(v) for v in round1.values())
    cap = float(max(0, gain) if newcomers is None else newcomers)
    if not cap >= 0:
        raise ValueError(f"newcomers must be a number of votes >= 0; got {newcomers!r}")
    votes = {g: sum(int(round1[c]) for c in members) for g, members in groups.items()}

    # Variables: per finalist kept-above-floor and its slack; per group a flow to each finalist and home;
    # per finalist newcomers; the newcomers' slack.
    names: list[str] = []
    for f in finalists:
        names += [f"{f} kept+", f"{f} slack"]
    for g in groups:
        names += [f"{g} -> {finalists[0]}", f"{g} -> {finalists[1]}", f"{g} -> {STAY_HOME}"]
    names += [f"{NEWCOMERS} -> {f}" for f in finalists] + ["newcomers slack"]
    col = {n: i for i, n in enumerate(names)}
    rows, rhs = [], []
    for f in finalists:
        eq = np.zeros(len(names))
        eq[col[f"{f} kept+"]] = 1
        eq[col[f"{NEWCOMERS} -> {f}"]] = 1
        for g in groups:
            eq[col[f"{g} -> {f}"]] = 1
        rows.append(eq)
        rhs.append(float(round2[f]) - retention_floor * float(round1[f]))
        eq = np.zeros(len(names))
        eq[col[f"{f} kept+"]] = eq[col[f"{f} slack"]] = 1
        rows.append(eq)
        rhs.append((1 - retention_floor) * float(round1[f]))
    for g in groups:
        eq = np.zeros(len(names))
        for t in (*finalists, STAY_HOME):
            eq[col[f"{g} -> {t}"]] = 1
        rows.append(eq)
        rhs.append(float(votes[g]))
    eq = np.zeros(len(names))
    for f in finalists:
        eq[col[f"{NEWCOMERS} -> {f}"]] = 1
    eq[col["newcomers slack"]] = 1
    rows.append(eq)
    rhs.append(cap)
    a_eq, b_eq = np.array(rows), np.array(rhs)
    tol = 1e-9 * max(1.0, float(np.abs(b_eq).max()))
    if (b_eq < -tol).any():
        raise ValueError("a finalist has fewer runoff votes than the retention floor keeps; lower the floor")
    b_eq = np.clip(b_eq, 0.0, None)  # float rounding of floor x votes
    found = _vertices(a_eq, b_eq, tol)
    if not len(found):
        raise ValueError(f"no flow gives back both counts with at least {retention_floor:.0%} of the "
                         f"finalists' voters back and at most {cap:,.0f} newcomers")
    frame = pd.DataFrame(found, columns=names)
    for f in finalists:
        frame[f"{f} kept"] = retention_floor * float(round1[f]) + frame.pop(f"{f} kept+")
        frame.pop(f"{f} slack")
    frame.pop("newcomers slack")
    frame = frame.drop_duplicates().reset_index(drop=True)
    return TransferBounds(finalists=finalists, groups=groups, votes=votes, round1=dict(round1),
                          round2=dict(round2), retention_floor=float(retention_floor), newcomers=cap,
                          vertices=frame)


def bounds_sensitivity(round1: Mapping[str, int], round2: Mapping[str, int], groups: Mapping[str, Sequence[str]],
                       group: str | Sequence[str], target: str,
                       settings: Sequence[tuple[float, float]]) -> pd.DataFrame:
    """The range of one transfer rate under several assumptions: `settings` is a list of (retention floor,
    share 0-1; newcomers as a share of the runoff's votes, 0-1 — the least the counts need is used when it is
    larger). Columns ``retention_floor`` and ``newcomers`` (percent), ``newcomer_votes``, ``low``, ``high``
    (percent of the group's voters; NaN when the assumptions contradict the counts)."""
    total2 = sum(int(v) for v in round2.values())
    least = max(0, total2 - sum(int(v) for v in round1.values()))
    rows = []
    for floor, share in settings:
        cap = max(float(least), share * total2)
        try:
            lo, hi = transfer_bounds(round1, round2, groups, retention_floor=floor, newcomers=cap).range(group,
                                                                                                         target)
        except ValueError:
            lo = hi = float("nan")
        rows.append({"retention_floor": 100 * floor, "newcomers": 100 * cap / total2, "newcomer_votes": cap,
                     "low": 100 * lo, "high": 100 * hi})
    return pd.DataFrame(rows)


def vertex_plan(bounds: TransferBounds, vertex: Mapping[str, float], name: str, title: str = ""):
    """A :class:`~helpers.models.primaries.race.Plan` whose round-two transfers are one flow of `bounds`
    (a row of ``bounds.vertices``): each eliminated candidate's voters go to each finalist at their group's
    rate, and each finalist keeps the share of their voters the flow keeps (a row to themself)."""
    from helpers.models.primaries.race import Plan

    transfers: dict[str, dict[str, float]] = {}
    for g, members in bounds.groups.items():
        rates = {f: vertex[f"{g} -> {f}"] / bounds.votes[g] for f in bounds.finalists}
        for m in members:
            transfers[m] = dict(rates)
    for f in bounds.finalists:
        transfers[f] = {f: min(1.0, vertex[f"{f} kept"] / bounds.round1[f])}
    return Plan(name=name, title=title, transfers=transfers)


def extreme_plans(bounds: TransferBounds, shares: Mapping[str, float], follow: str) -> tuple:
    """The two flows of `bounds` that are worst and best for `follow` (a finalist) when the eliminated
    candidates hold `shares` (percent, e.g. a poll): the vertices with the smallest and largest net transfer
    to `follow`, sum over groups of share x (rate to follow - rate to the other finalist). Returns
    ``(worst, best)`` as :func:`vertex_plan` plans named ``"low"`` and ``"high"``."""
    if follow not in bounds.finalists:
        raise ValueError(f"{follow!r} is not a finalist of these counts")
    other = bounds.finalists[1] if bounds.finalists[0] == follow else bounds.finalists[0]
    net = np.zeros(len(bounds.vertices))
    for g, members in bounds.groups.items():
        weight = sum(float(shares.get(m, 0.0)) for m in members) / bounds.votes[g]
        net += weight * (bounds.vertices[f"{g} -> {follow}"].to_numpy(float)
                         - bounds.vertices[f"{g} -> {other}"].to_numpy(float))
    lo, hi = int(np.argmin(net)), int(np.argmax(net))
    rows = [bounds.vertices.iloc[i].to_dict() for i in (lo, hi)]
    return (vertex_plan(bounds, rows[0], "low", f"the counted flow worst for {follow}"),
            vertex_plan(bounds, rows[1], "high", f"the counted flow best for {follow}"))
