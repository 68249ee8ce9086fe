"""Pure rules: identifiers (GB 32100-2015, GB/T 17710), coordinates, lists, file reading."""

import pytest

from onevisit.directory import uscc
from onevisit.directory.fields import (
    FieldError,
    check_subject_id,
    degrees_from_e6,
    normalise_subject_id,
    parse_degrees_e6,
    parse_list,
)
from onevisit.directory.tabular import read_table
from onevisit.errors import AppError

VALID = uscc.make_uscc("9", "1", "410302", "MA9XKQ2R7")


def regno(body14: str) -> str:
    return next(body14 + d for d in "0123456789" if uscc.is_valid_regno(body14 + d))


def test_valid_uscc():
    assert uscc.is_valid_uscc(VALID)
    assert check_subject_id("subject_id", VALID, "enterprise") == "uscc"


def test_known_published_uscc():
    # a real code printed on a business licence (checked with the GB 32100 algorithm)
    assert uscc.is_valid_uscc("91350100M000100Y43")


def test_wrong_check_char():
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    assert not uscc.is_valid_uscc(wrong)
    with pytest.raises(FieldError) as e:
        check_subject_id("subject_id", wrong, "enterprise")
    assert e.value.code == "subject.uscc_invalid"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet(letter):
    body = "91410302MA9XKQ2R" + letter
    assert not uscc.is_valid_uscc(body + "0")
    with pytest.raises(ValueError):
        uscc.uscc_check_char(body)


def test_lowercase_and_spaces_are_normalised():
    messy = " " + VALID[:6].lower() + " " + VALID[6:].lower() + "\t"
    assert normalise_subject_id(messy) == VALID
    assert not uscc.is_valid_uscc(VALID.lower())


def test_regno():
    good = regno("41030260000123")
    assert uscc.is_valid_regno(good)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert not uscc.is_valid_regno(bad)
    assert check_subject_id("subject_id", good, "individual") == "regno"
    with pytest.raises(FieldError) as e:
        check_subject_id("subject_id", bad, "individual")
    assert e.value.code == "subject.regno_invalid"


def test_plain_ids_only_for_products_projects_behaviours():
    assert check_subject_id("subject_id", "PRD-2024_001", "product") == "other"
    with pytest.raises(FieldError) as e:
        check_subject_id("subject_id", "PRD-2024_001", "enterprise")
    assert e.value.code == "subject.uscc_invalid"
    with pytest.raises(FieldError) as e:
        check_subject_id("subject_id", "产品一号", "product")
    assert e.value.code == "subject.id_invalid"
    with pytest.raises(FieldError) as e:
        check_subject_id("subject_id", "X" * 65, "project")
    assert e.value.code == "subject.id_invalid"


@pytest.mark.parametrize(
    ("text", "e6"),
    [
        ("34.6699", 34_669_900),
        ("-0.000001", -1),
        ("112.4421005", 112_442_101),  # half-up at the 7th decimal
        ("90", 90_000_000),
        ("1E1", 10_000_000),
    ],
)
def test_degrees_to_micro_degrees_exactly(text, e6):
    assert parse_degrees_e6("lat", text) == e6


def test_micro_degrees_back_to_text():
    assert degrees_from_e6(34_669_900) == "34.669900"
    assert degrees_from_e6(-1) == "-0.000001"
    assert parse_degrees_e6("lat", degrees_from_e6(112_442_101)) == 112_442_101
    assert degrees_from_e6(None) == ""


def test_bad_degrees():
    for bad in ("abc", "NaN", "Infinity", "34,5"):
        with pytest.raises(FieldError) as e:
            parse_degrees_e6("lat", bad)
        assert e.value.code == "subject.coordinates_invalid"


def test_lists():
    assert parse_list("餐饮；重点、 学校周边,餐饮") == ["餐饮", "重点", "学校周边"]
    assert parse_list("") == []


def test_csv_encodings():
    text = "名称,类型\n洛阳一号,企业\n"
    for data in (text.encode(), ("\ufeff" + text).encode(), text.encode("gb18030")):
        table = read_table(data, "x.csv")
        assert table.header == ["名称", "类型"]
        assert table.rows == [(2, ["洛阳一号", "企业"])]


def test_blank_rows_keep_spreadsheet_line_numbers():
    table = read_table(b"a,b\n1,2\n,\n3,4\n", "x.csv")
    assert [n for n, _ in table.rows] == [2, 4]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "import.empty"),
        (b"a,b\n", "import.empty"),
        (b"\xff\xfea\x00,\x00b\x00", "import.format"),  # UTF-16
        (b"PK\x03\x04not really a zip", "import.format"),
    ],
)
def test_unreadable_or_empty(data, code):
    with pytest.raises(AppError) as e:
        read_table(data, "x.csv")
    assert e.value.code == code


