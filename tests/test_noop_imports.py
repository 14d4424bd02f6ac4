"""A no-op rebuild (every report up to date) checks each report's cache key and exits without importing the
heavy libraries (pandas, numpy, matplotlib, papermill, nbformat, nbconvert, jupyter_client, jsonschema), nor
PyYAML (its reports.yml parsed before: test_batch_cache.py) or filelock (the lock is ``fcntl``'s: test_build_lock.py),
while a changed data file, notebook or parameter is still seen and rebuilt."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, make_project, notebook_json, run_cli_process

HEAVY = ("pandas", "numpy", "matplotlib", "papermill", "nbformat", "nbconvert", "jupyter_client", "jsonschema",
         "yaml", "filelock")

#: Runs the real command line in a fresh interpreter and prints, as its last stdout line, the heavy top-level
#: packages it imported.
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['ballotbook'] + sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module('helpers.cli', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    "sys.exit(code)\n"
)

NOTEBOOK = notebook_json(
    ("code", "from helpers import data, notebook\nnotebook.start()\nframe = data.load_events(events)\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'n': n, 'rows': len(frame)})"),
    ("md", "Done."),
    parameters='events: "events file" = "data/events.csv"  # the events\nn = 1  # a number\n'
               'rules: "rules file" = "data/tweede-kamer/rules.yml"  # another subject\'s rules: the index reads them',
)


def probe(project, *args) -> tuple[subprocess.CompletedProcess, list[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, "build", *args], cwd=project, capture_output=True,
                          text=True, timeout=600)
    return proc, json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("noop")
    project = make_project(tmp, "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {n: 2}\n",
                           {"r.ipynb": NOTEBOOK}, {"data/events.csv": ROOT / "data" / "events.csv",
                                                   "data/tweede-kamer/rules.yml": ROOT / "data/tweede-kamer/rules.yml",
                                                   "data/tweede-kamer/parties.csv":
                                                       ROOT / "data/tweede-kamer/parties.csv"})
    first = run_cli_process("build", cwd=project, timeout=600)
    assert first.returncode == 0, first.stderr
    assert (project / "reports" / "r.html").is_file()
    assert "Tweede Kamer" in (project / "reports" / "index.html").read_text(encoding="utf-8")  # grouped by rules
    return project


def test_the_probe_sees_heavy_imports(built):
    """The check can fail: a build that has a report to run imports pandas when its data file is loaded (with no
    record of a check that passed: a first build, or a file changed since; pipeline/checked.py)."""
    (built / ".ballotbook-cache" / "checked.json").unlink()
    proc, heavy = probe(built, "--dry-run", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "pandas" in heavy


def test_a_forced_rebuild_of_unchanged_reports_loads_no_data_file_first(built):
    """The check of a report whose files and everything else are as when its check passed is not made again
    (pipeline/checked.py): the build's own process does not load the data file, so imports no pandas."""
    proc, _ = probe(built, "--dry-run", "--force")  # a check that passes, recorded
    assert proc.returncode == 0, proc.stderr
    proc, heavy = probe(built, "--dry-run", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "would be rebuilt" in proc.stdout and heavy == [], heavy


def test_a_noop_rebuild_imports_nothing_heavy(built):
    index = built / "reports" / "index.html"
    before = index.stat().st_mtime_ns
    proc, heavy = probe(built)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stderr
    assert heavy == []
    assert index.stat().st_mtime_ns == before  # nothing changed: the index is left as it is


def test_a_build_that_runs_a_report_imports_nothing_heavy_in_its_own_process(tmp_path):
    """The workers run and render the report; what they hand back to the build (the manifest, with the notebook's
    recorded outputs) is plain data, so the build's process does not import nbformat (nor jsonschema with it) to
    read it; pipeline/checked.py spares it pandas; and the index takes another subject's name from its rules file
    without loading its party registry (pandas) or its schema (jsonschema)."""
    notebook = notebook_json(
        ("code", "from helpers import data, notebook\nnotebook.start()\nframe = data.load_events(events)\n"
                 "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'rows': len(frame)})"),
        parameters='events: "events file" = "data/events.csv"  # the events\n'
                   'rules: "rules file" = "data/tweede-kamer/rules.yml"  # another subject\'s rules\n')
    project = make_project(tmp_path, "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n",
                           {"r.ipynb": notebook}, {"data/events.csv": ROOT / "data" / "events.csv",
                                                   "data/tweede-kamer/rules.yml": ROOT / "data/tweede-kamer/rules.yml",
                                                   "data/tweede-kamer/parties.csv":
                                                       ROOT / "data/tweede-kamer/parties.csv"})
    proc, _ = probe(project, "--dry-run")  # the check, recorded
    assert proc.returncode == 0, proc.stderr
    proc, heavy = probe(project)
    assert proc.returncode == 0, proc.stderr
    assert "[1/1] r ok" in proc.stderr
    assert [m for m in heavy if m != "yaml"] == []  # (the rules file is YAML: its name is read with PyYAML)
    manifest = json.loads((project / "reports" / "r.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) == {"rows"} and manifest["outputs"]["rows"] > 0
    assert "<h2>Tweede Kamer (House of Representatives)</h2>" in (project / "reports" / "index.html").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("change", ["data", "notebook", "parameter"])
def test_a_change_is_still_seen(built, tmp_path, change):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    if change == "data":
        os.utime(project / "data" / "events.csv")  # touching alone changes nothing: the content must
        proc, heavy = probe(project, "--dry-run")
        assert "up to date" in proc.stdout and heavy == []
        lines = (project / "data" / "events.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        (project / "data" / "events.csv").write_text("".join(lines[:-1]), encoding="utf-8")  # one event fewer
        reason = "input file data/events.csv changed"
    elif change == "notebook":
        nb = json.loads((project / "notebooks" / "r.ipynb").read_text(encoding="utf-8"))
        nb["cells"][-1]["source"] = "Done, again."
        (project / "notebooks" / "r.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        reason = "notebook changed"
    else:
        (project / "reports.yml").write_text(
            "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {n: 3}\n", encoding="utf-8")
        reason = "parameters changed"
    proc, _ = probe(project, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "rebuild: " in proc.stdout and reason in proc.stdout
    if change != "data":  # the dry run is the build's own plan; one real rebuild shows the plan is followed
        return
    built_again = run_cli_process("build", cwd=project, timeout=600)
    assert built_again.returncode == 0, built_again.stderr
    assert "up to date" not in built_again.stderr
    assert "[1/1] r ok" in built_again.stderr


def test_a_bad_batch_file_is_still_worded_by_the_schema(tmp_path):
    from helpers.data import schema
    from helpers.pipeline.config import shape_ok

    good = {"reports": [{"name": "a", "notebook": "n.ipynb", "title": None, "parameters": [{"x": 1}]}]}
    bad = [
        {}, {"reports": {}}, {"reports": [1]}, {"reports": [{"name": "a"}]},
        {"reports": [{"name": " ", "notebook": "n.ipynb"}]}, {"reports": [{"name": 1, "notebook": "n.ipynb"}]},
        {"reports": [{"name": "a", "notebook": "n.ipynb", "extra": 1}]},
        {"reports": [{"name": "a", "notebook": "n.ipynb", "title": 3}]},
        {"reports": [{"name": "a", "notebook": "n.ipynb", "parameters": "x"}]},
        {"reports": [{"name": "a", "notebook": "n.ipynb", "parameters": [1]}]},
    ]
    for doc in [good, *bad]:
        by_schema = not list(schema.validator("reports").iter_errors(doc))
        assert shape_ok(doc) == by_schema, doc


def test_a_command_imports_only_its_own_module(built):
    code = ("import sys; from helpers import cli; code = cli.main(['build']); "
            "print(sorted(m for m in sys.modules if m.startswith('helpers.cli.commands.'))); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=built, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['helpers.cli.commands.build']"
    # the top-level help still lists every command (each module imported for its summary line)
    from helpers import cli

    helped = subprocess.run([sys.executable, "-m", "helpers.cli", "--help"], capture_output=True, text=True)
    listed = re.findall(r"^    (\S+)", helped.stdout + helped.stderr, re.M)
    assert [n for n in listed if n in cli.COMMANDS] == list(cli.COMMANDS)


def _render_script(path, then: str = "print(page)") -> str:
    """A Python script that renders the executed notebook at `path` to a page (``page``), then runs `then`."""
    return ("import sys; sys.modules['rfc3987_syntax'] = None\n"
            "import nbformat\nfrom helpers.pipeline.render import render_html\n"
            f"page = render_html(nbformat.read({str(path)!r}, as_version=4), {{'title': 'A page', 'as_of': None, "
            "'parameters': {}, 'seed': None, 'sources': [], 'built': '', 'version': '', 'commit': '', "
            f"'notebook': 'page.ipynb', 'inputs': []}})\n{then}\n")


def test_rendering_a_page_imports_no_pandas(tmp_path):
    """A pool worker renders every page it builds: rendering (sanitising included) must not pull pandas,
    numpy or matplotlib into it (0.3 s a worker; the kernels have them, the worker does not need them)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# A page\n\nA question."))
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": '<div class="bb-answer" id="answer">'
                                                                           "<p>Yes.</p></div>"})]
    nb.cells.append(cell)
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, str(path))
    heavy = "{'pandas', 'numpy', 'matplotlib'}"
    code = _render_script(path, "assert 'id=\"answer\"' in page\n"
                                f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_a_digest_is_remembered_only_while_its_file_is_unchanged(tmp_path):
    """A build plans twice; the second time it reads again only files whose stat signature changed (same
    size and a modification time set back included: the change time still moves)."""
    from helpers.pipeline import cache

    f = tmp_path / "data.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    first = cache.sha256_file(f)
    assert cache.sha256_file(f) == first == cache.file_sha256(f)
    st = f.stat()
    f.write_text("a,b\n1,3\n", encoding="utf-8")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old modification time
    assert cache.sha256_file(f) == cache.file_sha256(f) != first


def test_compiled_page_templates_are_kept_in_the_project_and_give_the_same_page(tmp_path):
    """A worker's first page compiled the page's templates (0.15 s): they are kept compiled in the project's
    cache folder; a page rendered with them is the page rendered without."""
    import nbformat

    project = make_project(tmp_path / "project", "reports: []\n")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# A page\n\nA question."))
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, str(path))
    code = _render_script(path)
    pages = []
    for root in (project, project, tmp_path):  # compiled, from the cache, and outside any project (no cache)
        env = {**os.environ, "BALLOTBOOK_ROOT": str(root) if root == project else ""}
        proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                              env=env)
        assert proc.returncode == 0, proc.stderr
        pages.append(proc.stdout)
        if len(pages) == 1:
            assert list((project / ".ballotbook-cache" / "templates").glob("*.cache"))
    assert pages[0] == pages[1] == pages[2]
    assert not (tmp_path / ".ballotbook-cache").exists()
