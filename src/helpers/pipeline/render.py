"""An executed notebook as one self-contained, shareable HTML page: outputs sanitised, code and the kit's own
cells removed, a header with the title and parameters and a footer with sources, through the ``ballotbook``
nbconvert template (``templates/ballotbook``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

#: Tag of the cell the kit appends to a report to record the files it read; never shown on the page.
INPUTS_TAG = "ballotbook-inputs"
#: The template folder handed to nbconvert.
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _report_title(nb, job_title: str | None) -> tuple[str, int | None]:
    """The report title (from reports.yml, else the notebook's first '# ' heading) and the index of the
    markdown cell holding that heading."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return (job_title or line[2:].strip()), i
            break
    return (job_title or "Report"), None


def sanitise_outputs(nb) -> None:
    """Make outputs safe to share: data-derived HTML and Markdown go through an allowlist sanitiser (no script,
    no event handlers, images only from data: URIs), script and SVG outputs are dropped, warnings on stderr are
    not shown, and the kit's own record outputs are removed."""
    import nh3
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from helpers.notebook import INPUTS_MIME, RECORD_MIME
    from helpers.views import ANSWER_ID

    tags = set(nh3.ALLOWED_TAGS) | {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "img",
                                    "h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "div", "br", "hr",
                                    "code", "pre", "sup", "sub", "figure", "figcaption", "colgroup", "col",
                                    "picture", "source"}
    attributes = {"*": {"class", "title", "colspan", "rowspan", "align"}, "img": {"src", "alt", "width",
                                                                                   "height"},
                  "source": {"srcset", "media", "width", "height"}, "td": {"data-label"}, "a": {"href"},
                  "div": {"id"}}

    def keep_attr(tag, attr, value):
        if attr == "id":  # one id only: the bottom-line box (helpers.views.tables.answer); data never names one
            return value if tag == "div" and value == ANSWER_ID else None
        if tag in ("img", "source") and attr in ("src", "srcset") and not (
                value.startswith("data:image/") and " " not in value.strip() if attr == "srcset" else
                value.startswith("data:image/")):
            return None  # nothing in a report may load from a network or a local file (one srcset URL only)
        return value

    def clean(markup: str) -> str:
        return nh3.clean(markup, tags=tags, attributes=attributes, attribute_filter=keep_attr,
                         url_schemes={"http", "https", "mailto", "data"}, link_rel="noopener noreferrer")

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                if out.get("name") == "stdout":
                    kept.append(out)
                continue
            if out.get("output_type") == "error":
                continue
            data = out.get("data")
            if data is None:
                kept.append(out)
                continue
            if RECORD_MIME in data or INPUTS_MIME in data:
                continue
            for mime in list(data):
                if mime in ("application/javascript", "text/javascript", "image/svg+xml", "text/latex") or \
                        mime.startswith("application/vnd.jupyter.widget") or mime.endswith("+json"):
                    del data[mime]
            if "text/markdown" in data:
                data["text/html"] = clean(markdown2html_mistune(data.pop("text/markdown")))
            elif "text/html" in data:
                value = data["text/html"]
                data["text/html"] = clean("".join(value) if isinstance(value, list) else value)
            if any(k in data for k in ("text/html", "image/png", "image/jpeg")):
                data.pop("text/plain", None)  # shown instead of nothing only
            if data:
                kept.append(out)
        cell.outputs = kept


def render_html(nb, meta: dict) -> str:
    """The executed notebook as one self-contained HTML page: no code, no network, escaped header."""
    sanitise_outputs(nb)
    title, heading_cell = _report_title(nb, meta.get("title"))
    meta = {**meta, "title": title}
    if heading_cell is not None:  # the header shows the title; the question stays as the first paragraph
        cell = nb.cells[heading_cell]
        lines = cell.source.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("# "))
        cell.source = "\n".join(lines[:first] + lines[first + 1:]).strip()
    nb.cells = [c for c in nb.cells if not ({"injected-parameters", INPUTS_TAG, "remove"} &
                                            set(c.metadata.get("tags", [])))]
    nb.metadata["title"] = title
    nb.metadata["ballotbook"] = meta
    body, _ = _exporter().from_notebook_node(nb)
    return body


#: What nbconvert's HTML exporter does to a page after its template (with BeautifulSoup): an image without
#: alternative text gets this one, and every cell's input and output area is made focusable (``tabindex="0"``).
NO_ALT = "No description has been provided for this image"
FOCUSABLE = ("jp-Cell-inputWrapper", "jp-OutputArea-output")
# A comment, a script or style element (left as they are), or the start tag of an img or div with its attributes.
_TAG = re.compile(r"""<!--.*?-->|<(script|style)\b.*?</\1\s*>"""
                  r"""|<(img|div)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)(\s*/?)>""",
                  re.S | re.I)
