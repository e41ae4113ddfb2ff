"""Message templates: whitelisted placeholders only, rendered without str.format."""

from __future__ import annotations

import pytest

from libs.common.templates import TemplateError, parse_template, placeholder_values, render

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "{name.__class__}",
        "{0}",
        "{}",
        "{name!r}",
        "{name:>99999}",
        "{name[0]}",
        "{__import__}",
        "Hi {name",
        "Hi name}",
        "{password}",
        "",
        "x" * 2001,
    ],
)
def test_unsafe_or_unknown_placeholders_are_refused(text):
    with pytest.raises(TemplateError) as caught:
        parse_template(text)
    assert caught.value.status == 422


def test_unknown_placeholder_error_names_it():
    with pytest.raises(TemplateError) as caught:
        parse_template("Hi {nmae}")
    assert "{nmae}" in caught.value.message
    assert caught.value.details["placeholder"] == "nmae"


def test_render_substitutes_values_and_keeps_literal_braces():
    template = parse_template("Hi {firstName}, {{promo}} for {city}: {totalSpends} spent")
    assert template.fields == ["firstName", "city", "totalSpends"]
    doc = {"name": "Asha Rao", "city": "Pune", "total_spends": 15000.0}
    values = placeholder_values(doc, template.fields)
    assert render(template, values) == "Hi Asha, {promo} for Pune: 15,000 spent"


def test_render_falls_back_when_a_value_is_missing():
    assert render(parse_template("Hi {name}!"), {}) == "Hi there!"


def test_values_that_look_like_placeholders_are_not_expanded():
    template = parse_template("Hi {name}")
    assert render(template, {"name": "{email}"}) == "Hi {email}"
