"""A report printed to PDF (``--pdf``): the finished page through Debian's headless Chromium, A4 or Letter.

Chromium runs as a command (``chromium --headless=new --print-to-pdf``; no browser driver is a dependency of
the kit), with a fresh profile in a temporary folder, nothing from the network, and a time limit. The page size
and margins come from an ``@page`` rule added to a private copy of the page; the published HTML is unchanged,
and its ``@media print`` rules lay tables out for the paper.

Chromium starts helpers of its own (some in sessions of their own); every one of them carries a mark in its
environment, so that on a timeout, a failure or an interruption the whole tree is stopped, never left behind.

Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from helpers.core.errors import DataError, ReportError

#: Paper sizes: the CSS ``@page`` size, and the margin on every side.
PAPERS = {"a4": ("A4", "10mm"), "letter": ("letter", "0.5in")}
#: Seconds Chromium may take to print one report (a report prints in one or two seconds).
PRINT_TIMEOUT = 120
#: Milliseconds of page time Chromium lets pass before printing (reports run no script; this bounds any).
VIRTUAL_TIME_MS = 5000
#: Environment variable set for Chromium and inherited by all its processes: "<our pid>-<random>".
PRINT_MARK = "BALLOTBOOK_PRINT"
#: Names of Debian's (and other distributions') Chromium command.
COMMANDS = ("chromium", "chromium-browser")

_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--disable-default-apps", "--disable-quic", "--disable-crash-reporter",
          "--run-all-compositor-stages-before-draw")


def find_chromium() -> str | None:
    """The Chromium command on PATH, or None."""
    for name in COMMANDS:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium(flag: str = "--pdf") -> str:
    """The Chromium command, or a DataError (exit 2) in one sentence saying to install it."""
    found = find_chromium()
    if found is None:
        raise DataError(f"{flag} prints each report with Chromium, which is not installed: install it "
                        "(on Debian: apt-get install chromium) or leave out --pdf.")
    return found


def page_css(paper: str) -> str:
    size, margin = PAPERS[paper]
    return f"<style>@page {{ size: {size}; margin: {margin}; }}</style>"


def _with_page_rule(html: bytes, paper: str) -> bytes:
    """`html` with the paper's ``@page`` rule last in its head (so it wins over any earlier rule)."""
    rule = page_css(paper).encode("ascii")
    at = html.lower().find(b"</head>")
    return html[:at] + rule + html[at:] if at >= 0 else rule + html


def _marked(mark: str) -> list[int]:
    """Running processes (not zombies) whose environment carries ``PRINT_MARK=mark``."""
    from helpers.pipeline.processes import marked_processes

    return marked_processes(mark, PRINT_MARK)


#: Chromium runs of this process still going: (process, mark); :func:`stop_all` ends them.
_RUNNING: dict[int, tuple[subprocess.Popen, str]] = {}


def stop_all() -> None:
    """Stop every Chromium this process started (a worker whose build is gone, before it exits)."""
    for proc, mark in list(_RUNNING.values()):
        _stop(proc, mark)


def _stop(proc: subprocess.Popen, mark: str) -> None:
    """Kill Chromium's process group, then every process still carrying the print's mark (helpers that started
    sessions of their own), and reap the browser."""
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc.wait(timeout=10)
    for _ in range(3):
        left = _marked(mark)
        if not left:
            break
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def print_pdf(html: bytes, target: Path, paper: str = "a4", timeout: float = PRINT_TIMEOUT,
              chromium: str | None = None) -> int:
    """Print the page `html` to the PDF file `target` (written there by Chromium: pass a temporary name and
    rename it into place). Returns the PDF's size in bytes; raises ReportError when Chromium fails, times out or
    writes no PDF. Nothing of Chromium runs on once this returns or raises (an interruption included)."""
    if paper not in PAPERS:
        raise DataError(f"--paper {paper}: expected one of {', '.join(PAPERS)}.")
    chromium = chromium or require_chromium()
    target = Path(target)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    work = Path(tempfile.mkdtemp(prefix="ballotbook-print-"))
    mark = f"{os.getpid()}-{uuid.uuid4().hex}"
    try:
        page = work / "report.html"
        page.write_bytes(_with_page_rule(html, paper))
        command = [chromium, *_FLAGS, f"--user-data-dir={work / 'profile'}", f"--print-to-pdf={target}",
                   f"--virtual-time-budget={VIRTUAL_TIME_MS}", page.as_uri()]
        env = {**os.environ, PRINT_MARK: mark, "HOME": str(work)}
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env, start_new_session=True, cwd=work)
        _RUNNING[proc.pid] = (proc, mark)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium took longer than {timeout:g} s to print the PDF") from None
        finally:
            _stop(proc, mark)  # on success too: helpers it left behind
            _RUNNING.pop(proc.pid, None)
        try:
            with open(target, "rb") as f:
                head = f.read(5)
            size = target.stat().st_size
        except OSError:
            head, size = b"", 0
        if proc.returncode != 0 or head != b"%PDF-":
            lines = [line for line in (err or b"").decode("utf-8", "replace").splitlines()
                     if "ERROR" in line and "dbus" not in line]
            why = f": {lines[-1][:300]}" if lines else ""
            raise ReportError(f"Chromium did not print the PDF (exit code {proc.returncode}){why}")
        return size
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
