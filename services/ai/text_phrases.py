"""Marketer phrases read before the clause parser, using what the data says.

Each recogniser replaces the words it understood by a slot token (``zz<n>zz``) that
carries its conditions and a note saying how it was read; text_rules turns a token
back into its conditions wherever it lands after splitting on "or"/"and". Phrases:

- vague quantities resolved from this customer base (AudienceFacts): "big spenders"
  (top 25% by total spend), "top 10% of spenders", "low spenders", "loyal customers"
  (top 25% by orders), "frequent visitors", "repeat buyers", "one-time buyers";
- recency words: "lapsed", "churned", "dormant" (no visit in 90 days), "active"
  (visited in the last 30 days), "recent buyers" (ordered in the last 30 days);
- calendar dates: "this year/quarter/month/week", "today", "since March", "since
  1 March 2025", "since last year", and for joining: "in 2025", "in March", "last year",
  "before 2024"; all in UTC relative to ``facts.now``;
- lists of known cities ("in Bengaluru or Pune", "Mumbai and Delhi customers",
  "not in Mumbai or Pune"), with their other spellings (Bangalore, Bombay...);
- lists of known tags ("tagged vip or gold", "churn-risk customers");
- email domains ("with a gmail address", "@yahoo.com", "email ending in company.in").
"""

from __future__ import annotations

import re

from services.ai.text_dates import date_recognisers
from services.ai.text_facts import AudienceFacts, percentile
from services.ai.text_slots import Recogniser, Slots, amount
from services.ai.text_vocab import ORDER, Rule, cond

# Words with a behavioural meaning: a tag of the same name needs "tagged" to be a tag.
BEHAVIOUR_WORDS = frozenset({
    "new", "loyal", "active", "inactive", "repeat", "regular", "recent", "lapsed",
    "churned", "dormant", "big", "high", "low", "top", "premium", "frequent", "engaged",
})  # fmt: skip
PEOPLE = r"(?:customers?|users?|shoppers?|buyers?|clients?|members?|people|folks|ones)"


def read_phrases(text: str, facts: AudienceFacts) -> tuple[str, Slots]:
    """``text`` with understood phrases replaced by slot tokens, and the slots."""
    slots = Slots(facts)
    for pattern, recogniser in _recognisers(facts):

        def replace(match: re.Match[str], recogniser: Recogniser = recogniser) -> str:
            token = recogniser(match, slots)
            if token is None:
                return match.group(0)
            slots.sources[len(slots.items) - 1] = match.group(0).strip()
            return token

        text = re.sub(pattern, replace, text)
    if slots.explicit_join:  # "new customers who joined this year": the date says it all
        text = re.sub(rf"\bnew(?=\s+(?:{PEOPLE}|zz\d+zz)\b)", " ", text)
    return re.sub(r"\s+", " ", text).strip(), slots


# -- vague quantities from the data ------------------------------------------------------
_METRIC = {
    "spend": ("totalSpends", "spends", "total spend"),
    "orders": ("orderCount", "orders", "orders"),
    "visits": ("visits", "visits", "visits"),
}


def _top(slots: Slots, metric: str, pct: float, phrase: str, *, low: bool = False) -> str | None:
    facts = slots.facts
    if facts.size == 0:
        return None  # nothing to compare with: reported as not understood
    name, attr, label = _METRIC[metric]
    values: list[float] = getattr(facts, attr)
    share = f"{pct:g}%"
    if low:
        threshold = percentile(values, pct)
        assert threshold is not None
        op = "<" if metric == "spend" else "<="
        rule = cond(name, op, round(threshold, 2))
        note = f"'{phrase}' = {label} {op} {amount(threshold)} (bottom {share})"
    else:
        threshold = percentile(values, 100 - pct)
        assert threshold is not None
        if metric == "spend":
            op = ">"
        else:  # counts tie a lot: at least the threshold, and never fewer than 2
            op, threshold = ">=", max(threshold, 2.0)
        rule = cond(name, op, round(threshold, 2))
        note = f"'{phrase}' = {label} {op} {amount(threshold)} (top {share})"
    return slots.add([rule], note[:-1] + f" of your {facts.size:,} customers)")


def _vague(metric: str, pct: float, *, low: bool = False) -> Recogniser:
    def recognise(match: re.Match[str], slots: Slots) -> str | None:
        return _top(slots, metric, pct, match.group(0).strip(), low=low)

    return recognise


def _top_pct(match: re.Match[str], slots: Slots) -> str | None:
    pct = float(match.group("pct"))
    if not 0 < pct < 100:
        return None
    by = (match.group("by") or "spend").lower()
    metric = "orders" if by.startswith(("order", "purchas", "buy")) else "spend"
    metric = "visits" if by.startswith("visit") else metric
    return _top(slots, metric, pct, match.group(0).strip(), low=match.group("end") == "bottom")


def _middle(match: re.Match[str], slots: Slots) -> str | None:
    facts = slots.facts
    low, high = percentile(facts.spends, 25), percentile(facts.spends, 75)
    if low is None or high is None:
        return None
    return slots.add(
        [cond("totalSpends", ">=", round(low, 2)), cond("totalSpends", "<=", round(high, 2))],
        f"'{match.group(0).strip()}' = total spend from {amount(low)} to {amount(high)} "
        f"(the middle half of your {facts.size:,} customers)",
    )


