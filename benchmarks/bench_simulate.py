"""Benchmark: 100,000 simulated Knesset elections, end to end and the seat allocation alone.

Run ``python benchmarks/bench_simulate.py``. It uses the shipped 2022 polls (13 lists), the 3.25% threshold,
the four surplus-vote agreements of 2022 that join polled lists and an election-day error of 1.5 points, and
prints the time for:

- end to end: poll of polls + 100,000 draws of shares + seats for every draw (``helpers.models.simulate.simulate``);
- allocation only: ``helpers.models.seats.allocate_batch`` on the same 100,000 draws (Bader-Ofer, threshold and
  agreements applied to every draw), timed on its own.
"""

from __future__ import annotations

import time

import numpy as np

DRAWS = 100_000
AGREEMENTS = [("shas", "utj"), ("likud", "religious_zionism"), ("meretz", "labor"),
              ("yesh_atid", "national_unity")]


def main(draws: int = DRAWS, repeat: int = 3) -> dict:
    from helpers.data.polls import load_polls
    from helpers.models import polls, seats, simulate

    table = load_polls("data/polls/knesset-2022.csv")
    t0 = time.perf_counter()
    average = polls.poll_of_polls(table, threshold=3.25)
    t_average = time.perf_counter() - t0

    best_total, best_sim = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        sim = simulate.simulate(average.shares, average.effective_sample_size, draws=draws, seed=0, seats=120,
                                threshold=3.25, poll_error=1.5, agreements=AGREEMENTS)
        elapsed = time.perf_counter() - t0
        if elapsed < best_total:
            best_total, best_sim = elapsed, sim

    counts = simulate.vote_counts(best_sim.shares)
    index = {p: i for i, p in enumerate(best_sim.parties)}
    pairs = [(index[a], index[b]) for a, b in AGREEMENTS]
    best_alloc = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        got = seats.allocate_batch(counts, seats=120, threshold=3.25, method="bader-ofer", agreements=pairs)
        best_alloc = min(best_alloc, time.perf_counter() - t0)
    assert np.array_equal(got, best_sim.seats), "allocate_batch disagrees with the simulation's seats"

    result = {
        "draws": draws,
        "lists": len(best_sim.parties),
        "agreements": len(pairs),
        "poll_of_polls_s": round(t_average, 4),
        "end_to_end_s": round(best_total, 4),
        "draw_shares_s": round(best_sim.timings["draw_s"], 4),
        "allocation_in_simulation_s": round(best_sim.timings["allocate_s"], 4),
        "allocation_only_s": round(best_alloc, 4),
        "elections_per_second": round(draws / best_alloc),
        "peak_draw_arrays_mb": round((best_sim.shares.nbytes + best_sim.seats.nbytes + best_sim.passed.nbytes)
                                     / 2**20, 1),
    }
    print(f"{draws:,} simulated elections, {result['lists']} lists, threshold 3.25%, {len(pairs)} surplus "
          f"agreements (best of {repeat}):")
    print(f"  end to end (draws + seats):  {best_total:.3f} s")
    print(f"    drawing shares:            {best_sim.timings['draw_s']:.3f} s")
    print(f"    allocating seats:          {best_sim.timings['allocate_s']:.3f} s")
    rate = result["elections_per_second"]
    print(f"  allocate_batch alone:        {best_alloc:.3f} s ({rate:,} elections/s)")
    print(f"  poll of polls:               {t_average:.3f} s")
    print(f"  draws kept in memory:        {result['peak_draw_arrays_mb']} MB")
    return result


if __name__ == "__main__":
    main()
