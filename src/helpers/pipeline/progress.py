"""What a build tells the person or the scheduler watching it, on stderr.

Off a terminal (cron, CI, a Kubernetes pod's log) every line stands alone and starts with its local time in
ISO 8601 with the offset, so a log can be read, grepped and merged without the terminal it was not shown on::

    2026-11-30T13:45:02+00:00 ballotbook: [3/10] thresholds ok (4.1 s)
    2026-11-30T13:45:09+00:00 ballotbook: built 7, up to date 2, failed 1 in 31.2 s

There is one line per report, written when the report finishes (nothing at submission), the build's notes
(waiting for a lock, a manifest set aside) and one summary line at the end.

On a terminal a live tqdm bar counts the reports as they finish; each finished report is also written above
the bar (without the time), so a failure's message stays on the screen.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

#: What a report's status is called in the summary line, in the order it lists them.
SUMMARY_WORDS = {"ok": "built", "up to date": "up to date", "failed": "failed"}


def timestamp() -> str:
    """The local time now, to the second, with its UTC offset (``2026-11-30T13:45:02+00:00``)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def summary_text(counts: dict[str, int], seconds: float) -> str:
    """``built 7, up to date 2, failed 1 in 31.2 s``: how many reports were built (always, 0 included), then
    each other status in :data:`SUMMARY_WORDS` that some report had, then any other status met."""
    parts = [f"{word} {counts.get(status, 0)}" for status, word in SUMMARY_WORDS.items()
             if status == "ok" or counts.get(status)]
    parts += [f"{status} {n}" for status, n in counts.items() if status not in SUMMARY_WORDS]
    return f"{', '.join(parts)} in {seconds:.1f} s"


class Progress:
    """The progress of `total` reports, on `stream` (stderr by default): a live bar on a terminal, one
    timestamped line per report off a terminal. :meth:`summary` ends it."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.done = 0
        self.counts: dict[str, int] = {}
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", None) and self.stream.isatty())
        self.began = time.monotonic()
        self._bar = None

    def _line(self, text: str) -> None:
        if self.tty:
            if self._bar is not None:
                self._bar.write(text, file=self.stream)
                return
            print(text, file=self.stream, flush=True)
        else:
            print(f"{timestamp()} {text}", file=self.stream, flush=True)

    def say(self, text: str) -> None:
        """A note of the build's (``ballotbook: waiting for ...``)."""
        self._line(f"ballotbook: {text}")

    def started(self, name: str) -> None:
        """Report `name` was handed to a worker: on a terminal the bar appears (nothing is written per report:
        every report is handed over at once)."""
        if self.tty and self._bar is None and self.total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, file=self.stream, unit="report",
                             desc="ballotbook", dynamic_ncols=True, leave=False)

    def finished(self, name: str, status: str, seconds: float, error: str | None = None) -> None:
        """Report `name` finished with `status` (``ok``, ``up to date``, ``failed``) after `seconds`."""
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        tail = f": {error}" if error else ""
        self._line(f"ballotbook: [{self.done}/{self.total}] {name} {status} ({seconds:.1f} s){tail}")
        if self._bar is not None:
            self._bar.set_postfix_str(name, refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        """Take the bar off the screen (its lines above stay)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self) -> str:
        """Close the bar and write the summary line (``ballotbook: built 7, up to date 2, failed 1 in 31.2 s``);
        return its text."""
        self.close()
        text = summary_text(self.counts, time.monotonic() - self.began)
        self._line(f"ballotbook: {text}")
        return text
