"""How a chart becomes part of a page: a small SVG with real text, a narrow rendering for phones, and alt text
that says what the chart shows.

:func:`figure_html` is what :func:`helpers.views.charts.show` displays: a ``<picture>`` whose ``<img>`` holds the
chart as SVG (text stays text, so it is sharp at any zoom and a few KB), with a second, narrower rendering of the
same figure chosen by the browser on a phone-width screen, and the figure's description as the image's ``alt``
and ``title``. The SVG travels in a ``data:`` URI (a report is one file and loads nothing), percent-encoded where
that is smaller than base64. An SVG shown through ``<img>`` can run no script and load nothing, whatever it
holds.

The description is the one a chart function attached with :func:`describe`, built from its own numbers; a
figure without one is described from what it draws (:func:`describe_figure`): its title, axis labels, and the
largest bars or the ends of its lines, with their labels.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from urllib.parse import quote

from helpers.core.text import one_line

#: Attribute of a Figure holding its description (set by :func:`describe`).
DESCRIPTION = "ballotbook_description"
#: Attribute of a Figure holding a function that draws it again for a narrow screen (set by :func:`narrow`).
NARROW = "ballotbook_narrow"
#: Width (CSS px) a chart is shown at on a 390 px phone (page padding subtracted), and the smallest chart text
#: (CSS px) that must be readable there.
PHONE_WIDTH = 350
MIN_TEXT_PX = 9.0
#: Width (inches) of the narrow rendering, and the smallest font (points) it may hold so that at
#: :data:`PHONE_WIDTH` its text is at least :data:`MIN_TEXT_PX`.
NARROW_INCHES = 4.6
NARROW_MIN_PT = math.ceil(MIN_TEXT_PX * NARROW_INCHES * 72 / PHONE_WIDTH * 10) / 10
#: Inches around what is drawn in a picture cut to it (both sides together).
SAVED_MARGIN = 0.12
#: Screens at most this wide (CSS px) get the narrow rendering.
NARROW_MEDIA = "(max-width: 640px)"
#: Fonts named in the SVG: the house font first, then common ones with similar metrics, so the text is real
#: text wherever the page is opened, with nothing downloaded.
FONT_STACK = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', Geneva, Tahoma, sans-serif"


def describe(fig, text: str) -> None:
    """Attach `text` (one or two sentences from the chart's own numbers) as `fig`'s description: the alt text
    of the chart on the page."""
    setattr(fig, DESCRIPTION, one_line(text).strip())


def narrow(fig, remake) -> None:
    """Attach `remake`, a function of no arguments drawing the same chart laid out for a narrow screen (say,
    fewer panels a row): the phone rendering is made from it instead of from `fig`."""
    setattr(fig, NARROW, remake)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _axes_title(ax) -> str:
    for loc in ("left", "center", "right"):
        text = ax.get_title(loc=loc)
        if text.strip():
            return one_line(text).strip()
    return ""


def _bars(ax) -> list[tuple[str, list[tuple[str, float]]]]:
    """The bars of `ax` by series: (series label, [(category, value)]), each bar labelled by the category tick
    at its centre (horizontal or vertical bars)."""
    from matplotlib.container import BarContainer

    out = []
    for container in ax.containers:
        if not isinstance(container, BarContainer) or not container.patches:
            continue
        bars = container.patches
        horizontal = getattr(container, "orientation", None) == "horizontal"
        axis = ax.yaxis if horizontal else ax.xaxis
        ticks = {round(t, 6): one_line(lbl.get_text()).strip() for t, lbl in zip(
            axis.get_ticklocs(), axis.get_ticklabels(), strict=False)}
        values = []
        for b in bars:
            centre = b.get_y() + b.get_height() / 2 if horizontal else b.get_x() + b.get_width() / 2
            value = b.get_width() if horizontal else b.get_height()
            near = min(ticks, key=lambda t: abs(t - centre), default=None)  # grouped bars sit beside their tick
            label = ticks[near] if near is not None and ticks[near] else _number(centre)
            if math.isfinite(value):
                values.append((label, value))
        series = one_line(container.get_label() or "").strip()
        out.append(("" if series.startswith("_") else series, values))
    return out


def _lines(ax) -> list[tuple[str, float, float, float, float]]:
    """(label, x, y, x, y) of the first and last points of each labelled line of `ax` inside the plot's limits
    (a line drawn past the limits is described as far as it is shown)."""
    import matplotlib.dates as mdates

    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    out = []
    for line in ax.get_lines():
        label = one_line(line.get_label()).strip()
        if label.startswith("_") or not label:
            continue
        try:
            xs = mdates.date2num(line.get_xdata()) if not isinstance(line.get_xdata()[0], (int, float)) else \
                line.get_xdata()
            points = [(float(x), float(y)) for x, y in zip(xs, line.get_ydata(), strict=False)
                      if math.isfinite(float(x)) and math.isfinite(float(y)) and x0 <= x <= x1 and y0 <= y <= y1]
        except (TypeError, ValueError, IndexError):
            continue
        if len(points) >= 2:
            out.append((label, *points[0], *points[-1]))
    return out


def describe_figure(fig) -> str:
    """A description of `fig` from what it draws: the title, the axis labels, and the key numbers (the largest
    bars with their labels, or where each labelled line starts and ends)."""
    given = getattr(fig, DESCRIPTION, "")
    if given:
        return given
    parts = []
    titles = [t for t in (_axes_title(ax) for ax in fig.axes) if t]
    supt = getattr(fig, "_suptitle", None)
    if supt is not None and supt.get_text().strip():
        titles.insert(0, one_line(supt.get_text()).strip())
    title = titles[0] if titles else "Chart"
    parts.append(f"Chart: {title.rstrip('.')}.")
    for ax in fig.axes:
        xlabel, ylabel = one_line(ax.get_xlabel()).strip(), one_line(ax.get_ylabel()).strip()
        series = [(name, values) for name, values in _bars(ax) if values]
        if series:
            said = []
            for name, values in series[:4]:
                top = sorted(values, key=lambda b: -abs(b[1]))[:6]
                listed = ", ".join(f"{label} {_number(v)}" for label, v in top)
                more = f" (largest {len(top)} of {len(values)})" if len(values) > len(top) else ""
                said.append(f"{name + ': ' if name else ''}{listed}{more}")
            parts.append(f"{xlabel or ylabel or 'Values'}: " + "; ".join(said) + ".")
            continue
        lines = _lines(ax)
        if lines:
            listed = "; ".join(f"{label} from {_number(ya)} (at {_number(xa)}) to {_number(yb)} (at {_number(xb)})"
                               for label, xa, ya, xb, yb in lines[:6])
            parts.append(f"{ylabel or 'Lines'}{' against ' + xlabel if xlabel else ''}: {listed}.")
            continue
        notes = [one_line(t.get_text()).strip() for t in ax.texts if t.get_visible() and t.get_text().strip()]
        if notes:
            parts.append("Labels: " + "; ".join(notes[:16]) + ".")
    if len(parts) == 1:
        axis = [one_line(t).strip() for ax in fig.axes for t in (ax.get_ylabel(), ax.get_xlabel()) if t.strip()]
        if axis:
            parts.append("Axes: " + ", ".join(dict.fromkeys(axis)) + ".")
    return " ".join(parts)


_NUMBER = re.compile(r"-?\d+\.\d{2,}")
_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
_GEOMETRY = {"d", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "points"}
_COLOUR = re.compile(r"#([0-9a-fA-F])\1([0-9a-fA-F])\2([0-9a-fA-F])\3\b")


def _round(value: str) -> str:
    return _NUMBER.sub(lambda m: f"{float(m.group()):.1f}".rstrip("0").rstrip("."), value)


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """`points` of a polyline without the ones that lie within `tolerance` (points) of the line through their
    neighbours kept (Ramer-Douglas-Peucker): the same line to the eye, a fraction of the size."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (x1, y1), (x2, y2) = points[a], points[b]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        far, at = 0.0, None
        for i in range(a + 1, b):
            x, y = points[i]
            dist = abs(dy * (x - x1) - dx * (y - y1)) / length if length else math.hypot(x - x1, y - y1)
            if dist > far:
                far, at = dist, i
        if at is not None and far > tolerance:
            keep[at] = True
            stack += [(a, at), (at, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _num(value: float) -> str:
    """A coordinate to 0.1 pt, as short as it can be written ("0.5" as ".5", no "-0")."""
    text = f"{round(value, 1):.1f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return text.replace("0.", ".", 1) if text.startswith("0.") else text.replace("-0.", "-.", 1)


def _path(d: str) -> str:
    d = re.sub(r"\s+", " ", d).strip()
    if re.fullmatch(r"[MLz\d\s.eE+-]+", d) and d.count("L") > 8:  # a polyline: drop the points the eye cannot see
        parts = []
        for sub in re.findall(r"M[^M]*", d):
            closed = "z" in sub
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", sub)]
            points = [(round(x, 1), round(y, 1)) for x, y in
                      _simplify(list(zip(numbers[0::2], numbers[1::2], strict=False)), 0.2)]
            # the first point absolute, the others relative to the one before ("l"): shorter numbers
            steps = [_num(b[0] - a[0]) + "," + _num(b[1] - a[1]) for a, b in zip(points, points[1:], strict=False)]
            parts.append(f"M{_num(points[0][0])},{_num(points[0][1])}" + ("l" + ",".join(steps) if steps else "")
                         + ("z" if closed else ""))
        return "".join(parts)
    d = _round(d)
    return re.sub(r"\s*([MLCQZz])\s*", r"\1", d)


def _dot_path(points: list[tuple[float, float]]) -> str:
    """Round dots at `points` as one path: a zero-length stroke at each ("h0"), each moved to from the last."""
    points = [(round(x, 1), round(y, 1)) for x, y in points]
    out = f"M{_num(points[0][0])},{_num(points[0][1])}h0"
    for a, b in zip(points, points[1:], strict=False):
        out += f"m{_num(b[0] - a[0])},{_num(b[1] - a[1])}h0"
    return out


#: How matplotlib embeds a rasterized artist (a panel of very many dots) in an SVG.
_PNG = "data:image/png;base64,"
#: Colours a rasterized artist keeps: its dots are drawn in a few pollster colours, blended where they overlap.
PNG_COLOURS = 64


def _smaller_png(uri: str) -> str:
    """A ``data:`` URI of a PNG that matplotlib embedded for a rasterized artist, with the picture's colours
    reduced to :data:`PNG_COLOURS` (a palette, transparency kept): a third of the bytes for a cloud of dots, the
    same to the eye. The original when that is not smaller, or the picture cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        raw = base64.b64decode(uri[len(_PNG):].strip())
        with Image.open(io.BytesIO(raw)) as picture:
            fewer = picture.convert("RGBA").quantize(colors=PNG_COLOURS, method=Image.Quantize.FASTOCTREE)
        buf = io.BytesIO()
        fewer.save(buf, "PNG", optimize=True)
    except (OSError, ValueError, UnidentifiedImageError):
        return uri
    return _PNG + base64.b64encode(buf.getvalue()).decode("ascii") if buf.tell() < len(raw) else uri


def _compact(svg: str) -> str:
    """The SVG matplotlib wrote, smaller and the same to look at: no group without attributes, one CSS class per
    distinct style, geometry to 0.1 pt, short colours and ids, no identity rotations, no ids nothing refers to."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", _XLINK)
    refs = list(dict.fromkeys(re.findall(r'(?:url\(#|href="#)([A-Za-z_][\w.-]*)', svg)))
    short = {name: f"i{i}" for i, name in enumerate(refs)}
    svg = re.sub(r'(id="|url\(#|href="#)([A-Za-z_][\w.-]*)',
                 lambda m: m.group(1) + short.get(m.group(2), m.group(2)), svg)
    root = ET.fromstring(svg)
    used = set(short.values())
    classes: dict[str, str] = {}
    href = f"{{{_XLINK}}}href"
    circle_ids = {}
    for el in root.iter():
        d = el.get("d", "")
        if el.get("id") and "C" in d:
            numbers = [abs(float(n)) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]
            xs, ys = numbers[0::2], numbers[1::2]
            if numbers and abs(max(xs) - max(ys)) < 0.05 * max(numbers):  # a circle marker about its centre
                circle_ids[el.get("id")] = max(numbers)
    circles = {"#" + k: v for k, v in circle_ids.items()}
    styles: dict[str, str] = {}

    def tidy(el):
        for name in list(el.attrib):
            value = el.attrib[name]
            if name == "id" and value not in used:
                del el.attrib[name]
            elif name == "d":
                el.attrib[name] = _path(value).replace(" ", ",")  # a comma separates as well, and needs no escape
            elif name == "transform" and re.fullmatch(r"rotate\(-?0 [^)]*\)", value.strip()):
                del el.attrib[name]
            elif name in _GEOMETRY:
                el.attrib[name] = _round(value)
            elif name in ("href", href) and value.startswith(_PNG):
                el.attrib[name] = _smaller_png(value)
            elif name == "style":
                style = ";".join(k.strip() + ":" + _COLOUR.sub(r"#\1\2\3", v.strip()) for k, v in
                                 (part.split(":", 1) for part in value.split(";") if ":" in part))
                style = re.sub(r"font-family:[^;]*;?", "", style).rstrip(";")
                del el.attrib[name]
                if style:
                    el.attrib["class"] = classes.setdefault(style, f"s{len(classes)}")
                    styles[el.attrib["class"]] = style
        if el.tag not in (f"{{{_SVG}}}text", f"{{{_SVG}}}style", f"{{{_SVG}}}title"):
            if el.text is not None and not el.text.strip():
                el.text = None
        kids, merged = [], set()
        for child in list(el):
            tidy(child)
            if child.tail is not None and not child.tail.strip():
                child.tail = None
            if child.tag == f"{{{_SVG}}}g" and not child.attrib:
                kids.extend(list(child))  # a group with no attributes changes nothing: keep its children only
            elif (kids and child.tag == f"{{{_SVG}}}g" and kids[-1].tag == child.tag and
                  kids[-1].attrib == child.attrib and not child.tail):
                kids[-1].extend(list(child))  # neighbouring groups alike (the same clip): one group
                merged.add(id(kids[-1]))
            else:
                kids.append(child)
        for kid in kids:
            if id(kid) in merged:
                kid[:] = _dots(list(kid))
        el[:] = _dots(kids)

    def _dots(kids):
        """The circle markers among `kids` (say, a scatter's dots) become one path of round dots per style (a
        zero-length stroke each), drawn where the first of them was."""
        def mergeable(kid):
            return (kid.tag == f"{{{_SVG}}}use" and kid.get(href, "#")[1:] in circle_ids and not kid.tail and
                    "stroke" not in styles.get(kid.get("class"), "stroke").replace("stroke-width:0", "")
                    .replace("stroke:none", ""))

        groups: dict[tuple, list] = {}
        for kid in kids:
            if mergeable(kid):
                groups.setdefault((kid.get(href), kid.get("class")), []).append(kid)
        groups = {k: v for k, v in groups.items() if len(v) >= 3}  # a lone marker may yet join its neighbours
        def line(kid):  # a stroked path alone: neighbours alike join into one path (grid lines, ticks)
            return (kid.tag == f"{{{_SVG}}}path" and not kid.get("id") and not len(kid) and not kid.tail and
                    "fill:none" in styles.get(kid.get("class"), ""))

        out, done = [], set()
        for kid in kids:
            key = (kid.get(href), kid.get("class"))
            if not mergeable(kid) or key not in groups:
                last = out[-1] if out else None
                if (last is not None and line(kid) and line(last) and
                        {k: v for k, v in last.attrib.items() if k != "d"} ==
                        {k: v for k, v in kid.attrib.items() if k != "d"}):
                    last.set("d", last.get("d", "") + kid.get("d", ""))
                else:
                    out.append(kid)
            elif key not in done:
                done.add(key)
                run = groups[key]
                r, style = circles[key[0]], styles[key[1]]
                fill = re.search(r"(?:^|;)fill:([^;]+)", style)
                opacity = re.search(r"fill-opacity:([^;]+)", style)
                dot = f"fill:none;stroke:{fill.group(1) if fill else '#000'};stroke-width:{_round(f'{2 * r:.3f}')}"
                dot += ";stroke-linecap:round" + (f";stroke-opacity:{opacity.group(1)}" if opacity else "")
                out.append(ET.Element(f"{{{_SVG}}}path", {
                    "d": _dot_path([(float(u.get("x", "0")), float(u.get("y", "0"))) for u in run]),
                    "class": classes.setdefault(dot, f"s{len(classes)}")}))
        return out

    tidy(root)
    for tag in ("metadata",):
        for parent in root.iter():
            for child in [c for c in parent if c.tag == f"{{{_SVG}}}{tag}"]:
                parent.remove(child)
    rules = "".join(f".{name}{{{style}}}" for style, name in classes.items())
    style = ET.Element(f"{{{_SVG}}}style")
    style.text = ("*{stroke-linejoin:round;stroke-linecap:butt}text{font-family:" + FONT_STACK + "}" + rules)
    defs = root.find(f"{{{_SVG}}}defs")
    if defs is not None:
        for old in defs.findall(f"{{{_SVG}}}style"):
            defs.remove(old)
        defs.insert(0, style)
    else:
        root.insert(0, style)
    out = ET.tostring(root, encoding="unicode", short_empty_elements=True).replace(" />", "/>")
    out = out.replace(" xmlns:xlink=\"" + _XLINK + "\"", "").replace(" version=\"1.1\"", "")
    return out.replace("xlink:href=", "href=")  # SVG 2: every current browser reads a plain href


def _tight_inches(fig, pad: float):
    """The box (inches) that ``savefig(bbox_inches="tight", pad_inches=pad)`` would cut an SVG of `fig` to,
    measured from the figure as it was last drawn, without drawing it again: the text is measured by an SVG
    renderer at the 72 dpi an SVG is drawn at, as savefig measures it."""
    from matplotlib.backends.backend_svg import RendererSVG

    dpi = fig.dpi
    width, height = fig.get_size_inches()
    renderer = RendererSVG(width * 72, height * 72, io.StringIO())
    fig.dpi = 72
    try:
        return fig.get_tightbbox(renderer).padded(pad)
    finally:
        fig.dpi = dpi


def svg_text(fig, *, tight: bool = False) -> str:
    """`fig` as a compact SVG string (:func:`_compact`): text as text in :data:`FONT_STACK`, no metadata.
    Deterministic for the same figure. `tight`: the picture is cut to what is drawn (nothing left off it), the
    box measured from the figure's last draw (:func:`_tight_inches`; call it on a figure drawn as it stands).

    The figure is drawn once. (savefig draws a figure twice when told ``bbox_inches="tight"``, or when the
    figure keeps the inert layout engine :meth:`~matplotlib.figure.Figure.tight_layout` leaves behind: once to
    measure, once to write.)"""
    import matplotlib as mpl
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    buf = io.StringIO()
    extra = {"bbox_inches": _tight_inches(fig, SAVED_MARGIN / 2)} if tight else {}
    engine = fig.get_layout_engine()
    inert = isinstance(engine, PlaceHolderLayoutEngine)  # it lays nothing out; savefig would draw for it
    if inert:
        fig.set_layout_engine(None)
    try:
        with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ballotbook", "svg.image_inline": True}):
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
                        **extra)
    finally:
        if inert:
            fig.set_layout_engine(engine)
    svg = buf.getvalue()
    return _compact(svg[svg.index("<svg"):])


def data_uri(svg: str, *, srcset: bool = False) -> str:
    """A ``data:`` URI for `svg`: percent-encoded (only what must be) or base64, whichever is shorter once in an
    HTML attribute. For a ``srcset`` (where a space would end the URL) spaces are encoded too."""
    safe = "'=:/;,()-._!*~@$+?[]" + ("" if srcset else " ")
    # text between elements (the chart's words, from data) is encoded whole: no data text appears verbatim
    encoded = "".join(quote(part, safe="-._") if i % 2 else quote(part, safe=safe)
                      for i, part in enumerate(re.split(r"(?<=>)([^<]+)(?=<)", svg.replace('"', "'"))))
    plain = "data:image/svg+xml," + encoded
    b64 = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return plain if len(_attr(plain)) <= len(b64) else b64


def _attr(value: str) -> str:
    """`value` for a double-quoted HTML attribute (single quotes need no escape there)."""
    return html.escape(value, quote=False).replace('"', "&quot;")


def _size(svg: str) -> tuple[float, float]:
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    return (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)


def _smallest_font(fig) -> float:
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
             if t.get_visible() and str(t.get_text()).strip()]
    return min(sizes) if sizes else 10.0


