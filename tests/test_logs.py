"""What a build writes on stderr for a scheduler (cron, CI, a Kubernetes pod) and for a person at a terminal
(helpers.pipeline.progress), and that the kernels' own noise stays out of it."""

from __future__ import annotations

import io
import os
import re
import time

import pytest

from conftest import make_project, notebook_json, run_cli, run_cli_process
from helpers.pipeline.progress import Progress

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ballotbook: "
REPORT_LINE = re.compile(STAMP + r"\[(\d+)/(\d+)\] (\S+) (ok|up to date|failed) \(\d+\.\d s\)(: .+)?$")
SUMMARY_LINE = re.compile(STAMP + r"built (\d+)(, up to date (\d+))?(, failed (\d+))? in \d+\.\d s$")


def test_off_a_terminal_each_report_is_one_timestamped_line_when_it_finishes_then_a_summary():
    stream = io.StringIO()  # not a terminal, like a cron job's log file
    progress = Progress(3, stream)
    for name in ("a", "b", "c"):
        progress.started(name)
    assert stream.getvalue() == ""  # nothing at submission: every report is handed over at once
    progress.finished("a", "up to date", 0.0)
    progress.finished("b", "ok", 4.12)
    progress.finished("c", "failed", 1.0, "cell 3 raised ValueError: no polls")
    progress.summary()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert [REPORT_LINE.match(line).group(1, 3, 4) for line in lines[:3]] == [
        ("1", "a", "up to date"), ("2", "b", "ok"), ("3", "c", "failed")]
    assert lines[1].endswith("ballotbook: [2/3] b ok (4.1 s)")
    assert lines[2].endswith(": cell 3 raised ValueError: no polls")
    summary = SUMMARY_LINE.match(lines[3])
    assert summary and summary.group(1, 3, 5) == ("1", "1", "1"), lines[3]


def test_a_build_that_stops_says_why_in_a_timestamped_line_off_a_terminal(tmp_path):
    proc = run_cli("build", "--config", tmp_path / "nope.yml", cwd=tmp_path)  # stderr is not a terminal
    assert proc.returncode == 2
    assert re.fullmatch(STAMP.replace(" ballotbook: ", " ballotbook build: ") + r".*nope\.yml.*\n", proc.stderr), \
        proc.stderr
    other = run_cli("seats", tmp_path / "nope.csv")  # a calculation's error is not a log line
    assert other.returncode == 2 and other.stderr.startswith("ballotbook seats: "), other.stderr


def _pty_stream():
    """A real terminal (a pseudo-terminal 80 columns by 24 rows) to write to, and a reader of what it shows."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.set_blocking(master, False)
    stream = open(slave, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed by the test

    def shown() -> str:
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")

    return stream, shown, master


def test_on_a_terminal_a_live_bar_counts_the_reports_as_they_finish():
    stream, shown, master = _pty_stream()
    try:
        progress = Progress(2, stream)
        assert progress.tty
        progress.started("alpha")
        progress.started("beta")
        stream.flush()
        first = shown()
        assert "0/2" in first and "alpha" not in first and "beta" not in first, first  # a bar, no burst
        time.sleep(0.15)  # tqdm redraws at most every 0.1 s
        progress.finished("alpha", "ok", 2.0)
        stream.flush()
        second = shown()
        assert "1/2" in second and "[1/2] alpha ok (2.0 s)" in second, second
        time.sleep(0.15)
        progress.finished("beta", "failed", 1.0, "boom")
        progress.summary()
        stream.flush()
        last = shown()
        assert "[2/2] beta failed (1.0 s): boom" in last and "built 1, failed 1 in" in last, last
        assert not re.search(r"\d{4}-\d\d-\d\dT", first + second + last)  # times are for logs only
    finally:
        stream.close()
        os.close(master)


NOISY = notebook_json(
    ("code", "import sys\n"
             "from ipykernel.kernelapp import IPKernelApp\n"
             "IPKernelApp.instance().log.error('KeyboardInterrupt caught in kernel')\n"
             "print('kernel noise on its own stderr', file=sys.__stderr__, flush=True)\n"
             "n"),
    parameters="n = 0  # count 0..9: which copy")


@pytest.mark.slow
def test_a_build_log_off_a_terminal_is_timestamped_lines_and_a_summary_without_kernel_noise(tmp_path):
    # Two reports on one worker: one kernel started ahead by the worker, one started by papermill itself.
    project = make_project(tmp_path, "reports:\n  - name: noisy-{n}\n    notebook: notebooks/noisy.ipynb\n"
                                     "    parameters:\n      - {n: 1}\n      - {n: 2}\n",
                           notebooks={"noisy.ipynb": NOISY})
    proc = run_cli_process("build", "--jobs", "1", cwd=project)  # stderr is a pipe, as under cron
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert "IPKernelApp" not in proc.stderr and "kernel noise" not in proc.stderr, proc.stderr
    reports = [REPORT_LINE.match(line) for line in lines[:-1]]
    assert all(reports), lines
    assert sorted(m.group(3) for m in reports) == ["noisy-1", "noisy-2"]
    assert [m.group(1) for m in reports] == ["1", "2"] and {m.group(4) for m in reports} == {"ok"}
    assert SUMMARY_LINE.match(lines[-1]).group(1, 3, 5) == ("2", None, None), lines[-1]

    # Again: up to date, unless the kit's source changed meanwhile (a checkout being edited); the same format.
    again = run_cli_process("build", cwd=project)
    assert again.returncode == 0, again.stderr
    assert all(REPORT_LINE.match(line) for line in again.stderr.splitlines()[:-1]), again.stderr
    built, _, fresh, _, failed = SUMMARY_LINE.match(again.stderr.splitlines()[-1]).groups()
    assert int(built) + int(fresh or 0) == 2 and failed is None, again.stderr
