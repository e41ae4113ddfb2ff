"""How many customers a launch would reach, asked of the ingest API's preview.

The one synchronous question the campaign service asks another service: a launch to
nobody is refused at once (422 ``empty_audience``) rather than accepted and completed
empty a moment later. The answer only refuses; the audience itself is still resolved
from the stream (``AudienceResolved``). When ingest cannot answer (down, or its read
model still loading: 503 ``preview_not_ready``), the launch goes ahead and an empty
audience completes the campaign at once, as before.
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.logging import get_logger

log = get_logger(__name__)


class AudienceCounter:
    def __init__(self, http: httpx.Client, internal_token: str) -> None:
        self.http = http
        self.internal_token = internal_token

    def count(self, rules: dict[str, Any]) -> int | None:
        """Customers matching ``rules`` now, or None when ingest cannot say."""
        try:
            response = self.http.post(
                "/api/customers/preview",
                json={"rules": rules, "sampleSize": 0},
                headers={"X-Internal-Token": self.internal_token},
            )
        except httpx.HTTPError as exc:
            log.warning("campaign.audience_count_unavailable", error=str(exc))
            return None
        if response.status_code != 200:
            log.warning("campaign.audience_count_unavailable", status=response.status_code)
            return None
        try:
            return int(response.json()["count"])
        except (ValueError, KeyError, TypeError):
            return None

    def close(self) -> None:
        self.http.close()