def _columns(legend, most: int) -> None:
    """Draw `legend` again in at most `most` columns (long entries wrapped), at the same place, with the same
    entries, title and fonts."""
    labels = [t.get_text() for t in legend.texts]
    if getattr(legend, "_ncols", 1) <= most and all(len(x) <= 36 for x in labels):
        return
    owner = legend.parent
    title = legend.get_title()
    from matplotlib.transforms import IdentityTransform

    options = {"loc": legend._loc, "bbox_to_anchor": legend.get_bbox_to_anchor(), "ncols": most,
               "bbox_transform": IdentityTransform(),  # the anchor box already follows its axes or figure
               "fontsize": legend.prop.get_size(), "frameon": legend.get_frame_on(),
               "handletextpad": legend.handletextpad, "columnspacing": legend.columnspacing}
    if title.get_visible() and title.get_text():
        options.update(title=title.get_text(), title_fontsize=title.get_fontsize())
    handles, labels = list(legend.legend_handles), [_wrap(x, 36) for x in labels]
    try:
        if legend in getattr(owner, "legends", []):  # a figure legend
            owner.legends.remove(legend)
            owner.legend(handles, labels, **options)
        else:
            owner.legend(handles, labels, **options)
    except Exception:  # noqa: BLE001 - a legend that cannot be drawn again keeps its columns
        pass


