"""English audience descriptions -> segment rules, without an LLM.

The text is normalised (currency, contractions, "or more" suffixes, ranges), marketer
phrases are read against the facts of this customer base (text_phrases: vague
quantities, recency words, calendar dates, cities, tags, email domains; each becomes a
slot token), then split on "or" and then on "and" (so "and" binds tighter: "X or Y and
Z" is X or (Y and Z)); an alternative that is only a bare value widens the condition it
repeats ("in Pune or Mumbai" is city in [Pune, Mumbai], whatever came before). Each
clause is consumed by small patterns (vocabulary in text_vocab.py): recency, never, new
customers, city, tags, contact details, then numeric comparisons with their metric
(spend, visits, orders). Whatever a clause leaves behind that is not a filler word is
returned as ``skipped`` next to the rules for the rest (a clause whose leftover holds a
negation is skipped whole); only a description with nothing understood is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from libs.common.clock import now_utc
from libs.common.errors import ValidationFailed
from libs.common.rules import parse_rules, to_json
from services.ai.text_facts import AudienceFacts
from services.ai.text_phrases import read_phrases
from services.ai.text_slots import Slots
from services.ai.text_vocab import (
    AMOUNT,
    CITY_STOP,
    CMP,
    CMP_RE,
    COUNT,
    FILLER,
    ORDER,
    ORDER_NOUNS,
    PERIOD,
    SPEND_WORDS,
    TIMES,
    UNIT,
    VISIT,
    VISIT_WORDS,
    Rule,
    amount_value,
    cond,
    date_field,
    normalise,
    period_days,
)


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
    skipped: list[str] = field(default_factory=list)  # words not understood, left out


NEGATIONS = frozenset(
    ["not", "no", "never", "without", "except", "excluding", "non", "nor", "neither"]
)


def parse_description(description: str, facts: AudienceFacts | None = None) -> ParsedText:
    """Rules for what an English audience description says that could be understood,
    plus the words that could not (``skipped``); TextNotUnderstood (422) when nothing
    could be. ``facts`` (this customer base and the clock) resolve vague phrases."""
    facts = facts or AudienceFacts(now=now_utc())
    text = normalise(description)
    if not text:
        raise TextNotUnderstood("the description is empty", [_detail(description, "")])
    text, slots = read_phrases(text, facts)
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
            leftover = _parse_clause(clause, previous, slots, alone=len(clauses) == 1)
            if leftover:
                if NEGATIONS.intersection(leftover.split()) and clause.conditions:
                    # a negation not understood could turn the meaning around: drop it all
                    unparsed.append((_readable(raw, slots), _readable(raw, slots)))
                    continue
                unparsed.append((_readable(raw, slots), leftover))
                if not clause.conditions:
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
    if not alternatives:
        if unparsed:
            raise TextNotUnderstood(
                "could not understand: "
                + "; ".join(f"'{words}' in '{c}'" for c, words in unparsed),
                [_detail(clause, words) for clause, words in unparsed],
            )
        raise TextNotUnderstood("no audience conditions found", [_detail(description, text)])
    rules = _combine("OR", [_combine("AND", parts) for parts in alternatives])
    if "conditions" not in rules:
        rules = {"operator": "AND", "conditions": [rules]}
    skipped = [words for _, words in unparsed]
    return ParsedText(
        to_json(parse_rules(rules)), list(dict.fromkeys(notes)), list(dict.fromkeys(skipped))
    )


def _readable(text: str, slots: Slots) -> str:
    """A clause as the user wrote it, slot tokens shown as what they stood for."""
    return re.sub(r"\bzz(\d+)zz\b", lambda m: slots.sources.get(int(m.group(1)), ""), text).strip()


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


# -- clause patterns ---------------------------------------------------------------------
# A matcher records conditions; it may return replacement text (words it did not use).
Matcher = Callable[[re.Match[str], _Clause], str | None]


def _consume(clause: _Clause, pattern: str, on_match: Matcher) -> None:
    def replace(match: re.Match[str]) -> str:
        rest = on_match(match, clause)
        return f" {rest} " if rest else " "

    clause.text = re.sub(pattern, replace, clause.text)


def _never(match: re.Match[str], clause: _Clause) -> str | None:
    if date_field(match.group("verb")) == "lastOrderAt":
        clause.conditions.append(cond("lastOrderAt", "exists", False))
    else:
        clause.conditions.append(cond("visits", "=", 0))
    return None


def _no_orders(_match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(cond("lastOrderAt", "exists", False))
    return None


def _inactive(match: re.Match[str], clause: _Clause) -> str | None:
    verb = match.groupdict().get("verb") or "visited"
    days = period_days(match.group("n"), match.group("unit"))
    clause.conditions.append(cond(date_field(verb), "inactive_days", days))
    return None


def _active(match: re.Match[str], clause: _Clause) -> str | None:
    verb = match.groupdict().get("verb") or "visited"
    days = period_days(match.group("n"), match.group("unit"))
    clause.conditions.append(cond(date_field(verb), "active_within_days", days))
    return None


def _recently(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(cond(date_field(match.group("verb")), "active_within_days", 30))
    clause.notes.append("'recently' is read as the last 30 days")
    return None


def _joined_within(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(
        cond("createdAt", "active_within_days", period_days(match.group("n"), match.group("unit")))
    )
    return None


def _new_customers(_match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(cond("createdAt", "active_within_days", 30))
    clause.notes.append("'new customers' is read as joined in the last 30 days")
    return None


def _joined_before(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(
        cond("createdAt", "inactive_days", period_days(match.group("n"), match.group("unit")))
    )
    return None


def _place(words: str) -> str | None:
    kept: list[str] = []
    for word in words.split():
        if word in CITY_STOP or not re.fullmatch(r"[a-z][a-z'.]*", word):
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
        clause.conditions.append(cond("city", "!=" if negated else "=", place))
        return " ".join(match.group("place").split()[len(place.split()) :])

    return on_match


def _tag(match: re.Match[str], clause: _Clause) -> str | None:
    clause.conditions.append(cond("tags", "contains", match.group("tag")))
    return None


def _contact(present: bool) -> Matcher:
    def on_match(match: re.Match[str], clause: _Clause) -> str | None:
        clause.conditions.append(cond(match.group("f"), "exists", present))
        return None

    return on_match


_AGO = rf"(?:more than|over|at least)?\s*{COUNT}?\s*{UNIT}\s+ago"
_LAST_N = rf"(?:the\s+)?(?:(?:last|past|previous)\s+)?{COUNT}?\s*{UNIT}"
_PLACE = r"(?P<place>[a-z][a-z '.]*)"
_PEOPLE = r"customers?|users?|shoppers?|signups?|members?|people"
_PATTERNS: tuple[tuple[str, Matcher], ...] = (
    (
        rf"\bnever\s+(?:have\s+|has\s+|ever\s+)?(?:been\s+)?(?P<verb>{ORDER}|{VISIT})\b"
        r"(?:\s+anything)?",
        _never,
    ),
    (
        rf"\b(?:not|no longer)\s+(?:been\s+)?(?P<verb>{VISIT}|{ORDER})\s+"
        rf"(?:anything\s+|us\s+|with us\s+|at all\s+)?{PERIOD}",
        _inactive,
    ),
    (rf"\bno\s+(?P<verb>visit|order|purchase)s?\s+{PERIOD}", _inactive),
    (rf"\b(?:inactive|dormant|lapsed|not active|not seen)\s+{PERIOD}", _inactive),
    (rf"\blast\s+(?P<verb>visit|order|purchase)(?:e?d)?\s+(?:was\s+)?{_AGO}", _inactive),
    (
        rf"\b(?P<verb>{VISIT}|{ORDER})\s+(?:us\s+|with us\s+|something\s+|anything\s+)?"
        rf"(?:in|within|during|over)\s+{_LAST_N}",
        _active,
    ),
    (
        r"\b(?:no|zero|without(?: any)?|not placed any|not made any)\s+(?:orders?|purchases?)\b"
        r"(?!\s+(?:in|for|during|within|over|since)\b)",
        _no_orders,
    ),
    (
        rf"\b(?:not|yet to)\s+(?:yet\s+|ever\s+)?(?:been\s+)?(?P<verb>{ORDER}|{VISIT})\b"
        r"(?:\s+(?:anything|us|yet|at all|so far|till date|ever))*"
        r"(?!\s+(?:in|for|since|during|within|over|this|last|the|recently)\b)",
        _never,
    ),
    (rf"\b(?P<verb>{VISIT}|{ORDER})\s+recently\b", _recently),
    (rf"\brecently\s+(?P<verb>{VISIT}|{ORDER})\b", _recently),
    (
        rf"\b(?:joined|signed up|registered|acquired)\s+(?:in|within|during|over)\s+{_LAST_N}",
        _joined_within,
    ),
    (rf"\b(?:joined|signed up|registered)\s+{_AGO}", _joined_before),
    (
        rf"\b(?:customers?|members?)\s+for\s+(?:more than|over|at least)\s+{COUNT}?\s*{UNIT}",
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
        r"\b(?:without|no|missing)\s+(?:an?\s+|any\s+)?(?P<f>email|phone)s?"
        r"(?:\s+(?:numbers?|address(?:es)?|ids?))?",
        _contact(False),
    ),
    (
        r"\b(?:with|having|has|have)\s+(?:an?\s+)?(?P<f>email|phone)s?"
        r"(?:\s+(?:numbers?|address(?:es)?|ids?))?",
        _contact(True),
    ),
)


def _parse_clause(clause: _Clause, previous: list[Rule], slots: Slots, *, alone: bool) -> str:
    """Fill clause.conditions; return what was not understood ('' when all was). Only a
    clause that is a whole "or" alternative may be a bare value repeating the last field
    ("in Pune or Ujjain"); "and love cricket" is no city."""

    def on_slot(match: re.Match[str], clause: _Clause) -> str | None:
        conditions, notes = slots.items[int(match.group(1))]
        clause.conditions.extend(conditions)
        clause.notes.extend(notes)
        return None

    _consume(clause, r"\bzz(\d+)zz\b", on_slot)
    for pattern, on_match in _PATTERNS:
        _consume(clause, pattern, on_match)
    numeric = [c for c in previous if c["field"] in _NUMERIC and c["operator"] in _CMP_OPS]
    _parse_comparisons(clause, numeric[-1] if numeric else None)
    leftover = [w for w in clause.text.split() if w not in FILLER]
    if leftover and not clause.conditions and alone:
        _inherit(clause, leftover, previous)
        leftover = [] if clause.conditions else leftover
    return " ".join(leftover)


def _inherit(clause: _Clause, words: list[str], previous: list[Rule]) -> None:
    """'in Mumbai or Pune', 'tagged vip or gold': a bare word repeats the last such field."""
    for rule in reversed(previous):
        if rule["field"] == "city" and rule["operator"] in ("=", "!="):
            place = _place(" ".join(words))
            if place and len(place.split()) == len(words):
                clause.conditions.append(cond("city", rule["operator"], place))
                clause.extends = rule
            return
        if rule["field"] == "tags" and rule["operator"] == "contains":
            if len(words) == 1:
                clause.conditions.append(cond("tags", "contains", words[0]))
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
        operator = next(op for i, (op, _) in enumerate(CMP) if match.group(f"c{i}"))
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
    _consume(clause, rf"(?:(?<=\s)|^)(?:{CMP_RE})\s*(?P<a>{AMOUNT})", on_compare)
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
                    "conditions": [cond(metric, ">=", values[0]), cond(metric, "<=", values[1])],
                }
            )
            continue
        if operator == "bare" and values[0] == 0:  # "with 0 orders", "zero visits"
            clause.conditions.append(
                cond("lastOrderAt", "exists", False)
                if metric == "orderCount"
                else cond(metric, "=", 0)
            )
            continue
        if operator == "bare":
            operator = {"ormore": ">=", "orless": "<="}.get(suffix.group(1) if suffix else "", "")
            if not operator:
                operator = ">="
                clause.notes.append(f"a bare number for {metric} is read as 'at least'")
        clause.conditions.append(cond(metric, operator, values[0]))


def _metric(clause: _Clause, *, money: bool, previous: Rule | None) -> str | None:
    text = clause.text
    times = bool(TIMES.search(text))
    checks = (
        (SPEND_WORDS, "totalSpends"),
        (VISIT_WORDS, "visits"),
        (ORDER_NOUNS, "orderCount"),
    )
    present = {name: bool(regex.search(text)) for regex, name in checks}
    if present["totalSpends"] or (money and not times):
        metric = "totalSpends"
    elif present["orderCount"] or (times and re.search(rf"\b(?:{ORDER})\b", text)):
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
        clause.text = TIMES.sub(" ", clause.text)
        clause.text = re.sub(rf"\b(?:{ORDER}|{VISIT})\b", " ", clause.text)
    return metric


_NUMERIC = {"totalSpends", "visits", "orderCount"}
_CMP_OPS = {">", ">=", "<", "<=", "="}
