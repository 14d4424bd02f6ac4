"""The kit's exceptions, at the bottom of the house: every layer raises these, none defines its own.

    KitError                  anything the kit reports as a plain sentence
    +-- DataError (ValueError) bad input, parameters or config: exit 2, nothing touched
    |   +-- ParameterError     a notebook parameter's value does not fit its declaration
    |   +-- ConfigError        reports.yml or a scenario file is malformed
    +-- ReportError            a report failed while running (its kernel died, a cell raised, a timeout): exit 1
    +-- Cancelled              a build or run stopped by SIGTERM or SIGINT: exit 128 + the signal's number

Messages are one or two sentences a user can act on, naming file, row (spreadsheet numbering: the header is
row 1) and column where there is one. The command line turns a DataError into exit code 2 with no traceback.
"""

from __future__ import annotations


class KitError(Exception):
    """Anything the kit reports as a plain sentence."""


class DataError(KitError, ValueError):
    """Bad input, bad parameters or bad config: the message is one or two sentences a user can act on.

    The command line turns it into exit code 2 with no traceback."""


class ParameterError(DataError):
    """A notebook parameter's value does not fit its declaration (kind, range, choices)."""


class ConfigError(DataError):
    """A batch file (reports.yml) or a scenario file is malformed."""


class ReportError(KitError):
    """A report failed while it ran; the build goes on and the index shows the error."""


class Cancelled(KitError):
    """A build or run stopped by a signal (SIGTERM from a scheduler or ``timeout``, SIGINT from Ctrl-C): queued
    reports were dropped, running ones stopped, nothing was published after the signal.

    ``exit_code`` is 128 + the signal's number, as a shell reports a process killed by it (143, 130)."""

    def __init__(self, signum: int = 15):
        super().__init__(signum)  # the signal's number is the only argument: it pickles to a worker and back
        self.signum = int(signum)
        self.exit_code = 128 + self.signum

    def __str__(self) -> str:
        import signal

        try:
            name = signal.Signals(self.signum).name
        except ValueError:
            name = f"signal {self.signum}"
        return (f"stopped by {name}: queued reports were cancelled and running ones stopped; nothing was "
                "published after the signal.")