def _fixed(conditions: list[Rule], meaning: str) -> Recogniser:
    def recognise(match: re.Match[str], slots: Slots) -> str | None:
        return slots.add(conditions, f"'{match.group(0).strip()}' = {meaning}")

    return recognise


# -- cities, tags, email domains ---------------------------------------------------------
def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _city_list(spellings: dict[str, list[str]]) -> Recogniser:
    def recognise(match: re.Match[str], slots: Slots) -> str | None:
        said = re.findall(rf"\b(?:{_alternation(list(spellings))})\b", match.group("list"))
        cities = list(dict.fromkeys(c for s in said for c in spellings[s]))
        if match.group("neg"):
            conditions = [cond("city", "!=", c) for c in cities]
            return slots.add(conditions, None)
        rule = cond("city", "=", cities[0]) if len(cities) == 1 else cond("city", "in", cities)
        renamed = [s for s in said if s.title() not in cities and s.upper() not in cities]
        note = None
        if renamed:
            note = f"'{', '.join(renamed)}' is read as {', '.join(cities)}"
        return slots.add([rule], note)

    return recognise


def _tag_list(match: re.Match[str], slots: Slots) -> str | None:
    known = slots.facts.tags
    words = re.findall(r"[a-z0-9_][a-z0-9_-]*", match.group("tags"))
    tags = [w if w in known else w[:-1] for w in words if w in known or w[:-1] in known]
    if not tags:
        return None
    if len(tags) == 1:
        return slots.add([cond("tags", "contains", tags[0])])
    if re.search(r"\bor\b", match.group("tags")):
        return slots.add([cond("tags", "in", tags)])
    return slots.add([cond("tags", "contains", t) for t in tags])


def _domains(match: re.Match[str], slots: Slots) -> str | None:
    names = re.findall(r"@?([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*)", match.group("doms"))
    names = [n for n in names if n not in ("or", "and")]
    if not names:
        return None
    values = [f"@{n}" if "." in n else f"@{n}." for n in names]
    rules = [cond("email", "contains", v) for v in values]
    rule = rules[0] if len(rules) == 1 else {"operator": "OR", "conditions": rules}
    return slots.add([rule], f"email address at {' or '.join(v.strip('@.') for v in values)}")


def _domain_re(facts: AudienceFacts) -> str:
    """A domain as written: with a dot or an @ (acme.in, @acme), or a bare name that is a
    known mail provider or the first label of a domain in the data (gmail, acme)."""
    names = {d.split(".")[0] for d in facts.domains} | set(FREE_MAIL.split("|"))
    bare = _alternation(sorted(n for n in names if re.fullmatch(r"[a-z0-9-]+", n)))
    return rf"(?:@?[a-z0-9][a-z0-9-]*(?:\.[a-z]{{2,}}){{1,3}}|@[a-z0-9][a-z0-9-]*|(?:{bare})\b)"


MAIL = (
    r"(?:e-?mails?|mails?)(?:\s+(?:address(?:es)?|ids?|accounts?))?|address(?:es)?|accounts?|ids?"
)
FREE_MAIL = "gmail|yahoo|hotmail|outlook|rediffmail|rediff|icloud|proton|protonmail|aol|zoho"


