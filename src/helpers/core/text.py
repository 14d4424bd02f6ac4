"""Text from data stays text: the two small rules every layer shares.

- :func:`normalise_name` is how the loaders read a key or name column (party keys and names, list names,
  pollsters, candidates, contests, actors...), and how names typed elsewhere (scenario files) are looked up:
  Unicode NFC, zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and bidi controls removed, every run of
  whitespace or line breaks one space, no space at either end. So ``Likud`` and ``Likud`` + a zero-width space
  are one party, and the duplicate checks see them as one.
- :func:`one_line` is what the views (``helpers.views.tables``, ``helpers.views.charts``) do to any data text
  before they show it: line breaks and other control characters become spaces, and the bidi controls that can reorder
  the text around them (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, U+200E/U+200F marks,
  U+061C) are removed, so a value can neither start a heading or a list nor reverse the rest of its paragraph.

Standard library only.
"""

from __future__ import annotations

import re
import unicodedata

#: Explicit bidi formatting characters: embeddings/overrides (LRE RLE PDF LRO RLO), isolates (LRI RLI FSI
#: PDI), the left-to-right, right-to-left and Arabic letter marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: Zero-width characters that make two names look the same and compare different.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")

_DROP_NAME = {ord(c): None for c in BIDI_CONTROLS | ZERO_WIDTH}
_DROP_VIEW = {ord(c): None for c in BIDI_CONTROLS}
# line breaks and every other control character (C0, DEL, C1), plus the Unicode line and paragraph separators
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")


def one_line(value) -> str:
    """`value` as one line of text with no bidi controls: breaks and control characters become spaces."""
    return _BREAKS.sub(" ", str(value).translate(_DROP_VIEW))


def normalise_name(value) -> str:
    """A key or name as the kit compares it: NFC, no zero-width or bidi characters, single spaces, stripped."""
    text = unicodedata.normalize("NFC", str(value)).translate(_DROP_NAME)
    return _SPACES.sub(" ", _BREAKS.sub(" ", text)).strip()
