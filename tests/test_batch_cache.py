"""Issue 18 (the no-op rebuild): the parsed batch file is remembered (``.ballotbook-cache/reports-yml.json``, by
the SHA-256 of its text and PyYAML's identity), so that a build whose reports.yml did not change does not import
PyYAML; and the kit's digest is taken with one walk of the package. What is remembered must be exactly what PyYAML
gives, every entry is still checked, and anything changed, odd or unreadable means parsing again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, identical, make_project, notebook_json
from helpers.core.errors import DataError
from helpers.pipeline import config
from helpers.pipeline.cache import helpers_digest

NOTEBOOK = notebook_json(("code", "x = n"), parameters="n = 1  # a number\n")


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path, "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {n: 2}\n",
                        {"r.ipynb": NOTEBOOK})
    monkeypatch.chdir(root)
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)
    return root


def record(root: Path) -> dict:
    return json.loads((root / ".ballotbook-cache" / config.PARSED).read_text(encoding="utf-8"))


def parses(monkeypatch) -> list[str]:
    """Count the batch file's YAML parses from here on."""
    seen: list[str] = []
    real = config.parse_yaml

    def counting(text, name, **kw):
        seen.append(name)
        return real(text, name, **kw)

    monkeypatch.setattr(config, "parse_yaml", counting)
    return seen


def test_an_unchanged_batch_file_is_parsed_once(project, monkeypatch):
    seen = parses(monkeypatch)
    first = config.load_config()
    second = config.load_config()
    assert len(seen) == 1
    assert [(j.name, j.parameters) for j in first] == [(j.name, j.parameters) for j in second] == [("r", {"n": 2})]
    assert list(record(project)["documents"].values()) == [{"reports": [
        {"name": "r", "notebook": "notebooks/r.ipynb", "parameters": {"n": 2}}]}]


def test_a_changed_batch_file_is_parsed_again_and_checked(project, monkeypatch):
    config.load_config()
    seen = parses(monkeypatch)
    (project / "reports.yml").write_text(
        "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {n: 3}\n", encoding="utf-8")
    assert [j.parameters for j in config.load_config()] == [{"n": 3}]
    assert len(seen) == 1
    (project / "reports.yml").write_text(
        "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {n: [1]}\n", encoding="utf-8")
    with pytest.raises(DataError, match="report 'r'"):
        config.load_config()


def test_a_remembered_document_is_still_checked(project, monkeypatch):
    """The record saves the parse, not the checks: a notebook removed since is still an error."""
    config.load_config()
    (project / "notebooks" / "r.ipynb").unlink()
    with pytest.raises(DataError, match="does not exist"):
        config.load_config()


def test_another_pyyaml_parses_again(project, monkeypatch):
    config.load_config()
    seen = parses(monkeypatch)
    monkeypatch.setattr(config, "_yaml_identity", lambda: "another PyYAML")
    config.load_config()
    assert len(seen) == 1
    assert record(project)["yaml"] == "another PyYAML"


@pytest.mark.parametrize("spoiled", ["", "{", "[]", '{"yaml": 1, "documents": []}', "\udcff"])
def test_a_spoiled_record_means_parsing_again(project, monkeypatch, spoiled):
    config.load_config()
    (project / ".ballotbook-cache" / config.PARSED).write_text(spoiled, encoding="utf-8", errors="surrogateescape")
    seen = parses(monkeypatch)
    assert [j.parameters for j in config.load_config()] == [{"n": 2}]
    assert len(seen) == 1
    config.load_config()
    assert len(seen) == 1  # and the record is whole again


def test_a_record_whose_document_has_the_wrong_shape_is_not_trusted(project, monkeypatch):
    config.load_config()
    data = record(project)
    for key in data["documents"]:
        data["documents"][key] = {"reports": "not a list"}
    (project / ".ballotbook-cache" / config.PARSED).write_text(json.dumps(data), encoding="utf-8")
    seen = parses(monkeypatch)
    assert [j.parameters for j in config.load_config()] == [{"n": 2}]
    assert len(seen) == 1


def test_a_document_with_a_date_is_parsed_every_time(project, monkeypatch):
    """YAML reads 2022-11-01 as a date, which JSON would give back as text: such a document is not kept."""
    (project / "reports.yml").write_text(
        "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    title: 2022-11-01\n", encoding="utf-8")
    seen = parses(monkeypatch)
    with pytest.raises(DataError):  # a title must be text: the schema words it
        config.load_config()
    (project / "reports.yml").write_text(
        "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {n: 2022-11-01}\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(DataError):
            config.load_config()
    assert len(seen) == 3
    assert not (project / ".ballotbook-cache" / config.PARSED).exists()


def test_the_record_keeps_the_newest_few(project):
    for n in range(config.KEEP_PARSED + 3):
        (project / "reports.yml").write_text(
            f"reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n    parameters: {{n: {n}}}\n", encoding="utf-8")
        config.load_config()
    documents = list(record(project)["documents"].values())
    assert [d["reports"][0]["parameters"]["n"] for d in documents] == list(range(3, config.KEEP_PARSED + 3))


def test_an_unwritable_cache_folder_only_costs_the_parse(project, monkeypatch):
    (project / ".ballotbook-cache").write_text("a file where the folder would be", encoding="utf-8")
    assert [j.parameters for j in config.load_config()] == [{"n": 2}]


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(plain)
def test_what_is_kept_reads_back_exactly(value):
    assert config._plain(value)
    try:
        text = json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate: not written (the record is left as it was)
    assert identical(json.loads(text.decode("utf-8")), value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), (1, 2), {1: "a"}, b"x", {"a": [set()]},
                                   __import__("datetime").date(2022, 11, 1)])
def test_values_json_would_change_are_not_plain(value):
    assert not config._plain(value)


def test_the_kit_digest_sees_every_source_and_template_and_nothing_else(tmp_path):
    package = tmp_path / "helpers"
    shutil.copytree(ROOT / "src" / "helpers", package, ignore=shutil.ignore_patterns("__pycache__"))
    first = helpers_digest(package)
    assert first == helpers_digest(package)
    assert helpers_digest(ROOT / "src" / "helpers") == first  # where the package is does not count
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "x.py").write_text("cached", encoding="utf-8")
    (package / "notes.txt").write_text("not the kit", encoding="utf-8")
    assert helpers_digest(package) == first
    deep = next(p for p in sorted(package.rglob("*.j2")) if len(p.relative_to(package).parts) > 2)
    for changed in (deep, package / "models" / "fitted.json", package / "pipeline" / "cache.py"):
        saved = changed.read_bytes()
        changed.write_bytes(saved + b" ")
        assert helpers_digest(package) != first, changed
        changed.write_bytes(saved)
    assert helpers_digest(package) == first
    (package / "pipeline" / "cache.py").rename(package / "pipeline" / "cache2.py")  # a renamed file
    assert helpers_digest(package) != first
