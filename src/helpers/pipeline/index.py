"""The index page, ``<out>/index.html``: every report of the batch with its status and a link to its last good
page, read from the manifests."""

from __future__ import annotations

import html
import re
from pathlib import Path

from helpers import __version__
from helpers.pipeline.publish import FAILED, atomic_write, now, read_manifest
from helpers.views.words import human_date


def subject(notebook) -> str:
    """The subject a report belongs to, from its notebook's file name: '01_poll_thresholds.ipynb' is 'Poll
    thresholds'. Reports of one notebook are one subject."""
    stem = Path(str(notebook or "")).stem
    words = re.sub(r"^\d+[_-]*", "", stem).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "Other reports"


def subject_of(manifest: dict) -> str:
    """The group a report is listed under: its notebook's subject (:func:`subject`), or, for a report run under
    another subject's rules than the project's (its ``rules`` parameter names another rules file), that
    subject's body ('Tweede Kamer (House of Representatives)'), so one subject's reports stand together."""
    from helpers.core import paths
    from helpers.core.errors import DataError

    rules = (manifest.get("parameters") or {}).get("rules") if isinstance(manifest.get("parameters"), dict) else None
    if isinstance(rules, str) and rules.strip() and Path(rules).as_posix() != paths.RULES:
        from helpers.data.rules import rules_name  # its name only: the build checked the file before it ran

        try:
            return rules_name(rules)
        except (DataError, OSError):
            return rules
    return subject(manifest.get("notebook"))


def answer_line(page: str, limit: int = 240) -> str:
    """The first sentences of a report's bottom line (the box with id="answer"), as plain text of at most
    `limit` characters, cut at a sentence end where there is one; '' when the page has no answer box."""
    from helpers.core.text import one_line

    m = re.search(r'<div class="bb-answer" id="answer">(.*?)</div>', page, re.S)
    if not m:
        return ""
    first = re.search(r"<p>(.*?)</p>", m.group(1), re.S)
    text = one_line(html.unescape(re.sub(r"<[^>]+>", "", first.group(1) if first else m.group(1)))).strip()
    text = re.sub(r"\s+([.,;:)])", r"\1", re.sub(r"\s+", " ", text))
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > 40 else text[: limit - 1].rstrip() + "…"


def write_index(out: Path, names: list[str]) -> None:
    """reports/index.html: the reports grouped by subject (their notebook, or the body of the rules they ran
    under when those are not the project's: :func:`subject_of`), each with its title, link and the first
    line of its answer, the date of its data and of its last good build in words, and its status; a failed
    report shows its error (and links its executed notebook, ``failed/<name>.ipynb``) while its last good HTML
    stays linked. Self-contained, escaped, one column on a phone."""
    esc = html.escape
    groups: dict[str, list[str]] = {}
    for name in names:
        m = read_manifest(out, name) or {}
        status = str(m.get("status", "not built"))
        good = m.get("last_good") or {}
        good = good if isinstance(good, dict) else {}
        title = str(m.get("title") or name)
        target = str(good.get("html", name + ".html"))
        link = (f'<a href="{esc(target)}">{esc(title)}</a>' if good and (out / target).exists() and
                "/" not in target and not target.startswith(".") else esc(title))
        error = ""
        if status == "failed" and m.get("error"):
            kept = m.get("failed_notebook")
            kept_link = (f' · <a href="{esc(kept)}">the executed notebook</a>' if isinstance(kept, str) and
                         kept == f"{FAILED}/{name}.ipynb" and (out / kept).is_file() else "")
            error = f'<div class="err">{esc(str(m["error"]))}{kept_link}</div>'
        answer = f'<div class="a">{esc(str(m["answer"]))}</div>' if m.get("answer") else ""
        facts = [f'<span class="st">{esc(status)}</span>']
        if m.get("as_of"):
            facts.append(f"data as of {esc(human_date(m.get('as_of')))}")
        facts.append(f"built {esc(human_date(good.get('built')))}" if good.get("built") else "never built")
        groups.setdefault(subject_of(m), []).append(
            f'<li class="{esc(status)}"><div class="t">{link}</div>{answer}{error}'
            f'<div class="m">{" · ".join(facts)} · <code>{esc(name)}</code></div></li>')
    sections = "\n".join(f'<section><h2>{esc(g)}</h2><ul>{"".join(items)}</ul></section>'
                         for g, items in groups.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ballotbook reports</title>
<style>
body {{ font: 16px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; color: #222; margin: 0; }}
main {{ max-width: 1000px; margin: 0 auto; padding: 1.5rem; }}
h2 {{ font-size: 1.2rem; margin: 1.6rem 0 0.4rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }}
ul {{ list-style: none; padding: 0; margin: 0; }} li {{ padding: 0.55rem 0; border-bottom: 1px solid #eee; }}
.t {{ font-weight: 600; overflow-wrap: anywhere; }} .m {{ color: #555; font-size: 0.88rem; overflow-wrap: anywhere; }}
.st {{ font-weight: 600; }} li.ok .st {{ color: #1b5e20; }} li.failed .st {{ color: #b71c1c; }}
.a {{ margin: .15rem 0; font-size: .95rem; overflow-wrap: anywhere; }}
.err {{ color: #b71c1c; font-size: .85rem; margin-top: .2rem; overflow-wrap: anywhere; }}
@media (max-width: 640px) {{ main {{ padding: 1rem 0.75rem; }} h1 {{ font-size: 1.5rem; }} }}
</style></head><body><main>
<h1>ballotbook reports</h1>
<p>Updated {esc(human_date(now()))} by ballotbook {esc(__version__)}. A failed report keeps its last good
version linked; its error is shown under its title, with the notebook as it ran up to the error.</p>
{sections}
</main></body></html>
"""
    atomic_write(out / "index.html", page.encode("utf-8"))
