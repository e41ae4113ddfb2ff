"""Vocabulary of the English audience parser: numbers, amounts, units, verbs,
comparisons, filler words, and the normalisation applied before parsing."""

from __future__ import annotations

import re
from typing import Any

Rule = dict[str, Any]

WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
    "hundred": 100, "once": 1, "twice": 2, "thrice": 3,
}  # fmt: skip
MULTIPLIERS = {
    "k": 1e3, "thousand": 1e3, "lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5,
    "l": 1e5, "crore": 1e7, "crores": 1e7, "cr": 1e7, "m": 1e6, "mn": 1e6, "million": 1e6,
}  # fmt: skip
UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}

NUMWORD = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
MULT = "|".join(sorted(MULTIPLIERS, key=len, reverse=True))
AMOUNT = (
    rf"(?:(?:inr|usd)\s*)?(?:\d+(?:,\d+)*(?:\.\d+)?|(?:{NUMWORD})\b)"
    rf"(?:\s*(?:{MULT})\b)?(?:\s*(?:inr|usd))?"
)
AMOUNT_PARTS = re.compile(
    rf"(?P<cur>inr|usd)?\s*(?P<num>\d+(?:,\d+)*(?:\.\d+)?|{NUMWORD})"
    rf"(?:\s*(?P<mult>{MULT})\b)?(?:\s*(?P<cur2>inr|usd))?"
)
COUNT = rf"(?P<n>\d+|a|an|{NUMWORD})"
UNIT = r"(?P<unit>day|week|fortnight|month|year)s?"
PERIOD = (
    r"(?:(?:in|for|during|within|over|since)\s+)?(?:the\s+)?(?:last|past|previous)?\s*"
    rf"(?:more than\s+|over\s+|at least\s+)?{COUNT}?\s*{UNIT}"
)
VISIT = (
    r"visited|visit|been (?:in|back|here|active|seen|around)|come (?:in|back)|came (?:in|back)"
    r"|returned|logged in|shown up|showed up|walked in|stopped by|seen|active"
)
ORDER = (
    r"shopped|shop|ordered|order|purchased|purchase|bought|buy|transacted"
    r"|made (?:a |any )?(?:purchase|order)s?|placed (?:an? |any )?orders?"
)
ORDER_WORDS = re.compile(rf"^(?:{ORDER})$")

CMP = (
    (">=", r"at least|no less than|not less than|a minimum of|minimum of|minimum|min|>="),
    ("<=", r"at most|up to|upto|no more than|not more than|a maximum of|maximum of|maximum|max|<="),
    (">", r"more than|greater than|higher than|in excess of|upwards of|exceeding|exceeds|over"
     r"|above|>"),
    ("<", r"less than|fewer than|lower than|under|below|<"),
    ("=", r"exactly|equal to|equals|="),
)  # fmt: skip
CMP_RE = "|".join(f"(?P<c{i}>{words})" for i, (_, words) in enumerate(CMP))
SPEND_WORDS = re.compile(
    r"\b(?:spen[dt]\w*|lifetime value|ltv|purchase value|worth|revenue|value)\b"
)
VISIT_WORDS = re.compile(r"\b(?:visits?|visited|footfalls?|came in|sessions?)\b")
ORDER_NOUNS = re.compile(r"\b(?:orders?|ordered|purchases?|purchased|bought|transactions?)\b")
TIMES = re.compile(r"\b(?:times?)\b")

FILLER_WORDS = (
    "customers customer people users user shoppers shopper buyers buyer clients client "
    "members member persons folks everyone anyone everybody anybody those who that which "
    "whose have has had having are is were was be been the all with a an their they them "
    "of total in on at only any also did do does ever so far till to date until now "
    "lifetime amount overall just our us here there by for whom i want show me find list "
    "get give segment audience target targeting select selecting placed made something "
    "anything"
)
FILLER = frozenset(FILLER_WORDS.split())
CITY_STOP = FILLER | {
    "last", "past", "this", "who", "and", "or", "spent", "with", "since", "over", "under",
    "more", "less", "visited", "ordered", "tagged", "days", "weeks", "months", "year",
    "not", "no", "never", "without", "except", "excluding", "non", "nor", "neither",
}  # fmt: skip


