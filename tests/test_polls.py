"""Polls: the loader (both forms, flags, errors naming row and column), the party registry, and the polls
model (seats to shares, the poll of polls with weights worked out by hand, house effects, the backtest
arithmetic)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.core.errors import DataError
from helpers.data.polls import bloc_at, find_party, load_parties, load_polls, merges_of
from helpers.models import backtest
from helpers.models import polls as model
from helpers.views import polls as poll_views

ROOT = Path(__file__).resolve().parents[1]
POLLS = ROOT / "data" / "polls"


def write(tmp_path: Path, text: str, name: str = "polls.csv") -> Path:
    p = tmp_path / name
    p.write_text(text.lstrip("\n"), encoding="utf-8")
    return p


def polls_file(tmp_path: Path, header: str, rows: list[str]) -> Path:
    return write(tmp_path, header + "\n" + "\n".join(rows) + "\n")


SEATS_POLL = """
poll_id,date,pollster,media,sample_size,party,seats,share_if_below
p1,2022-10-20,Alpha,TV1,500,a,60,
p1,2022-10-20,Alpha,TV1,500,b,56,
p1,2022-10-20,Alpha,TV1,500,c,4,
p1,2022-10-20,Alpha,TV1,500,d,0,2.0
p1,2022-10-20,Alpha,TV1,500,e,0,
"""


# ------------------------------------------------------------------------------------------------ loader


def test_seats_form_loads_with_fixed_dtypes(tmp_path):
    df = load_polls(write(tmp_path, SEATS_POLL))
    assert len(df) == 5 and df.attrs["format"] == "seats"
    assert str(df["date"].dtype).startswith("datetime64")
    assert str(df["seats"].dtype) == "Int64" and str(df["sample_size"].dtype) == "Int64"
    assert df["seats"].tolist() == [60, 56, 4, 0, 0]
    assert df["share"].isna().all()
    assert df["share_if_below"].iloc[3] == 2.0 and math.isnan(df["share_if_below"].iloc[4])
    assert not df["flag_seats_total"].any()          # sums to 120
    assert not df["flag_sample_size_missing"].any()
    assert df["row"].tolist() == [2, 3, 4, 5, 6]


def test_share_form_without_poll_id(tmp_path):
    text = """
date,pollster,sample_size,party,share
2007-05-24,Dialog,,Ami Ayalon,34
2007-05-24,Dialog,,Ehud Barak,30
2007-05-25,Dahaf,550,Ami Ayalon,35
2007-05-25,Dahaf,550,Ehud Barak,31
"""
    df = load_polls(write(tmp_path, text))
    assert df.attrs["format"] == "share"
    assert df["poll_id"].nunique() == 2
    assert df["seats"].isna().all()
    assert df["flag_sample_size_missing"].tolist() == [True, True, False, False]


def test_flags_kept_not_rejected(tmp_path):
    text = """
poll_id,date,pollster,sample_size,party,seats
x,2009-01-01,P,,jewish_home+national_union,7
x,2009-01-01,P,,likud,30
x,2009-01-01,P,,kadima,80
"""
    df = load_polls(write(tmp_path, text))
    assert df["flag_seats_total"].all()             # 117 seats
    assert df["poll_seats"].iloc[0] == 117
    assert df["flag_merged"].tolist() == [True, False, False]
    assert df["flag_sample_size_missing"].all()


def test_registry_marks_merged_columns_without_a_plus(tmp_path):
    path = polls_file(tmp_path, "poll_id,date,pollster,sample_size,party,seats",
                      ["x,2009-01-01,P,,arab_joint,10", "x,2009-01-01,P,,likud,110"])
    df = load_polls(path, parties=load_parties())
    assert df["flag_merged"].tolist() == [True, False]


def test_partial_dates_become_period_starts(tmp_path):
    text = """