def test_check_char_equals_the_standards_weighted_sum():
    """GB 32100-2015 §5 as written: C18 = 31 - (Σ C_i × W_i mod 31), W_i = 3^(i-1) mod 31
    (31 → 0); the module computes it through base 34 instead."""
    import random

    rng = random.Random(32100)
    for _ in range(5000):
        body = "".join(rng.choice(uscc.USCC_ALPHABET) for _ in range(17))
        total = sum(uscc.USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
        want = uscc.USCC_ALPHABET[(31 - total % 31) % 31]
        assert uscc.uscc_check_char(body) == want
        assert uscc.is_valid_uscc(body + want) == (
            body[0] in "123456789ANY" and body[2:8].isdigit()
        )


def test_full_width_ids_are_the_same_id():
    """A code pasted from a Chinese document in full-width forms names the same subject; it is
    never a second id (full-width digits are digits to str.isdigit())."""
    full = VALID.translate({ord(c): ord(c) + 0xFEE0 for c in VALID})
    assert normalise_subject_id(full) == VALID
    no = regno("41030060012345")
    full_no = no.translate({ord(c): ord(c) + 0xFEE0 for c in no})
    assert not uscc.is_valid_regno(full_no)
    assert normalise_subject_id(full_no) == no


def test_cells_are_stripped_exactly_as_strip_would():
    """read_table skips strip() when no cell can start or end with whitespace; the cells must
    be those of strip() on every cell, for any text (quotes, line breaks in cells, CJK and
    control whitespace)."""
    import csv
    import io
    import random

    from onevisit.directory.tabular import _csv_lines

    pool = ["a", "中", ",", '"', " ", "\u3000", "\t", "\n", "\r\n", "\r", "\x1f", "\xa0", "1"]
    rng = random.Random(63)
    for _ in range(5000):
        text = "h1,h2\n" + "".join(rng.choice(pool) for _ in range(rng.randint(1, 14)))
        try:
            want = [list(map(str.strip, r)) for r in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error:
            continue
        assert _csv_lines(text.encode()) == want, repr(text)


@pytest.mark.parametrize(
    ("field", "cell", "clean"),
    [
        ("region_code", "410302", "410302"),
        ("region_code", "410302001", "410302001"),
        ("region_code", "４１０３０２", "410302"),
        ("region_code", "", ""),
        ("region_code", "１２３😀", None),
        ("region_code", "41030", None),
        ("industry_code", "f5211", "F5211"),
        ("industry_code", "H", "H"),
        ("industry_code", "5211", "5211"),
        ("industry_code", "Z99", None),
        ("industry_code", "餐饮", None),
    ],
)
def test_region_and_industry_codes(field, cell, clean):
    from onevisit.directory.records import FieldErrors, clean_subject

    values = {"subject_id": VALID, "name": "洛阳测试商贸有限公司", "kind": "企业", field: cell}
    if clean is None:
        with pytest.raises(FieldErrors) as e:
            clean_subject(values)
        assert [(x.field, x.code) for x in e.value.errors] == [(field, "import.value_invalid")]
    else:
        from onevisit.directory.records import SUBJECT_FIELDS

        assert clean_subject(values)[SUBJECT_FIELDS.index(field)] == clean


def test_whitespace_list_is_what_strip_removes():
    from onevisit.directory.tabular import _WHITESPACE

    want = "".join(c for c in map(chr, range(0x110000)) if c.isspace() and c not in "\r\n")
    assert want == _WHITESPACE


def test_simple_csv_reads_as_the_csv_module():
    """Texts without quotes are read column by column (tabular._simple_csv); the table must be
    the csv module's reading, cell for cell: stripped, blank rows skipped with their line
    numbers kept, formula escapes dropped — or the csv module reads it (None)."""
    import csv
    import io
    import random

    from onevisit.directory.tabular import _csv_unescape, _simple_csv

    def by_csv_module(text):
        rows = [list(map(str.strip, r)) for r in csv.reader(io.StringIO(text, newline=""))]
        rows = [list(map(_csv_unescape, r)) for r in rows]
        header = [c.strip().lstrip("\ufeff") for c in rows[0]]
        return header, [(n, r) for n, r in enumerate(rows[1:], start=2) if any(r)]

    pool = ["a", "中", ",", " ", "\u3000", "\t", "\n", "\r\n", "\r", "\x1f", "\xa0", "1", "'",
            "=", "\x0b", "\x1c", ",,", "\n,,\n", "\n\n"]  # fmt: skip
    rng = random.Random(7)
    simple = 0
    for _ in range(20000):
        head = rng.choice(["h1,h2\n", "h\n", "a,b,c\r\n", "\ufeffx,y\n"])
        text = head + "".join(rng.choice(pool) for _ in range(rng.randint(1, 20)))
        table = _simple_csv(text)
        if table is None:
            continue
        simple += 1
        assert (table.header, table.rows) == by_csv_module(text), repr(text)
        assert table.columns == [list(c) for c in zip(*(c for _, c in table.rows), strict=True)]
    assert simple > 2000


def test_read_table_rows_and_columns_agree():
    for data in (b"a,b\n1,2\n,\n3,4\n", b'a,b\n"1",2\n,\n3,4\n'):  # simple, then by csv module
        table = read_table(data, "x.csv")
        assert table.numbers == [2, 4]
        assert [list(c) for c in table.columns] == [["1", "3"], ["2", "4"]]


def test_all_valid_uscc_is_is_valid_uscc_over_a_column():
    import random

    rng = random.Random(3210)
    alphabet = uscc.USCC_ALPHABET
    for _ in range(5000):
        codes = []
        for _ in range(rng.randint(1, 4)):
            body = rng.choice("123456789ANYB") + rng.choice(alphabet + "Ia")
            body += "".join(rng.choice("0123456789") for _ in range(6))
            body += "".join(rng.choice(alphabet + "OZ ") for _ in range(9))
            body = body if rng.random() < 0.9 else body[: rng.randint(10, 17)]
            check = uscc._check_char(body) if len(body) == 17 and body.strip(alphabet) == "" else ""
            codes.append(body + (check if rng.random() < 0.8 and check else rng.choice(alphabet)))
        assert uscc.all_valid_uscc(codes) == all(map(uscc.is_valid_uscc, codes)), codes
    assert not uscc.all_valid_uscc([])
