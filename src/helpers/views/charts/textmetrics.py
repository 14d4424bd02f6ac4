"""Text measured once per process, not once per renderer.

Laying a chart out is mostly measuring text: every tick label, title and note, and every trial line of a text
that wraps. Matplotlib caches a measurement per *renderer object* (``matplotlib.text._get_text_metrics_with_cache``),
but a figure gets a new renderer whenever its size changes, and every saved SVG has one of its own. The phone
rendering of a chart changes the figure's size and saves it again, so each chart measured the same strings
three or four times over, each a FreeType layout of the string (about 10 microseconds a character): a quarter
of a report's chart time.

A measurement depends on the renderer's kind and resolution, not on the renderer: the Agg renderer's on the
string, the font properties, the dots per inch and the hinting settings; the SVG renderer's (always 72 dpi,
unhinted outlines) on the string and the font properties. :func:`install` puts a cache keyed by exactly that in
front of matplotlib's, for those two renderers and plain text (no mathtext, no TeX): the numbers are the ones
the renderer gives, computed once. Every other case goes to matplotlib's own cache as before.
"""

from __future__ import annotations

#: Measurements kept (a report's charts use a few thousand distinct strings); past it, the oldest half goes.
SIZE = 32768
_REAL = None
_REAL_WRAP = None
_KINDS: tuple = ()  # the renderers measured here (Agg first), set by install()
_RC = None
_KEPT: dict = {}


def _shared(renderer, text, fontprop, ismath, dpi):
    """``matplotlib.text._get_text_metrics_with_cache`` with plain text on an Agg or SVG renderer measured once
    per (kind of renderer, its dpi, hinting settings, string, font properties)."""
    kind = type(renderer)
    if ismath is not False or kind not in _KINDS:
        return _REAL(renderer, text, fontprop, ismath, dpi)
    if kind is _KINDS[0]:
        rc = _RC
        hinting = (rc["text.hinting"], rc["text.hinting_factor"], rc["text.kerning_factor"])
        resolution = renderer.dpi
    else:  # the SVG renderer measures unhinted outlines at a fixed size, scaled
        hinting, resolution = None, None
    # a copy: FontProperties is mutable and hashes by its state (as matplotlib's own cache does)
    prop = fontprop.copy()
    key = (kind, resolution, hinting, text, prop)
    got = _KEPT.get(key)
    if got is None:
        got = _KEPT[key] = renderer.get_text_width_height_descent(text, prop, False)
        if len(_KEPT) > SIZE:
            for old in list(_KEPT)[:SIZE // 2]:
                del _KEPT[old]
    return got


def _wrapped_text(self) -> str:
    """``Text._get_wrapped_text`` with the same lines, found with a few measurements instead of one per word.

    Matplotlib wraps a line by measuring it one word longer at a time until it runs past the figure's edge:
    a line of n words costs n - 1 measurements, each of a new string (so none is in any cache), and a text that
    fits costs them all; wrapped texts (titles, notes) were two thirds of all the text a report's charts
    measured. A line only gets wider as words are added, so the longest run of words that fits is found by
    halving instead: the whole line first (one measurement when it fits), then bisection. The result is the
    line matplotlib's scan gives (a test compares them)."""
    if not self.get_wrap() or self.get_usetex():
        return self.get_text()
    room = self._get_wrap_line_width()
    lines = []
    for line in self.get_text().split("\n"):
        words = line.split(" ")
        while words:
            if len(words) == 1:
                lines.append(words.pop(0))
                continue
            fits, past = 1, len(words)  # one word always goes; does the whole rest fit?
            if self._get_rendered_text_width(" ".join(words)) <= room:
                fits = past
            while past - fits > 1:
                mid = (fits + past) // 2
                if self._get_rendered_text_width(" ".join(words[:mid])) <= room:
                    fits = mid
                else:
                    past = mid
            lines.append(" ".join(words[:fits]))
            words = words[fits:]
    return "\n".join(lines)


def install() -> None:
    """Measure text through the shared cache, and wrap it with few measurements (:func:`_wrapped_text`), from
    now on in this process (idempotent)."""
    global _REAL, _REAL_WRAP, _KINDS, _RC
    import matplotlib as mpl
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    if _REAL is None:
        _KINDS, _RC = (RendererAgg, RendererSVG), mpl.rcParams  # looked up once, not per measurement
        _REAL = mtext._get_text_metrics_with_cache
        mtext._get_text_metrics_with_cache = _shared
        _REAL_WRAP = mtext.Text._get_wrapped_text
        mtext.Text._get_wrapped_text = _wrapped_text
