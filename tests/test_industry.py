"""Tests of parkgeo.industry: GB/T 4754-2017 codes, names, roll-ups, strategic categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkgeo import industry
from parkgeo._errors import MissingAssetError, ParkgeoError, SchemaError
from parkgeo._paths import data_path
from parkgeo.industry import IndustryCodeError


def test_classification_counts_per_level() -> None:
    table = industry.load_classification()
    counts = table["level"].value_counts().to_dict()
    assert counts == {"section": 20, "division": 97, "group": 473, "class": 1381}
    assert len(table) == 1971
    assert table.index.is_unique and table.index.name is None
    assert table.sort_values("code")["code"].iloc[:3].tolist() == ["A", "A01", "A011"]
    assert list(table.loc[table["level"] == "section", "code"]) == list("ABCDEFGHIJKLMNOPQRST")


def test_classification_rows_are_consistent() -> None:
    table = industry.load_classification()
    row = table.loc["C2710"]
    assert (row["section"], row["division"], row["group"], row["class"]) == (
        "C",
        "C27",
        "C271",
        "C2710",
    )
    assert row["digits"] == "2710" and row["level_zh"] == "小类"
    assert table.loc["A0111", "name"] == "稻谷种植"
    # Every class's parents exist and belong to the same section.
    classes = table[table["level"] == "class"]
    assert classes["group"].isin(table.index).all()
    assert classes["division"].isin(table.index).all()
    assert (classes["code"].str[0] == classes["section"]).all()
    assert pd.isna(table.loc["C27", "group"])
    # Section -> division ranges of the standard, spot-checked at the edges.
    assert table.loc["C13", "section"] == "C" and table.loc["C43", "section"] == "C"
    assert table.loc["A05", "section"] == "A" and table.loc["T97", "section"] == "T"


def test_load_classification_returns_a_copy() -> None:
    table = industry.load_classification()
    table.loc["C2710", "name"] = "changed"
    assert industry.load_classification().loc["C2710", "name"] == "化学药品原料药制造"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C2710", "C2710"),
        ("2710", "C2710"),
        ("c2710", "C2710"),
        (" C2710 ", "C2710"),
        ("C 2710", "C2710"),
        ("C-27", "C27"),
        ("27", "C27"),
        (" 27 ", "C27"),
        ("c27", "C27"),
        ("271", "C271"),
        ("C271", "C271"),
        ("C", "C"),
        ("c", "C"),
        ("t", "T"),
        ("Ｃ２７１０", "C2710"),  # full-width letters and digits
        ("２７", "C27"),
        ("\u30002710\u3000", "C2710"),  # ideographic spaces
        ("0111", "A0111"),
        ("A0111", "A0111"),
        ("01", "A01"),
        ("1", "A01"),  # a single digit can only be division 01-09
        ("111", "B111"),  # text is literal: group 111 of division 11
        ("11", "B11"),
        ("3963", "C3963"),  # new in 2017
        ("0532", "A0532"),  # new in 2017
        ("6579", "I6579"),
        ("2710.0", "C2710"),  # a number that went through a spreadsheet
        ("111.0", "A0111"),
        (2710, "C2710"),
        (np.int64(2710), "C2710"),
        (2710.0, "C2710"),
        (111, "A0111"),  # a number lost the leading zero of 0111
        (1, "A01"),
        (271, "C271"),  # 0271 does not exist, so 271 is the group
        (27, "C27"),
        (9700, "T9700"),
    ],
)
def test_normalize_code_forms(raw, expected) -> None:
    assert industry.normalize_code(raw) == expected
    assert industry.is_valid_code(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9999", r"no class \(小类\) with digits 9999"),
        ("C99", r"no division \(大类\) with digits 99"),
        ("279", r"no group \(中类\) with digits 279"),
        ("C0111", r"section letter C does not match: 0111 belongs to section A"),
        ("A2710", r"section letter A does not match"),
        ("U", r"sections run from A to T"),
        ("C27101", r"at most 4 digits"),
        ("27a", r"optional section letter A-T"),
        ("化学药品", r"optional section letter A-T"),
        ("", r"empty"),
        ("   ", r"empty"),
        (None, r"missing"),
        (np.nan, r"missing"),
        (pd.NA, r"missing"),
        (27.5, r"fraction"),
        (-27, r"negative"),
        (True, r"boolean"),
        (["C27"], r"expected text or an integer"),
    ],
)
def test_unknown_codes_are_explained(raw, reason) -> None:
    with pytest.raises(IndustryCodeError, match=reason) as info:
        industry.normalize_code(raw)
    assert isinstance(info.value, ParkgeoError)
    assert "is not a GB/T 4754-2017 code" in str(info.value)
    assert not industry.is_valid_code(raw)
    problem = industry.code_problem(raw)
    assert problem is not None and problem == info.value.reason


def test_industry_code_error_pickles() -> None:
    import pickle

    with pytest.raises(IndustryCodeError) as info:
        industry.normalize_code("C0111")
    restored = pickle.loads(pickle.dumps(info.value))
    assert str(restored) == str(info.value) and restored.code == "C0111"
    assert restored.reason == info.value.reason


@pytest.mark.parametrize("code", ["3610", "6510", "6420", "7240", "7250"])
def test_gbt4754_2011_codes_get_a_dedicated_reason(code) -> None:
    table = industry.load_classification()
    assert code not in set(table["digits"])  # really gone from the 2017 edition
    problem = industry.code_problem(code)
    assert problem is not None and "GB/T 4754-2011" in problem and "recode" in problem


def test_code_problem_is_none_for_valid_codes() -> None:
    assert industry.code_problem("C2710") is None
    assert industry.code_problem(2710) is None


def test_normalize_codes_vectorised() -> None:
    codes = pd.Series(
        ["2710", "c27", 2710, 111, None, "bogus", np.nan, "C", "2710"],
        index=[10, 11, 12, 13, 14, 15, 16, 17, 18],
        name="industry",
        dtype=object,
    )
    before = codes.copy()
    out = industry.normalize_codes(codes)
    assert out.index.equals(codes.index) and out.name == "industry"
    assert pd.api.types.is_string_dtype(out)
    expected = ["C2710", "C27", "C2710", "A0111", None, None, None, "C", "C2710"]
    assert [None if pd.isna(v) else v for v in out] == expected
    pd.testing.assert_series_equal(codes, before)
    assert industry.normalize_codes(["27", "x"]).tolist()[0] == "C27"
    assert len(industry.normalize_codes(pd.Series([], dtype=object))) == 0


def test_normalize_codes_on_pandas_string_dtype() -> None:
    codes = pd.Series(["2710", None, "c3612"], dtype="str")
    assert industry.normalize_codes(codes).fillna("NA").tolist() == ["C2710", "NA", "C3612"]


@pytest.mark.parametrize(
    ("code", "level", "expected"),
    [
        ("C2710", "section", "C"),
        ("C2710", "division", "C27"),
        ("C2710", "group", "C271"),
        ("C2710", "class", "C2710"),
        ("0111", "division", "A01"),
        ("C271", "group", "C271"),
        ("C271", "class", None),
        ("C27", "group", None),
        ("C", "division", None),
        ("C", "section", "C"),
    ],
)
def test_rollup_single(code, level, expected) -> None:
    assert industry.rollup(code, level=level) == expected


def test_rollup_vectorised_keeps_index_and_gives_na() -> None:
    codes = pd.Series(["2710", "C3612", "C", "C38", "bad", None], index=list("abcdef"))
    divisions = industry.rollup(codes, level="division")
    assert divisions.index.equals(codes.index)
    assert divisions.fillna("NA").tolist() == ["C27", "C36", "NA", "C38", "NA", "NA"]
    groups = industry.rollup(codes, level="group")
    assert groups.fillna("NA").tolist() == ["C271", "C361", "NA", "NA", "NA", "NA"]
    assert industry.rollup(codes).equals(divisions)  # division is the default
    assert industry.rollup(codes, level="section").fillna("NA").tolist() == [
        "C",
        "C",
        "C",
        "C",
        "NA",
        "NA",
    ]


def test_rollup_errors() -> None:
    with pytest.raises(IndustryCodeError):
        industry.rollup("9999", level="division")
    with pytest.raises(ParkgeoError, match="section, division, group, class"):
        industry.rollup(["C27"], level="subclass")


def test_industry_names_zh_and_en() -> None:
    assert industry.industry_name("C2710") == "化学药品原料药制造"
    assert industry.industry_name("27") == "医药制造业"
    assert industry.industry_name("c") == "制造业"
    assert industry.industry_name("C", lang="en") == "Manufacturing"
    assert industry.industry_name("C27", lang="en") == "Manufacture of medicines"
    assert (
        industry.industry_name("I65", lang="en") == "Software and information technology services"
    )
    assert industry.industry_name("C2710", lang="en") == "C2710 (in Manufacture of medicines)"
    assert industry.industry_name("C271", lang="en") == "C271 (in Manufacture of medicines)"
    names = industry.industry_name(pd.Series(["C27", "bad"], index=[5, 6]), lang="en")
    assert names.index.tolist() == [5, 6]
    assert names.iloc[0] == "Manufacture of medicines" and pd.isna(names.iloc[1])
    with pytest.raises(IndustryCodeError):
        industry.industry_name("9999")
    with pytest.raises(ParkgeoError, match="lang"):
        industry.industry_name("C27", lang="fr")  # type: ignore[call-overload]


def test_every_section_and_division_has_an_english_name() -> None:
    table = industry.load_classification()
    top = table[table["level"].isin(["section", "division"])]
    assert top["name_en"].notna().all() and (top["name_en"].str.len() > 3).all()
    assert top.groupby("level")["name_en"].nunique().to_dict() == {"division": 97, "section": 20}
    assert table.loc[table["level"].isin(["group", "class"]), "name_en"].isna().all()
    english = pd.read_csv(data_path("gbt4754_2017_divisions_en.csv"), dtype=str)
    assert len(english) == 117
    assert set(english["code"]) == set(top["digits"].where(top["level"] != "section", top["code"]))


# --------------------------------------------------------------------------------------------
# strategic emerging industries
# --------------------------------------------------------------------------------------------


def test_bundled_strategic_mapping_is_well_formed() -> None:
    mapping = industry.load_strategic_mapping()
    assert list(mapping.columns) == ["code", "category", "category_zh", "note", "level"]
    assert mapping["code"].is_unique
    assert set(mapping["category"]) == set(industry.STRATEGIC_CATEGORIES)  # each used, none else
    assert len(industry.STRATEGIC_CATEGORIES) == 11
    zh = mapping.set_index("category")["category_zh"].groupby(level=0).unique()
    for category, values in zh.items():
        assert list(values) == [industry.STRATEGIC_CATEGORIES_ZH[category]]
    assert set(mapping["level"]) <= {"division", "group", "class"}
    assert mapping["note"].notna().all()
    table = industry.load_classification()
    assert mapping["code"].isin(table.index).all()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("C2710", "Biomedicine"),  # via division C27
        ("27", "Biomedicine"),
        ("C3841", "New energy vehicles"),  # class beats its group C384
        ("C3842", "New energy vehicles"),
        ("C3849", "New energy"),  # group C384
        ("C384", "New energy"),
        ("C38", None),  # coarser than every C38x row: unknowable
        ("C3825", "New energy"),
        ("C3811", "New energy"),  # class beats group C381 (High-end equipment)
        ("C3812", "High-end equipment"),
        ("C3612", "New energy vehicles"),
        ("C3611", None),  # conventional cars are not strategic
        ("I6520", "New-generation IT"),  # class beats division I65 (Software)
        ("I6511", "Software"),
        ("I6572", "Digital creative"),  # group I657 beats division I65
        ("I6571", "Software"),  # class beats group I657
        ("I6422", "Digital creative"),
        ("I6421", "New-generation IT"),
        ("C3963", "High-end equipment"),  # class beats division C39
        ("C3911", "New-generation IT"),
        ("M7340", "Biomedicine"),  # class beats division M73
        ("M7320", "Related services"),
        ("M7517", "High-end equipment"),
        ("G5990", "Logistics"),
        ("G5999", None),  # not a code: NA
        ("G5920", "Logistics"),
        ("G6020", "Logistics"),
        ("G6010", None),
        ("C1311", None),
        ("C", None),
        ("bogus", None),
        (None, None),
    ],
)
def test_strategic_category_precedence(code, expected) -> None:
    got = industry.strategic_category(pd.Series([code], dtype=object)).iloc[0]
    assert (None if pd.isna(got) else got) == expected


def test_strategic_category_index_and_lang() -> None:
    codes = pd.Series(["C2710", "C1311", "C3612"], index=[7, 8, 9])
    out = industry.strategic_category(codes)
    assert out.index.tolist() == [7, 8, 9]
    zh = industry.strategic_category(codes, lang="zh")
    assert zh.fillna("NA").tolist() == ["生物产业", "NA", "新能源汽车产业"]


def test_custom_mapping_file_replaces_the_bundled_one(tmp_path) -> None:
    path = tmp_path / "my_mapping.csv"
    path.write_text(
        "code,category,note\n27,Pharma,whole division\nc2710,APIs,one class\n 3612 ,EV,\n",
        encoding="utf-8",
    )
    mapping = industry.load_strategic_mapping(path)
    assert mapping["code"].tolist() == ["C27", "C2710", "C3612"]
    assert mapping["level"].tolist() == ["division", "class", "class"]
    codes = ["C2710", "C2720", "C3612", "C3841"]
    for source in (path, str(path), mapping):
        got = industry.strategic_category(codes, mapping=source).fillna("NA").tolist()
        assert got == ["APIs", "Pharma", "EV", "NA"]
    as_dict = industry.strategic_category(codes, mapping={"C27": "Pharma", "2710": "APIs"})
    assert as_dict.fillna("NA").tolist() == ["APIs", "Pharma", "NA", "NA"]
    # Unknown categories have no Chinese name: fall back to the category itself.
    assert industry.strategic_category(["C2720"], mapping=path, lang="zh").tolist() == ["Pharma"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,category\nC27,Pharma\n9999,Other\n", r"line 3, column 'code': '9999'"),
        ("code,category\nC27,Pharma\n27,Again\n", r"line 3: code C27 is already mapped on line 2"),
        ("code,category\nC27,\n", r"line 2, column 'category': empty"),
        ("code,name\nC27,Pharma\n", r"needs columns 'code' and 'category' \(missing: category"),
    ],
)
def test_bad_mapping_files_name_file_and_line(tmp_path, content, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SchemaError, match=message) as info:
        industry.load_strategic_mapping(path)
    assert "bad.csv" in str(info.value)


def test_missing_mapping_file(tmp_path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        industry.load_strategic_mapping(tmp_path / "nope.csv")


def test_data_path_reports_missing_files() -> None:
    with pytest.raises(MissingAssetError, match="no_such_file.csv"):
        data_path("no_such_file.csv")
    assert data_path("strategic_emerging_industries.csv").is_file()


def test_every_code_of_the_standard_round_trips_through_its_forms() -> None:
    table = industry.load_classification()
    canonical_by_digits = dict(zip(table["digits"], table["code"], strict=True))
    fullwidth = str.maketrans(
        "0123456789ABCDEFGHIJKLMNOPQRST",
        "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴ",
    )
    for code, digits in zip(table["code"], table["digits"], strict=True):
        forms = [code, code.lower(), f" {code} ", code.translate(fullwidth)]
        if digits:
            forms += [digits, f"{code[0]} {digits}"]
        for form in forms:
            assert industry.normalize_code(form) == code, form
        if digits:
            # A number cannot keep a leading zero: odd-length numbers are read with the zero
            # restored first, so group B111 given as the number 111 reads as class A0111, and
            # group A011 given as the number 11 is division B11.
            text = str(int(digits))
            restored = canonical_by_digits.get("0" + text) if len(text) % 2 else None
            expected = restored or canonical_by_digits[text]
            assert industry.normalize_code(int(digits)) == expected, digits
    normalised = industry.normalize_codes(
        table["digits"].where(table["digits"] != "", table["code"])
    )
    assert normalised.tolist() == table["code"].tolist()


ALL_CODES = industry.load_classification()["code"].tolist()


@given(
    value=st.one_of(
        st.text(max_size=8),
        st.text(alphabet="ABCTUZabc0123456789 .-", max_size=7),
        st.integers(min_value=-10, max_value=100_000),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
    )
)
def test_normalize_code_returns_a_real_code_or_raises_industry_code_error(value) -> None:
    try:
        code = industry.normalize_code(value)
    except IndustryCodeError as exc:
        assert not industry.is_valid_code(value)
        assert industry.code_problem(value) == exc.reason
    else:
        assert code in ALL_CODES
        assert industry.normalize_code(code) == code  # canonical form is a fixed point
    vectorised = industry.normalize_codes(pd.Series([value], dtype=object)).iloc[0]
    assert (pd.isna(vectorised) and not industry.is_valid_code(value)) or vectorised == code


def test_analysis_modules_are_mypy_strict_clean() -> None:
    """industry, clusters, structure, gaps, siting and their helpers pass ``mypy --strict``
    (errors mypy reports in modules they import are another module's business)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    mine = [
        "parkgeo/industry.py",
        "parkgeo/_gbt4754.py",
        "parkgeo/clusters.py",
        "parkgeo/structure.py",
        "parkgeo/gaps.py",
        "parkgeo/siting.py",
        "parkgeo/_analysis.py",
        "parkgeo/_colocation.py",
        "parkgeo/_relatedness.py",
        "parkgeo/_reasons.py",
        "parkgeo/_sitecontext.py",
        "parkgeo/years.py",
        "parkgeo/results.py",
        "parkgeo/_commands/clusters.py",
        "parkgeo/_commands/gaps.py",
        "parkgeo/_commands/site.py",
    ]
    exe = Path(sys.executable).parent / "mypy"
    command = [str(exe)] if exe.exists() else [shutil.which("mypy") or "mypy"]
    done = subprocess.run(
        [*command, "--strict", "--cache-dir", ".mypy_cache/strict", *mine],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if line.split(":")[0] in mine]
    assert not errors, "\n".join(errors)