# -- normalisation ----------------------------------------------------------------------
CONTRACTIONS = {
    r"\bhaven't\b": "have not", r"\bhasn't\b": "has not", r"\bhadn't\b": "had not",
    r"\bdidn't\b": "did not", r"\bdon't\b": "do not", r"\bdoesn't\b": "does not",
    r"\baren't\b": "are not", r"\bisn't\b": "is not", r"\bweren't\b": "were not",
    r"\bwasn't\b": "was not", r"\bwon't\b": "will not", r"\bcan't\b": "cannot",
}  # fmt: skip


def normalise(description: str) -> str:
    text = description.lower().replace("\u2019", "'").replace("\u20b9", " inr ")
    text = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", "\\1\x02\\2\x02\\3", text)  # ISO dates stay
    for pattern, replacement in CONTRACTIONS.items():
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\$", " usd ", text)
    text = re.sub(r"\b(?:rs\.?|rupees?|dollars?|bucks)(?=\s|\d|$)", " inr ", text)
    text = re.sub(r"(?<=\d),(?=\d)", "\x00", text)  # thousands separators survive
    text = re.sub(r"[,;:!?()\"]", " and ", text).replace("\x00", ",")
    text = re.sub(r"(?<![a-z0-9])\.|\.(?![a-z0-9])|(?<=[a-z])\.(?=\d)", " ", text)  # keep gmail.com
    text = re.sub(r"\b(?:but|as well as|plus|along with|&)\b|&", " and ", text)
    text = re.sub(r"\s*/\s*", " or ", text)
    text = re.sub(r"\beither\b", " ", text)
    text = re.sub(rf"(\d(?:\s*(?:{MULT})\b)?)\s*\+", r"\1 ormore ", text)
    text = re.sub(rf"(\d(?:\s*(?:{MULT})\b)?)\s*-\s*(?=(?:inr|usd)?\s*\d)", r"\1 to ", text)
    after_number = r"(\d(?:\s*[a-z]+)?\s+)(?:or|and)\s+"
    not_a_comparison = r"\b(?!\s+(?:than|inr|usd|\d))"
    text = re.sub(
        after_number + r"(?:more|above|over|higher|greater|up)" + not_a_comparison,
        r"\1ormore ",
        text,
    )
    text = re.sub(
        after_number + r"(?:less|fewer|below|under|lower)" + not_a_comparison, r"\1orless ", text
    )
    text = re.sub(r"\bbetween\b(.*?)\band\b", r"between\1to", text)
    text = re.sub(r"\bfrom\s+(?=(?:inr|usd)?\s*\d)", "between ", text)
    return re.sub(r"\s+", " ", text.replace("\x02", "-")).strip()


# -- values ------------------------------------------------------------------------
def amount_value(raw: str) -> tuple[float, bool]:
    """(number, looks like money) of an amount such as 'inr 1,00,000' or '2.5 lakh'."""
    match = AMOUNT_PARTS.search(raw)
    if match is None:
        raise ValueError(f"no amount in {raw!r}")
    number_text = match.group("num")
    number = (
        float(WORD_NUMBERS[number_text])
        if number_text in WORD_NUMBERS
        else float(number_text.replace(",", ""))
    )
    mult = match.group("mult")
    if mult:
        number *= MULTIPLIERS[mult]
    money = bool(match.group("cur") or match.group("cur2") or mult)
    return number, money


def period_days(count: str | None, unit: str) -> int:
    n = 1 if count in (None, "", "a", "an") else WORD_NUMBERS.get(count or "") or int(count or 1)
    return int(n) * UNIT_DAYS[unit]


def cond(field_name: str, operator: str, value: Any) -> Rule:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"field": field_name, "operator": operator, "value": value}


def date_field(verb: str) -> str:
    verb = verb.strip()
    return (
        "lastOrderAt"
        if ORDER_WORDS.match(verb) or verb.startswith(("made", "placed"))
        else "lastVisit"
    )