def _clear_titles(fig) -> None:
    """Keep wrapped titles clear of the legends above the plots: a figure legend at the top goes just under the
    figure's title, and an axes' title rises above a legend drawn on top of its axes."""
    renderer = fig.canvas.get_renderer()
    height = fig.bbox.height
    supt = fig._suptitle
    if supt is not None and supt.get_text().strip():
        under = supt.get_window_extent(renderer).y0 / height
        for legend in fig.legends:
            if legend.get_window_extent(renderer).y1 / height > 0.5:
                legend._loc = 2  # upper left
                legend.set_bbox_to_anchor((0.01, under - 0.004), transform=fig.transFigure)
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        if box.y1 <= ax.bbox.y0 + 2:  # a legend under the plot goes under the tick labels and the axis label
            legend.set_visible(False)
            under = ax.get_tightbbox(renderer).y0
            legend.set_visible(True)
            legend._loc = 9  # upper center, in the axes' own coordinates (a saved, cropped figure keeps it there)
            legend.set_bbox_to_anchor((0.5, (under - 4 - ax.bbox.y0) / max(ax.bbox.height, 1)),
                                      transform=ax.transAxes)
            continue
        if box.y0 < ax.bbox.y1 - 2:
            continue
        rise = legend.get_window_extent(renderer).height * 72 / fig.dpi + 6
        for loc, title in (("left", ax._left_title), ("center", ax.title)):
            if title.get_text().strip():
                ax.set_title(title.get_text(), loc=loc, pad=rise)


