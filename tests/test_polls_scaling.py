"""The polls model in whole-column form equals the plain per-poll computation it replaced, and its work does not
grow with the number of polls.

The reference functions below are the per-poll loops the model used before (a groupby loop over polls for the
shares, a polls x polls kernel for trends and house effects, a per-poll loop for censored zeros and house
effects): slow but plain. The model must give the same numbers on the shipped polls files and on random small
poll tables. Speed itself is measured in benchmarks/bench_scale_polls.py, not here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.core.errors import DataError
from helpers.data.polls import load_polls, merges_of
from helpers.models import polls as pm
from helpers.models.uncertainty import FITTED

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-9
EPOCH = pd.Timestamp("1970-01-01")


# ---- the reference: per-poll loops ---------------------------------------------------------------------------

def ref_poll_shares(polls, threshold, house_seats=pm.HOUSE_SEATS, others=0.0):
    out = []
    for pid, poll in polls.groupby("poll_id", sort=False):
        poll = poll.copy()
        if poll["kind"].iloc[0] == "share":
            poll["share_pct"] = poll["share"].astype(float)
            poll["published"] = poll["share"].astype(float)
            poll["source"] = "share"
        else:
            seats = poll["seats"].to_numpy(dtype=float)
            below = seats == 0
            given = poll["share_if_below"].to_numpy(dtype=float)
            below_share = np.where(np.isnan(given), np.nan if threshold > 0 else 0.0, given)
            below_total = float(np.nansum(below_share[below]))
            if below_total >= 100:
                raise DataError(f"poll '{pid}' leaves no share")
            denominator = max(float(seats.sum()), house_seats) + 0.5 * int((~below).sum())
            quota = max(100.0 - below_total - others, 0.0) / denominator
            won = (np.maximum(seats * quota, threshold) + np.maximum((seats + 1) * quota, threshold)) / 2
            poll["share_pct"] = np.where(below, below_share, won)
            poll["published"] = seats.astype(float)
            poll["source"] = np.where(below, np.where(np.isnan(given), pm.CENSORED, "below (published %)"), "seats")
        out.append(poll)
    frame = pd.concat(out, ignore_index=True) if out else polls.iloc[0:0].assign(share_pct=[], published=[],
                                                                                 source=[])
    return pd.DataFrame({
        "poll_id": frame["poll_id"], "date": frame["date"], "pollster": frame["pollster"],
        "sample_size": frame["sample_size"], "party": frame["party"],
        "share": frame["share_pct"].astype(float), "published": frame["published"].astype(float),
        "source": frame["source"].astype(str),
    })


def ref_kernel_average(t, values, n, at, half_life, backward):
    diff = at[:, None] - t[None, :]
    w = n[None, :] * 0.5 ** (np.abs(diff) / half_life)
    if backward:
        w = np.where(diff >= 0, w, 0.0)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w * values[None, :]).sum(axis=1) / total
        var = (w * (values[None, :] - mean[:, None]) ** 2).sum(axis=1) / total
    return mean, np.sqrt(np.maximum(var, 0.0))


def ref_poll_points(polls, *, unit="share", threshold=0.0, house_seats=pm.HOUSE_SEATS):
    when = polls["date"].max()
    use = polls[(polls["date"] <= when) & ~polls["partial"] & ~polls["flag_merged"]]
    if unit == "seats":
        use = use[use["kind"] == "seats"]
        out = use.assign(value=use["seats"].astype(float))
    else:
        out = ref_poll_shares(use, threshold, house_seats).rename(columns={"share": "value"})
        out = out[out["value"].notna()]
    return out[["date", "pollster", "party", "value", "sample_size"]].reset_index(drop=True)


def ref_trend(polls, *, unit="share", threshold=0.0, half_life_days=pm.DEFAULT_HALF_LIFE_DAYS,
              house_seats=pm.HOUSE_SEATS):
    per = ref_poll_points(polls, unit=unit, threshold=threshold, house_seats=house_seats)
    if per.empty:
        return pd.DataFrame(columns=["date", "party", "value", "low", "high", "polls"])
    days = sorted(per["date"].unique())
    at = np.array([(pd.Timestamp(d) - EPOCH).days for d in days], dtype=float)
    out = []
    for party, rows in per.groupby("party", sort=False):
        t = (rows["date"] - EPOCH).dt.days.to_numpy(dtype=float)
        n = rows["sample_size"].fillna(pm.DEFAULT_SAMPLE_SIZE).to_numpy(dtype=float)
        mean, spread = ref_kernel_average(t, rows["value"].to_numpy(dtype=float), n, at, half_life_days, True)
        count = (t[None, :] <= at[:, None]).sum(axis=1)
        ok = count > 0
        out.append(pd.DataFrame({"date": np.array(days)[ok], "party": party, "value": mean[ok],
                                 "low": np.maximum(mean - 1.645 * spread, 0.0)[ok],
                                 "high": (mean + 1.645 * spread)[ok], "polls": count[ok]}))
    return pd.concat(out, ignore_index=True)


def ref_house_effects(polls, *, threshold, half_life_days=pm.DEFAULT_HALF_LIFE_DAYS, house_seats=pm.HOUSE_SEATS):
    use = polls[~polls["partial"] & ~polls["flag_merged"]]
    per = ref_poll_shares(use, threshold, house_seats)
    per = per[per["share"].notna()]
    rows = []
    for party, g in per.groupby("party", sort=False):
        t = (g["date"] - EPOCH).dt.days.to_numpy(dtype=float)
        n = g["sample_size"].fillna(pm.DEFAULT_SAMPLE_SIZE).to_numpy(dtype=float)
        v = g["share"].to_numpy(dtype=float)
        centre, _ = ref_kernel_average(t, v, n, t, half_life_days, False)
        rows.append(pd.DataFrame({"pollster": g["pollster"].to_numpy(), "party": party, "residual": v - centre}))
    if not rows:
        return pd.DataFrame(columns=["pollster", "party", "house_effect", "polls"])
    res = pd.concat(rows, ignore_index=True)
    out = res.groupby(["pollster", "party"], sort=False)["residual"].agg(["mean", "size"]).reset_index()
    return out.rename(columns={"mean": "house_effect", "size": "polls"})


def ref_fill_censored(values, line, below_fraction):
    out = values.copy()
    censored = out["share"].isna()
    for party in out.loc[censored, "party"].unique():
        rows = out["party"] == party
        if not (rows & ~censored).any():
            out.loc[rows & censored, "share"] = below_fraction * line
            continue
        w = out.loc[rows, "weight"].to_numpy(dtype=float)
        n = out.loc[rows, "n"].to_numpy(dtype=float)
        known = ~out.loc[rows, "share"].isna().to_numpy()
        x = out.loc[rows, "share"].to_numpy(dtype=float)
        mu = float(np.average(x[known], weights=w[known]))
        for _ in range(50):
            filled = x.copy()
            for i in np.flatnonzero(~known):  # one censored poll at a time
                sd = max(np.sqrt(max(mu * (100 - mu), 1.0) / n[i]), pm.SEAT_ROUNDING_POINTS)
                filled[i] = pm._censored_mean(mu, sd, line)
            new = float(np.average(filled, weights=w))
            if abs(new - mu) < 1e-9:
                break
            mu = new
        out.loc[rows, "share"] = filled
    return out


def ref_poll_of_polls(polls, *, threshold, house_seats=pm.HOUSE_SEATS, merges=None, house=None,
                      half_life_days=pm.DEFAULT_HALF_LIFE_DAYS):
    """The poll of polls computed poll by poll; the pooling, merging and scaling steps (which never looped over
    polls) are the model's own."""
    when = polls["date"].max()
    usable, _ = pm.pool(polls, when)
    if usable.empty:
        raise DataError("no usable poll")
    residual = FITTED.others if bool((usable["kind"] == "seats").all()) else 0.0
    per_poll = ref_poll_shares(usable, threshold, house_seats, others=residual)
    if house is not None and len(house):
        effect = house.set_index(["pollster", "party"])["house_effect"]
        adj = [effect.get((p, k), 0.0) for p, k in zip(per_poll["pollster"], per_poll["party"], strict=True)]
        per_poll["share"] = np.maximum(per_poll["share"].to_numpy() - np.asarray(adj, dtype=float), 0.0)
    info = per_poll.drop_duplicates("poll_id")[["poll_id", "date", "sample_size"]].copy()
    info["sample_size"] = info["sample_size"].fillna(pm.DEFAULT_SAMPLE_SIZE).astype(int)
    info["recency"] = pm.recency_weights(info["date"], when, half_life_days)
    info["weight"] = info["recency"] * info["sample_size"]
    values = per_poll.drop(columns="sample_size").merge(
        info[["poll_id", "weight", "sample_size"]].rename(columns={"sample_size": "n"}), on="poll_id")
    values = ref_fill_censored(values, threshold, FITTED.below_fraction)
    merges = {k: v for k, v in (merges or {}).items() if k in set(values["party"])}
    values, _ = pm._split_merges(values, merges)
    average = pm._weighted_average(values)
    if not float(average.sum()) > 0:
        raise DataError("no share")
    won = values.assign(won=values["source"] == "seats").groupby("party")["won"].all()
    shares = pm._scale_keeping_the_line(average.astype(float), 100.0 - residual, set(won[won].index), threshold)
    ess = pm.pooled_sample_size(info["sample_size"] * info["recency"], info["weight"])
    return shares.sort_index(), ess, values


