"""English audience descriptions -> segment rules, without an LLM.

The text is normalised (currency, contractions, "or more" suffixes, ranges), split on
"or" and then on "and" (so "and" binds tighter: "X or Y and Z" is X or (Y and Z)), and
each clause is consumed by small patterns: recency, never, new customers, city, tags,
contact details, then numeric comparisons with their metric (spend, visits, orders).
Whatever a clause leaves behind that is not a filler word is reported as not
understood, so nothing is silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from libs.common.errors import ValidationFailed
from libs.common.rules import parse_rules, to_json

Rule = dict[str, Any]

_WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
    "hundred": 100, "once": 1, "twice": 2, "thrice": 3,
}  # fmt: skip
_MULTIPLIERS = {
    "k": 1e3, "thousand": 1e3, "lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5,
    "l": 1e5, "crore": 1e7, "crores": 1e7, "cr": 1e7, "m": 1e6, "mn": 1e6, "million": 1e6,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}

_NUMWORD = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
_MULT = "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
AMOUNT = (
    rf"(?:(?:inr|usd)\s*)?(?:\d+(?:,\d+)*(?:\.\d+)?|(?:{_NUMWORD})\b)"
    rf"(?:\s*(?:{_MULT})\b)?(?:\s*(?:inr|usd))?"
)
_AMOUNT_PARTS = re.compile(
    rf"(?P<cur>inr|usd)?\s*(?P<num>\d+(?:,\d+)*(?:\.\d+)?|{_NUMWORD})"
    rf"(?:\s*(?P<mult>{_MULT})\b)?(?:\s*(?P<cur2>inr|usd))?"
)
_COUNT = rf"(?P<n>\d+|a|an|{_NUMWORD})"
_UNIT = r"(?P<unit>day|week|fortnight|month|year)s?"
_PERIOD = (
    r"(?:(?:in|for|during|within|over|since)\s+)?(?:the\s+)?(?:last|past|previous)?\s*"
    rf"(?:more than\s+|over\s+|at least\s+)?{_COUNT}?\s*{_UNIT}"
)
_VISIT = (
    r"visited|visit|been (?:in|back|here|active|seen|around)|come (?:in|back)|came (?:in|back)"
    r"|returned|logged in|shown up|showed up|walked in|stopped by|seen|active"
)
_ORDER = (
    r"shopped|shop|ordered|order|purchased|purchase|bought|buy|transacted"
    r"|made (?:a |any )?(?:purchase|order)s?|placed (?:an? |any )?orders?"
)
_ORDER_WORDS = re.compile(rf"^(?:{_ORDER})$")

_CMP = (
    (">=", r"at least|no less than|not less than|a minimum of|minimum of|minimum|min|>="),
    ("<=", r"at most|up to|upto|no more than|not more than|a maximum of|maximum of|maximum|max|<="),
    (">", r"more than|greater than|higher than|in excess of|upwards of|exceeding|exceeds|over"
     r"|above|>"),
    ("<", r"less than|fewer than|lower than|under|below|<"),
    ("=", r"exactly|equal to|equals|="),
)  # fmt: skip
_CMP_RE = "|".join(f"(?P<c{i}>{words})" for i, (_, words) in enumerate(_CMP))
_SPEND_WORDS = re.compile(
    r"\b(?:spen[dt]\w*|lifetime value|ltv|purchase value|worth|revenue|value)\b"
)
_VISIT_WORDS = re.compile(r"\b(?:visits?|visited|footfalls?|came in|sessions?)\b")
_ORDER_NOUNS = re.compile(r"\b(?:orders?|ordered|purchases?|purchased|bought|transactions?)\b")
_TIMES = re.compile(r"\b(?:times?)\b")

_FILLER_WORDS = (
    "customers customer people users user shoppers shopper buyers buyer clients client "
    "members member persons folks everyone anyone everybody anybody those who that which "
    "whose have has had having are is were was be been the all with a an their they them "
    "of total in on at only any also did do does ever so far till to date until now "
    "lifetime amount overall just our us here there by for whom i want show me find list "
    "get give segment audience target targeting select selecting placed made something "
    "anything"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_CITY_STOP = _FILLER | {
    "last", "past", "this", "who", "and", "or", "spent", "with", "since", "over", "under",
    "more", "less", "visited", "ordered", "tagged", "days", "weeks", "months", "year",
}  # fmt: skip


class TextNotUnderstood(ValidationFailed):
    code = "not_understood"


@dataclass
class _Clause:
    text: str
    conditions: list[Rule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extends: Rule | None = None  # a bare value repeating this earlier condition's field


@dataclass
class ParsedText:
    rules: Rule
    notes: list[str]


def parse_description(description: str) -> ParsedText:
    """Rules for an English audience description, or TextNotUnderstood (422)."""
    text = _normalise(description)
    if not text:
        raise TextNotUnderstood("the description is empty", [_detail(description, "")])
    alternatives: list[list[Rule]] = []
    unparsed: list[tuple[str, str]] = []
    notes: list[str] = []
    previous: list[Rule] = []  # leaf conditions of the last understood clause
    merged_from: dict[int, Rule] = {}  # id(widened condition) -> the condition it replaced
    for alternative in re.split(r"\bor\b", text):
        parts: list[Rule] = []
        clauses = [c.strip() for c in re.split(r"\band\b", alternative) if c.strip()]
        for raw in clauses:
            clause = _Clause(raw)
            leftover = _parse_clause(clause, previous)
            if leftover:
                unparsed.append((raw, leftover))
                continue
            notes.extend(clause.notes)
            if clause.extends is not None and len(clauses) == 1 and alternatives:
                # "in Pune or Mumbai": one more value for the condition it repeats
                _extend(alternatives[-1], clause.extends, clause.conditions[0], merged_from)
                continue  # previous stays the condition being widened
            parts.extend(clause.conditions)
            previous = _leaves(clause.conditions) or previous
        if parts:
            alternatives.append(parts)
    if unparsed:
        raise TextNotUnderstood(
            "could not understand: " + "; ".join(f"'{words}' in '{c}'" for c, words in unparsed),
            [_detail(clause, words) for clause, words in unparsed],
        )
    if not alternatives:
        raise TextNotUnderstood("no audience conditions found", [_detail(description, text)])
    rules = _combine("OR", [_combine("AND", parts) for parts in alternatives])
    if "conditions" not in rules:
        rules = {"operator": "AND", "conditions": [rules]}
    return ParsedText(to_json(parse_rules(rules)), list(dict.fromkeys(notes)))


def _extend(parts: list[Rule], target: Rule, value: Rule, merged_from: dict[int, Rule]) -> None:
    """Replace ``target`` in ``parts`` by itself widened with ``value``'s value."""
    index = next(
        (
            i
            for i, part in enumerate(parts)
            if part is target or merged_from.get(id(part)) is target
        ),
        None,
    )
    if index is None:
        parts.append(value)
        return
    current = parts[index]
    if value["operator"] == "!=":  # not in Mumbai or Pune: in neither
        group = current if "conditions" in current else {"operator": "AND", "conditions": [current]}
        merged = {**group, "conditions": [*group["conditions"], value]}
    else:
        values = current["value"] if current["operator"] == "in" else [current["value"]]
        merged = {"field": value["field"], "operator": "in", "value": [*values, value["value"]]}
    merged_from[id(merged)] = target
    parts[index] = merged


