"""The one writer of the CLI verbs' tables: CSV or JSON on standard output.

``write(fmt, columns, rows, json_doc=None)``: CSV is a header of ``columns`` then one line per row (each row
a sequence of already-formatted cells, ``\\n`` line ends); JSON is ``json_doc`` (any JSON value) indented by
2, non-ASCII kept, then a newline. Every verb's output goes through here, so the two formats are written the
same way everywhere.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence


def write_json(doc) -> None:
    """``doc`` as indented JSON (non-ASCII kept) and a newline on standard output."""
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def write_csv(columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """A CSV header of ``columns`` then ``rows`` (cells already formatted) on standard output."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)


def write(fmt: str, columns: Sequence[str], rows: Iterable[Sequence], json_doc=None) -> int:
    """``json_doc`` when ``fmt`` is ``"json"``, else the CSV table; returns exit code 0."""
    if fmt == "json":
        write_json(json_doc)
    else:
        write_csv(columns, rows)
    return 0
