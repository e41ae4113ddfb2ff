"""Campaign tags from a campaign's rules and message: one pure function.

The AI worker calls it on every ``campaign.created`` and publishes ``campaign.tagged``
(the campaign service stores the tags); ``POST /api/ai/campaign-tags`` answers it too.
"""

from __future__ import annotations

import re
from typing import Any

from libs.common.rules import Condition, Group, RuleError, parse_rules

TAGS = (
    "win-back",
    "reactivation",
    "high-value",
    "loyalty",
    "new-customer",
    "promotion",
    "festive",
    "new-arrivals",
    "feedback",
    "reminder",
    "local",
)

_WORDS: dict[str, str] = {
    "win-back": r"miss(?:ed)? you|come back|win ?back|been a while|long time|return to us|we miss",
    "reactivation": r"reactivat|dormant|inactive|wake up|haven'?t seen you",
    "high-value": r"\bvip\b|premium|exclusive|high[- ]value|top customers?|elite|platinum",
    "loyalty": r"loyal|reward|points|thank you for being|member|anniversary",
    "new-customer": r"welcome|first order|first purchase|new customers?|just joined",
    "promotion": r"\d+ ?% ?off|discount|\bsale\b|offer|coupon|\bdeal|cashback|\bcode\b"
    r"|free shipping|save \d|flat \d|promo|bogo|buy one",
    "festive": r"diwali|holi|christmas|xmas|\beid\b|new year|festive|festival|pongal|onam|navratri"
    r"|durga puja|black friday|season'?s greetings|raksha|dussehra",
    "new-arrivals": r"new arrivals?|new collection|just launched|just in|launch|fresh stock|latest"
    r"|collection is (?:live|here|out)|\b(?:is|now|go(?:es)?) live\b|just dropped|new season"
    r"|(?:\w+ )?collection (?:has )?(?:arrived|landed)",
    # whole words: "preview our new collection" asks for no review
    "feedback": r"feedback|\breviews?\b|rate us|survey|how did we do",
    "reminder": r"reminder|don'?t forget|left in your cart|cart|last chance|ends (?:today|soon)",
}


def _conditions(node: Group | Condition) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    return [c for child in node.conditions for c in _conditions(child)]


def _rule_tags(rules: Any) -> set[str]:
    try:
        group = parse_rules(rules) if rules else None
    except RuleError:
        return set()
    tags: set[str] = set()
    for cond in _conditions(group) if group else []:
        field, op, value = cond.field, cond.operator, cond.value
        if field in ("lastVisit", "lastOrderAt") and op == "inactive_days":
            tags.add("win-back")
            if value >= 90:
                tags.add("reactivation")
        if field == "totalSpends" and op in (">", ">=") and value >= 5000:
            tags.add("high-value")
        if field == "orderCount" and op in (">", ">=") and value >= 3:
            tags.add("loyalty")
        if field == "visits" and op in (">", ">=") and value >= 10:
            tags.add("loyalty")
        if field == "createdAt" and op == "active_within_days":
            tags.add("new-customer")
        if field == "lastOrderAt" and op == "exists" and value is False:
            tags.add("new-customer")
        if field == "tags" and isinstance(value, str) and re.search(r"vip|premium|gold", value):
            tags.add("high-value")
        if field == "city" and op in ("=", "in"):
            tags.add("local")
    return tags


def tag_campaign(name: str | None, rules: Any, message: str | None) -> list[str]:
    """Tags from the TAGS vocabulary, in vocabulary order."""
    text = f"{name or ''} \n {message or ''}".lower()
    found = _rule_tags(rules)
    found.update(tag for tag, pattern in _WORDS.items() if re.search(pattern, text))
    return [tag for tag in TAGS if tag in found]