poll_id,date,date_precision,pollster,sample_size,party,share,partial
q,2008,approx,(not named),,Amir Peretz,4,yes
r,2007-05,,X,,Amir Peretz,20,
r,2007-05,,X,,Ehud Barak,40,
"""
    df = load_polls(write(tmp_path, text))
    assert df["date"].iloc[0] == pd.Timestamp("2008-01-01")
    assert df["date_precision"].tolist() == ["year", "month", "month"]
    assert df["partial"].tolist() == [True, False, False]


@pytest.mark.parametrize("cell, column, row, expected", [
    ("seats:-3", "seats", 3, "'-3' is not a whole number of seats >= 0"),
    # half seats (2.5) are published seats since issue 14 (tests/test_polls_final_week.py); 3.3 is not
    ("seats:3.3", "seats", 3, "'3.3' is not a whole number of seats or a half seat"),
    ("date:2022-02-30", "date", 3, "'2022-02-30' is not a date"),
    ("sample_size:0", "sample_size", 3, "'0' is not a whole number of respondents >= 1"),
    ("sample_size:many", "sample_size", 3, "'many' is not a whole number"),
])
def test_bad_cells_name_row_and_column(tmp_path, cell, column, row, expected):
    col, value = cell.split(":")
    lines = SEATS_POLL.strip().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index(col)] = value
    lines[2] = ",".join(cells)
    if col == "date":  # keep the poll consistent so the bad date is what fails
        lines = [lines[0], lines[2]]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        load_polls(path)
    msg = str(err.value)
    assert f"row {row if col != 'date' else 2}, column '{column}'" in msg, msg
    assert expected in msg, msg


def test_share_out_of_range(tmp_path):
    text = "date,pollster,sample_size,party,share\n2022-01-01,P,,a,101\n"
    with pytest.raises(DataError, match=r"row 2, column 'share': '101' is not a percentage"):
        load_polls(write(tmp_path, text))


def test_duplicate_party_in_one_poll(tmp_path):
    text = SEATS_POLL.rstrip("\n") + "\np1,2022-10-20,Alpha,TV1,500,A,1,\n"
    with pytest.raises(DataError) as err:
        load_polls(write(tmp_path, text))
    assert "row 7, column 'party'" in str(err.value) and "appears twice in poll 'p1'" in str(err.value)


@pytest.mark.parametrize("shares, ok", [((60, 46), False), ((60, 45), True), ((30, 19), False),
                                        ((30, 20), True)])
def test_share_sum_limits(tmp_path, shares, ok):
    text = "date,pollster,sample_size,party,share\n" + "".join(
        f"2022-01-01,P,,{k},{s}\n" for k, s in zip("ab", shares, strict=True))
    path = write(tmp_path, text)
    if ok:
        assert len(load_polls(path)) == 2
    else:
        with pytest.raises(DataError, match=r"row 2, column 'share': the shares of poll .* sum to"):
            load_polls(path)


def test_partial_poll_may_sum_low(tmp_path):
    text = "date,pollster,sample_size,party,share,partial\n2008-05-01,P,,Amir Peretz,4,yes\n"
    assert load_polls(write(tmp_path, text))["partial"].all()


def test_poll_mixing_seats_and_shares(tmp_path):
    path = polls_file(tmp_path, "poll_id,date,pollster,sample_size,party,seats,share",
                      ["x,2022-01-01,P,,a,60,", "x,2022-01-01,P,,b,,40"])
    with pytest.raises(DataError, match=r"row 3, column 'seats'.*seats for every party or shares"):
        load_polls(path)


def test_poll_rows_must_agree(tmp_path):
    text = "poll_id,date,pollster,sample_size,party,seats\nx,2022-01-01,P,600,a,60\nx,2022-01-02,P,600,b,60\n"
    with pytest.raises(DataError, match=r"row 3, column 'date'.*same poll 'x'"):
        load_polls(write(tmp_path, text))


def test_needs_share_or_seats(tmp_path):
    with pytest.raises(DataError, match="needs a 'share' column"):
        load_polls(write(tmp_path, "date,pollster,sample_size,party\n2022-01-01,P,,a\n"))


def test_missing_required_column(tmp_path):
    with pytest.raises(DataError, match="missing column 'sample_size'"):
        load_polls(write(tmp_path, "date,pollster,party,seats\n2022-01-01,P,a,1\n"))


def test_shipped_polls_files():
    """The kit's sample polls load, with the counts and flags the reference data documents."""
    p22 = load_polls(POLLS / "knesset-2022.csv")
    assert p22["poll_id"].nunique() == 49 and len(p22) == 637
    assert not p22["flag_seats_total"].any()                     # all 49 sum to 120
    assert p22["date"].min() == pd.Timestamp("2022-09-16") and p22["date"].max() == pd.Timestamp("2022-10-28")
    assert p22["share_if_below"].notna().sum() == 98               # Balad and Jewish Home in every poll
    p09 = load_polls(POLLS / "knesset-2009.csv", parties=load_parties())
    per_poll = p09.drop_duplicates("poll_id")
    assert len(per_poll) == 98 and per_poll["flag_seats_total"].sum() == 23
    assert p09.loc[p09["party"] == "arab_joint", "flag_merged"].all()
    exit22 = load_polls(POLLS / "knesset-2022-exit.csv")
    assert exit22["poll_id"].nunique() == 4 and set(exit22["poll_type"]) == {"exit_poll"}
    labor = load_polls(POLLS / "labor-leadership.csv")
    assert labor.attrs["format"] == "share" and labor["poll_id"].nunique() == 13
    peretz_4 = labor[(labor["party"] == "Amir Peretz") & (labor["share"] == 4)]
    assert len(peretz_4) == 1 and peretz_4["partial"].all()        # "polls give him only 4 percent"


