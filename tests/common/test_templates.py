"""Message templates: whitelisted placeholders only, rendered without str.format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.formatting import WorkspaceFormat
from libs.common.templates import (
    TemplateError,
    parse_template,
    placeholder_values,
    render,
    render_segments,
)

INDIA = WorkspaceFormat("INR", "en-IN")
US = WorkspaceFormat("USD", "en-US")

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
        "{name|upper}",  # not a whitelisted filter
        "{name|__class__}",
        "{name|default:there}",  # an argument is a quoted literal
        "{name|default}",  # default needs its text
        '{name|default:"x"|default:"y"|default:"z"|default:"w"}',  # too many filters
        "{name|currency}",  # currency applies to numbers only
        "{totalSpends|date}",  # date applies to dates only
        "{totalSpends|currency:>10}",
        '{totalSpends|currency:"usd"}',  # an ISO code
        '{lastVisit|date:"%Y"}',  # a style name, not a format string
        '{visits|number:"0"}',
        "{name|}",
        "{name default}",
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


@pytest.mark.parametrize(
    ("text", "values", "fmt", "expected"),
    [
        ("{totalSpends|currency}", {"totalSpends": 40459.87}, INDIA, "₹40,459.87"),
        ("{totalSpends|currency}", {"totalSpends": 123456}, INDIA, "₹1,23,456.00"),
        ("{totalSpends|currency}", {"totalSpends": 123456}, US, "$123,456.00"),
        ('{totalSpends|currency:"USD"}', {"totalSpends": 15000}, US, "$15,000.00"),
        ("{totalSpends|currency}", {"totalSpends": "24349.8"}, INDIA, "₹24,349.80"),
        ("{totalSpends}", {"totalSpends": 1234567.5}, INDIA, "12,34,567.50"),
        ("{totalSpends|number}", {"totalSpends": 15000.0}, INDIA, "15,000"),
        ("{visits}", {"visits": 1200}, US, "1,200"),
        ("{lastVisit}", {"lastVisit": "2026-11-26T19:59:16Z"}, INDIA, "26 Nov 2026"),
        ("{lastVisit|date}", {"lastVisit": "2026-11-26T19:59:16Z"}, US, "Nov 26, 2026"),
        (
            '{lastVisit|date:"long"}',
            {"lastVisit": "2026-11-26T19:59:16Z"},
            INDIA,
            "26 November 2026",
        ),
        (
            "{lastOrderAt|date}",
            {"lastOrderAt": datetime(2026, 1, 2, 23, 0, tzinfo=UTC)},
            INDIA,
            "2 Jan 2026",
        ),
        ('{name|default:"friend"}', {}, INDIA, "friend"),
        ('{name|default:"friend"}', {"name": "Asha"}, INDIA, "Asha"),
        ("{name}", {"name": ""}, INDIA, "there"),
        ('{lastVisit|date|default:"a while ago"}', {}, INDIA, "a while ago"),
        (
            '{totalSpends|currency|default:"nothing yet"}',
            {"totalSpends": None},
            INDIA,
            "nothing yet",
        ),
        ("last seen {lastVisit}, orders {orderCount}", {}, INDIA, "last seen , orders "),
        ("{city|default:'your city'}", {}, INDIA, "your city"),
        ("{ totalSpends | currency }", {"totalSpends": 5}, INDIA, "₹5.00"),
        ('{city|default:"a|b"}', {}, INDIA, "a|b"),
        ("{totalSpends|currency}", {"totalSpends": "n/a"}, INDIA, "n/a"),
    ],
)
def test_filters_format_values_in_the_workspace_currency_and_locale(text, values, fmt, expected):
    assert render(parse_template(text), values, fmt) == expected


def test_a_filter_argument_is_literal_text_never_a_placeholder() -> None:
    with pytest.raises(TemplateError):
        parse_template('Hi {name|default:"{email}"}')  # no braces inside an argument
    template = parse_template('Hi {name|default:"$name"}')
    assert render(template, {"email": "a@b.c"}) == "Hi $name"


def test_segments_tell_substituted_values_from_missing_ones() -> None:
    template = parse_template("Hi {firstName}, {city}!")
    assert render_segments(template, {"firstName": "Asha"}) == [
        ("text", "Hi "),
        ("value", "Asha"),
        ("text", ", "),
        ("missing", ""),
        ("text", "!"),
    ]


def test_unknown_filter_error_names_it_and_the_allowed_ones() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template("{name|upper}")
    assert "'upper'" in caught.value.message
    assert caught.value.details["allowed"] == ["currency", "number", "date", "default"]


def test_workspace_format_refuses_unknown_currency_and_locale() -> None:
    with pytest.raises(ValueError, match="locale"):
        WorkspaceFormat("INR", "xx-QQ")
    with pytest.raises(ValueError, match="currency"):
        WorkspaceFormat("QQQ", "en-IN")
