"""AI assistant features with an LLM when configured and deterministic fallbacks.

- api.py / assistant.py: the six /api/ai/* features (LLM first, validated, else fallback)
- llm.py: the only OpenAI client (JSON mode, timeout, never raises)
- text_rules.py, suggestions.py, summary.py, timing.py, lookalike.py, tagging.py: the
  fallbacks and analyses, pure functions
- worker.py / projections.py / store.py: read models built only from streams (group
  ``ai`` on ingest, receipt, campaign_events); on ``campaign.created`` the worker
  publishes ``campaign.tagged`` (tagging.tag_campaign) for the campaign service to store
"""
