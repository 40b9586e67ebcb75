"""serde_json's syntax errors (``tracegraph/bundle/serde_syntax.py``), pinned from the reference.

Each case is a small malformed (or valid) document and the message serde_json 1.0.87
gives for it, read off ``../shared/tools/reference-reduce``: as a payload file
(``from_reader``, reported as ``parse payload raw_payload:1: <message>``) or, for
the ``SLICE`` cases, as a ``wait`` tool's function arguments (``from_str``,
reported as ``... had invalid JSON arguments: <message>``). The literals let the
tests run without the binary; where it is present they are also checked live.

A property test mutates valid documents and checks that :func:`syntax_error` and
the exact path of ``serde_json.loads`` accept the same documents and, where both
refuse one, give the same words. ``benchmarks/serde_syntax_diff.py`` runs the same
mutations against the binary.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_serde_edges import INFERENCE, MANIFEST, THREAD, TURN
from tracegraph.authoring import reference_reducer, run_reference
from tracegraph.bundle import serde_json
from tracegraph.bundle.files import is_utf8
from tracegraph.bundle.serde_syntax import Source, syntax_error

READER: Source = "reader"
SLICE: Source = "slice"

#: name -> (document, serde_json entry point, serde_json's message or None if it parses)
CASES: dict[str, tuple[bytes, Source, str | None]] = {
    # EOF while parsing ...
    "empty": (b"", READER, "EOF while parsing a value at line 1 column 0"),
    "whitespace only": (b" \n\t\r\n", READER, "EOF while parsing a value at line 3 column 0"),
    "open list": (b"[", READER, "EOF while parsing a list at line 1 column 1"),
    "open object": (b"{", READER, "EOF while parsing an object at line 1 column 1"),
    "key without colon at EOF": (b'{"a"', READER,
                                 "EOF while parsing an object at line 1 column 4"),
    "unterminated string": (b'"abc', READER, "EOF while parsing a string at line 1 column 4"),
    "value missing at EOF": (b'{"a":', READER, "EOF while parsing a value at line 1 column 5"),
    "list open over lines": (b'{\n  "input": [\n    1,\n    2\n', READER,
                             "EOF while parsing a list at line 5 column 0"),
    "pretty document cut after a comma": (b'{\n  "input": [],\n  "a": 1,\n   ', READER,
                                          "EOF while parsing a value at line 4 column 3"),
    "object cut after a value": (b'{"input": [], "a": 1', READER,
                                 "EOF while parsing an object at line 1 column 20"),
    # expected ...
    "missing colon": (b'{"a" 1}', READER, "expected `:` at line 1 column 6"),
    "missing list comma": (b"[1 2]", READER, "expected `,` or `]` at line 1 column 4"),
    "missing object comma": (b'{"a":1 "b":2}', READER, "expected `,` or `}` at line 1 column 8"),
    "bad null": (b"nulx", READER, "expected ident at line 1 column 4"),
    "bad true in list": (b"[tru]", READER, "expected ident at line 1 column 5"),
    "false cut short": (b"fals", READER, "EOF while parsing a value at line 1 column 4"),
    "comma first in list": (b"[,]", READER, "expected value at line 1 column 2"),
    "NaN": (b'{"input": [], "x": NaN}', READER, "expected value at line 1 column 20"),
    "Infinity": (b"[Infinity]", READER, "expected value at line 1 column 2"),
    "minus Infinity": (b"[-Infinity]", READER, "invalid number at line 1 column 3"),
    "BOM": (b'\xef\xbb\xbf{"input": []}', READER, "expected value at line 1 column 1"),
    "form feed is not whitespace": (b"[\x0c1]", READER, "expected value at line 1 column 2"),
    "no-break space is not whitespace": (b"[\xc2\xa01]", READER,
                                         "expected value at line 1 column 2"),
    "single quotes": (b"['a']", READER, "expected value at line 1 column 2"),
    # escapes
    "unknown escape": (b'"\\q"', READER, "invalid escape at line 1 column 3"),
    "bad hex digit": (b'"\\u12G4"', READER, "invalid escape at line 1 column 6"),
    "backslash at EOF": (b'"\\', READER, "EOF while parsing a string at line 1 column 2"),
    "short hex at EOF": (b'"\\u12', READER, "EOF while parsing a string at line 1 column 5"),
    "short hex at EOF, from_str": (b'"\\u12', SLICE,
                                   "EOF while parsing a string at line 1 column 5"),
    # An IoRead reads the hex digits one by one; a SliceRead first looks for four bytes.
    "short hex then letter": (b'"\\u12x', READER, "invalid escape at line 1 column 6"),
    "short hex then letter, from_str": (b'"\\u12x', SLICE,
                                        "EOF while parsing a string at line 1 column 6"),
    # surrogates
    "leading surrogate alone": (b'"\\ud800"', READER,
                                "unexpected end of hex escape at line 1 column 8"),
    "leading surrogate alone, from_str": (b'"\\ud800"', SLICE,
                                          "unexpected end of hex escape at line 1 column 8"),
    "leading surrogate then letter": (b'"\\ud800x"', READER,
                                      "unexpected end of hex escape at line 1 column 8"),
    "leading surrogate then \\n": (b'"\\ud800\\n"', READER,
                                   "unexpected end of hex escape at line 1 column 9"),
    "leading surrogate then \\x, from_str": (b'"\\ud800\\x"', SLICE,
                                             "unexpected end of hex escape at line 1 column 9"),
    "leading surrogate then \\u0041": (b'"\\ud800\\u0041"', READER,
                                       "lone leading surrogate in hex escape at line 1 column 13"),
    "trailing surrogate alone": (b'"\\udc00"', READER,
                                 "lone leading surrogate in hex escape at line 1 column 7"),
    "leading surrogate at EOF": (b'"\\ud800', READER,
                                 "EOF while parsing a string at line 1 column 7"),
    "paired surrogates": (b'["\\ud83d\\ude00"]', READER, None),
    # numbers
    "leading zero": (b"01", READER, "invalid number at line 1 column 2"),
    "leading zero in list": (b"[01]", READER, "invalid number at line 1 column 3"),
    "point without digits at EOF": (b"1.", READER, "EOF while parsing a value at line 1 column 2"),
    "point without digits": (b"[1.]", READER, "invalid number at line 1 column 4"),
    "lone minus": (b"-", READER, "EOF while parsing a value at line 1 column 1"),
    "minus then bracket": (b"[-]", READER, "invalid number at line 1 column 3"),
    "exponent without digits at EOF": (b"1e", READER,
                                       "EOF while parsing a value at line 1 column 2"),
    "exponent without digits": (b"[1e]", READER, "invalid number at line 1 column 4"),
    "exponent sign without digits": (b"[1e+]", READER, "invalid number at line 1 column 5"),
    "minus letter": (b"[-a]", READER, "invalid number at line 1 column 3"),
    "point then exponent": (b"[1.e5]", READER, "invalid number at line 1 column 4"),
    # serde_json 1.0.87 tests "a digit after the point" by an exponent a long integer
    # already moved: these two are decided unlike any other JSON parser.
    "20-digit integer, one decimal": (b"[18446744073709551616.0]", READER,
                                      "invalid number at line 1 column 24"),
    "21-digit integer, bare point": (b"[123456789012345678901.]", READER, None),
    "1e400 at EOF": (b"1e400", READER, "number out of range at line 1 column 5"),
    # From a file the peeked `]` is already read; from a string it is not.
    "1e400 in list": (b"[1e400]", READER, "number out of range at line 1 column 7"),
    "1e400 in list, from_str": (b"[1e400]", SLICE, "number out of range at line 1 column 6"),
    "1.8e308": (b"[1.8e308]", READER, "number out of range at line 1 column 9"),
    "-1e400": (b"[-1e400]", READER, "number out of range at line 1 column 8"),
    "400-digit integer": (b"[" + b"9" * 400 + b"]", READER,
                          "number out of range at line 1 column 402"),
    "exponent past i32": (b"[1e9999999999]", READER, "number out of range at line 1 column 13"),
    "exponent past i32, from_str": (b"[1e9999999999]", SLICE,
                                    "number out of range at line 1 column 13"),
    "zero with huge exponent": (b"[0e9999999999]", READER, None),
    "tiny exponent": (b"[1e-400]", READER, None),
    "u64 max + 1": (b"[18446744073709551616]", READER, None),
    "i64 min - 1": (b"[-9223372036854775809]", READER, None),
    # UTF-8 (checked once a string is read: after its closing quote)
    "invalid UTF-8 in a string": (b'{"input": ["\xff"]}', READER,
                                  "invalid unicode code point at line 1 column 14"),
    "truncated UTF-8 in a string": (b'["a\xc3"]', READER,
                                    "invalid unicode code point at line 1 column 5"),
    "encoded surrogate": (b'["\xed\xa0\x80"]', READER,
                          "invalid unicode code point at line 1 column 6"),
    "overlong encoding": (b'["\xc0\xaf"]', READER, "invalid unicode code point at line 1 column 5"),
    "invalid UTF-8 in a key": (b'{"input": [], "\xff": 1}', READER,
                               "invalid unicode code point at line 1 column 17"),
    "invalid UTF-8 outside strings": (b"[\xff]", READER, "expected value at line 1 column 2"),
    "invalid UTF-8 then EOF in string": (b'["\xff', READER,
                                         "EOF while parsing a string at line 1 column 3"),
    "invalid UTF-8 then bad escape": (b'["\xff\\q"]', READER, "invalid escape at line 1 column 5"),
    # control characters
    "control character": (b'"a\x01"', READER, "control character (\\u0000-\\u001F) found while "
                          "parsing a string at line 1 column 3"),
    "raw tab in string": (b'["a\tb"]', READER, "control character (\\u0000-\\u001F) found while "
                          "parsing a string at line 1 column 4"),
    "raw newline in string": (b'{"input": [],\n "a": "x\ny"}', READER,
                              "control character (\\u0000-\\u001F) found while parsing a string "
                              "at line 3 column 0"),
    "DEL is fine": (b'["\x7f"]', READER, None),
    # keys, trailing commas and characters
    "key not a string": (b"{1:2}", READER, "key must be a string at line 1 column 2"),
    "comma as key": (b"{,}", READER, "key must be a string at line 1 column 2"),
    "trailing comma in list": (b"[1,]", READER, "trailing comma at line 1 column 4"),
    "trailing comma in object": (b'{"a":1,}', READER, "trailing comma at line 1 column 8"),
    "trailing comma before newline": (b"[1,\n]", READER, "trailing comma at line 2 column 1"),
    "trailing letter": (b"[1]x", READER, "trailing characters at line 1 column 4"),
    "trailing after space": (b"[1] x", READER, "trailing characters at line 1 column 5"),
    "two objects": (b"{}{}", READER, "trailing characters at line 1 column 3"),
    "two numbers": (b"1 2", READER, "trailing characters at line 1 column 3"),
    "null then letter": (b"nullx", READER, "trailing characters at line 1 column 5"),
    "trailing bracket": (b"[1]]", READER, "trailing characters at line 1 column 4"),
    # nesting
    "nested 127": (b"[" * 127 + b"]" * 127, READER, None),
    "nested 128": (b"[" * 128 + b"]" * 128, READER,
                   "recursion limit exceeded at line 1 column 128"),
    "objects nested 128": (b'{"a":' * 128 + b"1" + b"}" * 128, READER,
                           "recursion limit exceeded at line 1 column 636"),
    "nested 128, from_str": (b"[" * 128 + b"]" * 128, SLICE,
                             "recursion limit exceeded at line 1 column 128"),
    "error after deep nesting": (b"[" * 127 + b"1,]" + b"]" * 126, READER,
                                 "trailing comma at line 1 column 130"),
    "syntax error before nesting": (b"[x" + b"[" * 200, READER,
                                    "expected value at line 1 column 2"),
    # columns count bytes
    "multi-byte characters before the error": ('["é日本語", x]'.encode(), READER,
                                               "expected value at line 1 column 17"),
    "multi-byte on a later line": ('{\n "k": "ééé", "a": 1,\n "b": "日本", }'.encode(), READER,
                                   "trailing comma at line 3 column 17"),
    "CRLF": (b'{\r\n"a": 1,\r\n', READER, "EOF while parsing a value at line 3 column 0"),
    "CRLF trailing comma": (b"[1,\r\n2,\r\n]", READER, "trailing comma at line 3 column 1"),
    "valid": (b'{"input": [], "a": [1, -0, 1.5e3, "\\u00e9", true, false, null]}', READER, None),
}

def test_the_table_covers_every_message() -> None:
    messages = {expected.split(" at line ")[0] for _, _, expected in CASES.values() if expected}
    assert len(CASES) >= 40
    assert messages == {
        "EOF while parsing a list", "EOF while parsing an object", "EOF while parsing a string",
        "EOF while parsing a value", "expected `:`", "expected `,` or `]`",
        "expected `,` or `}`", "expected ident", "expected value", "invalid escape",
        "invalid number", "number out of range", "invalid unicode code point",
        "control character (\\u0000-\\u001F) found while parsing a string",
        "key must be a string", "lone leading surrogate in hex escape", "trailing comma",
        "trailing characters", "unexpected end of hex escape", "recursion limit exceeded",
    }


@pytest.mark.parametrize("name", list(CASES))
def test_syntax_error(name: str) -> None:
    data, source, expected = CASES[name]
    assert syntax_error(data, source=source) == expected


def _loads_outcome(data: bytes, source: Source) -> tuple[bool, str | None]:
    """Whether ``serde_json.loads`` (fast path, then exact) accepts ``data``, and its error."""
    given: str | bytes = data if source == READER else data.decode("utf-8")
    try:
        serde_json.loads(given)
    except serde_json.JsonError as err:
        return False, str(err)
    except UnicodeDecodeError:
        return False, None
    return True, None


@pytest.mark.parametrize("name", [name for name, (data, _, _) in CASES.items() if is_utf8(data)])
def test_the_exact_path_words_errors_as_serde_json(name: str) -> None:
    data, source, expected = CASES[name]
    accepted, message = _loads_outcome(data, source)
    assert accepted == (expected is None)
    assert message == expected


def test_invalid_utf8_stays_a_decode_error() -> None:
    # loads' contract: bytes must be UTF-8 (the payload reader names the line itself).
    with pytest.raises(UnicodeDecodeError):
        serde_json.loads(b'["\xff"]')


def test_errors_never_echo_the_document() -> None:
    secret = b"hunter2-secret"
    for document in (b'{"' + secret + b'" ' + secret + b"}", b'["' + secret + b'\\q"]',
                     b'["' + secret + b'"] ' + secret, b'{"' + secret + b'":"\xff"}'):
        message = syntax_error(document)
        assert message is not None and b"hunter2" not in message.encode()


def test_long_documents_are_linear_and_need_no_recursion() -> None:
    deep = b"[" * 100_000
    assert syntax_error(deep) == "recursion limit exceeded at line 1 column 128"
    wide = b"[" + b'"abc\\n\\u00e9 d", ' * 200_000 + b"1,]"
    assert syntax_error(wide) == f"trailing comma at line 1 column {len(wide)}"


# --- against the reference reducer ------------------------------------------------

_PAYLOAD_PREFIX = "ERROR: parse payload raw_payload:1: "
_ARGUMENTS_PREFIX = "ERROR: wait tool request payload raw_payload:1 had invalid JSON arguments: "
#: A model-requested `wait` tool call: the reference parses its arguments with from_str.
_WAIT = json.dumps({
    "schema_version": 1, "seq": 3, "wall_time_unix_ms": 7, "rollout_id": "r",
    "thread_id": "th", "codex_turn_id": "tu",
    "payload": {"type": "tool_call_started", "tool_call_id": "w", "model_visible_call_id": None,
                "code_mode_runtime_tool_id": None, "requester": {"type": "model"},
                "kind": {"type": "other", "name": "wait"},
                "summary": {"type": "generic", "label": "wait", "input_preview": None,
                            "output_preview": None},
                "invocation_payload": {"raw_payload_id": "raw_payload:1",
                                       "kind": {"type": "tool_invocation"},
                                       "path": "payloads/1.json"}},
})


def write_syntax_bundle(bundle: Path, data: bytes, source: Source) -> None:
    """A bundle whose reference run parses ``data`` with that serde_json entry point.

    ``"reader"``: ``data`` is an inference request payload file. ``"slice"``: it is
    the (UTF-8) function arguments of a ``wait`` tool call.
    """
    (bundle / "payloads").mkdir(parents=True)
    (bundle / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    if source == READER:
        events, payload = f"{THREAD}\n{TURN}\n{INFERENCE}\n", data
    else:
        arguments = data.decode("utf-8")
        events = f"{THREAD}\n{TURN}\n{_WAIT}\n"
        payload = json.dumps({"tool_name": "wait",
                              "payload": {"type": "function", "arguments": arguments}}).encode()
    (bundle / "trace.jsonl").write_text(events, encoding="utf-8")
    (bundle / "payloads" / "1.json").write_bytes(payload)


def reference_syntax_error(data: bytes, source: Source) -> str | None:
    """serde_json's message for ``data`` as the reference reports it (None: it parsed)."""
    with tempfile.TemporaryDirectory(prefix="serde-syntax-") as tmp:
        write_syntax_bundle(Path(tmp) / "bundle", data, source)
        result = run_reference(Path(tmp) / "bundle")
    assert result is not None
    prefix = _PAYLOAD_PREFIX if source == READER else _ARGUMENTS_PREFIX
    # Any other outcome (success, or a later error about the value) means it parsed.
    return result.stderr.removeprefix(prefix) if result.stderr.startswith(prefix) else None