def test_shipped_party_keys_are_in_the_registry():
    reg = load_parties()
    keys = set(reg["key"])
    for name in ("knesset-2022.csv", "knesset-2022-exit.csv", "knesset-2009.csv"):
        missing = set(load_polls(POLLS / name)["party"]) - keys
        assert not missing, (name, missing)


# --------------------------------------------------------------------------------------------- registry


def test_registry_lookup_by_key_name_alias_and_hebrew():
    reg = load_parties()
    assert find_party(reg, "LIKUD") == "likud"
    assert find_party(reg, "Likud–Ahi") == "likud"
    assert find_party(reg, "ש\"ס") == "shas"
    assert find_party(reg, "united torah judaism") == "utj"
    with pytest.raises(DataError, match="'Kach' is not a party"):
        find_party(reg, "Kach")


def test_registry_merges_and_blocs():
    reg = load_parties()
    merges = merges_of(reg, ["a+b"])
    assert merges["arab_joint"] == ["balad", "hadash", "raam_taal"]
    assert merges["jewish_home+national_union"] == ["jewish_home", "national_union"]
    assert merges["a+b"] == ["a", "b"]
    assert bloc_at(reg, "2009-02-10")["yisrael_beiteinu"] != bloc_at(reg, "2022-11-01")["yisrael_beiteinu"]


def test_registry_rejects_a_name_used_twice(tmp_path):
    text = "key,name,aliases\nlikud,Likud,\nkadima,Kadima,likud\n"
    with pytest.raises(DataError, match=r"row 3, column 'aliases': 'likud' already names party 'likud'"):
        load_parties(write(tmp_path, text, "parties.csv"))


def test_registry_rejects_bad_colour_and_members(tmp_path):
    with pytest.raises(DataError, match=r"row 2, column 'colour'"):
        load_parties(write(tmp_path, "key,name,colour\nlikud,Likud,blue\n", "p.csv"))
    with pytest.raises(DataError, match=r"row 2, column 'members': 'x' is not a key"):
        load_parties(write(tmp_path, "key,name,members\nm,M,x;likud\nlikud,Likud,\n", "q.csv"))


# ------------------------------------------------------------------------------------------ seats to shares


def test_seats_to_shares_rule(tmp_path):
    """0 seats: the published % or censored (no share here: somewhere below the line); s seats: the middle of
    [s, s + 1) quotas (quota = what the shares not below the line leave, over the house + 1/2 seat per list
    with seats), each end raised to the threshold when it is under it."""
    df = load_polls(write(tmp_path, SEATS_POLL))
    out = model.poll_shares(df, threshold=3.25).set_index("party")
    got = out["share"]
    quota = (100 - 2.0) / (120 + 3 / 2)          # d published 2.0; e censored; three parties won seats
    assert got["d"] == pytest.approx(2.0) and out.loc["d", "source"] == "below (published %)"
    assert math.isnan(got["e"]) and out.loc["e", "source"] == model.CENSORED
    assert got["a"] == pytest.approx(60.5 * quota)
    assert got["b"] == pytest.approx(56.5 * quota)
    # 4 quotas are 3.23%, under the 3.25% a list with seats cleared: the interval [3.25, 5 quotas), its middle
    assert 4 * quota < 3.25 < 5 * quota
    assert got["c"] == pytest.approx((3.25 + 5 * quota) / 2)
    assert out["published"].tolist() == [60, 56, 4, 0, 0]
    # the residual for unlisted lists comes out of the seats' share
    others = model.poll_shares(df, threshold=3.25, others=2.5).set_index("party")["share"]
    assert others["a"] == pytest.approx(60.5 * (100 - 2.0 - 2.5) / 121.5) and others["d"] == pytest.approx(2.0)
    # with no line, a 0 without a percentage is a real 0
    assert model.poll_shares(df, threshold=0).set_index("party").loc["e", "share"] == 0.0