def _clear_notes(fig, boxes: list) -> None:
    """Move the figure's notes at the bottom (the source) under whatever the plots drew below themselves
    (`boxes`: the visible axes' tight boxes, :func:`_measured`)."""
    renderer = fig.canvas.get_renderer()
    height = fig.bbox.height
    lowest = min((b.y0 for b in boxes if b is not None), default=None)
    if lowest is None:
        return
    for t in fig.texts:
        box = t.get_window_extent(renderer)
        if (box.y0 + box.y1) / 2 < height / 2 and box.y1 > lowest - 2:
            t.set_verticalalignment("top")
            t.set_y((lowest - 6) / height)


def _measured(fig) -> tuple[list, float]:
    """One measuring pass over `fig` as it stands: the visible axes' tight boxes (display units) for
    :func:`_clear_notes`, and a function giving the width (inches) of everything drawn, as
    ``fig.get_tightbbox`` would, from those boxes and the figure's own texts and legends (measured when it is
    called, so after the notes have moved). Afterwards every text is laid out as a draw would leave it (tick
    labels, titles, axis labels and legends placed), so its faults can be counted without drawing it."""
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]

    def width() -> float:
        own = [a.get_tightbbox(renderer) for a in fig.get_children()
               if a is not fig.patch and a not in fig.axes and a.get_visible() and a.get_in_layout()]
        found = [b for b in [*boxes, *own] if b is not None and math.isfinite(b.width) and math.isfinite(
            b.height) and (b.width or b.height)]
        return Bbox.union(found).width / fig.dpi if found else fig.get_figwidth()

    return boxes, width


