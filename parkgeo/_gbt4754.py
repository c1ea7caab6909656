"""GB/T 4754-2017 codes: the bundled classification table and code normalisation.

The engine behind :mod:`parkgeo.industry` (which holds the public API and the documentation of
the accepted forms). Private module, public-within-package names.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError
from parkgeo._paths import data_path

LEVELS: tuple[str, ...] = ("section", "division", "group", "class")


@dataclass(frozen=True)
class CodeProblem:
    """Why a value is not a GB/T 4754-2017 code (``parkgeo.industry.IndustryCodeError`` when
    raised)."""

    code: object
    reason: str


CLASSIFICATION_FILE = "gbt4754_2017_industry_classification.csv"
ENGLISH_FILE = "gbt4754_2017_divisions_en.csv"
STRATEGIC_FILE = "strategic_emerging_industries.csv"

# GB/T 4754-2011 classes that do not exist in the 2017 edition (checked against the bundled
# table), with where their activities went. Codes reused with a new meaning in 2017 (e.g. 3660,
# 2011 auto parts, 2017 car bodies) cannot be detected from the code alone.
GBT2011_ONLY: dict[str, str] = {
    "3610": "2011 汽车整车制造, split in 2017 into 3611 汽柴油车整车制造 and 3612 新能源车整车制造",
    "6510": "2011 软件开发, split in 2017 into 6511-6519",
    "6420": "2011 互联网信息服务, split in 2017 into 6421, 6422 and 6429",
    "7240": "2011 广告业, moved in 2017 to group 725 (7251, 7259)",
    "7250": "2011 知识产权服务, moved in 2017 to 7520",
}

SEPARATORS = re.compile(r"[\s\-_/]+")
NUMERIC_TEXT = re.compile(r"^(\d+)\.0*$")
CODE_SHAPE = re.compile(r"^([A-Z]?)(\d*)$")


@functools.lru_cache(maxsize=1)
def classification() -> pd.DataFrame:
    path = data_path(CLASSIFICATION_FILE)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    english = pd.read_csv(data_path(ENGLISH_FILE), dtype=str, keep_default_na=False)
    name_en = dict(zip(english["code"], english["name_en"], strict=True))
    level = raw["level"].astype(int).map(dict(enumerate(LEVELS, start=1)))
    section = raw["section"]
    digits = raw["code"].where(level != "section", "")
    canonical = section + digits

    def prefixed(column: str) -> pd.Series:
        result: pd.Series = (section + raw[column]).where(raw[column] != "", pd.NA)
        return result

    table = pd.DataFrame(
        {
            "code": canonical,
            "digits": digits,
            "level": level,
            "level_zh": raw["level_name"],
            "section": section,
            "division": prefixed("division"),
            "group": prefixed("group"),
            "class": prefixed("class"),
            "name": raw["name"],
            "name_en": raw["code"].map(name_en),
            "description": raw["description"].where(raw["description"] != "", pd.NA),
        }
    )
    if not table["code"].is_unique:
        raise ParkgeoError(f"{path}: duplicate industry codes; restore the file from parkgeo")
    # An unnamed index: "code" as both index name and column makes sort_values/merge ambiguous.
    table.index = pd.Index(table["code"].to_numpy(), dtype="str")
    result: pd.DataFrame = table
    return result


@functools.lru_cache(maxsize=1)
def lookups() -> tuple[dict[str, str], frozenset[str]]:
    table = classification()
    by_digits = dict(zip(table["digits"], table["code"], strict=True))
    by_digits.pop("", None)
    sections = frozenset(table.loc[table["level"] == "section", "code"])
    return by_digits, sections


def is_missing(code: object) -> bool:
    if code is None or code is pd.NA or code is pd.NaT:
        return True
    return isinstance(code, float) and np.isnan(code)


def normalize(code: object) -> str | CodeProblem:
    """Canonical code, or the error explaining why there is none (never raises)."""
    if isinstance(code, str):
        # the same few thousand codes come back in every analysis step: normalise each once
        return normalize_text(code)
    return normalize_uncached(code)


@functools.lru_cache(maxsize=65536)
def normalize_text(code: str) -> str | CodeProblem:
    return normalize_uncached(code)


def normalize_uncached(code: object) -> str | CodeProblem:
    by_digits, sections = lookups()
    if is_missing(code):
        return CodeProblem(code, "the code is missing")
    if isinstance(code, bool):
        return CodeProblem(code, "a boolean is not an industry code")
    from_number = False
    if isinstance(code, (int, np.integer)):
        if code < 0:
            return CodeProblem(code, "codes are not negative numbers")
        text, from_number = str(int(code)), True
    elif isinstance(code, (float, np.floating)):
        if not float(code).is_integer() or code < 0:
            return CodeProblem(code, "a number with a fraction is not an industry code")
        text, from_number = str(int(code)), True
    elif isinstance(code, str):
        text = unicodedata.normalize("NFKC", code)
        text = SEPARATORS.sub("", text).upper()
        numeric = NUMERIC_TEXT.match(text)
        if numeric:  # "2710.0": a number that went through a spreadsheet
            text, from_number = numeric.group(1), True
    else:
        return CodeProblem(code, f"expected text or an integer, got {type(code).__name__}")
    if not text:
        return CodeProblem(code, "the code is empty")
    shape = CODE_SHAPE.match(text)
    if shape is None:
        return CodeProblem(
            code,
            "expected an optional section letter A-T followed by 2-4 digits (e.g. C2710, 2710, C27, C)",
        )
    letter, digits = shape.groups()
    if not digits:
        if letter in sections:
            return letter
        return CodeProblem(code, f"sections run from A to T, {letter!r} is not one")
    if len(digits) > 4:
        return CodeProblem(code, "codes have at most 4 digits (a 小类 class code)")
    candidates = [digits]
    if len(digits) % 2 == 1 and (from_number or len(digits) == 1):
        # A number lost the leading zero of divisions 01-09 (0111 -> 111); a single digit can
        # only be such a division.
        candidates.insert(0, "0" + digits)
    for candidate in candidates:
        canonical = by_digits.get(candidate)
        if canonical is None:
            continue
        if letter and canonical[0] != letter:
            return CodeProblem(
                code,
                f"section letter {letter} does not match: {candidate} belongs to section "
                f"{canonical[0]} ({canonical}); drop the letter or correct it",
            )
        return canonical
    if digits in GBT2011_ONLY:
        return CodeProblem(
            code,
            f"{digits} is a GB/T 4754-2011 code that the 2017 edition dropped "
            f"({GBT2011_ONLY[digits]}); recode it to the 2017 edition",
        )
    return CodeProblem(
        code,
        f"no {level_for_length(len(candidates[-1]))} with digits {candidates[-1]} "
        "(check for a typo or a code from another classification)",
    )


def level_for_length(n_digits: int) -> str:
    return {2: "division (大类)", 3: "group (中类)", 4: "class (小类)"}.get(n_digits, "code")