def _detail(fragment: str, words: str) -> dict[str, str]:
    return {
        "field": "description",
        "fragment": fragment,
        "unrecognised": words,
        "message": f"not understood: {words or fragment!r} (in {fragment!r})",
    }


def _combine(operator: str, parts: list[Rule]) -> Rule:
    if len(parts) == 1:
        return parts[0]
    return {"operator": operator, "conditions": parts}


def _leaves(conditions: list[Rule]) -> list[Rule]:
    return [
        leaf
        for c in conditions
        for leaf in (_leaves(c["conditions"]) if "conditions" in c else [c])
    ]


# -- normalisation ----------------------------------------------------------------------
_CONTRACTIONS = {
    r"\bhaven't\b": "have not", r"\bhasn't\b": "has not", r"\bhadn't\b": "had not",
    r"\bdidn't\b": "did not", r"\bdon't\b": "do not", r"\bdoesn't\b": "does not",
    r"\baren't\b": "are not", r"\bisn't\b": "is not", r"\bweren't\b": "were not",
    r"\bwasn't\b": "was not", r"\bwon't\b": "will not", r"\bcan't\b": "cannot",
}  # fmt: skip


def _normalise(description: str) -> str:
    text = description.lower().replace("\u2019", "'").replace("\u20b9", " inr ")
    for pattern, replacement in _CONTRACTIONS.items():
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\$", " usd ", text)
    text = re.sub(r"\b(?:rs\.?|rupees?|dollars?|bucks)(?=\s|\d|$)", " inr ", text)
    text = re.sub(r"(?<=\d),(?=\d)", "\x00", text)  # thousands separators survive
    text = re.sub(r"[,;:!?()\"]", " and ", text).replace("\x00", ",")
    text = re.sub(r"\.(?!\d)", " ", text)
    text = re.sub(r"\b(?:but|as well as|plus|along with|&)\b|&", " and ", text)
    text = re.sub(r"\s*/\s*", " or ", text)
    text = re.sub(r"\beither\b", " ", text)
    text = re.sub(rf"(\d(?:\s*(?:{_MULT})\b)?)\s*\+", r"\1 ormore ", text)
    text = re.sub(rf"(\d(?:\s*(?:{_MULT})\b)?)\s*-\s*(?=(?:inr|usd)?\s*\d)", r"\1 to ", text)
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
    return re.sub(r"\s+", " ", text).strip()


