"""The index page, ``<out>/index.html``: every report of the batch with its status and a link to its last good
page, read from the manifests."""

from __future__ import annotations

import html
from pathlib import Path

from helpers import __version__
from helpers.pipeline.publish import atomic_write, now, read_manifest


def write_index(out: Path, names: list[str]) -> None:
    """reports/index.html: every report with title, status, last good build and a link; a failed report shows
    its error while its last good HTML stays linked. Self-contained, escaped."""
    rows = []
    for name in names:
        m = read_manifest(out, name) or {}
        esc = html.escape
        status = m.get("status", "not built")
        good = m.get("last_good") or {}
        link = (f'<a href="{esc(good.get("html", name + ".html"))}">{esc(m.get("title") or name)}</a>'
                if good and (out / good.get("html", "")).exists() else esc(m.get("title") or name))
        error = f'<div class="err">{esc(m["error"])}</div>' if m.get("status") == "failed" else ""
        rows.append(
            f'<tr class="{esc(status)}"><td>{link}{error}</td><td><code>{esc(name)}</code></td>'
            f'<td><span class="st">{esc(status)}</span></td><td>{esc(str(m.get("as_of") or ""))}</td>'
            f'<td>{esc(good.get("built", "never"))}</td></tr>')
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ballotbook reports</title>
<style>
body {{ font: 16px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; color: #222; margin: 0; }}
main {{ max-width: 1000px; margin: 0 auto; padding: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: .45rem .6rem;
border-bottom: 1px solid #ddd; vertical-align: top; }} th {{ border-bottom: 2px solid #999; }}
.st {{ font-weight: 600; }} tr.ok .st {{ color: #1b5e20; }} tr.failed .st {{ color: #b71c1c; }}
.err {{ color: #b71c1c; font-size: .85rem; margin-top: .2rem; overflow-wrap: anywhere; }}
</style></head><body><main>
<h1>ballotbook reports</h1>
<p>Updated {html.escape(now())} by ballotbook {html.escape(__version__)}. A failed report keeps its last good
version linked; its error is shown under its title.</p>
<table><thead><tr><th>Report</th><th>Name</th><th>Status</th><th>Data as of</th><th>Last good build</th></tr>
</thead><tbody>
{chr(10).join(rows)}
</tbody></table></main></body></html>
"""
    atomic_write(out / "index.html", page.encode("utf-8"))
