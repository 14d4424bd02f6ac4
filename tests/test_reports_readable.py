"""Reports a reader can use on a phone, a desktop and paper: small files, charts with real text that is readable
at phone width, alt text that says what each chart shows, tables that fit the screen.

The fast tests check the chart output on figures drawn here (:mod:`helpers.views.charts.output`); the slow ones
open every shipped report in headless Chromium at 1280x800 and 390x844 and measure what is drawn."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

#: nbconvert's alt text for an image nobody described.
PLACEHOLDER = "No description has been provided for this image"
MAX_BYTES = 250_000  # bytes: "under 250 KB", read strictly
MIN_TEXT_PX = 9.0
SVG = "{http://www.w3.org/2000/svg}"


def svg_of(uri: str) -> str:
    """The SVG document inside a ``data:image/svg+xml`` URI (percent-encoded or base64)."""
    head, _, body = uri.partition(",")
    assert head.startswith("data:image/svg+xml"), head[:40]
    return base64.b64decode(body).decode("utf-8") if head.endswith(";base64") else unquote(body)


def font_sizes(svg: str) -> tuple[float, list[tuple[str, float]]]:
    """(viewBox width, [(text, font size in user units)]) of every non-empty <text> of `svg`, its size read from
    its own style or its class's rule in the SVG's stylesheet."""
    root = ET.fromstring(svg)
    width = float(root.get("viewBox").split()[2])
    rules = {}
    for style in root.iter(f"{SVG}style"):
        for name, body in re.findall(r"\.([\w-]+)\{([^}]*)\}", style.text or ""):
            rules[name] = body
    sizes = []
    for text in root.iter(f"{SVG}text"):
        words = "".join(text.itertext()).strip()
        if not words:
            continue
        style = (text.get("style") or "") + ";" + ";".join(rules.get(c, "") for c in (text.get("class") or "").split())
        found = re.findall(r"font-size:\s*([\d.]+)px", style) or re.findall(r"font:\s*[^;]*?([\d.]+)px", style)
        assert found, (words, style)
        sizes.append((words, float(found[-1])))
    return width, sizes


# --- fast: the chart output itself ----------------------------------------------------------------------------


def _bar_figure(labels, values, title="Seats per party"):
    from helpers.views.charts import figure

    fig, ax = figure(10, 4)
    ax.barh(range(len(values)), values)
    ax.set_yticks(range(len(values)), labels)
    ax.set_xlabel("seats")
    ax.set_title(title)
    return fig


def test_a_chart_becomes_svg_with_its_words_as_text_and_alt_text_from_its_numbers():
    from helpers.views.charts import close, output

    fig = _bar_figure(["Likud", "Yesh Atid", "Shas"], [31.6, 24.5, 8.4])
    markup = output.figure_html(fig)
    close(fig)
    alt = re.search(r'alt="([^"]*)"', markup).group(1)
    assert PLACEHOLDER not in alt
    for needed in ("Seats per party", "Likud 31.6", "Yesh Atid 24.5", "Shas 8.4"):
        assert needed in alt, (needed, alt)
    uri = re.search(r'<img src="([^"]*)"', markup).group(1).replace("&amp;", "&")
    svg = svg_of(uri)
    _, sizes = font_sizes(svg)
    words = {w for w, _ in sizes}
    assert {"Likud", "Yesh Atid", "Shas", "Seats per party", "seats"} <= words
    assert re.search(r"<path d=.M", svg) and "DejaVu Sans" in svg and "<image" not in svg  # vector, real text


def test_a_description_given_by_the_chart_is_the_alt_text_and_is_escaped():
    from helpers.views.charts import close, describe, output

    fig = _bar_figure(["A"], [1.0])
    describe(fig, 'Seats: "<b>x</b>" 5 of 120')
    markup = output.figure_html(fig)
    close(fig)
    assert 'alt="Seats: &quot;&lt;b&gt;x&lt;/b&gt;&quot; 5 of 120"' in markup


def test_data_text_in_a_chart_never_appears_verbatim_in_the_page():
    from helpers.views.charts import close, output

    hostile = "<img src=x onerror=alert(1)>"
    fig = _bar_figure([hostile, "B"], [3.0, 2.0], title=hostile)
    markup = output.figure_html(fig)
    close(fig)
    without_alt = re.sub(r'(alt|title)="[^"]*"', "", markup)
    assert "onerror=alert" not in without_alt and "<img src=x" not in markup
    uri = re.search(r'<img src="([^"]*)"', markup).group(1).replace("&amp;", "&")
    assert hostile in {w for w, _ in font_sizes(svg_of(uri))[1]}  # shown, as text


def test_a_wide_chart_has_a_phone_rendering_or_a_width_that_keeps_its_text_readable():
    from helpers.views.charts import close, output

    fig = _bar_figure(["Likud", "Yesh Atid", "Shas", "Labor"], [31.6, 24.5, 8.4, 5.0])
    markup = output.figure_html(fig)
    close(fig)
    narrow = re.search(r'<source media="[^"]*" srcset="([^"]*)"', markup)
    if narrow:
        width, sizes = font_sizes(svg_of(narrow.group(1).replace("&amp;", "&")))
        shown = output.PHONE_WIDTH
    else:
        assert "bb-pan" in markup
        width, sizes = font_sizes(svg_of(re.search(r'<img src="([^"]*)"', markup).group(1).replace("&amp;", "&")))
        shown = int(re.search(r'<img [^>]*width="(\d+)"', markup).group(1))
    assert min(s for _, s in sizes) * shown / width >= MIN_TEXT_PX


def test_svg_output_is_the_same_for_the_same_figure():
    from helpers.views.charts import close, output

    a, b = _bar_figure(["A", "B"], [1.0, 2.0]), _bar_figure(["A", "B"], [1.0, 2.0])
    assert output.svg_text(a) == output.svg_text(b)
    close(a)
    close(b)


def test_the_index_writes_dates_in_words():
    from helpers.pipeline.index import human_date, subject

    assert human_date("2022-10-28") == "28 October 2022"
    assert human_date("2007-05") == "May 2007"
    assert human_date("2008") == "2008"
    assert human_date("2026-11-30T11:14:33+00:00") == "30 November 2026, 11:14 UTC"
    assert human_date("<b>") == "<b>"  # escaped by the page, not here
    assert subject("notebooks/01_poll_thresholds.ipynb") == "Poll thresholds"


# --- slow: every shipped report in Chromium ---------------------------------------------------------------------

WIDTHS = [(1280, 800), (390, 844)]


def open_at(context, path, width: int, height: int, media: str = "screen"):
    """Open a local file in a page of the given viewport (set before loading, so the browser picks each
    picture's rendering for that width): (page, non-local requests, dialogs)."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(media=media)
    remote, dialogs = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(200)
    return page, remote, dialogs


def _reports(out):
    pages = sorted(p for p in out.glob("*.html") if p.name != "index.html")
    assert len(pages) >= 10, pages
    return pages


@pytest.mark.slow
def test_every_shipped_report_is_under_250_kb_with_no_image_twice_and_no_dead_css(shipped_build):
    proc, out = shipped_build
    assert proc.returncode == 0, proc.stderr
    sizes = {p.name: p.stat().st_size for p in _reports(out)}
    assert all(n < MAX_BYTES for n in sizes.values()), sizes
    used, styled = set(), set()
    for page in _reports(out):
        text = page.read_text(encoding="utf-8")
        uris = re.findall(r'(?:src|srcset)="(data:image/[^"]*)"', text)
        assert len(uris) == len(set(uris)), f"{page.name}: an image embedded twice"
        head, _, body = text.partition("<body")
        assert "highlight" not in head, f"{page.name}: code-highlighting CSS"
        for css in re.findall(r"<style[^>]*>(.*?)</style>", head, flags=re.S):
            styled |= set(re.findall(r"\.([A-Za-z][\w-]*)", re.sub(r"\{[^{}]*\}", "{}", css)))
        for classes in re.findall(r'class="([^"]*)"', body):
            used |= set(classes.split())
    # every class the stylesheet styles is used by some shipped report (no rule for markup that never occurs)
    assert styled - used == set(), sorted(styled - used)


CHARTS_JS = """() => [...document.querySelectorAll('img')].map(img => {
    const r = img.getBoundingClientRect();
    return {src: img.currentSrc || img.src, width: r.width, alt: img.getAttribute('alt'),
            label: img.getAttribute('aria-label'), visible: r.width > 0 && r.height > 0};
})"""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width,height", WIDTHS, ids=[f"{w}x{h}" for w, h in WIDTHS])
def test_every_shipped_report_reads_at_desktop_and_phone_width(shipped_build, browser_context, width, height):
    proc, out = shipped_build
    assert proc.returncode == 0, proc.stderr
    smallest = {}
    for path in [out / "index.html", *_reports(out)]:
        page, remote, dialogs = open_at(browser_context, path, width, height)
        assert dialogs == [] and remote == [], (path.name, dialogs, remote)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{path.name} at {width}px scrolls sideways ({scroll} > {inner})"
        # every table cell is on the screen: nothing that matters hides past the right edge
        cells = page.evaluate("""() => [...document.querySelectorAll('main table td')]
            .map(td => td.getBoundingClientRect()).filter(r => r.width > 0).map(r => r.right)""")
        assert all(right <= inner + 1 for right in cells), (path.name, max(cells, default=0))
        svgs = page.evaluate("() => [...document.querySelectorAll('svg')].map(s => s.getAttribute('aria-label'))")
        assert all(label and label.strip() for label in svgs), (path.name, svgs)
        for chart in page.evaluate(CHARTS_JS):
            assert chart["alt"] and chart["alt"].strip(), (path.name, chart["src"][:60])
            assert PLACEHOLDER not in chart["alt"], path.name
            assert len(chart["alt"]) > 40 and re.search(r"\d", chart["alt"]), (path.name, chart["alt"])
            assert chart["visible"], path.name
            if not chart["src"].startswith("data:image/svg+xml"):
                continue
            view_width, sizes = font_sizes(svg_of(chart["src"]))
            scale = chart["width"] / view_width
            small = min(sizes, key=lambda s: s[1])
            smallest[(path.name, chart["alt"][:50])] = (round(small[1] * scale, 2), small[0])
        page.close()
    assert smallest, "no SVG chart measured"
    if width <= 400:
        too_small = {k: v for k, v in smallest.items() if v[0] < MIN_TEXT_PX}
        assert not too_small, too_small


@pytest.mark.slow
@pytest.mark.browser
def test_printed_reports_do_not_clip_tables(shipped_build, browser_context):
    proc, out = shipped_build
    assert proc.returncode == 0, proc.stderr
    for path in _reports(out):
        page, remote, dialogs = open_at(browser_context, path, 720, 1000, media="print")  # about A4's width
        assert remote == [] and dialogs == []
        inner = page.evaluate("window.innerWidth")
        clipped = page.evaluate("""() => [...document.querySelectorAll('main table')].filter(t => {
            const r = t.getBoundingClientRect();
            let el = t.parentElement, hidden = false;
            while (el) { const o = getComputedStyle(el).overflowX; if (o !== 'visible' &&
                         el.scrollWidth > el.clientWidth + 1) hidden = true; el = el.parentElement; }
            return hidden || r.right > window.innerWidth + 1;
        }).length""")
        assert clipped == 0, (path.name, clipped, inner)
        assert page.evaluate("document.documentElement.scrollWidth") <= inner, path.name  # nothing past the page
        page.close()
