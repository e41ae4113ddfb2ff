"""The six AI features: ask the LLM when configured, validate, else the fallback.

Each feature returns a response model whose ``source`` says which path answered.
Read-model queries run in a thread (pymongo is synchronous).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from libs.common.clock import now_utc
from libs.common.errors import NotFound
from libs.common.rules import (
    FIELDS,
    OPERATORS_BY_KIND,
    Group,
    describe,
    matches,
    parse_rules,
    to_json,
)
from libs.common.templates import PLACEHOLDERS, parse_template
from services.ai import models as m
from services.ai.llm import LlmClient
from services.ai.lookalike import find_lookalikes
from services.ai.settings import AiSettings
from services.ai.store import AiStore
from services.ai.suggestions import suggest_messages
from services.ai.summary import AccountRates, campaign_metrics, summarise
from services.ai.tagging import TAGS, tag_campaign
from services.ai.text_facts import AudienceFacts, facts_from_customers
from services.ai.text_rules import parse_description
from services.ai.timing import recommend

_FIELD_DOC = "; ".join(
    f"{name} ({spec.kind}: {', '.join(OPERATORS_BY_KIND[spec.kind])})"
    for name, spec in FIELDS.items()
)
RULES_PROMPT = (
    "You turn a CRM audience description into JSON segment rules. Answer one JSON object "
    '{"rules": {"operator": "AND"|"OR", "conditions": [...]}, "explanation": "..."}. '
    'A condition is {"field", "operator", "value"}; a condition may be a nested group. '
    f"Fields (kind: operators): {_FIELD_DOC}. inactive_days/active_within_days take a "
    "whole number of days (inactive_days also matches customers who never did it). "
    "Amounts are plain numbers (10k = 10000, 1 lakh = 100000). Cities are Title Case."
)
SUGGESTIONS_PROMPT = (
    "You write short CRM marketing messages. Answer one JSON object "
    '{"suggestions": [{"message", "tone", "rationale"}]} with 3 to 5 variants differing in '
    "tone and length (friendly, urgent, premium, short SMS under 80 characters). Messages "
    "may use only these placeholders: "
    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    + ". Format money and dates with filters: {totalSpends|currency}, {lastVisit|date}, "
    '{firstName|default:"there"}. No other braces.'
)
SUMMARY_PROMPT = (
    "You summarise a messaging campaign's results for a marketer in 2-4 plain sentences. "
    'Answer one JSON object {"summary": "...", "highlights": ["..."]}. Use only the '
    "numbers given; mention the comparison with the account average and anything unusual."
)
TAGS_PROMPT = (
    'You tag CRM campaigns. Answer one JSON object {"tags": [...]} using only tags from: '
    + ", ".join(TAGS)
    + "."
)


class Assistant:
    def __init__(self, store: AiStore, llm: LlmClient, settings: AiSettings) -> None:
        self.store = store
        self.llm = llm
        self.settings = settings

    # 1 -----------------------------------------------------------------------------------
    async def segment_from_text(self, req: m.SegmentFromTextRequest) -> m.SegmentFromTextResponse:
        answer = await self.llm.ask(
            "segment-from-text", RULES_PROMPT, {"description": req.description}, m.LlmRules,
            check=_valid_rules,
        )  # fmt: skip
        if answer is not None:
            return m.SegmentFromTextResponse(
                rules=answer.rules, explanation=answer.explanation, source="llm"
            )
        facts = await asyncio.to_thread(self._facts)
        parsed = parse_description(req.description, facts)
        explanation = "Customers whose " + describe(parse_rules(parsed.rules)) + "."
        if parsed.notes:
            explanation += " Read as: " + "; ".join(parsed.notes) + "."
        if parsed.skipped:
            explanation += (
                " Not understood, left out: "
                + ", ".join(f"'{words}'" for words in parsed.skipped)
                + "."
            )
        return m.SegmentFromTextResponse(
            rules=parsed.rules,
            explanation=explanation,
            source="fallback",
            notes=parsed.notes,
            skipped=parsed.skipped,
        )

    def _facts(self) -> AudienceFacts:
        return facts_from_customers(self.store.customers(), now_utc())

    # 2 -----------------------------------------------------------------------------------
    async def message_suggestions(
        self, req: m.MessageSuggestionsRequest
    ) -> m.MessageSuggestionsResponse:
        if req.rules is not None:
            parse_rules(req.rules)  # bad rules are the caller's 422, not a silent skip
        audience = _describe_rules(req.rules)
        answer = await self.llm.ask(
            "message-suggestions",
            SUGGESTIONS_PROMPT,
            {
                "objective": req.objective,
                "audienceSize": req.audienceSize,
                "tone": req.tone,
                "audience": audience,
            },
            m.LlmSuggestions,
            check=_valid_suggestions,
        )
        if answer is not None:
            return m.MessageSuggestionsResponse(suggestions=answer.suggestions, source="llm")
        suggestions = suggest_messages(req.objective, req.audienceSize, req.tone, req.rules)
        return m.MessageSuggestionsResponse(
            suggestions=[m.Suggestion(**s) for s in suggestions], source="fallback"
        )

    # 3 -----------------------------------------------------------------------------------
    async def performance_summary(
        self, req: m.PerformanceSummaryRequest
    ) -> m.PerformanceSummaryResponse:
        campaign, messages, account = await asyncio.to_thread(self._summary_inputs, req.campaignId)
        metrics = campaign_metrics(campaign, messages)
        text, highlights, metrics = summarise(req.campaignId, campaign, metrics, account)
        answer = await self.llm.ask(
            "campaign-performance-summary",
            SUMMARY_PROMPT,
            {"campaign": campaign.get("name"), "metrics": metrics, "draft": text},
            m.LlmSummary,
        )
        if answer is not None:
            return m.PerformanceSummaryResponse(
                summary=answer.summary,
                highlights=answer.highlights or highlights,
                metrics=metrics,
                source="llm",
            )
        return m.PerformanceSummaryResponse(
            summary=text, highlights=highlights, metrics=metrics, source="fallback"
        )

    def _summary_inputs(
        self, campaign_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], AccountRates]:
        campaign = self.store.campaign(campaign_id)
        messages = self.store.campaign_messages(campaign_id)
        if campaign is None and not messages:
            raise NotFound(f"campaign {campaign_id} is not known to the AI service")
        counts = self.store.status_counts()
        delivered = counts.get("DELIVERED", Counter())
        attempted = delivered + counts.get("FAILED", Counter()) + counts.get("SENT", Counter())
        durations = [
            (c["completed_at"] - c["started_at"]).total_seconds()
            for c in self.store.latest_campaigns(200)
            if c.get("completed_at") and c.get("started_at") and c["_id"] != campaign_id
        ]
        rates = {cid: (delivered[cid], n) for cid, n in attempted.items()}
        return campaign or {}, messages, AccountRates(rates, durations)

    # 4 -----------------------------------------------------------------------------------
    async def optimal_timing(self, req: m.OptimalTimingRequest) -> m.OptimalTimingResponse:
        group = parse_rules(req.audienceRules) if req.audienceRules is not None else None
        result = await asyncio.to_thread(self._timing, group)
        return m.OptimalTimingResponse(**result, source="fallback")

    def _timing(self, group: Group | None) -> dict[str, Any]:
        customers = self.store.customers()
        timezones = {c["_id"]: c["timezone"] for c in customers if c.get("timezone")}
        audience: set[str] | None = None
        if group is not None and group.conditions:
            now = now_utc()
            audience = {c["_id"] for c in customers if matches(group, c, now)}
        return recommend(
            self.store.delivery_times(audience),
            self.store.order_times(audience),
            timezones,
            min_events=self.settings.timing_min_events,
        )

    # 5 -----------------------------------------------------------------------------------
    async def lookalike(self, req: m.LookalikeRequest) -> m.LookalikeResponse:
        result = await asyncio.to_thread(self._lookalike, req)
        return m.LookalikeResponse(**result, source="fallback")

    def _lookalike(self, req: m.LookalikeRequest) -> dict[str, Any]:
        if req.baseSegmentId is not None:
            segment = self.store.segment(req.baseSegmentId)
            if segment is None:
                raise NotFound(f"segment {req.baseSegmentId} is not known to the AI service")
            base = parse_rules(segment["rules"])
        else:
            base = parse_rules(req.rules)
        customers = self.store.customers()
        result = find_lookalikes(
            customers, base, now_utc(), req.size, self.settings.lookalike_max_size
        )
        by_id = {c["_id"]: c for c in customers}
        result["sample"] = [_sample(by_id[cid]) for cid in result["customerIds"][:10]]
        return result

    # 6 -----------------------------------------------------------------------------------
    async def campaign_tags(self, req: m.CampaignTagsRequest) -> m.CampaignTagsResponse:
        answer = await self.llm.ask(
            "campaign-tags",
            TAGS_PROMPT,
            {"name": req.name, "rules": req.rules, "message": req.message},
            m.LlmTags,
            check=_known_tags,
        )
        if answer is not None:
            return m.CampaignTagsResponse(tags=answer.tags, source="llm")
        return m.CampaignTagsResponse(
            tags=tag_campaign(req.name, req.rules, req.message), source="fallback"
        )


# -- checks on LLM answers (raise ValueError/AppError: the caller falls back) ------------
def _valid_rules(answer: m.LlmRules) -> m.LlmRules:
    group = parse_rules(answer.rules)
    if not group.conditions:
        raise ValueError("rules without conditions select everyone")
    return m.LlmRules(rules=to_json(group), explanation=answer.explanation)


def _valid_suggestions(answer: m.LlmSuggestions) -> m.LlmSuggestions:
    for suggestion in answer.suggestions:
        parse_template(suggestion.message)
    if len({s.message for s in answer.suggestions}) < 3:
        raise ValueError("fewer than 3 distinct suggestions")
    return answer


def _known_tags(answer: m.LlmTags) -> m.LlmTags:
    tags = [t for t in TAGS if t in {x.strip().lower() for x in answer.tags}]
    if not tags:
        raise ValueError("no known tags")
    return m.LlmTags(tags=tags)


def _describe_rules(rules: dict[str, Any] | None) -> str | None:
    if rules is None:
        return None
    try:
        return describe(parse_rules(rules))
    except Exception:
        return None


def _sample(doc: dict[str, Any]) -> dict[str, Any]:
    keys = {
        "name": "name",
        "email": "email",
        "city": "city",
        "totalSpends": "total_spends",
        "visits": "visits",
    }
    sample = {"id": doc["_id"], "orderCount": doc.get("order_count", 0)}
    sample.update({k: doc[path] for k, path in keys.items() if doc.get(path) is not None})
    return sample
