"""The track record's memoized work (helpers.models.calibration): ``Election.average`` remembers each poll of
polls per (lead time, others, below_fraction) and ``Election.outcome_of`` reads a table built once. The
numbers must be exactly those of the plain computation, and the leave-one-out fit must not pool the same
polls again."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from conftest import ROOT
from helpers.data.history import load_history
from helpers.models import calibration, uncertainty
from helpers.models import polls as poll_model

#: Few draws: the poll of polls and the matching do not depend on them, and the simulations stay seeded.
DRAWS = 500


@pytest.fixture(scope="module")
def past():
    return load_history(root=ROOT)


def fresh(past):
    """New Election objects (empty memos) over the same loaded data."""
    return [calibration.Election(**{f.name: getattr(e, f.name) for f in dataclasses.fields(e)}) for e in past]


def plain_average(self, lead_days=1, model=None):
    """Election.average as it was before the memo: the poll of polls computed on every call."""
    kw = {} if model is None else {"others": model.others, "below_fraction": model.below_fraction}
    return poll_model.poll_of_polls(self.polls, self.as_of(lead_days), threshold=self.threshold,
                                    merges=self.merges, **kw)


def plain_outcome_of(self, party):
    """Election.outcome_of as it was before the indexed table: the outcome indexed on every call."""
    o = self.outcome.set_index("list")
    members = self.official_merges.get(party) or self.merges.get(party) or [party]
    if not all(m in o.index for m in members):
        return None
    rows = o.loc[members]
    seats = rows["official_seats"] if "official_seats" in rows else rows["engine_seats"]
    if len(members) > 1:
        return float(rows["share"].sum()), bool(rows["passed"].all()), int(seats.sum())
    return float(rows["share"].iloc[0]), bool(rows["passed"].iloc[0]), int(seats.iloc[0])


def test_memoized_track_record_is_the_plain_computation(past, monkeypatch):
    """track_record and fit with the memos give exactly (bit for bit) what they give with every poll of
    polls, every outcome and every matching recomputed."""
    rows, table = calibration.track_record(fresh(past), uncertainty.FITTED, draws=DRAWS)
    fitted = calibration.fit(fresh(past), uncertainty.FITTED)
    with monkeypatch.context() as m:
        m.setattr(calibration.Election, "average", plain_average)
        m.setattr(calibration.Election, "outcome_of", plain_outcome_of)
        m.setattr(calibration.Election, "matched", calibration.Election._match)
        want_rows, want_table = calibration.track_record(fresh(past), uncertainty.FITTED, draws=DRAWS)
        want_fit = calibration.fit(fresh(past), uncertainty.FITTED)
    assert len(want_rows) and len(want_table)
    pd.testing.assert_frame_equal(rows, want_rows, check_exact=True)
    pd.testing.assert_frame_equal(table, want_table, check_exact=True)
    assert rows.equals(want_rows) and table.equals(want_table)
    assert fitted == want_fit and fitted.fit == want_fit.fit


def test_outcome_of_every_list_is_the_plain_lookup(past):
    """outcome_of of every official list, every merged poll column and an unknown list agrees exactly with
    the lookup on the freshly indexed outcome."""
    for e in fresh(past):
        names = (list(e.outcome["list"]) + list(e.merges) + list(e.official_merges)
                 + list(e.polls["party"].unique()) + ["no such list"])
        for name in names:
            assert e.outcome_of(name) == plain_outcome_of(e, name), (e.date, name)


def test_average_is_remembered_per_lead_and_model(past):
    """The same (lead, others, below_fraction) gives the same poll of polls object; another lead time or
    another `others` gives another, equal to the plain computation."""
    e = fresh(past)[-1]
    model = uncertainty.FITTED
    first = e.average(1, model)
    assert e.average(1, model) is first
    assert e.average(1, dataclasses.replace(model, scale=model.scale * 2)) is first  # scale is not read
    other = dataclasses.replace(model, others=model.others + 1.0)
    for lead, m in ((7, model), (1, other), (1, None)):
        got = e.average(lead, m)
        want = plain_average(e, lead, m)
        assert got is not first
        pd.testing.assert_series_equal(got.shares, want.shares, check_exact=True)
        assert got.effective_sample_size == want.effective_sample_size


def test_track_record_pools_each_election_once_per_key(past, monkeypatch):
    """During the leave-one-out track record over the shipped elections, poll_of_polls runs once per distinct
    (election's polls, as-of date, others, below_fraction): a fold never pools what another fold pooled."""
    calls = []
    real = poll_model.poll_of_polls

    def counting(polls, as_of=None, **kw):
        calls.append((id(polls), pd.Timestamp(as_of), kw.get("others"), kw.get("below_fraction")))
        return real(polls, as_of, **kw)

    elections = fresh(past)
    monkeypatch.setattr(poll_model, "poll_of_polls", counting)
    rows, _ = calibration.track_record(elections, uncertainty.FITTED, draws=DRAWS)
    assert len(rows)
    assert sum(e.fit for e in elections) >= 3  # the folds overlap, so recomputation would show
    assert len(calls) <= len(set(calls)), f"{len(calls)} poll_of_polls calls for {len(set(calls))} distinct keys"


def test_track_record_chooses_each_elections_polls_once_per_lead(past, monkeypatch):
    """The folds share the choice of polls (helpers.models.polls.pool) of an election at a lead time: pool runs
    once per distinct (election's polls, as-of date), however many fold models pool them."""
    calls = []
    real = poll_model.pool

    def counting(polls, as_of=None, **kw):
        calls.append((id(polls), pd.Timestamp(as_of)))
        return real(polls, as_of, **kw)

    monkeypatch.setattr(poll_model, "pool", counting)
    rows, _ = calibration.track_record(fresh(past), uncertainty.FITTED, draws=DRAWS)
    assert len(rows) and len(calls)
    assert len(calls) == len(set(calls)), f"{len(calls)} pool calls for {len(set(calls))} distinct keys"


def test_remembered_pool_is_the_pool_of_that_lead_time(past):
    """Election.pooled keys on the lead time: each lead's remembered choice is the plain pool at that date, and
    the polls of polls built from it equal those built without it; their lists of polls left out are their
    own (changing one poll of polls' lists changes no other)."""
    for e in fresh(past):
        for lead in calibration.LEAD_DAYS:
            if e.polls["date"].min() > e.as_of(lead):
                continue
            got, left = e.pooled(lead)
            want, want_left = poll_model.pool(e.polls, e.as_of(lead))
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            assert left == want_left
            assert e.pooled(lead) is e.pooled(lead)
        leads = [lead for lead in calibration.LEAD_DAYS if e.polls["date"].min() <= e.as_of(lead)]
        if len(leads) > 1:
            assert e.pooled(leads[0])[0]["date"].max() >= e.pooled(leads[-1])[0]["date"].max()
        model = uncertainty.FITTED
        for m in (model, dataclasses.replace(model, others=model.others + 0.5, below_fraction=0.2)):
            got = e.average(1, m)
            want = plain_average(e, 1, m)
            pd.testing.assert_series_equal(got.shares, want.shares, check_exact=True)
            pd.testing.assert_frame_equal(got.by_poll, want.by_poll, check_exact=True)
            pd.testing.assert_frame_equal(got.weights, want.weights, check_exact=True)
            assert got.left_out == want.left_out and got.excluded == want.excluded
            assert got.effective_sample_size == want.effective_sample_size
        a, b = e.average(1, model), e.average(1, dataclasses.replace(model, others=model.others + 0.5))
        a.left_out["older"].append("changed")
        assert "changed" not in b.left_out["older"] and "changed" not in e.pooled(1)[1]["older"]
        a.left_out["older"].pop()


def test_matching_is_remembered_per_poll_of_polls_object(past):
    """matched returns the remembered table for the same poll of polls object only: an equal poll of polls
    built again, or another one, is matched afresh, and every answer equals the plain matching."""
    import copy

    e = fresh(past)[-1]
    model = uncertainty.FITTED
    avg = e.average(1, model)
    first = e.matched(avg)
    assert e.matched(avg) is first
    twin = copy.deepcopy(avg)
    other = e.average(1, dataclasses.replace(model, others=model.others + 1.0))
    for a in (avg, twin, other):
        got, want = e.matched(a), e._match(a)
        pd.testing.assert_frame_equal(got[0], want[0], check_exact=True)
        assert got[1] == want[1]
    assert e.matched(twin) is not first and e.matched(other) is not first
    shifted = copy.deepcopy(avg)
    shifted.shares = shifted.shares.rename(index={shifted.shares.index[0]: "no such list"})
    assert len(e.matched(shifted)[0]) == len(first[0]) - 1
