"""``python -m helpers.cli``: the same as the ``ballotbook`` command."""

from helpers.cli import entry

entry()
