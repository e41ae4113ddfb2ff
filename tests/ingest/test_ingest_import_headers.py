"""CSV imports read headers the way people write them, derive a customer's id from the
email when there is no id column, and describe bad rows in words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from libs.common.errors import ValidationFailed
from services.ingest.csv_headers import email_id
from services.ingest.imports import parse_csv

PEOPLE = """Name,E-mail,Mobile,Total Spend,Visits,Last Visit Date,City,Tags,Notes
Asha Rao,ASHA@example.com,+91 98765 43210,12000,5,2024-01-15,Pune,vip;new,met at expo
Bob Stone,bob@example,call me,-5,two,2024-02-01,London,,
No Mail,,,1,1,,,,
"""


@pytest.mark.unit
def test_ordinary_headers_map_to_fields_and_the_id_comes_from_the_email() -> None:
    parsed = parse_csv(PEOPLE.encode(), "customers", max_errors=10)
    assert (parsed.total_rows, len(parsed.valid), parsed.rejected) == (3, 1, 2)
    asha = parsed.valid[0]
    assert asha["id"] == email_id("asha@example.com") == email_id(" Asha@Example.com")
    assert (asha["email"], asha["phone"], asha["total_spends"], asha["city"]) == (
        "asha@example.com",
        "+91 98765 43210",
        12000.0,
        "Pune",
    )
    assert asha["tags"] == ["vip", "new"]


@pytest.mark.unit
def test_row_errors_name_the_column_as_written_and_hold_no_regular_expression() -> None:
    errors = parse_csv(PEOPLE.encode(), "customers", max_errors=10).errors
    assert errors == [
        {"row": 1, "message": "column 'Notes' is not a customer field: ignored"},
        {
            "row": 3,
            "message": "E-mail: not an email address; "
            "Mobile: not a phone number (digits, spaces and + ( ) . / - only); "
            "Total Spend: must be 0 or more; Visits: not a whole number",
        },
        {
            "row": 4,
            "message": "E-mail: missing (without an id column the email identifies the customer)",
        },
    ]
    assert not any("pattern" in e["message"] or "^" in e["message"] for e in errors)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Name,Email", "needs columns for totalSpends"),
        ("id,Email,E-mail,Name,Spend,Visits", "two columns for email"),
        ("", "needs columns"),
    ],
)
def test_a_header_that_cannot_be_used_says_why(header: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        parse_csv(f"{header}\n".encode(), "customers", max_errors=10)


@pytest.mark.unit
def test_order_headers_have_aliases_but_an_order_needs_its_id() -> None:
    text = "Order ID,Customer ID,Order Total,Products,Order Date\no1,c1,99,Tea|Cake,2024-03-01\n"
    [order] = parse_csv(text.encode(), "orders", max_errors=10).valid
    assert (order["id"], order["customer_id"], order["amount"], order["items"]) == (
        "o1",
        "c1",
        99.0,
        ["Tea", "Cake"],
    )
    with pytest.raises(ValidationFailed, match="needs columns for id"):
        parse_csv(b"Customer ID,Amount\nc1,5\n", "orders", max_errors=10)


@pytest.mark.integration
def test_importing_a_file_without_ids_twice_updates_the_same_customers(
    make_api: Callable[..., TestClient], drain: Callable[[str], int]
) -> None:
    api = make_api(columns_enabled=False)
    text = "Name,Email,Total Spend,Visits\nAsha Rao,asha@example.com,100,1\n"
    for spend in (100, 250):
        files = {"file": ("people.csv", text.replace("100", str(spend)).encode(), "text/csv")}
        assert api.post("/api/customers/import", files=files).status_code == 202
        drain("ingest")
    listed = api.get("/api/customers", params={"q": "asha"}).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == email_id("asha@example.com")
    assert listed["items"][0]["totalSpends"] == 250
