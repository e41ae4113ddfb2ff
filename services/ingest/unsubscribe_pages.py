"""The small HTML pages a person sees at /u/{token}: no script, no outside assets.

The form posts back to the same address; its button sends
``List-Unsubscribe=One-Click`` like a mail client's one-click unsubscribe would.
"""

from __future__ import annotations

from html import escape
from typing import Any

LABELS = {"email": "email", "sms": "text messages (SMS)"}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}fieldset{margin:1rem 0}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def link_page(channel: str, consent: dict[str, Any]) -> str:
    state = consent.get(channel, {}).get("state", "unknown")
    already = "<p>You are already unsubscribed.</p>" if state == "unsubscribed" else ""
    choices = "".join(_choice(ch, consent.get(ch, {}).get("state")) for ch in LABELS)
    return _page(
        "Unsubscribe",
        f"<h1>Unsubscribe from {escape(LABELS[channel])}?</h1>{already}"
        '<form method="post">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">Unsubscribe from {escape(LABELS[channel])}</button></form>'
        "<h2>Or choose per channel</h2>"
        f'<form method="post">{choices}<button type="submit">Save my choices</button></form>',
    )


def _choice(channel: str, state: str | None) -> str:
    def radio(value: str, label: str) -> str:
        checked = " checked" if state == value else ""
        return (
            f'<label><input type="radio" name="{channel}" value="{value}"{checked}> '
            f"{label}</label> "
        )

    return (
        f"<fieldset><legend>{escape(LABELS[channel].capitalize())}</legend>"
        f"{radio('subscribed', 'Keep sending')}{radio('unsubscribed', 'Stop')}</fieldset>"
    )


def done_page(wanted: dict[str, str]) -> str:
    lines = "".join(
        f"<li>{escape(LABELS[ch].capitalize())}: "
        f"{'unsubscribed' if state == 'unsubscribed' else 'subscribed'}</li>"
        for ch, state in wanted.items()
    )
    return _page(
        "Preferences saved", f"<h1>Done</h1><p>Your choices are saved:</p><ul>{lines}</ul>"
    )


def bad_link_page(reason: str = "This unsubscribe link is not valid.") -> str:
    return _page("Link not valid", f"<h1>Link not valid</h1><p>{escape(reason)}</p>")
