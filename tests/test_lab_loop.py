"""The JupyterLab loop and the build agree: `make lab` opens the project root; running a notebook in Lab saves
outputs into it, which neither rebuilds its reports nor may be committed; changing what it says rebuilds them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, make_project, notebook_json, run_cli, run_cli_process

#: How to clear a notebook before committing it (said by the failing test).
CLEAR = "jupyter nbconvert --clear-output --inplace"


def committed_notebooks() -> dict[str, str]:
    """Every notebook in the repository as git would commit it (its staged text, whatever JupyterLab has since
    saved on disk), by path; the files on disk when this is not a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True,
                              timeout=60).stdout.decode("utf-8")

    try:
        names = [n for n in git("ls-files", "-z", "--", "*.ipynb").split("\0") if n]
        return {name: git("show", f":{name}") for name in names}
    except (OSError, subprocess.CalledProcessError):
        found = [p for p in ROOT.rglob("*.ipynb") if ".venv" not in p.parts and ".ipynb_checkpoints" not in p.parts]
        return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in found}


def left_by_running(nb: dict) -> list[str]:
    """What running a notebook left in it: one phrase per code cell with outputs or an execution count."""
    found = []
    for i, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {i} has {len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has execution count {cell['execution_count']}")
    return found


def test_committed_notebooks_have_no_outputs():
    notebooks = committed_notebooks()
    assert any(name.startswith("notebooks/") for name in notebooks), notebooks  # the check saw the reports'
    dirty = {}
    for name, text in sorted(notebooks.items()):
        found = left_by_running(json.loads(text))
        if found:
            dirty[name] = found[:3]
    assert not dirty, (f"notebooks committed with outputs (clear them with `{CLEAR} FILE`, then git add FILE): "
                       f"{dirty}")


def test_the_outputs_check_finds_what_running_leaves():
    nb = nbformat.read(ROOT / "notebooks/04_timeline.ipynb", as_version=4)
    assert left_by_running(nb) == []
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[1].execution_count = 3
    code[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    found = left_by_running(nb)
    assert len(found) == 2 and "execution count 3" in found[0] and "1 output(s)" in found[1], found


def _as_lab_saves_it(nb) -> None:
    """What running every cell in JupyterLab and saving writes into a notebook, without running it: outputs,
    execution counts, cell ids, timing and view metadata, the kernel's language_info."""
    count = 0
    for cell in nb.cells:
        cell["id"] = f"cell-{count}-{id(cell) % 997}"
        cell.metadata["collapsed"] = False
        cell.metadata["jupyter"] = {"outputs_hidden": False}
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T10:00:00.1Z",
                                          "shell.execute_reply": "2026-01-01T10:00:01.2Z"}
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": f"out {count}",
                                                                         "image/png": "iVBORw0KGgo="}),
                            nbformat.v4.new_output("stream", name="stderr", text="a warning\n")]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.99"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}


def test_the_notebook_key_ignores_what_running_leaves_and_sees_what_it_says(tmp_path):
    from helpers.pipeline.cache import notebook_digest

    original = nbformat.read(ROOT / "notebooks/04_timeline.ipynb", as_version=4)
    path = tmp_path / "nb.ipynb"

    def digest(nb) -> str:
        nbformat.write(nb, path)
        return notebook_digest(path)

    clean = digest(original)
    assert clean and clean == digest(original)
    saved = nbformat.from_dict(json.loads(json.dumps(original)))
    _as_lab_saves_it(saved)
    assert saved != original
    assert digest(saved) == clean, "outputs, counts, ids and view metadata must not change the key"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))  # another JSON layout: same notebook
    assert notebook_digest(path) == clean

    def changed(edit) -> str:
        nb = nbformat.from_dict(json.loads(json.dumps(saved)))
        edit(nb)
        return digest(nb)

    md = next(i for i, c in enumerate(saved.cells) if c.cell_type == "markdown" and i > 0)
    code = next(i for i, c in enumerate(saved.cells) if c.cell_type == "code" and "parameters" not in
                c.metadata.get("tags", []))
    edits = {
        "a Markdown cell's text": lambda nb: nb.cells[md].__setitem__("source", nb.cells[md].source + " More."),
        "a code cell's source": lambda nb: nb.cells[code].__setitem__("source", nb.cells[code].source + "\n1"),
        "a cell's tags": lambda nb: nb.cells[code].metadata.__setitem__("tags", ["remove"]),
        "a cell's type": lambda nb: nb.cells[md].__setitem__("cell_type", "raw"),
        "the cells' order": lambda nb: nb.cells.insert(1, nb.cells.pop(md)),
        "a cell added": lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell("A note.")),
        "an attachment": lambda nb: nb.cells[md].__setitem__("attachments", {"a.png": {"image/png": "iVBO"}}),
    }
    keys = {what: changed(edit) for what, edit in edits.items()}
    for what, key in keys.items():
        assert key != clean, f"{what} must change the key"
    assert len(set(keys.values())) == len(keys)


