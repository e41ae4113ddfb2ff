"""Message suggestions without an LLM: themed templates in four tones (or the one asked for).

Every template uses whitelisted placeholders only (checked by parse_template in the
tests); {city} is offered only when the audience rules pin a city, so it never renders
empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from libs.common.rules import RuleError, parse_rules, used_fields
from services.ai.rule_words import rules_in_words

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


CITY_LINES = {
    "friendly": " See you soon in {city}!",
    "urgent": " Visit us in {city} today!",
    "premium": " We look forward to welcoming you in {city}.",
    "short": "",  # a short message stays within one SMS segment
}


def matching_themes(objective: str) -> list[Theme]:
    """Themes whose keywords the objective names, best (first listed) first."""
    text = objective.lower()
    return [theme for theme in THEMES if re.search(theme.keywords, text)]


def pick_theme(objective: str) -> Theme:
    themes = matching_themes(objective)
    return themes[0] if themes else GENERIC


def suggest_messages(
    objective: str, audience_size: int | None = None, tone: str | None = None, rules: Any = None
) -> list[dict[str, str]]:
    """A chosen tone: every variant in that tone (the matching themes, then a general one).
    No tone (or one without templates): four variants, one per tone."""
    audience_note, city = _audience(rules, audience_size)
    wanted = (tone or "").strip().lower()
    if wanted in TONES:
        themes = [*matching_themes(objective)[:2], GENERIC]
        picks = [(theme, wanted) for theme in dict.fromkeys(themes)]
    else:
        theme = pick_theme(objective)
        picks = [(theme, variant) for variant in TONES]
    suggestions = []
    for i, (theme, variant) in enumerate(picks):
        message = getattr(theme, variant)
        city_line = CITY_LINES[variant] if city else ""
        if city_line and (i == 0 or variant == "friendly"):
            message += city_line
        about = "" if theme is GENERIC else f", on the {theme.name.replace('-', ' ')} theme"
        rationale = f"{variant.capitalize()}: {_RATIONALE[variant]}{about}"
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
        note += f" ({rules_in_words(group)})"
        city = "city" in used_fields(group) and _pins_city(group.conditions, group.operator)
    return note, city


def _pins_city(conditions: tuple[Any, ...], operator: str) -> bool:
    """True when every member has a known city: an AND with a city '=' condition."""
    return operator == "AND" and any(
        getattr(c, "field", None) == "city" and c.operator in ("=", "in") for c in conditions
    )