# ---- comparing --------------------------------------------------------------------------------------------

def assert_frames_equal(new: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(new.columns) == list(ref.columns)
    assert len(new) == len(ref)
    for col in ref.columns:
        a, b = new[col].reset_index(drop=True), ref[col].reset_index(drop=True)
        if pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), col
            assert np.allclose(x, y, rtol=0, atol=TOL, equal_nan=True), (col, np.nanmax(np.abs(x - y)))
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), col


def same_outcome(new_call, ref_call):
    """Both raise a DataError, or both return; the two results (or None, None)."""
    try:
        ref = ref_call()
    except DataError:
        with pytest.raises(DataError):
            new_call()
        return None, None
    return new_call(), ref


def check_all(polls: pd.DataFrame, threshold: float, house_seats: int, merges=None) -> None:
    for others in (0.0, 1.7):
        new, ref = same_outcome(lambda o=others: pm.poll_shares(polls, threshold, house_seats, others=o),
                                lambda o=others: ref_poll_shares(polls, threshold, house_seats, others=o))
        if ref is not None:
            assert_frames_equal(new, ref)
    units = ["share"] + (["seats"] if (polls["kind"] == "seats").any() else [])
    for unit in units:
        new, ref = same_outcome(lambda u=unit: pm.trend(polls, unit=u, threshold=threshold, house_seats=house_seats),
                                lambda u=unit: ref_trend(polls, unit=u, threshold=threshold, house_seats=house_seats))
        if ref is not None:
            assert_frames_equal(new, ref)
    new_house, ref_house = same_outcome(
        lambda: pm.house_effects(polls, threshold=threshold, house_seats=house_seats),
        lambda: ref_house_effects(polls, threshold=threshold, house_seats=house_seats))
    if ref_house is None:
        return
    assert_frames_equal(new_house, ref_house)
    for house in (None, ref_house):
        new, ref = same_outcome(
            lambda h=house: pm.poll_of_polls(polls, threshold=threshold, house_seats=house_seats, merges=merges,
                                             house=h),
            lambda h=house: ref_poll_of_polls(polls, threshold=threshold, house_seats=house_seats, merges=merges,
                                              house=h))
        if ref is None:
            continue
        shares, ess, values = ref
        assert sorted(new.shares.index) == list(shares.index)
        assert np.allclose(new.shares.sort_index().to_numpy(), shares.to_numpy(), rtol=0, atol=TOL)
        assert new.effective_sample_size == pytest.approx(ess, rel=1e-12)
        assert_frames_equal(new.by_poll[values.columns], values)


