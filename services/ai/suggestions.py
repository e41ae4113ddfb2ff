"""Message suggestions without an LLM: themed templates in four tones.

Every template uses whitelisted placeholders only (checked by parse_template in the
tests); {city} is offered only when the audience rules pin a city, so it never renders
empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from libs.common.rules import RuleError, describe, parse_rules, used_fields

TONES = ("friendly", "urgent", "premium", "short")


@dataclass(frozen=True)
class Theme:
    name: str
    keywords: str
    friendly: str
    urgent: str
    premium: str
    short: str


THEMES = (
    Theme(
        "win-back",
        r"win ?back|inactive|lapsed|dormant|bring back|come back|re-?engage|miss|churn|return",
        "Hi {firstName}, we've missed you! It's been a while since your last visit - come back "
        "and see what's new. Here's 15% off your next order.",
        "{firstName}, your 15% welcome-back offer expires in 48 hours. Come back before it's gone!",
        "Dear {name}, we value your custom and would be delighted to welcome you back. Please "
        "enjoy an exclusive 15% courtesy on your next purchase.",
        "We miss you {firstName}! 15% off your next order, this week only.",
    ),
    Theme(
        "new-arrivals",
        r"new arrival|new collection|launch|new product|just in|latest|new stock|new range",
        "Hi {firstName}! Fresh new arrivals just landed and we think you'll love them. "
        "Take a look before everyone else does.",
        "{firstName}, our new collection is flying off the shelves - the best sizes go first. "
        "Shop today!",
        "Dear {name}, as one of our valued customers you are invited to preview our new "
        "collection before it opens to everyone.",
        "New arrivals are in, {firstName}! Shop now.",
    ),
    Theme(
        "festive",
        r"festiv|diwali|holi|christmas|xmas|eid|new year|season|holiday|pongal|onam|navratri",
        "Happy festivities, {firstName}! Celebrate with our festive sale - up to 30% off "
        "gifts for everyone you love.",
        "{firstName}, the festive sale ends tonight! Up to 30% off - don't miss out.",
        "Dear {name}, warm season's greetings. Our festive collection awaits, with a special "
        "30% privilege reserved for you.",
        "Festive sale! Up to 30% off, {firstName}. Ends soon.",
    ),
    Theme(
        "loyalty",
        r"loyal|reward|vip|thank|best customer|top customer|appreciat|member|high value",
        "Thank you for being with us, {firstName}! As a small thank-you, here's a reward on "
        "your next visit.",
        "{firstName}, your loyalty reward is waiting - claim it in the next 3 days!",
        "Dear {name}, your continued patronage means a great deal to us. Please accept an "
        "exclusive loyalty privilege on your next purchase.",
        "Thanks {firstName}! A loyalty reward awaits you.",
    ),
    Theme(
        "promotion",
        r"sale|discount|offer|promo|deal|coupon|clearance|cashback|% off|percent",
        "Hi {firstName}, good news - our sale is on! Enjoy 20% off your favourites this week.",
        "Hurry {firstName}! 20% off everything ends at midnight.",
        "Dear {name}, we are pleased to offer you a private 20% discount on our finest "
        "selection, available for a limited time.",
        "20% off for you, {firstName}. Shop today!",
    ),
    Theme(
        "welcome",
        r"welcome|new customer|first order|first purchase|onboard|sign ?up|joined",
        "Welcome aboard, {firstName}! We're so glad you're here - enjoy 10% off your first order.",
        "{firstName}, your 10% welcome discount expires in 7 days - use it on your first order!",
        "Dear {name}, welcome. We look forward to serving you, and invite you to enjoy 10% "
        "off your first order.",
        "Welcome {firstName}! 10% off your first order.",
    ),
    Theme(
        "feedback",
        r"feedback|review|survey|rating|rate|opinion",
        "Hi {firstName}, how are we doing? We'd love two minutes of your feedback.",
        "{firstName}, the survey closes tomorrow - share your thoughts while you can!",
        "Dear {name}, your opinion shapes what we do. We would be grateful for your feedback.",
        "Quick question, {firstName}: how did we do?",
    ),
)
GENERIC = Theme(
    "general",
    r"",
    "Hi {firstName}, we have something special for you this week - come and take a look!",
    "{firstName}, don't miss out - this week's specials end soon!",
    "Dear {name}, we are delighted to share a special selection we think you will enjoy.",
    "Something special for you, {firstName}. Visit us this week!",
)

_RATIONALE = {
    "friendly": "warm and personal; suits most audiences and keeps unsubscribes low",
    "urgent": "a deadline drives action now; best for offers with a real expiry",
    "premium": "formal and exclusive; fits high-value or loyal customers",
    "short": "under 80 characters, fits one SMS segment and reads at a glance",
}


def pick_theme(objective: str) -> Theme:
    text = objective.lower()
    for theme in THEMES:
        if re.search(theme.keywords, text):
            return theme
    return GENERIC


def suggest_messages(
    objective: str, audience_size: int | None = None, tone: str | None = None, rules: Any = None
) -> list[dict[str, str]]:
    """Four variants, one per tone; the requested tone first."""
    theme = pick_theme(objective)
    audience_note, city = _audience(rules, audience_size)
    order = sorted(TONES, key=lambda t: t != (tone or "").lower())
    suggestions = []
    for variant in order:
        message = getattr(theme, variant)
        if city and variant == "friendly":
            message += " See you soon in {city}!"
        rationale = f"{variant.capitalize()}: {_RATIONALE[variant]}. Theme: {theme.name}"
        suggestions.append(
            {"message": message, "tone": variant, "rationale": f"{rationale}{audience_note}."}
        )
    return suggestions


def _audience(rules: Any, audience_size: int | None) -> tuple[str, bool]:
    note = ""
    if audience_size is not None:
        size = "a small" if audience_size < 500 else "a large" if audience_size > 20000 else "a"
        note = f"; written for {size} audience of {audience_size:,}"
    city = False
    if rules:
        try:
            group = parse_rules(rules)
        except RuleError:
            return note, False
        note += f" ({describe(group)})"
        city = "city" in used_fields(group) and _pins_city(group.conditions, group.operator)
    return note, city


def _pins_city(conditions: tuple[Any, ...], operator: str) -> bool:
    """True when every member has a known city: an AND with a city '=' condition."""
    return operator == "AND" and any(
        getattr(c, "field", None) == "city" and c.operator in ("=", "in") for c in conditions
    )