def test_a_party_with_seats_is_never_under_the_threshold(tmp_path):
    rows = [("a", 116, ""), ("b", 4, "")] + [(k, 0, "3.0") for k in "cdefg"]
    text = "poll_id,date,pollster,sample_size,party,seats,share_if_below\n" + "".join(
        f"x,2022-01-01,P,,{k},{s},{b}\n" for k, s, b in rows)
    got = model.poll_shares(load_polls(write(tmp_path, text)), threshold=3.25).set_index("party")["share"]
    quota = 85 / 121                              # 15% published below the line; two lists with seats
    assert 5 * quota < 3.6 and 4.5 * quota < 3.25  # seats + 1/2 alone would put b under the line
    assert got["b"] == pytest.approx((3.25 + 5 * quota) / 2) and got["b"] > 3.25
    # a poll whose seat interval lies wholly under the line puts the list on the line
    heavy = text.replace(",3.0\n", ",9.0\n")      # 45% below: 4 and 5 quotas are both under 3.25%
    low = model.poll_shares(load_polls(write(tmp_path, heavy, "heavy.csv")), threshold=3.25)
    assert 5 * 55 / 121 < 3.25 and low.set_index("party").loc["b", "share"] == pytest.approx(3.25)


def test_seats_poll_with_everything_below_is_explained(tmp_path):
    text = "poll_id,date,pollster,sample_size,party,seats\nx,2022-01-01,P,,a,0\nx,2022-01-01,P,,b,0\n"
    with pytest.raises(DataError, match="leave no share for any party"):
        model.poll_of_polls(load_polls(write(tmp_path, text)), threshold=0)


# -------------------------------------------------------------------------------------------- poll of polls


TWO_POLLS = """
poll_id,date,pollster,sample_size,party,share
new,2022-10-28,A,1000,x,60
new,2022-10-28,A,1000,y,40
old,2022-10-21,B,500,x,40
old,2022-10-21,B,500,y,60
"""


def pooled_by_hand(sizes, weights, rho=0.5):
    """1 / Var of the weighted average of polls with p(1-p) = 1 and pairwise correlation rho, written out."""
    w = [x / sum(weights) for x in weights]
    var = 0.0
    for i, (wi, ni) in enumerate(zip(w, sizes, strict=True)):
        for j, (wj, nj) in enumerate(zip(w, sizes, strict=True)):
            var += wi * wj * (1 / ni if i == j else rho / math.sqrt(ni * nj))
    return 1 / var


def test_poll_of_polls_weights_by_hand(tmp_path):
    """new: 1000 x 0.5^(0/7) = 1000; old: 500 x 0.5^(7/7) = 250. x = (1000*60 + 250*40) / 1250 = 56. The two
    houses' errors correlate at 0.5, and information decays with age as the weights do (the old poll counts as
    500 x 0.5 = 250 respondents), so the two are worth fewer: 1/Var of the weighted mean."""
    pp = model.poll_of_polls(load_polls(write(tmp_path, TWO_POLLS)), threshold=0, half_life_days=7)
    assert pp.shares["x"] == pytest.approx(56.0)
    assert pp.shares["y"] == pytest.approx(44.0)
    # w = (0.8, 0.2), sizes (1000, 250): Var = 0.64/1000 + 0.04/250 + 2 x 0.5 x 0.8 x 0.2 / sqrt(1000 x 250)
    var = 0.64 / 1000 + 0.04 / 250 + 2 * 0.5 * 0.8 * 0.2 / math.sqrt(1000 * 250)
    assert pp.effective_sample_size == pytest.approx(1 / var)
    assert pp.effective_sample_size == pytest.approx(pooled_by_hand([1000, 250], [1000, 250]))
    assert pp.effective_sample_size < 1000    # an old, correlated poll beside a fresh one adds no information
    w = pp.weights.set_index("poll_id")
    assert w.loc["old", "recency"] == pytest.approx(0.5) and w.loc["old", "weight"] == pytest.approx(250)
    assert w.loc["new", "weight_share"] == pytest.approx(0.8)
    assert pp.others == 0.0                          # share polls: no residual for unlisted lists


