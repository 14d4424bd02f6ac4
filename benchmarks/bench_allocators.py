"""Benchmark: the batch seat allocator against votelib's D'Hondt and a plain NumPy allocator.

Run ``.venv/bin/python benchmarks/bench_allocators.py`` (or ``make bench``); ``main()`` returns the figures.

Inputs are Knesset-sized: 100,000 Dirichlet draws of vote shares around a Knesset-like profile of 16 lists
(the 2022 lists, shares moved so that about 12 clear the 3.25% threshold; two sit near it), turned into whole
votes out of 10^9 per draw (``helpers.models.seats.to_vote_counts``), the threshold applied exactly, and the four
2022 surplus agreements for Bader-Ofer. Baselines, on the same vote counts and in the same run:

- votelib 0.4: ``Conditioned(RelativeThreshold(3.25%), HighestAverages('d_hondt'))``, on 2,000 draws (it is
  slow); it has no surplus agreements;
- plain NumPy: the threshold as a mask, then per draw the top 120 of the lists x 120 quotients by
  ``argpartition``, in chunks of 10,000 draws.

Both baselines are D'Hondt without agreements, so the D'Hondt figures are like for like and their seats are
checked draw by draw against ``allocate_batch(method="dhondt")``; the Bader-Ofer figures (the Knesset law,
with agreements: more work per draw) are reported as ratios against the same baselines. One core: NumPy's
elementwise operations here run single-threaded and no BLAS call is made.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

DRAWS = 100_000
VOTELIB_DRAWS = 2_000
CHUNK = 10_000
SEATS = 120
THRESHOLD = 3.25
CONCENTRATION = 20_000  # Dirichlet concentration: about 0.12 points of spread on a 3% share
# A Knesset-like profile (percent of valid votes): the 2022 lists, with shares moved a little so that 12 of
# them clear the threshold, as in most Knessets; Balad and Meretz sit close to it, three lists far below.
PROFILE = {
    "likud": 24.0, "yesh_atid": 16.0, "religious_zionism": 10.0, "national_unity": 9.0, "shas": 7.5,
    "utj": 6.0, "yisrael_beiteinu": 5.0, "raam": 4.5, "hadash_taal": 4.2, "labor": 4.0, "meretz": 3.7,
    "balad": 3.5, "jewish_home": 2.0, "economic_freedom": 0.3, "beometz_bishvilcha": 0.2,
    "new_economic_party": 0.1,
}
AGREEMENTS = [("shas", "utj"), ("likud", "religious_zionism"), ("meretz", "labor"),
              ("yesh_atid", "national_unity")]


def draws(n: int = DRAWS, seed: int = 0) -> np.ndarray:
    """(n, 16) whole vote counts out of 10^9 per draw."""
    from helpers.models.seats import to_vote_counts

    base = np.array(list(PROFILE.values()), dtype=float)
    shares = np.random.default_rng(seed).dirichlet(base / base.sum() * CONCENTRATION, size=n)
    return to_vote_counts(shares)


def numpy_dhondt(counts: np.ndarray, seats: int = SEATS, threshold: float = THRESHOLD) -> np.ndarray:
    """The plain NumPy baseline: the threshold as a mask, then the top `seats` of each draw's lists x seats
    quotients by argpartition, in chunks of 10,000 draws (one reused quotient buffer, about 150 MB)."""
    n_draws, n_lists = counts.shape
    out = np.zeros(counts.shape, dtype=np.int64)
    divisors = np.arange(1, seats + 1, dtype=np.float64)
    buffer = np.empty((min(CHUNK, n_draws), n_lists, seats))
    for start in range(0, n_draws, CHUNK):
        v = counts[start: start + CHUNK].astype(np.float64)
        c = len(v)
        v *= v * 100.0 >= threshold * v.sum(axis=1, keepdims=True)
        quotients = np.divide(v[:, :, None], divisors, out=buffer[:c]).reshape(c, -1)
        top = np.argpartition(quotients, n_lists * seats - seats, axis=1)[:, -seats:] // seats
        rows = np.repeat(np.arange(c) * n_lists, seats)
        out[start: start + c] = np.bincount(rows + top.ravel(), minlength=c * n_lists).reshape(c, n_lists)
    return out


def votelib_dhondt(counts: np.ndarray, seats: int = SEATS, threshold: float = THRESHOLD) -> np.ndarray:
    from votelib.evaluate.core import Conditioned
    from votelib.evaluate.proportional import HighestAverages
    from votelib.evaluate.threshold import RelativeThreshold

    evaluator = Conditioned(RelativeThreshold(Fraction(str(threshold)) / 100), HighestAverages("d_hondt"))
    out = np.zeros(counts.shape, dtype=np.int64)
    for d, row in enumerate(counts):
        got = evaluator.evaluate({j: int(v) for j, v in enumerate(row)}, seats)
        for j, s in got.items():
            out[d, j] = s
    return out


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(n_draws: int = DRAWS, votelib_draws: int = VOTELIB_DRAWS, repeat: int = 5) -> dict:
    from helpers.models.seats import allocate_batch

    counts = draws(n_draws)
    names = list(PROFILE)
    pairs = [(names.index(a), names.index(b)) for a, b in AGREEMENTS]
    shares = counts / counts.sum(axis=1, keepdims=True)

    t_dhondt, ours_dhondt = _best(lambda: allocate_batch(counts, SEATS, THRESHOLD, "dhondt"), repeat)
    t_bo, _ = _best(lambda: allocate_batch(counts, SEATS, THRESHOLD, "bader-ofer", pairs), repeat)
    t_bo_shares, _ = _best(lambda: allocate_batch(shares, SEATS, THRESHOLD, "bader-ofer", pairs), repeat)
    # the baselines best of `repeat` too, interleaved with ours: one run of a baseline swings with the load
    t_numpy, numpy_seats = _best(lambda: numpy_dhondt(counts), repeat)
    t_votelib, votelib_seats = _best(lambda: votelib_dhondt(counts[:votelib_draws]), repeat)
    t_dhondt = min(t_dhondt, _best(lambda: allocate_batch(counts, SEATS, THRESHOLD, "dhondt"), repeat)[0])

    same_numpy = bool(np.array_equal(numpy_seats, ours_dhondt))
    same_votelib = bool(np.array_equal(votelib_seats, ours_dhondt[:votelib_draws]))
    passing = ((counts * 100 * 4) >= (counts.sum(axis=1, keepdims=True) * 13)).sum(axis=1)

    rate = {
        "dhondt": n_draws / t_dhondt,
        "bader_ofer": n_draws / t_bo,
        "bader_ofer_from_shares": n_draws / t_bo_shares,
        "numpy": n_draws / t_numpy,
        "votelib": votelib_draws / t_votelib,
    }
    result = {
        "draws": n_draws,
        "lists": counts.shape[1],
        "passing_lists_mean": round(float(passing.mean()), 2),
        "agreements": len(pairs),
        "batch_dhondt_per_s": round(rate["dhondt"]),
        "batch_bader_ofer_per_s": round(rate["bader_ofer"]),
        "batch_bader_ofer_from_shares_per_s": round(rate["bader_ofer_from_shares"]),
        "numpy_dhondt_per_s": round(rate["numpy"]),
        "votelib_dhondt_per_s": round(rate["votelib"]),
        "dhondt_vs_votelib": round(rate["dhondt"] / rate["votelib"], 1),
        "dhondt_vs_numpy": round(rate["dhondt"] / rate["numpy"], 2),
        "bader_ofer_vs_votelib": round(rate["bader_ofer"] / rate["votelib"], 1),
        "bader_ofer_vs_numpy": round(rate["bader_ofer"] / rate["numpy"], 2),
        "bader_ofer_100k_draws_s": round(t_bo * DRAWS / n_draws, 4),
        "same_seats_as_numpy": same_numpy,
        "same_seats_as_votelib": same_votelib,
    }
    print(f"{n_draws:,} draws, {counts.shape[1]} lists ({result['passing_lists_mean']} pass on average), "
          f"threshold {THRESHOLD}%, {SEATS} seats; best of {repeat} for allocate_batch and each baseline")
    print(f"  allocate_batch D'Hondt:        {rate['dhondt']:>12,.0f} /s  "
          f"({result['dhondt_vs_votelib']:,}x votelib, {result['dhondt_vs_numpy']}x NumPy)")
    print(f"  allocate_batch Bader-Ofer:     {rate['bader_ofer']:>12,.0f} /s  "
          f"({result['bader_ofer_vs_votelib']:,}x votelib, {result['bader_ofer_vs_numpy']}x NumPy; "
          f"{len(pairs)} agreements)")
    print(f"    the same from float shares:  {rate['bader_ofer_from_shares']:>12,.0f} /s")
    print(f"  plain NumPy D'Hondt:           {rate['numpy']:>12,.0f} /s  (top-{SEATS} argpartition, "
          f"chunks of {CHUNK:,})")
    print(f"  votelib D'Hondt:               {rate['votelib']:>12,.0f} /s  ({votelib_draws:,} draws)")
    print(f"  {DRAWS:,} Bader-Ofer draws take {result['bader_ofer_100k_draws_s']:.3f} s")
    print(f"  identical D'Hondt seats: NumPy {same_numpy} ({n_draws:,} draws), votelib {same_votelib} "
          f"({votelib_draws:,} draws)")
    if not (same_numpy and same_votelib):
        print("  WARNING: seats differ; see the draws where they do before trusting the figures")
    return result


if __name__ == "__main__":
    main()