@pytest.mark.reference
@pytest.mark.skipif(reference_reducer() is None,
                    reason="../shared/tools/reference-reduce is not on this machine")
@pytest.mark.parametrize("name", list(CASES))
def test_against_the_reference(name: str) -> None:
    data, source, expected = CASES[name]
    assert reference_syntax_error(data, source) == expected


# --- mutated documents ---------------------------------------------------------------

#: Valid documents to damage: every construct, escapes, multi-byte text, long numbers.
SEED_DOCUMENTS: tuple[bytes, ...] = (
    b'{"input": [], "a": [1, -0, 1.5e3, -2.5E-3, 0, 0.1, 1e+2, true, false, null]}',
    b'{"input":[{"type":"message","role":"user","content":[{"type":"input_text",'
    b'"text":"line\\nnext \\"quoted\\" \\\\ \\/ \\b\\f\\r\\t \\u00e9 \\ud83d\\ude00"}]}]}',
    '{\n  "input": [],\n  "k\u00e9y": "\u65e5\u672c\u8a9e \u00e9",\r\n  "n": {"m": [[], {}]}\n}'
    .encode(),
    b'[18446744073709551615, 18446744073709551616, -9223372036854775808, '
    b'-9223372036854775809, 123456789012345678901234567890, 1e308, 1.7976931348623157e308, '
    b'4.9e-324, 1e-400, 0e999, 184467440737095516160.5e-2]',
    b'[[[[[[[[[["deep", {"x": [{"y": null}]}]]]]]]]]]]',
    b'"just a string \\u0041\\u0000"',
    b"-12.5e-7",
    b" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n",
    b'{"n": [0, -0.0, 10, 99.99e-1, 1E5, 2e-5, 7.0e+10, -1, 100000000000000000000e-2]}',
    # An escaped backslash before `ud800`; two pairs; the highest pair; the last BMP escape.
    b'["\\\\ud800", "\\\\u", "\\ud83d\\ude00\\ud83d\\ude00", "\\uDBFF\\uDFFF", "\\uFFFF"]',
    # One more `[` or `{` inside reaches serde_json's recursion limit.
    b"[" * 127 + b"]" * 127,
    b'{"a":' * 126 + b"[1]" + b"}" * 126,
)