def _place_legends(fig) -> None:
    """Put each legend's entries where a draw would (a legend places its texts and keys only as it is drawn),
    drawing nothing: the last step of laying `fig` out without drawing it (:func:`_measured`)."""
    renderer = fig.canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    with renderer._draw_disabled():
        for legend in legends:
            if legend is not None and legend.get_visible():
                legend.draw(renderer)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join("\n".join(textwrap.wrap(line, width) or [""]) for line in text.split("\n"))


def _free_band(fig) -> tuple[float, float, float, float]:
    """The band of `fig` (figure fractions) left to the axes once the figure-level texts and legends (title and
    legend at the top, source note at the bottom) have their room."""
    renderer = fig.canvas.get_renderer()
    height = fig.bbox.height
    bottom, top = 0.0, 1.0
    for artist in [*fig.texts, *fig.legends, fig._suptitle]:
        if artist is None or not artist.get_visible():
            continue
        box = artist.get_window_extent(renderer)
        y0, y1 = box.y0 / height, box.y1 / height
        if (y0 + y1) / 2 < 0.5:
            bottom = max(bottom, y1 + 0.01)
        else:
            top = min(top, y0 - 0.01)
    return (0.0, min(bottom, 0.4), 1.0, max(top, 0.6))


def _problems(fig, listed: bool = False, *, drawn: bool = False):
    """How many faults `fig`'s layout has: texts running off the figure, pairs of texts overprinting each other,
    figure legends over a plot (the list of them if `listed`). A narrow layout is used only if it has no more
    than the wide one. `drawn`: `fig` has been drawn as it stands (nothing changed since), so it is measured
    without drawing it again."""
    from matplotlib.text import Text

    if not drawn:
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    whole = fig.bbox
    drawn, ticks = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update({id(tick.label1), id(tick.label2)})
            if not ax.axison:
                continue  # an axes drawn without axes shows no tick labels
            try:
                for tick in axis._update_ticks():  # the ticks inside the view: the only ones drawn
                    drawn.update({id(tick.label1), id(tick.label2)})
            except Exception:  # noqa: BLE001 - then every tick label counts
                drawn = ticks
    boxes = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not str(t.get_text()).strip() or t.figure is None:
            continue
        if id(t) in ticks and id(t) not in drawn:
            continue
        try:
            box = t.get_window_extent(renderer)
        except Exception:  # noqa: BLE001 - a text that cannot be measured is not counted
            continue
        if box.width > 0 and box.height > 0:
            boxes.append((t.get_text(), box.expanded(0.98, 0.9)))
    found = [("off the figure", w) for w, b in boxes
             if b.x0 < whole.x0 - 1 or b.x1 > whole.x1 + 1 or b.y0 < whole.y0 - 1 or b.y1 > whole.y1 + 1]
    for i, (w, a) in enumerate(boxes):
        found += [("overprints", w, v) for v, b in boxes[i + 1:] if a.overlaps(b)]
    for legend in fig.legends:
        box = legend.get_window_extent(renderer)
        found += [("legend over a plot", ax.get_title()) for ax in fig.axes
                  if ax.get_visible() and ax.bbox.overlaps(box)]
    return found if listed else len(found)


