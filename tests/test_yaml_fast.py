"""Issue 18 (the no-op rebuild): YAML is parsed by libyaml when the text is plainly acceptable, else by the kit's
own loader. Both must read every document the same way, and every document the kit's loader refuses must still be
refused with its message (the fast path declines it)."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.core.errors import DataError
from helpers.data import _table


def slow(text: str):
    """The kit's own loader, as it was the only one."""
    loader = _table._loader_class()(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def lines_of(node) -> list:
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        if n is None:
            continue
        out.append((n.tag, n.start_mark.line, n.start_mark.column))
        if isinstance(n, yaml.MappingNode):
            todo += [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            todo += list(n.value)
    return out


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.text(alphabet=string.ascii_letters + string.digits + " -_./:%", max_size=12),
                    st.dates())
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(documents, st.booleans())
def test_the_fast_path_reads_any_document_as_the_kits_loader_does(doc, flow):
    text = yaml.safe_dump({"reports": doc}, default_flow_style=flow, sort_keys=False)
    fast = _table._fast_yaml(text)
    data, node = slow(text)
    assert fast is not None  # plain documents take the fast path
    assert fast[0] == data and lines_of(fast[1]) == lines_of(node)


REFUSED = [
    "a: 1\na: 2\n",                       # a key twice
    "a: &x 1\nb: *x\n",                   # anchors and aliases
    "yes: 1\ntrue: 2\n",                  # two spellings of one key
    "a: !!python/object:os.system 1\n",   # a tag the safe loader does not construct
    "a: 1\x00\n",                         # a control character
    "a: [1, 2\n",                         # not YAML
    "a: 2001-02-30\n",                    # a date that is not a day
    "[" * 60 + "]" * 60 + "\n",           # nested too deep
]


@pytest.mark.parametrize("text", REFUSED)
def test_what_the_kits_loader_refuses_the_fast_path_declines(text):
    assert _table._fast_yaml(text) is None
    with pytest.raises(DataError):
        _table.parse_yaml(text, "x.yml")


def test_a_merge_key_is_left_to_the_kits_loader():
    text = "base: {a: 1}\nx:\n  <<: {a: 1}\n  b: 2\n"
    assert _table._fast_yaml(text) is None
    assert _table.parse_yaml(text, "x.yml") == slow(text)[0] == {"base": {"a": 1}, "x": {"a": 1, "b": 2}}


def test_the_shipped_batch_file_takes_the_fast_path_with_its_line_numbers():
    from conftest import ROOT

    text = (ROOT / "reports.yml").read_text(encoding="utf-8")
    fast = _table._fast_yaml(text)
    assert fast is not None and fast == (slow(text)[0], fast[1])
    assert lines_of(fast[1]) == lines_of(slow(text)[1])
