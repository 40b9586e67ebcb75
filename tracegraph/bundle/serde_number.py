"""Numbers as ``serde_json`` parses them into a ``Value`` (default features).

Without the ``float_roundtrip`` feature serde_json computes a float as
``(significand as f64) * 10^exp`` (or ``/ 10^-exp``), which can be one ULP
away from the correctly rounded value that Python's ``float()`` gives
(``0.23607809543282265`` parses as ``0.23607809543282263``). Summaries of JSON
arguments show those digits, so tracegraph parses numbers the same way.
Integers stay integers while they fit u64 (or i64 when negative).
"""

from __future__ import annotations

__all__ = [
    "InvalidNumber",
    "NumberOutOfRange",
    "parse_number",
]


_U64_MAX = 2**64 - 1
_I32_MAX = 2**31 - 1
_I32_MIN = -(2**31)
_POW10 = [float(f"1e{i}") for i in range(309)]


class NumberOutOfRange(ValueError):
    """serde_json refuses numbers whose magnitude overflows f64."""


class InvalidNumber(ValueError):
    """serde_json refuses a number token other parsers take (see :func:`parse_number`)."""


def _overflows(value: int, digit: int, limit: int) -> bool:
    return value >= limit // 10 and (value > limit // 10 or digit > limit % 10)


def _f64_from_parts(positive: bool, significand: int, exponent: int) -> float:
    value = float(significand)  # u64 -> f64, round half to even
    while True:
        index = abs(exponent)
        if index < len(_POW10):
            if exponent >= 0:
                value *= _POW10[index]
                if value == float("inf"):
                    raise NumberOutOfRange("number out of range")
            else:
                value /= _POW10[index]
            break
        if value == 0.0:
            break
        if exponent >= 0:
            raise NumberOutOfRange("number out of range")
        value /= 1e308
        exponent += 308
    return value if positive else -value


def parse_number(text: str) -> int | float:
    """Parse one JSON number literal (already validated by the tokenizer)."""
    # Fast path: short integers are exact in both parsers.
    if len(text) < 19 and "." not in text and "e" not in text and "E" not in text:
        value = int(text)
        return -0.0 if value == 0 and text.startswith("-") else value
    index = 0
    length = len(text)
    positive = text[0] != "-"
    if not positive:
        index = 1
    significand = int(text[index])
    index += 1
    exponent = 0
    long_integer = False
    if significand != 0:
        while index < length and text[index].isdigit():
            digit = int(text[index])
            if _overflows(significand, digit, _U64_MAX):
                long_integer = True
                break
            significand = significand * 10 + digit
            index += 1
        if long_integer:
            # Digits past u64 only scale the value.
            while index < length and text[index].isdigit():
                exponent += 1
                index += 1
    if index == length:
        if long_integer:
            return _f64_from_parts(positive, significand, exponent)
        if positive:
            return significand
        if 0 < significand <= 2**63:
            return -significand
        return -float(significand)  # -0, or below i64::MIN
    if text[index] == ".":
        index += 1
        overflowed = False
        while index < length and text[index].isdigit():
            digit = int(text[index])
            if _overflows(significand, digit, _U64_MAX):
                overflowed = True
                while index < length and text[index].isdigit():
                    index += 1
                break
            significand = significand * 10 + digit
            exponent -= 1
            index += 1
        if exponent == 0 and not overflowed:
            # 1.0.87 checks for "a digit after the point" by the exponent, which the
            # digits of a long integer moved up: 18446744073709551616.0 brings it
            # back to 0, and is refused.
            raise InvalidNumber("invalid number")
    if index < length and text[index] in "eE":
        index += 1
        positive_exponent = True
        if text[index] in "+-":
            positive_exponent = text[index] == "+"
            index += 1
        written = int(text[index])
        index += 1
        while index < length:
            digit = int(text[index])
            index += 1
            if _overflows(written, digit, _I32_MAX):
                if significand != 0 and positive_exponent:
                    raise NumberOutOfRange("number out of range")
                return 0.0 if positive else -0.0
            written = written * 10 + digit
        exponent = exponent + written if positive_exponent else exponent - written
        exponent = max(min(exponent, _I32_MAX), _I32_MIN)
    return _f64_from_parts(positive, significand, exponent)