def narrow_svg(fig, *, drawn: bool = False) -> str | None:
    """`fig` laid out again :data:`NARROW_INCHES` wide, with no text under :data:`NARROW_MIN_PT`, for phones; None
    where the figure already reads at phone width (its smallest text at least :data:`MIN_TEXT_PX` there).
    Changes `fig` (call it last). `drawn`: `fig` has just been drawn as it stands (say, saved), so its faults
    are counted without drawing it again."""
    width, height = fig.get_size_inches()
    if _smallest_font(fig) * PHONE_WIDTH / (width * 72) >= MIN_TEXT_PX:
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        allowed = len([p for p in _problems(fig, True, drawn=drawn) if p[0] == "overprints"])
    remake = getattr(fig, NARROW, None)
    if remake is not None:  # the chart knows a better narrow layout (e.g. fewer panels a row)
        from helpers.views.charts import close

        fig = remake()
        try:
            return _narrowed(fig, allowed)
        finally:
            close(fig)
    return _narrowed(fig, allowed)


def _freeze_ticks(fig) -> None:
    """Fix every axis's ticks and labels where they are now, so that the layout passes below do not work them
    out again each time (a date axis's locator costs a few ms per panel per pass)."""
    from matplotlib.ticker import FixedFormatter, FixedLocator

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locs = list(axis.get_majorticklocs())
            labels = [t.get_text() for t in axis.get_majorticklabels()]
            if len(labels) == len(locs):
                axis.set_major_locator(FixedLocator(locs))
                axis.set_major_formatter(FixedFormatter(labels))
            axis.set_minor_locator(FixedLocator(list(axis.get_minorticklocs())))


