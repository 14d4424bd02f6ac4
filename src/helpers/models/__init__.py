"""Models: pure functions of validated inputs (seats, polls, simulation, coalitions, primaries, timelines,
scenarios). They import ``helpers.core`` and ``helpers.data``, never views or the pipeline."""
