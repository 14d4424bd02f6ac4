"""Real reports in real headless Chromium: no console errors, no network requests, no script running, charts
visible, hostile text shown as text. Skipped (with the reason) only where Chromium is not installed and not in
CI, where it must run."""

from __future__ import annotations

import pytest

from conftest import visit

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_index_and_every_report_open_offline_with_visible_charts(shipped_build, browser_context):
    proc, out = shipped_build
    assert proc.returncode == 0, proc.stderr
    page, errors, remote, dialogs = visit(browser_context, out / "index.html")
    assert errors == [] and remote == [] and dialogs == []
    links = page.eval_on_selector_all("a[href$='.html']", "els => els.map(e => e.getAttribute('href'))")
    assert "timeline.html" in links
    for href in links:
        report, errors, remote, dialogs = visit(browser_context, out / href)
        assert errors == [], (href, errors)
        assert remote == [], (href, remote)
        assert dialogs == [], (href, dialogs)
        images = report.eval_on_selector_all(
            "img", "els => els.map(e => [e.naturalWidth, e.getBoundingClientRect().width])")
        assert images and all(nw > 0 and w > 0 for nw, w in images), (href, images)
        assert report.locator("h1").first.is_visible()
        # No code: no code editor or highlighted source is rendered, and no script at all.
        assert report.locator(".jp-CodeCell .jp-InputArea, .highlight, .jp-Editor").count() == 0
        assert report.evaluate("document.scripts.length") == 0
        report.close()


def test_hostile_event_text_is_inert_and_shown_literally(hostile_timeline, browser_context):
    proc, out = hostile_timeline
    assert proc.returncode == 0, proc.stderr
    page, errors, remote, dialogs = visit(browser_context, out)
    assert dialogs == [] and remote == [] and errors == []
    assert page.get_by_text("<img src=x onerror=alert(1)> <script>alert(2)</script>").count() >= 1
    assert page.locator("img[src='x']").count() == 0