SHIPPED = sorted((ROOT / "data" / "polls").glob("*.csv")) + [ROOT / "data" / "tweede-kamer" / "polls" / "2023.csv"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_polls_equal_the_per_poll_reference(path):
    house_seats = 150 if "tweede-kamer" in str(path) else 120
    polls = load_polls(str(path), house_seats=house_seats)
    for threshold in (3.25, 100 / 150, 0.0):
        check_all(polls, threshold, house_seats, merges=merges_of(None, polls["party"].unique()))


# ---- random small poll tables -------------------------------------------------------------------------------

PARTIES = ["a", "b", "c", "d", "e"]


@st.composite
def poll_tables(draw):
    rows = []
    n_polls = draw(st.integers(1, 7))
    merged = draw(st.booleans())
    for i in range(n_polls):
        kind = draw(st.sampled_from(["seats", "share"]))
        listed = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=5, unique=True))
        if merged and draw(st.booleans()):
            listed = [p for p in listed if p not in ("a", "b")] + ["a+b"]
        day = draw(st.integers(0, 20))
        size = draw(st.one_of(st.none(), st.integers(300, 1200)))
        pollster = draw(st.sampled_from(["P1", "P2", "P3", "unnamed"]))
        for party in listed:
            seats = draw(st.one_of(st.just(0), st.integers(0, 40))) if kind == "seats" else None
            below = draw(st.one_of(st.none(), st.floats(0.1, 4.0))) if seats == 0 else None
            rows.append({
                "poll_id": f"p{i}", "date": pd.Timestamp("2022-10-01") + pd.Timedelta(days=day),
                "pollster": pollster, "media": draw(st.sampled_from(["", "M1", "M2"])),
                "poll_type": "pre_election_poll", "question": "", "sample_size": size, "party": party,
                "seats": seats, "share": None if kind == "seats" else draw(st.floats(0.0, 45.0)),
                "share_if_below": below, "partial": False, "kind": kind, "flag_merged": party == "a+b",
            })
    frame = pd.DataFrame(rows)
    frame["sample_size"] = frame["sample_size"].astype("Int64")
    frame["seats"] = frame["seats"].astype("Int64")
    frame["share"] = frame["share"].astype(float)
    frame["share_if_below"] = frame["share_if_below"].astype(float)
    frame["date"] = frame["date"].astype("datetime64[s]")
    return frame


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(poll_tables(), st.sampled_from([3.25, 0.0, 100 / 150, 5.0]))
def test_random_polls_equal_the_per_poll_reference(polls, threshold):
    check_all(polls, threshold, 120, merges={"a+b": ["a", "b"]})


