"""The report batch file, ``reports.yml``: which reports to build, from which notebook, with which parameters.

:func:`load_config` reads and checks every entry (keys, notebook, parameter names and values, report names)
before anything runs, and expands an entry with a list of parameter sets into one :class:`Job` per set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import schema
from helpers.data._table import excerpt, parse_yaml, read_yaml_text
from helpers.pipeline.parameters import Parameter, read_parameters, validate


@dataclass
class Job:
    """One report to build: where it comes from and what it runs with."""

    name: str
    notebook: str                      # as written (relative to the project root, or absolute)
    title: str | None = None
    parameters: dict = field(default_factory=dict)   # given values, validated and typed
    declared: dict[str, Parameter] = field(default_factory=dict, repr=False)

    @property
    def notebook_path(self) -> Path:
        return paths.resolve(self.notebook)

    def all_parameters(self) -> dict:
        """Defaults overlaid with the given values: what the notebook runs with."""
        out = {k: p.default for k, p in self.declared.items()}
        out.update(self.parameters)
        return out


def load_config(path: str | Path = "reports.yml") -> list[Job]:
    """Read the report batch: every entry checked (keys, notebook, parameter names and types, unique names).

    An entry whose ``parameters`` is a list produces one report per parameter set; its name is formatted with
    the set's values (``thresholds-{as_of}``)."""
    p = paths.resolve(path)
    name = paths.display(p)
    text = read_yaml_text(p, "a report batch file (reports.yml)")
    key = _digest(text)
    doc = _remembered(key)
    if doc is None or not shape_ok(doc):
        doc, root = parse_yaml(text, name, tree=True)
        if not shape_ok(doc):  # jsonschema (~0.1 s to import) only to word what is wrong
            schema.check(doc, "reports", name, root)  # the shape: keys, types (schemas/reports.schema.json)
        _remember(key, doc)
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    parsed: dict[Path, dict[str, Parameter]] = {}  # a notebook behind several entries is read once
    for i, entry in enumerate(doc["reports"], start=1):
        here = f"{name}, report '{excerpt(entry['name'], 40)}'"
        nb_path = paths.resolve(entry["notebook"])
        if not nb_path.is_file():
            what = "is not a regular file" if nb_path.exists() else "does not exist"
            raise DataError(f"{here}: notebook {entry['notebook']} {what}.")
        title = entry.get("title")
        sets = entry.get("parameters") or {}
        if isinstance(sets, dict):
            sets = [sets]
        declared = parsed[nb_path] if nb_path in parsed else parsed.setdefault(nb_path, read_parameters(nb_path))
        for given in sets or [{}]:
            try:
                values = validate(nb_path, given, declared=declared)
            except DataError as exc:
                raise DataError(f"{here}: {exc}") from None
            fields = _name_fields(entry["name"], here, declared)
            report_name = entry["name"].format_map({f: values.get(f, declared[f].default) for f in fields})
            if len(report_name) > MAX_NAME:
                raise DataError(f"{here}: report name '{excerpt(report_name)}' has {len(report_name):,} "
                                f"characters; at most {MAX_NAME} are allowed (it names files).")
            if not safe_name(report_name):
                raise DataError(f"{here}: report name '{excerpt(report_name)}' may hold only letters, digits, "
                                "'.', '_' and '-'.")
            if _reserved(report_name):
                raise DataError(f"{here}: report name '{report_name}' is reserved (index.html is the index page; "
                                "CON, NUL and the like are device names); choose another name.")
            if report_name in seen:
                raise DataError(f"{name}: report name '{report_name}' is used twice (reports {seen[report_name]} "
                                f"and {i}); names must be unique.")
            seen[report_name] = i
            jobs.append(Job(report_name, entry["notebook"], title, values, declared))
    return jobs


#: The keys a report entry may have (schemas/reports.schema.json, "additionalProperties": false).
_ENTRY_KEYS = frozenset({"name", "notebook", "title", "parameters"})


def shape_ok(doc) -> bool:
    """Whether a batch file's document has the shape schemas/reports.schema.json requires, checked in plain
    Python so that a well-formed file (every build, no-ops included) does not import jsonschema. It is never
    more lenient than the schema: False sends the document to :func:`helpers.data.schema.check`, which words
    the problem (tests/test_noop_imports.py holds the two to the same answers)."""
    import re

    def text(v) -> bool:
        return isinstance(v, str) and re.search(r"\S", v) is not None

    if not isinstance(doc, dict) or not isinstance(doc.get("reports"), list):
        return False
    for entry in doc["reports"]:
        if not isinstance(entry, dict) or not set(entry) <= _ENTRY_KEYS or not text(entry.get("name")) \
                or not text(entry.get("notebook")):
            return False
        if entry.get("title") is not None and not isinstance(entry["title"], str):
            return False
        sets = entry.get("parameters")
        if sets is not None and not isinstance(sets, dict) and not (
                isinstance(sets, list) and all(isinstance(s, dict) for s in sets)):
            return False
    return True


