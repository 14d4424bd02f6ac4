"""The previous report of the same series: what the last good build of this report recorded.

A report rebuilt when new polls arrive says what changed since its last good version. The pipeline hands the
last good manifest's facts to the kernel through a hidden first cell (:func:`set_previous`); a section reads
them with :func:`previous`. In JupyterLab nothing sets them, and the report simply has no "since" sentence.
"""

from __future__ import annotations

_PREVIOUS: dict = {}


def set_previous(facts: dict | None) -> None:
    """Called by the pipeline's hidden cell: ``as_of``, ``built`` and ``outputs`` of the last good build."""
    _PREVIOUS.clear()
    _PREVIOUS.update(facts or {})


def previous() -> dict:
    """The last good build's facts (empty when there is none, or outside a pipeline build)."""
    return dict(_PREVIOUS)