_ATTRIBUTE = re.compile(r"""\s+([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def accessible(page: str) -> str:
    """`page` with what nbconvert's exporter adds after its template (:data:`NO_ALT`, :data:`FOCUSABLE`), added
    to the start tags themselves instead of by parsing the whole page and writing it out again: the same
    document (tests/test_render_accessible.py compares them), in a tenth of the time (0.07 s a page, and 0.15 s
    of compiling CSS selectors in every process that renders)."""

    def fix(match):
        tag, attributes, end = match.group(2), match.group(3), match.group(4)
        if tag is None:
            return match.group(0)
        names = {m.group(1).lower(): m for m in _ATTRIBUTE.finditer(attributes)}
        if tag.lower() == "img":
            return match.group(0) if "alt" in names else f'<{tag}{attributes} alt="{NO_ALT}"{end}>'
        value = names["class"].group(2) or "" if "class" in names else ""
        if not set(value.strip("\"'").split()) & set(FOCUSABLE):
            return match.group(0)
        if "tabindex" in names:
            old = names["tabindex"]
            attributes = attributes[:old.start()] + attributes[old.end():]
        return f'<{tag}{attributes} tabindex="0"{end}>'

    return _TAG.sub(fix, page)


_EXPORTER = None


def _exporter():
    """The page exporter (:func:`make_exporter`), made once per process: nbconvert exporters are made to
    convert many notebooks, and a new one would compile its templates again for every report."""
    global _EXPORTER
    if _EXPORTER is None:
        _EXPORTER = make_exporter()
    return _EXPORTER


def make_exporter(stock: bool = False):
    """A page exporter: nbconvert's HTML exporter with the ``ballotbook`` template, no code and no prompts, and
    two of its steps done more cheaply, to the same page: what it adds after the template (:func:`accessible`),
    and checking the notebook against the notebook format once, after the last preprocessor, instead of after
    each of them (a dozen times a page). `stock`: nbconvert's exporter itself, with the same settings (what the
    tests compare the pages with)."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    exporter_class = HTMLExporter
    if not stock:
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        class PageExporter(HTMLExporter):
            def from_notebook_node(self, nb, resources=None, **kw):
                # HTMLExporter.from_notebook_node, with accessible() instead of its BeautifulSoup pass
                langinfo = nb.metadata.get("language_info", {})
                lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
                highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
                resources = self._init_resources(resources)
                filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                         resources=resources)
                self.register_filter("highlight_code", highlight_code)
                self.register_filter("filter_data_type", filter_data_type)
                page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
                return accessible(page), resources

            def _validate_preprocessor(self, nbc, preprocessor):
                if preprocessor is self._preprocessors[-1]:
                    super()._validate_preprocessor(nbc, preprocessor)

        exporter_class = PageExporter
    config = Config()
    config.CSSHTMLHeaderPreprocessor.enabled = False  # code highlighting CSS: a report shows no code
    exporter = exporter_class(config=config, template_name="ballotbook", extra_template_basedirs=[str(TEMPLATES)],
                              exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                              embed_images=False, sanitize_html=False)
    cache = _compiled_templates()
    if cache is not None:
        exporter.environment.bytecode_cache = cache
    return exporter


def _compiled_templates():
    """Jinja's cache of compiled templates in the project's cache folder (``.ballotbook-cache/templates``,
    git-ignored): compiling the page's templates took a worker's first page 0.15 s. A template whose source
    changed, or another Python, is compiled again (Jinja checks both); files are written whole, so workers
    share it safely. None where there is no project or the folder cannot be made (nothing is cached then)."""
    from helpers.core import paths

    root = paths.find_root()
    if root is None:
        return None
    folder = root / paths.CACHE / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    from jinja2 import FileSystemBytecodeCache

    return FileSystemBytecodeCache(str(folder))


#: Tag of the cells papermill adds to a notebook that stopped with an error (a red banner linking the cell).
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"


def executed_failure(nb) -> str | None:
    """How an executed notebook failed, from its first error output ("cell 3 raised ZeroDivisionError:
    division by zero"), or None when no cell raised."""
    for i, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else ():
            if out.get("output_type") == "error":
                where = f"cell {cell.get('execution_count') or i}"
                return f"{where} raised {out.get('ename') or 'an error'}: {out.get('evalue') or ''}".strip()[:600]
    return None