def _narrowed(fig, allowed: int) -> str | None:
    import warnings

    width, height = fig.get_size_inches()
    from matplotlib.text import Text

    fig.set_size_inches(NARROW_INCHES, height, forward=False)
    _freeze_ticks(fig)  # the ticks a narrow figure gets, worked out once

    for t in fig.findobj(Text):
        if t.get_fontsize() < NARROW_MIN_PT:
            t.set_fontsize(NARROW_MIN_PT)
    free = list(fig.texts) + [fig._suptitle] + [t for ax in fig.axes for t in (
        ax.title, ax._left_title, ax._right_title, ax.xaxis.label, *ax.texts)]
    for t in free:  # titles, labels and notes wrap at the figure's edge instead of running off it
        if t is not None and str(t.get_text()).strip() and t.get_rotation() == 0:
            t.set_wrap(True)
    lines = 1
    for ax in fig.axes:  # long category names wrap instead of pushing the plot off a narrow figure
        for axis, room in ((ax.yaxis, 20), (ax.xaxis, 14)):
            labels = [t.get_text() for t in axis.get_ticklabels()]
            if any(len(x) > room for x in labels):
                wrapped = [_wrap(x, room) for x in labels]
                axis.set_ticks(axis.get_ticklocs(), wrapped)
                if axis is ax.yaxis:
                    lines = max(lines, *(w.count("\n") + 1 for w in wrapped))
        legend = ax.get_legend()
        if legend is not None:
            names = sorted((len(t.get_text()) for t in legend.get_texts()), reverse=True)
            _columns(legend, 1 if sum(names[:2]) > 34 else 2)
    for ax in fig.axes:  # axis labels and titles wrap to their own plot's width
        for t in (ax.xaxis.label, ax.title, ax._left_title):
            chars = max(int(ax.get_position().width * NARROW_INCHES * 72 / (0.6 * t.get_fontsize())), 12)
            if len(t.get_text()) > chars and len(fig.axes) > 1:
                t.set_text(_wrap(t.get_text(), chars))
    tall = max(height * (1 + 0.45 * (lines - 1)), 3.0)
    # laid out inside the saved margin (the picture is cut to what is drawn, plus that margin), so that what
    # wraps at the figure's edge fits the first time instead of asking for a second, narrower pass
    wide = NARROW_INCHES - SAVED_MARGIN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for legend in list(fig.legends):  # a figure legend of many columns would run off a phone
            names = sorted((len(t.get_text()) for t in legend.get_texts()), reverse=True)
            _columns(legend, 1 if sum(names[:2]) > 40 else 2)
        for _ in range(2):  # lay out; if what is drawn runs past the figure, narrow the figure by that, once
            fig.set_size_inches(wide, tall, forward=False)
            fresh = False  # laid out as it stands (measured since the last change)
            try:
                # measured, not drawn: tight_layout, then one measuring pass (_measured) that also places the
                # notes and gives the width; the narrow SVG is the one draw
                _clear_titles(fig)
                fig.tight_layout(rect=_free_band(fig))
                _clear_titles(fig)  # the legends placed for the final layout (the saved picture takes them in)
                boxes, width = _measured(fig)
                _clear_notes(fig, boxes)
                drawn = width() + SAVED_MARGIN  # inches, with the saved margin
                _place_legends(fig)
                fresh = True
            except Exception:  # noqa: BLE001 - a layout that cannot be tightened keeps its own
                drawn = fig.get_tightbbox(fig.canvas.get_renderer()).width + SAVED_MARGIN
            if drawn <= NARROW_INCHES * 1.01 or wide - (drawn - NARROW_INCHES) < 0.75 * NARROW_INCHES:
                break
            wide -= drawn - NARROW_INCHES
        # `drawn` is the width of the figure as it stands: nothing has changed it since it was measured
        if drawn > NARROW_INCHES * 1.01 or _smallest_font(fig) * PHONE_WIDTH / (drawn * 72) < MIN_TEXT_PX:
            return None
        if len([p for p in _problems(fig, True, drawn=fresh) if p[0] == "overprints"]) > allowed:
            return None  # the chart does not survive being narrowed: the phone pans the wide one
    return svg_text(fig, tight=True)