# -- values ------------------------------------------------------------------------
def amount_value(raw: str) -> tuple[float, bool]:
    """(number, looks like money) of an amount such as 'inr 1,00,000' or '2.5 lakh'."""
    match = _AMOUNT_PARTS.search(raw)
    if match is None:
        raise ValueError(f"no amount in {raw!r}")
    number_text = match.group("num")
    number = (
        float(_WORD_NUMBERS[number_text])
        if number_text in _WORD_NUMBERS
        else float(number_text.replace(",", ""))
    )
    mult = match.group("mult")
    if mult:
        number *= _MULTIPLIERS[mult]
    money = bool(match.group("cur") or match.group("cur2") or mult)
    return number, money


def _days(count: str | None, unit: str) -> int:
    n = 1 if count in (None, "", "a", "an") else _WORD_NUMBERS.get(count or "") or int(count or 1)
    return int(n) * _UNIT_DAYS[unit]


def _cond(field_name: str, operator: str, value: Any) -> Rule:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"field": field_name, "operator": operator, "value": value}


def _date_field(verb: str) -> str:
    verb = verb.strip()
    return (
        "lastOrderAt"
        if _ORDER_WORDS.match(verb) or verb.startswith(("made", "placed"))
        else "lastVisit"
    )


# -- clause patterns ---------------------------------------------------------------------
# A matcher records conditions; it may return replacement text (words it did not use).
Matcher = Callable[[re.Match[str], _Clause], str | None]


def _consume(clause: _Clause, pattern: str, on_match: Matcher) -> None:
    def replace(match: re.Match[str]) -> str:
        rest = on_match(match, clause)
        return f" {rest} " if rest else " "

    clause.text = re.sub(pattern, replace, clause.text)


def _never(match: re.Match[str], clause: _Clause) -> str | None:
    if _date_field(match.group("verb")) == "lastOrderAt":
        clause.conditions.append(_cond("lastOrderAt", "exists", False))
    else:
        clause.conditions.append(_cond("visits", "=", 0))
    return None


