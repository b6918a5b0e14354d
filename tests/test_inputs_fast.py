"""The input reader's fast path (issue 20, part 3): the record shapes computed on the bytes at once
agree with the csv module's record-by-record split on every text it accepts, and decline the rest."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from compendium.data import inputs

#: pieces of an export: values (one non-ASCII), white space, delimiters, both line ends
PIECES = st.sampled_from(["a", "12", "é", " ", "\t", ",", ",", "\n", "\n", "\r\n", ";"])


def _both(text: str, delimiter: str = ","):
    fast = inputs._record_shapes_unquoted(text, delimiter)
    slow = inputs._record_shapes(text, delimiter, "x.csv")
    return fast, slow


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(PIECES, max_size=60).map("".join), st.sampled_from([",", ";", "\t"]))
def test_the_fast_shapes_are_the_csv_modules(text, delimiter):
    fast, slow = _both(text, delimiter)
    assert fast is not None, "a text without quotes or lone carriage returns takes the fast path"
    counts, blank, span, padded = fast
    assert counts == slow[0], "fields per record"
    assert blank == slow[1], "blank records"
    assert [span(i) for i in range(len(counts))] == [slow[2](i) for i in range(len(slow[0]))]
    import csv
    import io
    cells = [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for c in row]
    assert padded == any(c != c.strip(" \t") for c in cells), "white space at a cell's edge, exactly"


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.lists(PIECES, max_size=200).map("".join), st.integers(1, 16))
def test_blocks_cut_at_line_ends_change_nothing(text, block):
    whole = inputs._record_shapes_unquoted(text, ",")
    saved, inputs._BLOCK = inputs._BLOCK, block
    try:
        cut = inputs._record_shapes_unquoted(text, ",")
    finally:
        inputs._BLOCK = saved
    assert cut[0] == whole[0] and cut[1] == whole[1] and cut[3] == whole[3]


@given(st.lists(st.sampled_from(["a", ",", "\n", '"', '"x,y"', "\r"]), min_size=1, max_size=30).map("".join)
       .filter(lambda t: '"' in t or t.count("\r") != t.count("\r\n")))
@settings(max_examples=100, derandomize=True, deadline=None)
def test_quotes_and_old_mac_line_ends_take_the_csv_modules_path(text):
    assert inputs._record_shapes_unquoted(text, ",") is None


def test_a_quoted_record_spanning_lines_still_names_its_lines():
    counts, _, span = inputs._record_shapes('a,b\n"x\ny",2\n', ",", "x.csv")
    assert counts == [2, 2] and span(1) == (2, 3)