#: Bytes worth inserting: structure, number and literal characters, escapes, whitespace
#: (and not: form feed), control bytes, bytes of multi-byte characters and a BOM.
MUTATION_BYTES = (b'{}[],:"\\/ \t\n\r\x0c0123456789.eE+-nultrfasbuxN\x00\x1f\x7f'
                  b"\x80\xa9\xc3\xe6\xed\xef\xbb\xbf\xff")

#: (kind, position, byte): position is taken modulo the document's length.
Mutation = tuple[str, int, int]
MUTATION_KINDS = ("delete", "insert", "replace", "truncate")


def mutate(document: bytes, mutations: list[Mutation]) -> bytes:
    data = bytearray(document)
    for kind, position, byte in mutations:
        at = position % (len(data) + 1)
        if kind == "insert":
            data[at:at] = bytes([byte])
        elif kind == "truncate":
            del data[at:]
        elif at < len(data):
            if kind == "delete":
                del data[at]
            else:
                data[at] = byte
    return bytes(data)


mutations = st.lists(
    st.tuples(st.sampled_from(MUTATION_KINDS), st.integers(0, 10_000),
              st.sampled_from(list(MUTATION_BYTES))),
    min_size=1, max_size=3,
)


@settings(max_examples=3000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEED_DOCUMENTS), mutations, st.sampled_from([READER, SLICE]))
def test_mutated_documents_agree_with_the_exact_path(
    document: bytes, changes: list[Mutation], source: Source
) -> None:
    data = mutate(document, changes)
    if source == SLICE and not is_utf8(data):
        source = READER  # from_str only ever sees UTF-8
    expected = syntax_error(data, source=source)
    accepted, message = _loads_outcome(data, source)
    assert accepted == (expected is None), (data, expected)
    if message is not None:  # refused, and valid UTF-8: worded as serde_json words it
        assert message == expected, data