def _no_orders(_match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(_cond("lastOrderAt", "exists", False))
    return None


def _inactive(match: re.Match[str], clause: _Clause) -> str | None:
    verb = match.groupdict().get("verb") or "visited"
    days = _days(match.group("n"), match.group("unit"))
    clause.conditions.append(_cond(_date_field(verb), "inactive_days", days))
    return None


def _active(match: re.Match[str], clause: _Clause) -> str | None:
    verb = match.groupdict().get("verb") or "visited"
    days = _days(match.group("n"), match.group("unit"))
    clause.conditions.append(_cond(_date_field(verb), "active_within_days", days))
    return None


def _active_this(match: re.Match[str], clause: _Clause) -> str | None:
    unit = match.group("unit")
    days = {"week": 7, "month": 30, "year": 365}[unit]
    clause.conditions.append(_cond(_date_field(match.group("verb")), "active_within_days", days))
    clause.notes.append(f"'this {unit}' is read as the last {days} days")
    return None


def _recently(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(_cond(_date_field(match.group("verb")), "active_within_days", 30))
    clause.notes.append("'recently' is read as the last 30 days")
    return None


def _joined_within(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(
        _cond("createdAt", "active_within_days", _days(match.group("n"), match.group("unit")))
    )
    return None


def _new_customers(_match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(_cond("createdAt", "active_within_days", 30))
    clause.notes.append("'new customers' is read as joined in the last 30 days")
    return None


def _joined_before(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(
        _cond("createdAt", "inactive_days", _days(match.group("n"), match.group("unit")))
    )
    return None


def _place(words: str) -> str | None:
    kept: list[str] = []
    for word in words.split():
        if word in _CITY_STOP or not re.fullmatch(r"[a-z][a-z'.]*", word):
            break
        kept.append(word)
        if len(kept) == 3:
            break
    return " ".join(w.capitalize() for w in kept) or None


def _city(negated: bool) -> Matcher:
    def on_match(match: re.Match[str], clause: _Clause) -> str | None:
        place = _place(match.group("place"))
        if place is None:
            return match.group(0)  # not a place: leave it to be reported
        clause.conditions.append(_cond("city", "!=" if negated else "=", place))
        return " ".join(match.group("place").split()[len(place.split()) :])

    return on_match


def _tag(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(_cond("tags", "contains", match.group("tag")))
    return None


def _contact(present: bool) -> Matcher:
    def on_match(match: re.Match[str], clause: _Clause) -> str | None:
        clause.conditions.append(_cond(match.group("f"), "exists", present))
        return None

    return on_match


_AGO = rf"(?:more than|over|at least)?\s*{_COUNT}?\s*{_UNIT}\s+ago"
_LAST_N = rf"(?:the\s+)?(?:(?:last|past|previous)\s+)?{_COUNT}?\s*{_UNIT}"
_PLACE = r"(?P<place>[a-z][a-z '.]*)"
_PEOPLE = r"customers?|users?|shoppers?|signups?|members?|people"
_PATTERNS: tuple[tuple[str, Matcher], ...] = (
    (
        rf"\bnever\s+(?:have\s+|has\s+|ever\s+)?(?:been\s+)?(?P<verb>{_ORDER}|{_VISIT})\b"
        r"(?:\s+anything)?",
        _never,
    ),
    (
        rf"\b(?:not|no longer)\s+(?:been\s+)?(?P<verb>{_VISIT}|{_ORDER})\s+"
        rf"(?:anything\s+|us\s+|with us\s+|at all\s+)?{_PERIOD}",
        _inactive,
    ),
    (rf"\bno\s+(?P<verb>visit|order|purchase)s?\s+{_PERIOD}", _inactive),
    (rf"\b(?:inactive|dormant|lapsed|not active|not seen)\s+{_PERIOD}", _inactive),
    (rf"\blast\s+(?P<verb>visit|order|purchase)(?:e?d)?\s+(?:was\s+)?{_AGO}", _inactive),
    (
        rf"\b(?P<verb>{_VISIT}|{_ORDER})\s+(?:us\s+|with us\s+|something\s+|anything\s+)?"
        rf"(?:in|within|during|over)\s+{_LAST_N}",
        _active,
    ),
    (
        r"\b(?:no|zero|without(?: any)?|not placed any|not made any)\s+(?:orders?|purchases?)\b"
        r"(?!\s+(?:in|for|during|within|over|since)\b)",
        _no_orders,
    ),
    (
        rf"\b(?P<verb>{_VISIT}|{_ORDER})\s+(?:in\s+)?(?:this|the current)\s+"
        r"(?P<unit>week|month|year)",
        _active_this,
    ),
    (rf"\b(?P<verb>{_VISIT}|{_ORDER})\s+recently\b", _recently),
    (rf"\brecently\s+(?P<verb>{_VISIT}|{_ORDER})\b", _recently),
    (
        rf"\b(?:joined|signed up|registered|acquired)\s+(?:in|within|during|over)\s+{_LAST_N}",
        _joined_within,
    ),
    (rf"\b(?:joined|signed up|registered)\s+{_AGO}", _joined_before),
    (
        rf"\b(?:customers?|members?)\s+for\s+(?:more than|over|at least)\s+{_COUNT}?\s*{_UNIT}",
        _joined_before,
    ),
    (
        rf"\bnew(?:ly (?:joined|acquired|signed up))?\b(?=\s+(?:{_PEOPLE})\b|\s*$)",
        _new_customers,
    ),
    (rf"\b(?:not in|outside(?: of)?|not from|excluding)\s+{_PLACE}", _city(True)),
    (
        r"\b(?:in|from|based in|located in|living in|live in|lives in|city(?: is)?|city =)\s+"
        + _PLACE,
        _city(False),
    ),
    (r"\btagged(?:\s+as|\s+with)?\s+(?P<tag>[a-z0-9_][a-z0-9_-]*)", _tag),
    (r"\b(?:with|having|has|have)?\s*(?:the|a)?\s*tags?\s+(?P<tag>[a-z0-9_][a-z0-9_-]*)", _tag),
    (r"\b(?:with\s+|having\s+)?(?:the\s+|a\s+)?(?P<tag>[a-z0-9_][a-z0-9_-]*)\s+tag\b", _tag),
    (
        r"\b(?:without|no|missing)\s+(?:an?\s+|any\s+)?(?P<f>email|phone)"
        r"(?:\s+(?:number|address|id))?",
        _contact(False),
    ),
    (
        r"\b(?:with|having|has|have)\s+(?:an?\s+)?(?P<f>email|phone)(?:\s+(?:number|address|id))?",
        _contact(True),
    ),
)


def _parse_clause(clause: _Clause, previous: list[Rule]) -> str:
    """Fill clause.conditions; return what was not understood ('' when all was)."""
    for pattern, on_match in _PATTERNS:
        _consume(clause, pattern, on_match)
    numeric = [c for c in previous if c["field"] in _NUMERIC and c["operator"] in _CMP_OPS]
    _parse_comparisons(clause, numeric[-1] if numeric else None)
    leftover = [w for w in clause.text.split() if w not in _FILLER]
    if leftover and not clause.conditions:
        _inherit(clause, leftover, previous)
        leftover = [] if clause.conditions else leftover
    return " ".join(leftover)


def _inherit(clause: _Clause, words: list[str], previous: list[Rule]) -> None:
    """'in Mumbai or Pune', 'tagged vip or gold': a bare word repeats the last such field."""
    for rule in reversed(previous):
        if rule["field"] == "city" and rule["operator"] in ("=", "!="):
            place = _place(" ".join(words))
            if place and len(place.split()) == len(words):
                clause.conditions.append(_cond("city", rule["operator"], place))
                clause.extends = rule
            return
        if rule["field"] == "tags" and rule["operator"] == "contains":
            if len(words) == 1:
                clause.conditions.append(_cond("tags", "contains", words[0]))
                clause.extends = rule
            return


def _parse_comparisons(clause: _Clause, previous: Rule | None) -> None:
    found: list[tuple[str, list[float], bool]] = []

    def on_between(match: re.Match[str], _clause: _Clause) -> str | None:
        low, money_low = amount_value(match.group("a"))
        high, money_high = amount_value(match.group("b"))
        found.append(("between", sorted((low, high)), money_low or money_high))
        return None

    def on_compare(match: re.Match[str], _clause: _Clause) -> str | None:
        operator = next(op for i, (op, _) in enumerate(_CMP) if match.group(f"c{i}"))
        value, money = amount_value(match.group("a"))
        found.append((operator, [value], money))
        return None

    def on_bare(match: re.Match[str], _clause: _Clause) -> str | None:
        value, money = amount_value(match.group("a"))
        found.append(("bare", [value], money))
        return None

    _consume(
        clause, rf"(?:\bbetween\s+)?(?<![a-z])(?P<a>{AMOUNT})\s+to\s+(?P<b>{AMOUNT})", on_between
    )
    _consume(clause, rf"(?:(?<=\s)|^)(?:{_CMP_RE})\s*(?P<a>{AMOUNT})", on_compare)
    if not found:
        _consume(clause, rf"(?<![a-z])(?P<a>{AMOUNT})", on_bare)
    if not found:
        return
    suffix = re.search(r"\b(ormore|orless)\b", clause.text)
    clause.text = re.sub(r"\b(?:ormore|orless)\b", " ", clause.text)
    metric = _metric(clause, money=any(m for _, _, m in found), previous=previous)
    if metric is None:
        clause.text += " " + " ".join(str(v) for _, vs, _ in found for v in vs)
        return
    for operator, values, _money in found:
        if operator == "between":
            clause.conditions.append(
                {
                    "operator": "AND",
                    "conditions": [_cond(metric, ">=", values[0]), _cond(metric, "<=", values[1])],
                }
            )
            continue
        if operator == "bare" and values[0] == 0:  # "with 0 orders", "zero visits"
            clause.conditions.append(
                _cond("lastOrderAt", "exists", False)
                if metric == "orderCount"
                else _cond(metric, "=", 0)
            )
            continue
        if operator == "bare":
            operator = {"ormore": ">=", "orless": "<="}.get(suffix.group(1) if suffix else "", "")
            if not operator:
                operator = ">="
                clause.notes.append(f"a bare number for {metric} is read as 'at least'")
        clause.conditions.append(_cond(metric, operator, values[0]))


def _metric(clause: _Clause, *, money: bool, previous: Rule | None) -> str | None:
    text = clause.text
    times = bool(_TIMES.search(text))
    checks = (
        (_SPEND_WORDS, "totalSpends"),
        (_VISIT_WORDS, "visits"),
        (_ORDER_NOUNS, "orderCount"),
    )
    present = {name: bool(regex.search(text)) for regex, name in checks}
    if present["totalSpends"] or (money and not times):
        metric = "totalSpends"
    elif present["orderCount"] or (times and re.search(rf"\b(?:{_ORDER})\b", text)):
        metric = "orderCount"
    elif present["visits"] or times:
        metric = "visits"
    elif previous is not None:
        metric = previous["field"]
    else:
        metric = None
    if metric is not None:
        for regex, _ in checks:
            clause.text = regex.sub(" ", clause.text)
        clause.text = _TIMES.sub(" ", clause.text)
        clause.text = re.sub(rf"\b(?:{_ORDER}|{_VISIT})\b", " ", clause.text)
    return metric


_NUMERIC = {"totalSpends", "visits", "orderCount"}
_CMP_OPS = {">", ">=", "<", "<=", "="}
