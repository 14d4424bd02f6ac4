"""Longest first: a build starts the reports it has timed before longest first, those it never timed before
them, and records what each took (``helpers.pipeline.durations``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from conftest import make_project, notebook_json
from helpers.pipeline import durations
from helpers.pipeline.config import Job

BALLOTBOOK = str(Path(sys.executable).with_name("ballotbook"))


@dataclass
class _Job:
    name: str


@given(st.lists(st.one_of(st.none(), st.floats(0, 1e4)), max_size=12))
def test_unknown_reports_go_first_in_their_order_then_the_longest(seconds):
    jobs = [_Job(f"r{i}") for i in range(len(seconds))]
    expected = {j.name: s for j, s in zip(jobs, seconds, strict=True)}
    order = durations.longest_first(jobs, expected)
    assert sorted(j.name for j in order) == sorted(j.name for j in jobs)
    unknown = [j.name for j in jobs if expected[j.name] is None]
    assert [j.name for j in order[:len(unknown)]] == unknown
    known = [expected[j.name] for j in order[len(unknown):]]
    assert known == sorted(known, reverse=True)
    ties = [j.name for j in order[len(unknown):]]
    for a, b in zip(ties, ties[1:], strict=False):  # equal times keep the batch's order
        if expected[a] == expected[b]:
            assert jobs.index(_Job(a)) < jobs.index(_Job(b))


def test_the_record_is_read_back_merged_and_a_bad_one_is_ignored(tmp_path):
    a, b = durations.key("notebooks/a.ipynb", {"n": 1}), durations.key("notebooks/a.ipynb", {"n": 2})
    assert a != b and durations.key("notebooks/a.ipynb", {"n": 1}) == a
    durations.write(tmp_path, {a: 3.5})
    durations.write(tmp_path, {b: 1.25})
    assert durations.read(tmp_path) == {a: 3.5, b: 1.25}
    durations.write(tmp_path, {a: 2.0})
    assert durations.read(tmp_path) == {a: 2.0, b: 1.25}
    assert not [p for p in (tmp_path / durations.CACHE).iterdir() if p.name != durations.RECORD]
    (tmp_path / durations.CACHE / durations.RECORD).write_text("{not json", encoding="utf-8")
    assert durations.read(tmp_path) == {}


def test_a_project_where_the_record_cannot_be_written_builds_without_one(tmp_path):
    blocked = tmp_path / "project"
    blocked.mkdir()
    (blocked / durations.CACHE).write_text("a file where the folder would be", encoding="utf-8")
    durations.write(blocked, {"x": 1.0})  # nothing raised
    assert durations.read(blocked) == {}
    assert [p.name for p in blocked.iterdir()] == [durations.CACHE]


REPORT = notebook_json(
    ("code", "import time\nfrom helpers import notebook\nnotebook.start()\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'n': n, 'ran_at': time.time()})"),
    parameters="n = 1  # a number",
)


def test_a_build_starts_the_longest_report_first_and_records_what_each_took(tmp_path):
    project = make_project(tmp_path / "project", "reports:\n  - name: short\n    notebook: notebooks/r.ipynb\n"
                           "  - name: long\n    notebook: notebooks/r.ipynb\n    parameters: {n: 2}\n",
                           {"r.ipynb": REPORT})
    short, long = (durations.key("notebooks/r.ipynb", {"n": n}) for n in (1, 2))
    durations.write(project, {short: 0.5, long: 99.0})
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    proc = subprocess.run([BALLOTBOOK, "build", "--jobs", "1"], cwd=project, timeout=180, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    manifests = {n: json.loads((project / "reports" / f"{n}.json").read_text()) for n in ("short", "long")}
    # one worker: the long one ran first (the progress lines may name two reports done at once in any order)
    assert manifests["long"]["outputs"]["ran_at"] < manifests["short"]["outputs"]["ran_at"], proc.stderr
    record = durations.read(project)
    took = {n: m["duration_s"] for n, m in manifests.items()}
    assert record[short] == took["short"] and record[long] == took["long"]
    assert record[long] < 99.0


def test_a_report_the_record_does_not_know_is_timed_by_its_last_manifest(tmp_path):
    """A build into a folder it built before, with no project record (a fresh checkout of the project, its
    published folder kept): the manifests' times order it; the record, where it knows a report, wins."""
    nb = tmp_path / "r.ipynb"
    jobs = [Job(n, str(nb), None, {"n": i}) for i, n in enumerate(["a", "b", "c", "d"])]
    last = {"a": 1.0, "b": 5.0, "c": 2.0}
    order, keys = durations.plan(jobs, tmp_path, last)
    assert [j.name for j in order] == ["d", "b", "c", "a"]
    durations.write(tmp_path, {keys["a"]: 9.0})
    order, _ = durations.plan(jobs, tmp_path, last)
    assert [j.name for j in order] == ["d", "a", "b", "c"]