#: Most characters in a report name (it names reports/<name>.html and .json; file names hold 255 bytes).
MAX_NAME = 120


def _name_fields(template: str, here: str, declared: dict[str, Parameter]) -> set[str]:
    """The parameters a report name template substitutes (``thresholds-{as_of}``). Only plain fields are
    allowed: ``{name}`` of a parameter of the notebook, with no attribute or index (``{as_of.year}``,
    ``{x[0]}``), position (``{0}``, ``{}``), conversion (``{x!r}``) or format spec (``{x:>9}``); DataError
    otherwise, so a template can neither reach into a value nor build a huge name."""
    import string

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DataError(f"{here}: the name is not a valid template ({exc}); write a parameter as {{name}} and "
                        "a brace as {{ or }}.") from None
    fields = set()
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if not field_name.isidentifier() or conversion is not None or spec:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise DataError(f"{here}: the name's field '{excerpt(shown, 40)}' is not a plain parameter name; a "
                            "name may only substitute parameters as {name} (no '.', '[', '!' or ':').")
        if field_name not in declared:
            raise DataError(f"{here}: the name refers to '{excerpt(field_name, 40)}', which is not a parameter "
                            "of the notebook.")
        fields.add(field_name)
    return fields


def safe_name(name: str) -> bool:
    """Whether `name` may name a report's files: letters, digits, '.', '_' and '-', not starting with '.' or
    '-'."""
    return bool(name) and name[0] not in ".-" and all(c.isalnum() or c in "._-" for c in name)


#: Report names the kit keeps for itself: ``index`` (the index page) and the device names that Windows and SMB
#: shares cannot hold as files; compared without case, for case-insensitive file systems.
RESERVED_NAMES = frozenset({"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                            *(f"lpt{i}" for i in range(10))})


def _reserved(name: str) -> bool:
    return name.lower() in RESERVED_NAMES or name.split(".")[0].lower() in RESERVED_NAMES - {"index"}


# ------------------------------------------------------------------------------------- the parsed batch file
#: Parsed batch files, in the project's cache folder (git-ignored): {"yaml": PyYAML's identity, "documents":
#: {SHA-256 of the text: document}}. A build whose reports.yml is unchanged does not import PyYAML (a tenth of a
#: no-op rebuild); the entries are checked in full all the same. Only a document of plain JSON values (text,
#: whole and finite numbers, true/false/null, lists, mappings with text keys) is kept, so that it reads back
#: exactly as PyYAML gave it; a date, say, is parsed every time.
PARSED = "reports-yml.json"
#: How many parsed versions the record keeps (the newest).
KEEP_PARSED = 4


def _yaml_identity() -> str | None:
    """Where PyYAML is installed and its file's size and time: another PyYAML may read a file differently."""
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("yaml")
        st = os.stat(spec.origin)
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        return None
    return f"{spec.origin}:{st.st_size}:{st.st_mtime_ns}"


def _plain(value, depth: int = 0) -> bool:
    import math

    if depth > 64:
        return False
    if value is None or type(value) in (str, bool, int):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list:
        return all(_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def _parsed_record() -> tuple[Path | None, dict]:
    import json

    root = paths.find_root()
    if root is None:
        return None, {}
    where = root / paths.CACHE / PARSED
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return where, {}
    return where, record if isinstance(record, dict) and isinstance(record.get("documents"), dict) else {}


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _remembered(key: str):
    """The document of the text whose :func:`_digest` is `key`, as PyYAML gave it before (None when not
    recorded, or PyYAML changed since)."""
    _, record = _parsed_record()
    identity = _yaml_identity()
    if not record or identity is None or record.get("yaml") != identity:
        return None
    doc = record["documents"].get(key)
    return doc if _plain(doc) else None


def _remember(key: str, doc) -> None:
    """Record `doc` as the document of the text whose :func:`_digest` is `key`, when it is plain JSON data. A
    folder that cannot be written is left as it is: the record only saves time."""
    import json

    identity = _yaml_identity()
    where, record = _parsed_record()
    if where is None or identity is None or not _plain(doc):
        return
    documents = record.get("documents", {}) if record.get("yaml") == identity else {}
    documents.pop(key, None)  # the newest last
    documents[key] = doc
    kept = dict(list(documents.items())[-KEEP_PARSED:])
    try:
        from helpers.pipeline.publish import atomic_write

        where.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(where, json.dumps({"yaml": identity, "documents": kept}, ensure_ascii=False).encode("utf-8"))
    except (OSError, ValueError):  # (a lone surrogate written as an escape cannot be UTF-8)
        pass