def test_poll_of_polls_as_of_uses_only_published_polls(tmp_path):
    df = load_polls(write(tmp_path, TWO_POLLS))
    pp = model.poll_of_polls(df, "2022-10-25", threshold=0)
    assert pp.n_polls == 1 and pp.shares["y"] == pytest.approx(60.0)
    # one poll is worth its own respondents, less with age: 4 days at a 7-day half-life
    assert pp.effective_sample_size == pytest.approx(500 * 0.5 ** (4 / 7))
    with pytest.raises(DataError, match="no complete pre-election poll .* was published by 2022-10-01"):
        model.poll_of_polls(df, "2022-10-01", threshold=0)
    with pytest.raises(DataError, match="not a date"):
        model.poll_of_polls(df, "yesterday", threshold=0)


def test_default_sample_size(tmp_path):
    text = TWO_POLLS.replace(",500,", ",,")
    pp = model.poll_of_polls(load_polls(write(tmp_path, text)), threshold=0, half_life_days=7)
    assert model.DEFAULT_SAMPLE_SIZE == 600
    assert pp.weights.set_index("poll_id").loc["old", "sample_size"] == 600
    assert pp.effective_sample_size == pytest.approx(pooled_by_hand([1000, 600 * 0.5], [1000, 600 * 0.5]))
    assert pp.shares["x"] == pytest.approx((1000 * 60 + 300 * 40) / 1300)


def test_merged_column_split_by_members_averages(tmp_path):
    text = """
poll_id,date,pollster,sample_size,party,share
s,2022-10-28,A,600,a,30
s,2022-10-28,A,600,b,10
s,2022-10-28,A,600,c,60
m,2022-10-28,B,600,a+b,50
m,2022-10-28,B,600,c,50
"""
    df = load_polls(write(tmp_path, text))
    pp = model.poll_of_polls(df, threshold=0, merges=merges_of(None, df["party"].unique()))
    # poll m's 50 splits 3:1 -> a 37.5, b 12.5; averages a 33.75, b 11.25, c 55 (sum 100)
    assert pp.shares.to_dict() == pytest.approx({"c": 55.0, "a": 33.75, "b": 11.25})
    assert pp.merged == {"a+b": {"a": 0.75, "b": 0.25}}


def test_merged_column_kept_when_no_poll_splits_it(tmp_path):
    text = "date,pollster,sample_size,party,share\n2022-10-28,A,600,a+b,50\n2022-10-28,A,600,c,50\n"
    df = load_polls(write(tmp_path, text))
    pp = model.poll_of_polls(df, threshold=0, merges=merges_of(None, df["party"].unique()))
    assert set(pp.parties) == {"a+b", "c"}


def test_partial_polls_are_left_out(tmp_path):
    text = """
poll_id,date,pollster,sample_size,party,share,partial
new,2022-10-28,A,1000,x,60,
new,2022-10-28,A,1000,y,40,
old,2022-10-21,B,500,x,40,
old,2022-10-21,B,500,y,60,
lone,2022-10-28,C,600,x,4,yes
"""
    pp = model.poll_of_polls(load_polls(write(tmp_path, text)), threshold=0)
    assert pp.excluded == ["lone"] and pp.shares["x"] == pytest.approx(56.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=500), min_size=2, max_size=9), st.integers(0, 30),
       st.integers(1, 3000))
