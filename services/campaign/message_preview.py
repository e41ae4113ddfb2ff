"""A message as one sample customer will receive it, rendered by the same renderer as
delivery (libs.common.templates) in the workspace's currency and locale, so the UI's
preview and the sent message cannot disagree."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from libs.common.formatting import WorkspaceFormat
from libs.common.templates import PLACEHOLDERS, parse_template, render_segments


class MessagePreviewIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(min_length=1, max_length=2000)
    # a customer as the API shows it (camelCase: name, totalSpends, lastVisit, ...)
    customer: dict[str, Any] = Field(default_factory=dict)


def sample_values(customer: dict[str, Any]) -> dict[str, Any]:
    """Placeholder values of an API customer; firstName from name, like delivery."""
    values = {name: customer.get(name) for name in PLACEHOLDERS if name != "firstName"}
    name = customer.get("name")
    if isinstance(name, str) and name.split():
        values["firstName"] = name.split()[0]
    return values


def message_preview(body: MessagePreviewIn, fmt: WorkspaceFormat) -> dict[str, Any]:
    """The rendered text and its pieces (a TemplateError is the caller's 422)."""
    template = parse_template(body.message)
    segments = render_segments(template, sample_values(body.customer), fmt)
    return {
        "text": "".join(text for _, text in segments),
        "segments": [{"kind": kind, "text": text} for kind, text in segments],
        "fields": template.fields,
        "currency": fmt.currency,
        "locale": fmt.locale,
    }