def figure_html(fig) -> str:
    """The chart as page markup: SVG in a ``<picture>`` with a narrow rendering for phones, alt text from
    :func:`describe_figure`."""
    alt = html.escape(describe_figure(fig))
    wide = svg_text(fig)
    w, h = _size(wide)
    smallest = _smallest_font(fig)
    narrow = narrow_svg(fig, drawn=True)  # saving it drew it
    if narrow is None and smallest * PHONE_WIDTH / w < MIN_TEXT_PX:
        # no narrow layout: on a phone the chart keeps its width for readable text and pans inside its box
        shown = math.ceil(MIN_TEXT_PX * w / smallest)
        img = (f'<img src="{_attr(data_uri(wide))}" alt="{alt}" title="{alt}" width="{shown}" '
               f'height="{math.ceil(shown * h / w)}">')
        return f'<figure class="bb-chart bb-pan">{img}</figure>'
    img = (f'<img src="{_attr(data_uri(wide))}" alt="{alt}" title="{alt}" width="{round(w * 4 / 3)}" '
           f'height="{round(h * 4 / 3)}">')
    if narrow is None:
        return f'<figure class="bb-chart">{img}</figure>'
    nw, nh = _size(narrow)
    source = (f'<source media="{NARROW_MEDIA}" srcset="{_attr(data_uri(narrow, srcset=True))}" '
              f'width="{round(nw * 4 / 3)}" height="{round(nh * 4 / 3)}">')
    return f'<figure class="bb-chart"><picture>{source}{img}</picture></figure>'