def test_one_poll_is_its_own_average(tmp_path_factory, counts, age, n):
    """One complete share poll: the poll of polls is that poll, worth its own n respondents when fresh and
    n x 0.5 ** (age / half-life) as it ages."""
    total = sum(counts)
    shares = [100 * c / total for c in counts]
    rows = "".join(f"2022-10-01,P,{n},p{i},{s!r}\n" for i, s in enumerate(shares))
    path = write(tmp_path_factory.mktemp("p"), "date,pollster,sample_size,party,share\n" + rows)
    as_of = (pd.Timestamp("2022-10-01") + pd.Timedelta(days=age)).date().isoformat()
    pp = model.poll_of_polls(load_polls(path), as_of, threshold=0, half_life_days=7)
    assert pp.shares.sum() == pytest.approx(100)
    for i, s in enumerate(shares):
        assert pp.shares[f"p{i}"] == pytest.approx(s)
    assert pp.effective_sample_size == pytest.approx(n * 0.5 ** (age / 7))
    assert pp.weights["weight"].iloc[0] == pytest.approx(n * 0.5 ** (age / 7))


def test_shipped_2022_poll_of_polls_is_sane():
    from helpers.models.uncertainty import FITTED

    df = load_polls(POLLS / "knesset-2022.csv")
    pp = model.poll_of_polls(df, "2022-10-31", threshold=3.25)
    # the residual for lists no poll lists (seats polls) stays outside the listed lists' shares
    assert pp.others == pytest.approx(FITTED.others) and pp.others > 0
    assert pp.shares.sum() == pytest.approx(100 - pp.others)
    # the newest poll of each house in the 14 days up to the last poll (2022-10-28), counted from the file
    raw = pd.read_csv(POLLS / "knesset-2022.csv").drop_duplicates("poll_id")
    window = raw[(raw["date"] >= "2022-10-15") & (raw["date"] <= "2022-10-28")]
    assert pp.n_polls == window["pollster"].nunique() == 7
    newest = window.sort_values("date").drop_duplicates("pollster", keep="last")
    assert set(pp.weights["poll_id"]) == set(newest["poll_id"])
    assert pp.effective_sample_size < 600 / model.POLLSTER_CORRELATION     # saturated: 7 polls of 600
    assert pp.parties[0] == "likud"
    assert 3.25 <= pp.shares["raam"] < 4.0            # polled at 4 seats throughout
    assert 1.0 < pp.shares["balad"] < 3.25            # 0 seats, published 0.6-2.75%


def test_select_question_and_contest_kind():
    labor = load_polls(POLLS / "labor-leadership.csv")
    chosen, asked = model.select_question(labor)
    assert asked == "first round" and set(chosen["question"]) == {"first round"}
    assert model.contest_kind(chosen, 40) == "first-round"
    assert model.contest_line("first-round", 3.25) == 40.0 and model.contest_line("first-round", 50) == 50
    with pytest.raises(DataError, match="asked 'third round'"):
        model.select_question(labor, "third round")
    assert model.contest_kind(load_polls(POLLS / "knesset-2022.csv"), 3.25) == "parliament"


# -------------------------------------------------------------------------------------------- house effects


def test_house_effects_by_hand(tmp_path):
    """A always 2 points above the truth, B always 2 below, on the same days: +2 and -2."""
    rows = []
    for day in ("2022-10-01", "2022-10-05", "2022-10-09"):
        rows += [f"A{day},{day},A,600,x,42", f"A{day},{day},A,600,y,58",
                 f"B{day},{day},B,600,x,38", f"B{day},{day},B,600,y,62"]
    path = write(tmp_path, "poll_id,date,pollster,sample_size,party,share\n" + "\n".join(rows) + "\n")
    he = model.house_effects(load_polls(path), threshold=0).set_index(["pollster", "party"])["house_effect"]
    assert he[("A", "x")] == pytest.approx(2.0) and he[("B", "x")] == pytest.approx(-2.0)
    assert he[("A", "y")] == pytest.approx(-2.0) and he[("B", "y")] == pytest.approx(2.0)
    table = poll_views.house_effects_table(he.rename("house_effect").reset_index().assign(polls=3), ["x", "y"])
    assert table.columns.tolist() == ["pollster", "polls", "x", "y"]


