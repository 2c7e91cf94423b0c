"""``json_depth_exceeds`` (the request guard, and the JSON-LD reader) against the byte-by-byte walk it
replaced, which is the specification: strings skipped (escapes included, and a string that never
ends), arrays and objects counted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kxgraph.loaders.files import json_depth_exceeds


def walk(body: bytes, limit: int) -> bool:
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


#: texts made of the bytes that matter, so that strings, escapes and nesting meet often
PIECES = st.lists(st.sampled_from([b'"', b"\\", b"[", b"]", b"{", b"}", b"a", b"\n", b":", b",", b'\\"', b"\\\\"]),
                  max_size=300).map(b"".join)


@settings(max_examples=3000)
@given(body=PIECES, limit=st.integers(0, 8))
def test_the_depth_is_the_walk_s(body: bytes, limit: int) -> None:
    assert json_depth_exceeds(body, limit) == walk(body, limit)


@given(body=st.binary(max_size=200), limit=st.integers(0, 4))
def test_any_bytes_give_the_walk_s_answer(body: bytes, limit: int) -> None:
    assert json_depth_exceeds(body, limit) == walk(body, limit)


def test_brackets_inside_strings_do_not_count() -> None:
    query = b'{"query": "' + b"{ a { b { c } } }" * 100 + b'", "variables": {"x": [1, [2]]}}'
    assert not json_depth_exceeds(query, 4)  # the body, its variables, a list, a list in it
    assert json_depth_exceeds(query, 3)
    assert json_depth_exceeds(b"[" * 65 + b"]" * 65, 64) and not json_depth_exceeds(b"[" * 64 + b"]" * 64, 64)


def test_many_escaped_quotes_in_a_string_that_never_ends_are_one_scan() -> None:
    """Each escaped quote could start a new search for the string's end, a scan to the end of the
    text each: a body of 400 KB would then take minutes. It is read once."""
    body = b'"' + b'\\"' * 200_000 + b"[" * 100
    assert json_depth_exceeds(body, 10) is walk(body, 10) is False
    assert json_depth_exceeds(b"[" * 100 + body, 10) is True
