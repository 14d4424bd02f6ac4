"""ballotbook: an analytical report kit for party politics.

The house has one floor per layer, and imports only run downwards:

    core/      exceptions, bounds, where things are, plain-text rules (standard library only)
    data/      every file the kit reads, loaded and validated (inputs)
    models/    pure functions: seats, polls, simulate, coalitions, primaries, timeline, scenarios
    views/     what a reader sees: charts, tables and prose with data in them
    notebook   the notebook-side API (start, record)
    pipeline/  parameters, the report batch, kernels, execution, rendering, publishing, the index
    cli/       the ``ballotbook`` command and its verbs

See docs/architecture.md.
"""

__version__ = "0.1.0"