def _recognisers(facts: AudienceFacts) -> list[tuple[str, Recogniser]]:
    ordered = rf"(?:{ORDER})"
    domain = _domain_re(facts)
    domains = rf"(?P<doms>{domain}(?:\s+(?:or|and)\s+{domain})*)"
    out: list[tuple[str, Recogniser]] = []
    tags = [t for t in facts.tags if re.fullmatch(r"[a-z0-9_][a-z0-9_-]*", t)]
    if tags:  # "tagged loyal" is the tag, whatever "loyal" means elsewhere
        tag = rf"(?:{_alternation(tags)})s?"
        tag_list = rf"(?P<tags>{tag}(?:\s+(?:and|or)\s+{tag})*)\b"
        out.append(
            (
                rf"\b(?:tagged(?:\s+as|\s+with)?|(?:with|having|has|have)?\s*(?:the\s+|a\s+)?tags?)\s+{tag_list}",
                _tag_list,
            )
        )
    out += [
        # -- email domains (before dates: "gmail" is not a month, but "mar" could be)
        (
            rf"\b(?:with|having|has|have|using|uses?|on)\s+(?:an?\s+|the\s+)?{domains}\s+(?:{MAIL})\b",
            _domains,
        ),
        (
            rf"\b(?:e-?mails?|e-?mail addresses|addresses)\s+(?:ending|that end|ends|end)\s+"
            rf"(?:in|with)\s+{domains}",
            _domains,
        ),
        (rf"\b(?:e-?mail(?:\s+domain)?|domain)\s+(?:is|=|at|on|of)\s+{domains}", _domains),
        (
            rf"\b(?P<doms>(?:{FREE_MAIL})(?:\s+(?:or|and)\s+(?:{FREE_MAIL}))*)\s+(?:users?|{MAIL})\b",
            _domains,
        ),
        (r"(?P<doms>@[a-z0-9][a-z0-9-]*(?:\.[a-z]{2,}){1,3})", _domains),
        *date_recognisers(),
        # -- vague quantities
        (
            rf"\b(?P<end>top|bottom)\s+(?P<pct>\d{{1,2}}(?:\.\d+)?)\s*(?:%|percent|per cent|pc)"
            rf"(?:\s+of)?(?:\s+(?:our\s+|all\s+)?(?:spenders?|{PEOPLE}))?"
            rf"(?:\s+(?:by|in|on)\s+(?P<by>spend|spending|revenue|value|orders?|purchases?|visits?))?",
            _top_pct,
        ),
        (
            r"\b(?:big|high|top|heavy|large|biggest|highest|premium|best|most valuable)[- ]?"
            r"(?:spenders?|spending|value|paying|ticket)\b|\bhigh[- ]?rollers?\b|\bwhales\b"
            r"|\b(?:top|best|most valuable)\s+(?=customers?\b|clients?\b)",
            _vague("spend", 25),
        ),
        (
            r"\b(?:low|small|light|lowest|smallest|bottom|minimal)[- ]?"
            r"(?:spenders?|spending|value)\b"
            r"|\bbargain hunters?\b",
            _vague("spend", 25, low=True),
        ),
        (
            r"\b(?:average|mid|medium|middle|moderate|typical)[- ]?(?:spenders?|spending|value)\b",
            _middle,
        ),
        (
            r"\b(?:most\s+)?loyal(?:ists?)?\b(?!\s+tag)|\bregulars\b|\bregular\s+(?=customers?\b|buyers?\b|shoppers?\b)"
            r"|\bfrequent\s+(?:buyers?|shoppers?|purchasers?|customers?)\b|\bbuy\s+often\b|\border\s+often\b",
            _vague("orders", 25),
        ),
        (
            r"\b(?:frequent|regular|heavy)\s+(?:visitors?|guests?)\b"
            r"|\bvisit\s+(?:often|frequently|a lot)\b",
            _vague("visits", 25),
        ),
        (
            r"\b(?:repeat|returning)\s+(?:customers?|buyers?|purchasers?|shoppers?)\b"
            rf"|\b(?:{ordered})\s+(?:more than once|again|repeatedly)\b",
            _fixed([cond("orderCount", ">=", 2)], "orders >= 2"),
        ),
        (
            r"\b(?:one[- ]time|first[- ]time|single[- ]purchase|one[- ]off)\s+"
            r"(?:buyers?|customers?|shoppers?|purchasers?)\b"
            rf"|\b(?:{ordered})\s+(?:only\s+)?(?:once|one time)\b(?!\s+(?:or|and)\b)",
            _fixed([cond("orderCount", "=", 1)], "exactly 1 order"),
        ),
        # -- recency words without a period
        (
            r"(?<!not )\b(?:lapsed|churned|dormant|inactive|gone quiet|gone cold|sleeping"
            r"|win[- ]?back)\b"
            r"(?!\s+(?:for|in|since|over|during|within|the|last|past|more|at least)\b)",
            _fixed([cond("lastVisit", "inactive_days", 90)], "no visit in the last 90 days"),
        ),
        (
            r"(?<!not )(?<!not been )\b(?:active|engaged)\b"
            r"(?!\s+(?:for|in|since|over|during|within|the|last|past|this|recently)\b)",
            _fixed([cond("lastVisit", "active_within_days", 30)], "visited in the last 30 days"),
        ),
        (
            r"\brecent\s+(?:buyers?|customers?|shoppers?|purchasers?)\b",
            _fixed([cond("lastOrderAt", "active_within_days", 30)], "ordered in the last 30 days"),
        ),
        (
            r"\brecent\s+visitors?\b",
            _fixed([cond("lastVisit", "active_within_days", 30)], "visited in the last 30 days"),
        ),
    ]
    spellings = facts.city_spellings()
    city = rf"(?:{_alternation(list(spellings))})"
    out.append(
        (
            r"\b(?:(?P<neg>not in|not from|not based in|outside(?: of)?|excluding"
            r"|except(?: in)?)\s+"
            r"|(?:in|from|based in|located in|living in|lives in|live in|city is|city =|near)\s+)?"
            rf"(?P<list>\b{city}(?:\s+(?:and|or)\s+{city})*\b)(?:[- ]based)?",
            _city_list(spellings),
        )
    )
    if tags:
        bare = [t for t in tags if t not in BEHAVIOUR_WORDS]
        if bare:
            bare_tag = rf"(?:{_alternation(bare)})s?"
            plural = rf"(?:{_alternation(bare)})s"
            out.append((rf"\b(?P<tags>{plural}(?:\s+or\s+{bare_tag})*)\b", _tag_list))
            out.append(
                (
                    rf"\b(?P<tags>{bare_tag}(?:\s+or\s+{bare_tag})*)(?=\s+{PEOPLE}\b|\s+tag\b|\s*$)(?:\s+tag\b)?",
                    _tag_list,
                )
            )
    return out