def test_a_file_that_is_not_a_notebook_is_keyed_by_its_bytes(tmp_path):
    from helpers.pipeline.cache import notebook_digest, sha256_file

    path = tmp_path / "nb.ipynb"
    path.write_text("{not json", encoding="utf-8")
    assert notebook_digest(path) == sha256_file(path)
    path.write_text("[1, 2]", encoding="utf-8")
    assert notebook_digest(path) == sha256_file(path)
    assert notebook_digest(tmp_path / "missing.ipynb") is None


LAB_NB = notebook_json(
    ("code", "from helpers import notebook\nnotebook.record(as_of='2024-01-02', sources=['a test'])\n"
             "print('hello from', label)"),
    ("md", "## Findings\n\nThe first wording."),
    ("code", "len(label) * 2"),
    parameters="label = 'lab'  # a label",
)


@pytest.mark.slow
def test_running_a_notebook_in_lab_does_not_rebuild_its_report_but_editing_it_does(tmp_path):
    from nbclient import NotebookClient

    project = make_project(tmp_path, "reports:\n  - name: lab\n    notebook: notebooks/lab.ipynb\n",
                           {"lab.ipynb": LAB_NB})
    path, manifest = project / "notebooks/lab.ipynb", project / "reports/lab.json"
    first = run_cli_process("build", cwd=project)
    assert first.returncode == 0 and "lab ok" in first.stderr, first.stderr
    built = json.loads(manifest.read_text())

    # The analyst runs it in JupyterLab and saves it: a real kernel's outputs, counts and timing in the file.
    before = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", record_timing=True, timeout=60,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    assert path.read_bytes() != before and left_by_running(nb), "the notebook was not saved with outputs"

    # The next build: up to date, the report left as it was.
    again = run_cli("build", cwd=project)
    assert again.returncode == 0 and "lab up to date" in again.stderr, again.stderr
    assert json.loads(manifest.read_text())["finished"] == built["finished"]

    # A Markdown cell's text changed (outputs still in the file): rebuilt, with the new text on the page.
    md = next(c for c in nb.cells if c.cell_type == "markdown" and "first wording" in c.source)
    md.source = md.source.replace("first wording", "second wording")
    nbformat.write(nb, path)
    third = run_cli_process("build", cwd=project)
    assert third.returncode == 0 and "lab ok" in third.stderr, third.stderr
    page = (project / "reports/lab.html").read_text(encoding="utf-8")
    assert "The second wording." in page and "The first wording." not in page


def _lab_server(runtime: Path, proc: subprocess.Popen, timeout: float = 60) -> dict:
    """The running server's facts (url, token, root_dir) from the file Jupyter writes in its runtime folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for info in runtime.glob("jpserver-*.json"):
            try:
                return json.loads(info.read_text())
            except ValueError:
                pass  # being written
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    out, err = proc.communicate(timeout=10) if proc.poll() is not None else ("", "")
    raise AssertionError(f"JupyterLab did not start (exit {proc.poll()}): {out[-2000:]} {err[-2000:]}")


@pytest.mark.slow
def test_make_lab_opens_the_project_root(tmp_path):
    """`make lab` (headless here) serves the project root, so data/, reports.yml and notebooks/ are in Lab's
    file browser, and opens on notebooks/."""
    if not (ROOT / ".venv/bin/jupyter").exists():
        pytest.skip("make lab runs the project's .venv (make venv); this Python is not it")
    runtime = tmp_path / "runtime"
    args = "--no-browser --port=0" + (" --allow-root" if hasattr(os, "geteuid") and os.geteuid() == 0 else "")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    # -o: never reinstall the venv from here, whatever the stamp's age
    proc = subprocess.Popen(["make", "-s", "-o", ".venv/.installed-stamp", "lab", f"LAB_ARGS={args}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        info = _lab_server(runtime, proc)
        assert Path(info["root_dir"]).resolve() == ROOT.resolve(), info["root_dir"]
        with urllib.request.urlopen(f"{info['url']}api/contents?token={info['token']}", timeout=30) as r:
            names = {item["name"] for item in json.load(r)["content"]}
        assert {"data", "notebooks", "reports.yml"} <= names, names
        with urllib.request.urlopen(f"{info['url']}?token={info['token']}", timeout=30) as r:
            assert r.status == 200 and r.geturl().split("?")[0].endswith("/lab/tree/notebooks"), r.geturl()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # make and the server it started (their own process group)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
