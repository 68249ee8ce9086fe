"""Identifiers of subjects: the USCC (GB 32100-2015), the 15-digit registration number of older
individual businesses (GB/T 17710 = ISO 7064 MOD 11,10 check digit), and plain ids.

Pure functions, no I/O: the importer, the API, the demo generator and the tests share them.
"""

from __future__ import annotations

__all__ = [
    "USCC_ALPHABET",
    "IdKind",
    "all_valid_uscc",
    "classify_subject_id",
    "is_valid_regno",
    "is_valid_uscc",
    "make_uscc",
    "uscc_check_char",
]

import re
from collections.abc import Sequence
from enum import StrEnum
from itertools import repeat
from operator import mod

# GB 32100-2015 §4: 31 characters, the letters I, O, Z, S, V are never used.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
# Weights W_i = 3^i mod 31 for the 17 body positions (GB 32100-2015 §5). Since 34 ≡ 3 (mod 31),
# sum(v_i * 3^i) ≡ the body's values read as a base-34 numeral, least significant digit first:
# one translate() to digits 0-9a-u, a reversal and int(…, 34) compute it in C.
_TO_BASE34 = str.maketrans(dict(zip(USCC_ALPHABET, "0123456789abcdefghijklmnopqrstu", strict=True)))
# First character: the registration authority GB 32100-2015 assigns (1 机构编制, 2 外交,
# 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商, A 中央军委改革和编制办公室,
# N 农业 (农村集体经济组织), Y 其他); B–G are not assigned.
_AUTHORITIES = frozenset("123456789ANY")


class IdKind(StrEnum):
    uscc = "uscc"  # 统一社会信用代码
    regno = "regno"  # 个体工商户旧注册号 (15 digits)
    other = "other"  # 产品、项目、行为等的自定义编号


def _check_char(body: str) -> str:
    """The check character of a 17-character body of alphabet characters."""
    total = int(body.translate(_TO_BASE34)[::-1], 34)
    return USCC_ALPHABET[-total % 31]


def uscc_check_char(body: str) -> str:
    """The 18th character for a 17-character USCC body."""
    if len(body) != 17 or any(c not in _VALUE for c in body):
        raise ValueError("USCC body must be 17 characters of the GB 32100 alphabet")
    return _check_char(body)


def is_valid_uscc(code: str) -> bool:
    # Written for speed: an import checks 100,000 of these (string methods run in C).
    if len(code) != 18 or code[0] not in _AUTHORITIES or not code[2:8].isdigit():
        return False
    if code.strip(USCC_ALPHABET):  # a character outside the alphabet (I, O, Z, S, V, a-z, …)
        return False
    return _check_char(code[:17]) == code[17]


# A USCC in canonical form (upper case, no spaces): an authority, then alphabet characters with
# digits at positions 3–8 (is_valid_uscc's rules as one pattern), one per line.
_USCC = "[1-9ANY][0-9A-HJ-NP-RTUW-Y][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}"
_USCC_LINES = re.compile(f"{_USCC}(?:\n{_USCC})*")
# The reversed code read as a base-34 numeral is v(C18)·34^17 + Σ v(C_i)·34^(i-1), and the code
# is valid when v(C18) ≡ -Σ (mod 31); as 34^17 ≡ 3^17 ≡ 22 (mod 31), when the numeral ≡ 21·v(C18).
_RESIDUE = {d: 21 * v % 31 for v, d in enumerate("0123456789abcdefghijklmnopqrstu")}


def all_valid_uscc(codes: Sequence[str]) -> bool:
    """Whether every code is a valid USCC in canonical form (what normalise_subject_id leaves
    unchanged): is_valid_uscc over a column in C loops (an import checks 100,000 ids) — the text
    rules as one pattern over the joined codes, the check characters as base-34 numerals of the
    reversed text. False says only that some code is not: check them one by one then."""
    text = "\n".join(codes)
    if not codes or not _USCC_LINES.fullmatch(text):
        return False
    digits = text.translate(_TO_BASE34)  # each code 18 characters and a line break
    numerals = map(int, digits[::-1].split("\n"), repeat(34))
    want = map(_RESIDUE.__getitem__, digits[17::19][::-1])
    return list(map(mod, numerals, repeat(31))) == list(want)


def is_valid_regno(code: str) -> bool:
    """15-digit registration number, ISO 7064 MOD 11,10 over all digits."""
    if len(code) != 15 or not (code.isascii() and code.isdigit()):
        return False
    p = 10
    for ch in code[:-1]:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return (p + int(code[-1])) % 10 == 1


def classify_subject_id(code: str) -> IdKind:
    """The kind an identifier looks like; it says nothing about validity."""
    if len(code) == 18 and code[2:8].isdigit():
        return IdKind.uscc
    if len(code) == 15 and code.isascii() and code.isdigit():
        return IdKind.regno
    return IdKind.other


def make_uscc(authority: str, org_type: str, region: str, org_code: str) -> str:
    """Build a valid USCC from its parts (used by the demo generator and tests)."""
    body = f"{authority}{org_type}{region}{org_code}"
    return body + uscc_check_char(body)