def _error_notice(text: str):
    """An output that shows an error as text on the page (escaped, then sanitised as every output is)."""
    import html

    import nbformat

    return nbformat.v4.new_output("display_data", data={"text/html": f"<p><strong>{html.escape(text)}</strong></p>"})


def _markdown_as_outputs(nb, title: str | None) -> str:
    """Markdown cells of a notebook made outside the kit, turned into Markdown outputs, so that they go through
    the sanitiser as data does (a built report's Markdown is the project's own; this one's may not be: raw HTML
    in it, such as a script or an event handler, is removed). Returns the title: `title`, else the first
    Markdown cell's '# ' heading, which leaves its cell as :func:`render_html` takes it from a built report's."""
    import nbformat

    found, heading = _report_title(nb, title)
    if heading is not None:
        lines = nb.cells[heading].source.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("# "))
        nb.cells[heading].source = "\n".join(lines[:first] + lines[first + 1:]).strip()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            shown = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
                "display_data", data={"text/markdown": cell.source})] if cell.source.strip() else [])
            shown.metadata["tags"] = list(cell.metadata.get("tags", []))
            nb.cells[i] = shown
    return found


def render_executed(path: str | Path, title: str | None = None) -> tuple[str, str | None]:
    """A notebook executed outside the kit (papermill, Airflow's PapermillOperator, JupyterLab) as the kit's
    page, through :func:`render_html`: its header (title, data as-of from the kit's record when the notebook
    carries one, else "not stated"), the same sanitiser and Content-Security-Policy, no code, and a footer with
    what is known (parameters and run time from papermill's metadata, seed and sources from the record).

    Returns (page, failure): `failure` says which cell raised when the notebook stopped with an error; the page
    then shows that error where it happened and above the first cell. DataError (exit 2) for a file that is not
    a notebook or was never executed."""
    import nbformat

    from helpers import __version__
    from helpers.core import paths
    from helpers.core.errors import DataError
    from helpers.notebook import read_record
    from helpers.pipeline.parameters import _read_notebook
    from helpers.pipeline.publish import now

    name = paths.display(path)
    raw = _read_notebook(Path(path))  # a regular file, not too large, JSON of the shape of a v4 notebook
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)  # sources and texts joined from their lists of lines
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat's ValidationError, or what a malformed field raises
        first = (str(getattr(exc, "message", "") or exc).splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(f"notebook {name} is not a valid Jupyter notebook: {first}.") from None
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not any(c.get("outputs") or c.get("execution_count") is not None for c in code):
        raise DataError(f"notebook {name} has not been executed (no code cell has an output or an execution "
                        "count): run it first, e.g. with papermill, or use 'ballotbook run' to run and render it.")
    failure = executed_failure(nb)
    nb.cells = [c for c in nb.cells if PAPERMILL_ERROR_TAG not in c.metadata.get("tags", [])]
    if failure:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [_error_notice(f"This cell failed: {o.get('ename') or 'error'}: {o.get('evalue') or ''}")
                                if o.get("output_type") == "error" else o for o in cell.outputs]
        notice = nbformat.v4.new_code_cell(outputs=[_error_notice(
            f"This notebook stopped with an error: {failure}. The page shows what it produced up to there.")])
        nb.cells.insert(0, notice)  # before the title cell: the title is still the first Markdown heading
    title = _markdown_as_outputs(nb, title)
    try:
        record = read_record(nb)
    except (ValueError, TypeError):
        record = {}
    record = record if isinstance(record, dict) else {}
    papermill = nb.metadata.get("papermill") if isinstance(nb.metadata.get("papermill"), dict) else {}
    given = papermill.get("parameters") if isinstance(papermill.get("parameters"), dict) else {}
    used = record.get("used") if isinstance(record.get("used"), dict) else {}
    shown = {str(k): json.dumps(used.get(k, v), ensure_ascii=False, default=str) for k, v in given.items()}
    sources = record.get("sources") if isinstance(record.get("sources"), list) else []
    ran = papermill.get("end_time")
    source = papermill.get("input_path")
    meta = {"title": title, "as_of": record.get("as_of") if isinstance(record.get("as_of"), str) else None,
            "parameters": shown, "seed": record.get("seed"), "sources": [str(s) for s in sources],
            "built": f"run {ran if isinstance(ran, str) else 'at a time not stated'} outside the kit, "
                     f"rendered {now()}",
            "version": __version__, "commit": None,
            "notebook": name + (f" (run from {source})" if isinstance(source, str) and source else ""),
            "inputs": []}
    return render_html(nb, meta), failure