def test_adjusting_for_house_effects_removes_them(tmp_path):
    rows = ["A1,2022-10-01,A,600,x,42", "A1,2022-10-01,A,600,y,58", "B1,2022-10-01,B,600,x,38",
            "B1,2022-10-01,B,600,y,62"]
    df = load_polls(polls_file(tmp_path, "poll_id,date,pollster,sample_size,party,share", rows))
    he = model.house_effects(df, threshold=0)
    pp = model.poll_of_polls(df, threshold=0, house=he)
    assert pp.shares["x"] == pytest.approx(40.0)


# ------------------------------------------------------------------------- trend, final week, backtest


def test_trend_of_constant_polls(tmp_path):
    rows = [f"p{d},2022-10-0{d},A,600,x,{s}" for d, s in ((1, 10), (3, 10), (5, 10))]
    df = load_polls(polls_file(tmp_path, "poll_id,date,pollster,sample_size,party,seats", rows))
    tr = model.trend(df, unit="seats")
    assert tr["value"].tolist() == pytest.approx([10, 10, 10])
    assert (tr["high"] - tr["low"]).abs().max() < 1e-9
    assert tr["polls"].tolist() == [1, 2, 3]


def test_final_week_average(tmp_path):
    rows = ["a,2022-10-20,A,,x,30", "a,2022-10-20,A,,y,90", "b,2022-10-27,B,,x,34", "b,2022-10-27,B,,y,86",
            "c,2022-10-31,C,,x,31", "c,2022-10-31,C,,y,89", "d,2022-11-02,D,,x,99", "d,2022-11-02,D,,y,21"]
    df = load_polls(polls_file(tmp_path, "poll_id,date,pollster,sample_size,party,seats", rows))
    fw = model.final_week(df, "2022-10-31", days=7).set_index("party")
    assert fw.loc["x", "seats"] == pytest.approx(32.5) and fw.loc["x", "polls"] == 2


def test_backtest_arithmetic():
    official = pd.Series({"a": 60, "b": 56, "c": 4, "d": 0})
    model_seats = pd.Series({"a": 58.0, "b": 55.0, "c": 0.0, "d": 7.0})
    errors = backtest.seat_errors(official, {"model": model_seats})
    e = errors.set_index("party")["model_error"]
    assert e.to_dict() == {"a": -2.0, "b": -1.0, "c": -4.0, "d": 7.0}
    assert backtest.mean_absolute_error(errors, "model") == pytest.approx(14 / 4)
    blocs = backtest.bloc_errors(errors, {"a": "Left", "c": "Left", "b": "Right"}, ["model"]).set_index("bloc")
    assert blocs.loc["Left", "model_error"] == -6 and blocs.loc["Other", "model_error"] == 7
    calls = backtest.threshold_calls(pd.Series({"c": 0.4, "d": 0.7}), pd.Series({"c": True, "d": False}))
    assert calls["model_right"].tolist() == [False, False]
    # the final week's call holds the average to the seats of a list at the threshold, as the Brier baseline
    # does: 1 seat for one quota of 150, so 0.8 seats misses; 3.9 seats for 3.25% of 120
    assert backtest.line_seats(Fraction(2, 3) * 1, 150) == pytest.approx(1.0)
    week = pd.Series({"c": 0.8, "d": 1.0})
    calls = backtest.threshold_calls(pd.Series({"c": 0.9, "d": 0.9}), pd.Series({"c": False, "d": True}),
                                     final_week=week, line=backtest.line_seats(Fraction(2, 3), 150))
    assert calls["final_week_call"].tolist() == ["misses", "clears"]
    assert calls["final_week_right"].tolist() == [True, True]
    assert (calls["final_week_call"] == "clears").tolist() == (
        backtest.average_call(week, ["c", "d"], line=1.0) == 1.0).tolist()
    with pytest.raises(ValueError):
        backtest.threshold_calls(pd.Series({"c": 0.9}), pd.Series({"c": False}), final_week=week)


def test_overview_and_smallest_list():
    df = load_polls(POLLS / "knesset-2009.csv", parties=load_parties())
    facts = model.overview(df, "2009-01-01")
    assert facts["later"] > 0 and facts["polls"] + facts["later"] == 98
    assert model.smallest_list_seats(3.25, 120, 96.0) == 4
    assert model.smallest_list_seats(2.0, 120, 97.0) == 2
    assert np.isfinite(facts["seats_off"])
