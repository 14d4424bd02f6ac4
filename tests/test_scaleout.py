"""Scale-out: the dask executor (on a real LocalCluster) and run-one build the same reports as the local pool."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT, assert_clean_error, run_cli, run_cli_process

pytestmark = pytest.mark.slow


def normalised(html: str) -> str:
    """A report without what legitimately differs between two builds: the build time and commit."""
    return re.sub(r"<dt>Built</dt><dd>.*?</dd>", "", html)


#: One report of every notebook: the dask build of these is compared with the local build of the same.
ONE_OF_EACH = ("timeline", "thresholds", "coalitions", "leadership", "backtest-2022", "labor-first-round")


def test_dask_local_cluster_builds_identical_reports(shipped_build, tmp_path):
    """A second build, on dask, of one report of every notebook: the same numbers and the same HTML (apart from
    the build time) as the local build. This is also the determinism check: seeded reports give the same
    outputs."""
    pytest.importorskip("dask.distributed", reason="dask is an optional extra: pip install 'ballotbook[dask]'")
    proc, local = shipped_build
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "dask"
    only = [a for name in ONE_OF_EACH for a in ("--only", name)]
    dask = run_cli_process("build", "--executor", "dask", "--jobs", "2", *only, "--out", out, timeout=900)
    assert dask.returncode == 0, dask.stderr
    names = sorted(p.stem for p in out.glob("*.json"))
    assert names == sorted(ONE_OF_EACH)
    notebooks = {json.loads((local / f"{n}.json").read_text())["notebook"] for n in names}
    assert len(notebooks) == len(list((ROOT / "notebooks").glob("*.ipynb")))   # every notebook is covered
    for name in names:
        a = json.loads((local / f"{name}.json").read_text())
        b = json.loads((out / f"{name}.json").read_text())
        assert a["status"] == b["status"] == "ok"
        assert a["outputs"] == b["outputs"], name
        assert a["inputs"] == b["inputs"], name
        assert normalised((local / f"{name}.html").read_text()) == normalised((out / f"{name}.html").read_text())


def test_run_one_rejects_a_bad_index(tmp_path):
    assert_clean_error(run_cli("run-one", "--index", "999", "--out", tmp_path), "--index 999")
    assert_clean_error(run_cli("run-one", "--out", tmp_path, env={"JOB_COMPLETION_INDEX": ""}), "--index")
