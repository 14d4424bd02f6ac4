"""The error model fitted on history, and its track record: how well the kit's probabilities did.

Pure functions over loaded data (:class:`Election`: the polls, the official votes and the rules of one past
election); :mod:`helpers.data.history` loads them from ``data/model/elections.csv``.

**The fit** (:func:`fit`). For every election used for fitting, the poll of polls on the eve of the election
(:func:`helpers.models.polls.poll_of_polls`, as of the day before) is set against the official result:

- ``others``: the mean share of the valid votes won by lists no poll listed;
- ``below_fraction``: the mean result, as a fraction of the threshold, of the lists every poll put below it
  without publishing a percentage (fitted only when there are at least ``MIN_BELOW`` of them; otherwise the
  default of the current fit is kept);
- ``scale`` and ``dof`` of the proportional error (:mod:`helpers.models.uncertainty`) by maximum likelihood:
  the residual ``log(official share) - log(poll share)`` of list *k*, over the square root of
  ``v_k = (1 - p_k) / (p_k * n) + sd(p_k)^2``, is taken as a Student-t with ``dof`` degrees of freedom; the
  first term of ``v_k`` is the sampling error of the pooled polls (``n``: their effective sample size), the
  second the election-day error. The likelihood is maximised on a grid (``scale`` 0.005 to 0.6 by 0.005,
  ``dof`` in :data:`DOFS`); ``power`` is fixed (:data:`POWERS`).

**The track record** (:func:`leave_one_out`): each election in turn is left out, the model is fitted on the
others and forecasts the one left out (20,000 draws, the kit's default seed), scored by :func:`score`: the
Brier and log scores of its threshold calls, the coverage and width of its 90% seat ranges, beside the two
naive baselines of :mod:`helpers.models.backtest`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np
import pandas as pd

from helpers.core.errors import DataError
from helpers.data.history import PastElection
from helpers.models import backtest
from helpers.models import polls as poll_model
from helpers.models import simulate as sim_model
from helpers.models.uncertainty import REFERENCE_SHARE, SMALLEST_SHARE, ErrorModel

#: Fewest all-below lists (over the fitting elections) for ``below_fraction`` to be fitted.
MIN_BELOW = 3
SCALES = np.round(np.arange(0.005, 0.6001, 0.005), 3)
#: The power of the share in the error's size is fixed at 1/2: an error in points that grows like the square
#: root of the share (about 0.7 points under 6%, 1.3 for 6-15%, 2.2 above 15% on the kit's elections). Fitted
#: freely on ~70 residuals it swings from 0 to 1 between leave-one-out folds.
POWERS = np.array([0.5])
#: Degrees of freedom tried for the error's tails (infinite: a normal).
DOFS = (3.0, 4.0, 5.0, 7.0, 10.0, 20.0, float("inf"))
#: Lead times scored, in days before the election (the eve, a week, four weeks).
LEAD_DAYS = (1, 7, 28)


@dataclass
class Election(PastElection):
    """A past election (:class:`helpers.data.history.PastElection`) with what the fit and the track record
    compute from it: the official outcome, the poll of polls at a lead time, the polled lists beside their
    official result.

    The leave-one-out track record asks for the same poll of polls many times (every fold's fit pools each
    other election on the eve under the same starting model), so :meth:`average` is memoized on the instance
    and :meth:`outcome_of` reads a per-list table built once. Both treat the election's data as fixed: to
    change ``polls``, ``votes``, ``merges`` or the rules, build a new Election (``Election.of`` of a
    PastElection, or ``dataclasses.replace``) rather than assign to one that has already been asked."""

    @classmethod
    def of(cls, past: PastElection) -> Election:
        """`past` as an Election (itself when it already is one)."""
        if isinstance(past, cls):
            return past
        return cls(**{f.name: getattr(past, f.name) for f in fields(PastElection)})

    @cached_property
    def outcome(self) -> pd.DataFrame:
        """The official outcome (:func:`helpers.models.backtest.official_outcome`)."""
        return backtest.official_outcome(self.votes, threshold=self.threshold, seats=self.seats,
                                         agreements=self.agreements)

    def as_of(self, lead_days: int) -> pd.Timestamp:
        return pd.Timestamp(self.date) - pd.Timedelta(days=lead_days)

    @cached_property
    def _averages(self) -> dict[tuple, poll_model.PollOfPolls]:
        """The memo of :meth:`average`: (lead_days, others, below_fraction) -> poll of polls."""
        return {}

    @cached_property
    def _pools(self) -> dict[int, tuple[pd.DataFrame, dict]]:
        """The memo of :meth:`pooled`: lead_days -> the polls a poll of polls then uses."""
        return {}

    def pooled(self, lead_days: int) -> tuple[pd.DataFrame, dict]:
        """The polls a poll of polls `lead_days` before the election uses, and those left out
        (:func:`helpers.models.polls.pool`), found once per lead time: it depends only on the polls and the
        date, while the track record asks for polls of polls at one date under every fold's ``others`` and
        ``below_fraction`` (the choice of polls was a third of each poll of polls' time)."""
        got = self._pools.get(lead_days)
        if got is None:
            got = self._pools[lead_days] = poll_model.pool(self.polls, self.as_of(lead_days))
        return got

    def average(self, lead_days: int = 1, model: ErrorModel | None = None) -> poll_model.PollOfPolls:
        """The poll of polls `lead_days` before the election (:func:`helpers.models.polls.poll_of_polls`), with
        the residual ``others`` and ``below_fraction`` of `model` (the function's defaults without one).

        Memoized per (lead_days, model.others, model.below_fraction), the only parts of `model` it reads: a
        second call returns the same object, so callers must treat it as read-only (the kit's callers only
        read it). A poll of polls that raises DataError is not remembered."""
        key = (lead_days, None, None) if model is None else (lead_days, model.others, model.below_fraction)
        got = self._averages.get(key)
        if got is None:
            kw = {} if model is None else {"others": model.others, "below_fraction": model.below_fraction}
            got = self._averages[key] = poll_model.poll_of_polls(
                self.polls, self.as_of(lead_days), threshold=self.threshold, merges=self.merges,
                pooled=self.pooled(lead_days), **kw)
        return got

    @cached_property
    def _outcome_by_list(self) -> pd.DataFrame:
        """:attr:`outcome` indexed by list, built once (:meth:`outcome_of` is called for every polled list of
        every poll of polls)."""
        return self.outcome.set_index("list")

    @cached_property
    def _outcome_rows(self) -> dict:
        """Official list -> its (share, passed, seats) values, read once per list for :meth:`outcome_of` of a
        single list (the first row of a list named twice, as ``.loc`` then ``.iloc[0]`` gives)."""
        o = self._outcome_by_list
        seats = o["official_seats"] if "official_seats" in o else o["engine_seats"]
        out: dict = {}
        for name, values in zip(o.index, zip(o["share"], o["passed"], seats, strict=True), strict=True):
            out.setdefault(name, values)
        return out

    def outcome_of(self, party: str) -> tuple[float, bool, int] | None:
        """(official share %, cleared the line, official seats) of a poll list, a merged list summed over the
        lists it stood for; None when the list cannot be matched with the official lists."""
        members = self.official_merges.get(party) or self.merges.get(party) or [party]
        if len(members) == 1:
            got = self._outcome_rows.get(members[0])
            return None if got is None else (float(got[0]), bool(got[1]), int(got[2]))
        o = self._outcome_by_list
        if not all(m in o.index for m in members):
            return None
        rows = o.loc[members]
        seats = rows["official_seats"] if "official_seats" in rows else rows["engine_seats"]
        # a merged column: its lists ran separately; it "cleared" when all of them did
        return float(rows["share"].sum()), bool(rows["passed"].all()), int(seats.sum())

    @cached_property
    def _matches(self) -> dict[int, tuple]:
        """The memo of :meth:`matched`: id(average) -> (average, what matched returned). The entry holds the
        average itself, so its id cannot be taken by another object while the entry lives."""
        return {}

    def matched(self, average: poll_model.PollOfPolls) -> tuple[pd.DataFrame, float]:
        """The polled lists beside their official outcome (party, share, official_share, passed, seats,
        censored: every poll put it below the line without a percentage), and the official share of the lists
        no poll listed (percent).

        Remembered per poll of polls object (every fold of the track record's fit matches each other
        election's eve average under the starting model again): callers treat the table as read-only, as
        they treat the averages of :meth:`average`."""
        got = self._matches.get(id(average))
        if got is None or got[0] is not average:
            got = self._matches[id(average)] = (average, self._match(average))
        return got[1]

    def _match(self, average: poll_model.PollOfPolls) -> tuple[pd.DataFrame, float]:
        """:meth:`matched` computed."""
        rows, covered = [], set()
        censored = _all_censored(average)
        for party, share in average.shares.items():
            got = self.outcome_of(party)
            members = self.official_merges.get(party) or self.merges.get(party) or [party]
            covered.update(members)
            if got is None:
                continue
            rows.append({"party": party, "share": float(share), "official_share": got[0], "passed": got[1],
                         "seats": got[2], "censored": party in censored})
        o = self.outcome
        unlisted = float(o.loc[~o["list"].isin(covered), "share"].sum())
        return pd.DataFrame(rows), unlisted


def _all_censored(average: poll_model.PollOfPolls) -> set[str]:
    by = average.by_poll
    if "source" not in by:
        return set()
    cens = by.assign(c=by["source"] == poll_model.CENSORED).groupby("party")["c"].all()
    return set(cens[cens].index)


def residuals(elections: list[Election], model: ErrorModel, lead_days: int = 1) -> pd.DataFrame:
    """Per election and polled list: election, party, share (poll of polls, percent of all valid votes),
    official_share, ess (the pooled polls' effective sample size), log_error (log official - log poll)."""
    out = []
    for e in map(Election.of, elections):
        avg = e.average(lead_days, model)
        m, _ = e.matched(avg)
        m = m[(m["official_share"] > 0) & (m["share"] > 0)]
        out.append(m.assign(election=e.date, ess=avg.effective_sample_size,
                            log_error=np.log(m["official_share"]) - np.log(m["share"])))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _neg_log_likelihood(res: pd.DataFrame, scales: np.ndarray, powers: np.ndarray,
                        dof: float = float("inf")) -> np.ndarray:
    """Negative log-likelihood of the residuals on a (scale, power) grid: each residual over the square root
    of its variance is a Student-t with `dof` degrees of freedom (a normal when infinite)."""
    from math import lgamma

    p = np.maximum(res["share"].to_numpy(float), SMALLEST_SHARE)
    sampling = (1 - p / 100) / (p / 100 * res["ess"].to_numpy(float))
    r2 = res["log_error"].to_numpy(float) ** 2
    rel = (p / REFERENCE_SHARE)[None, None, :]
    var = sampling[None, None, :] + (scales[:, None, None] * rel ** (-powers[None, :, None])) ** 2
    if np.isinf(dof):
        return 0.5 * (np.log(2 * np.pi * var) + r2[None, None, :] / var).sum(axis=2)
    const = lgamma((dof + 1) / 2) - lgamma(dof / 2) - 0.5 * np.log(dof * np.pi)
    return (-const + 0.5 * np.log(var) + (dof + 1) / 2 * np.log1p(r2[None, None, :] / (dof * var))).sum(axis=2)


def fit(elections: list[Election], start: ErrorModel) -> ErrorModel:
    """The historical model fitted on `elections` (those marked ``fit``), by the module docstring's rules.
    `start` gives the values kept when there is too little data to fit one (``below_fraction``)."""
    use = [Election.of(e) for e in elections if e.fit]
    if not use:
        return start
    others, below = [], []
    for e in use:
        m, unlisted = e.matched(e.average(1, start))
        others.append(unlisted)
        cens = m[m["censored"]]
        below.extend((cens["official_share"] / e.threshold).tolist() if e.threshold > 0 else [])
    model = ErrorModel(name="historical", scale=start.scale, power=start.power, others=float(np.mean(others)),
                       below_fraction=float(np.mean(below)) if len(below) >= MIN_BELOW else start.below_fraction,
                       fitted_on=tuple(e.year for e in use))
    res = residuals(use, model)
    best = None
    for dof in DOFS:
        nll = _neg_log_likelihood(res, SCALES, POWERS, dof)
        i, j = np.unravel_index(int(np.argmin(nll)), nll.shape)
        if best is None or nll[i, j] < best[0] - 1e-9:
            best = (float(nll[i, j]), float(SCALES[i]), float(POWERS[j]), dof)
    value, scale, power, dof = best
    return ErrorModel(name="historical", scale=scale, power=power, others=model.others, dof=dof,
                      below_fraction=model.below_fraction, fitted_on=model.fitted_on,
                      fit={"lists": len(res), "neg_log_likelihood": round(value, 4),
                           "below_lists": len(below)})


def forecast(e: Election, model: ErrorModel, lead_days: int = 1, *, draws: int = 20_000, seed: int = 0):
    """The model's forecast of election `e` from the polls `lead_days` before it: (poll of polls,
    simulation, matched table with p_pass, seats_p05, seats_p95, model_seats)."""
    e = Election.of(e)
    avg = e.average(lead_days, model)
    kept, _ = sim_model.usable_agreements(e.agreements, avg.parties)
    sim = sim_model.simulate(avg.shares, avg.effective_sample_size, draws=draws, seed=seed, seats=e.seats,
                             threshold=e.threshold, agreements=kept, error_model=model, others=avg.others)
    m, _ = e.matched(avg)
    s = sim.summary.set_index("party")
    m = m.assign(p_pass=[float(s.at[p, "p_pass"]) for p in m["party"]],
                 seats_p05=[float(s.at[p, "seats_p05"]) for p in m["party"]],
                 seats_p95=[float(s.at[p, "seats_p95"]) for p in m["party"]])
    return avg, sim, m


def baselines(e: Election, avg: poll_model.PollOfPolls, parties, lead_days: int = 1, days: int = 7) -> pd.DataFrame:
    """The naive calls for `parties`: ``average_call`` (the plain average of the seats published in the
    `days` days up to the as-of date shows a seat: 1 or 0) and ``share_with_seats`` (the share of those polls
    giving the list seats)."""
    e = Election.of(e)
    as_of = e.as_of(lead_days)
    week = poll_model.final_week(e.polls, as_of, days=days, merges=e.merges)
    rows = poll_model.final_week_rows(e.polls, as_of, days=days)
    line = backtest.line_seats(e.threshold, e.seats)
    avg_call = backtest.average_call(week.set_index("party")["seats"], parties, line=line)
    share = backtest.share_of_polls_with_seats(rows, parties)
    return pd.DataFrame({"party": list(parties), "average_call": avg_call.to_numpy(),
                         "share_with_seats": share.to_numpy()})


def score(table: pd.DataFrame) -> dict:
    """Scores of one forecast table (p_pass, passed, seats_p05, seats_p95, seats; optional baseline columns):
    lists, brier, log_score, coverage (share of official seat counts inside the 90% range), width (mean
    width of the range, in seats: p95 - p05), and the baselines' brier / log scores."""
    out = {"lists": len(table), "brier": backtest.brier(table["p_pass"], table["passed"]),
           "log_score": backtest.log_score(table["p_pass"], table["passed"]),
           "coverage": backtest.interval_coverage(table["seats_p05"], table["seats_p95"], table["seats"]),
           "width": backtest.mean_width(table["seats_p05"], table["seats_p95"])}
    for col in ("average_call", "share_with_seats"):
        if col in table:
            out[f"{col}_brier"] = backtest.brier(table[col], table["passed"])
            out[f"{col}_log_score"] = backtest.log_score(table[col], table["passed"])
    return out


def track_record(elections: list[Election], model: ErrorModel, *, lead_days=LEAD_DAYS, leave_out: bool = True,
                 draws: int = 20_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every election at every lead time its polls allow, with the model fitted without it when
    `leave_out` (and it was a fitting election). Returns (per-list rows, per election and lead time scores)."""
    rows, scores = [], []
    elections = [Election.of(e) for e in elections]
    for e in elections:
        others = [x for x in elections if x is not e]
        m_e = fit(others, model) if leave_out and e.fit else model
        for lead in lead_days:
            if e.polls["date"].min() > e.as_of(lead):
                continue  # the polls file does not reach back this far
            try:
                avg, _, table = forecast(e, m_e, lead, draws=draws, seed=seed)
                base = baselines(e, avg, table["party"], lead)
            except DataError:
                continue  # no complete poll in the window, or none in the final week for the baselines
            table = table.merge(base, on="party")
            rows.append(table.assign(election=e.date, lead_days=lead, held_out=leave_out and e.fit))
            scores.append({"election": e.date, "lead_days": lead, "held_out": leave_out and e.fit,
                           "fitted_on": " ".join(m_e.fitted_on),
                           "scale": m_e.scale, "power": m_e.power, "dof": m_e.dof, "polls": avg.n_polls,
                           "ess": avg.effective_sample_size, **score(table)})
    return (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()), pd.DataFrame(scores)


def report(model: ErrorModel, table: pd.DataFrame, rows: pd.DataFrame) -> str:
    """The fit and the track record as a Markdown page (``docs/model-fit.md``)."""
    def fmt(x, digits=3):
        return f"{x:.{digits}f}" if isinstance(x, float) else str(x)

    lines = ["# The historical error model: fit and track record", "",
             "Written by `ballotbook calibrate --write` from `data/model/elections.csv`; a test recomputes it, "
             "so this page and `src/helpers/models/fitted.json` always match the shipped data and code. The "
             "method is in `src/helpers/models/calibration.py` and `uncertainty.py`.", "",
             "## The fit", "",
             f"- Fitted on the {', '.join(model.fitted_on)} elections ({model.fit.get('lists', 0)} polled lists "
             "on the eve of each election against the official result).",
             f"- Election-day error: a list's share is multiplied by exp(sd x t), t a Student-t with "
             f"{model.dof:g} degrees of freedom, sd = {model.scale:.3f} x (share / 5%)^-{model.power:g} "
             "(log scale), on top of the sampling error of the pooled polls.",
             "- In points of share (sd x share): " + ", ".join(
                 f"{p:g}%: {p * float(model.sd([p])[0]):.2f}" for p in (1.0, 2.0, 3.25, 5.0, 10.0, 25.0)) + ".",
             f"- Lists no poll lists won {model.others:.2f}% of the valid votes on average (the residual "
             "'others').",
             f"- Lists every poll put below the line without a percentage won {model.below_fraction:.2f} of the "
             f"threshold on average ({model.fit.get('below_lists', 0)} lists).", "",
             "## Track record", "",
             "Each fitting election is forecast by the model fitted on the others (leave one election out); "
             "20,000 draws, seed 0. Brier and log scores are of the threshold calls (lower is better); "
             "coverage is the share of official seat counts inside the 90% ranges, width their mean width in "
             "seats. Baselines: the plain final-week average of published seats (a seat or more at the "
             "threshold's seats) and the share of final-week polls giving the list seats.", "",
             "| election | days before | lists | Brier | log score | 90% coverage | width | Brier: average | "
             "Brier: share of polls | log: average | log: share of polls |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        lines.append(f"| {r['election']} | {r['lead_days']} | {r['lists']} | {fmt(r['brier'])} | "
                     f"{fmt(r['log_score'])} | {r['coverage']:.0%} | {fmt(r['width'], 1)} | "
                     f"{fmt(r['average_call_brier'])} | {fmt(r['share_with_seats_brier'])} | "
                     f"{fmt(r['average_call_log_score'])} | {fmt(r['share_with_seats_log_score'])} |")
    lines += ["", "All lists pooled, per lead time:", "",
              "| days before | lists | Brier | log score | 90% coverage | width | Brier: average | "
              "Brier: share of polls |", "|---|---|---|---|---|---|---|---|"]
    for lead, part in rows.groupby("lead_days"):
        s = score(part)
        lines.append(f"| {lead} | {s['lists']} | {fmt(s['brier'])} | {fmt(s['log_score'])} | "
                     f"{s['coverage']:.0%} | {fmt(s['width'], 1)} | {fmt(s['average_call_brier'])} | "
                     f"{fmt(s['share_with_seats_brier'])} |")
    return "\n".join(lines) + "\n"