# ---- the work does not grow with the polls -------------------------------------------------------------------

def copies(polls: pd.DataFrame, k: int) -> pd.DataFrame:
    """`k` copies of every poll, each copy with its own poll ids and pollsters (same dates and figures)."""
    parts = [polls.assign(poll_id=polls["poll_id"] + f"-{c}", pollster=polls["pollster"] + f" {c}")
             for c in range(k)]
    out = pd.concat(parts, ignore_index=True)
    out.attrs = dict(polls.attrs)
    return out


def python_calls(fn) -> int:
    """The Python function calls `fn()` makes, in any module (the model's own, pandas', NumPy's): a loop over
    polls in Python, or a pandas call per poll, adds calls for every poll."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    saved = sys.getprofile()
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(saved)
    return calls


def test_work_does_not_grow_with_the_polls():
    """Forty times the polls make (almost) no more Python calls: the per-poll work is in NumPy and pandas
    columns. The small slack covers pandas taking another path for a larger frame and the censored-zero
    estimate settling in a different number of rounds; a per-poll loop would add thousands of calls."""
    polls = load_polls(str(ROOT / "data" / "polls" / "knesset-2022.csv"))
    small, big = copies(polls, 1), copies(polls, 40)
    house = {k: pm.house_effects(t, threshold=3.25) for k, t in (("small", small), ("big", big))}
    steps = {
        "poll_shares": lambda t, h: pm.poll_shares(t, 3.25),
        "poll_points": lambda t, h: pm.poll_points(t, unit="share", threshold=3.25),
        "trend share": lambda t, h: pm.trend(t, unit="share", threshold=3.25),
        "trend seats": lambda t, h: pm.trend(t, unit="seats", threshold=3.25),
        "house_effects": lambda t, h: pm.house_effects(t, threshold=3.25),
        "poll_of_polls": lambda t, h: pm.poll_of_polls(t, threshold=3.25, house=h),
    }
    for name, step in steps.items():
        few = python_calls(lambda s=step: s(small, house["small"]))
        many = python_calls(lambda s=step: s(big, house["big"]))
        assert many <= 1.05 * few + 50, (name, few, many)
