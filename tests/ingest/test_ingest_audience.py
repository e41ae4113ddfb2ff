"""Audience preview and resolver: same engine, same exclusions, same count; resolving
a launched campaign once, resuming an interrupted one."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, order, wait_columns_current

from libs.common.errors import TransientError
from libs.common.events import (
    AudienceResolved,
    CampaignLaunched,
    LocalSend,
    SendRequested,
    decode,
)
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import CleanEnv, wait_until
from services.ingest.audience.changes import CHANGES_STREAM
from services.ingest.audience.columns import PROJECTION
from services.ingest.audience.hosted import HostedModel
from services.ingest.audience.readmodel import APPLY_SLICE
from services.ingest.audience.resolver import resolve_audience
from services.ingest.audience.source import model_audience_source
from services.ingest.consent_store import ConsentStore
from services.ingest.handlers import Deps
from services.ingest.settings import IngestSettings
from services.ingest.worker import build_consumer, build_deps

pytestmark = pytest.mark.integration

RULES = {
    "operator": "AND",
    "conditions": [
        {"field": "totalSpends", "operator": ">", "value": "10000"},
        {
            "operator": "OR",
            "conditions": [
                {"field": "city", "operator": "in", "value": ["Pune", "Delhi"]},
                {"field": "tags", "operator": "contains", "value": "vip"},
            ],
        },
    ],
}


def seed(api: TestClient, drain: Callable[[str], int], n: int = 60) -> None:
    cities = ["Pune", "Delhi", "London", "Austin"]
    people = [
        customer(
            f"c{i:03d}",
            totalSpends=i * 400,
            city=cities[i % 4],
            tags=["vip"] if i % 5 == 0 else [],
            phone="+91 98765 43210" if i % 7 == 0 else None,
        )
        for i in range(n)
    ]
    for p in people:
        if p["phone"] is None:
            del p["phone"]
    assert api.post("/api/customers/batch", json={"customers": people}).status_code == 202
    # an order-only placeholder with a big spend: never in an audience
    api.post("/api/orders", json=order("o-ghost", "ghost", 99_999))
    api.post("/api/orders", json=order("o-1", "c001", 50_000))
    drain("ingest")


def launch(
    clean_env: CleanEnv, campaign_id: str, rules: dict[str, Any] = RULES, **extra: Any
) -> None:
    event = CampaignLaunched(
        campaign_id=campaign_id,
        name="Win back",
        rules=rules,
        message="Hi {firstName}, you spent {totalSpends}",
        fields=["firstName", "totalSpends"],
        **extra,
    )
    StreamProducer(clean_env.redis).publish([event])


def sends(clean_env: CleanEnv) -> list[SendRequested]:
    return [decode(i.decode(), f) for i, f in clean_env.redis.xrange("send")]  # type: ignore[misc]


def crash_on_flush(deps: Deps, number: int) -> Callable[..., list[str]]:
    """Make the resolver's ``number``-th publish fail (Redis went away); returns the
    real publish, to put back."""
    real_publish = deps.producer.publish
    calls = {"n": 0}

    def crashing(events: Any, **kw: Any) -> list[str]:
        calls["n"] += 1
        if calls["n"] == number:
            raise ConnectionError("redis went away")
        return real_publish(events, **kw)

    deps.producer.publish = crashing  # type: ignore[method-assign]
    return real_publish


def resolved(clean_env: CleanEnv) -> list[AudienceResolved]:
    events = [decode(i.decode(), f) for i, f in clean_env.redis.xrange("campaign_events")]
    return [e for e in events if isinstance(e, AudienceResolved)]


def test_a_local_send_time_reaches_every_chunk(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    seed(api, drain)
    local = LocalSend(at="20:00", after=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    launch(clean_env, "camp-local", local_send=local)
    drain("segment")
    chunks = sends(clean_env)
    assert chunks and all(c.local_send == local for c in chunks)


def test_preview_count_equals_what_the_resolver_sends(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    seed(api, drain)
    preview = api.post("/api/customers/preview", json={"rules": RULES, "sampleSize": 5}).json()
    assert preview["source"] == "database"
    launch(clean_env, "camp-1")
    drain("segment")
    recipients = [r for chunk in sends(clean_env) for r in chunk.recipients]
    [done] = resolved(clean_env)
    assert preview["count"] == done.total == len(recipients) > 0
    assert "ghost" not in {r.customer_id for r in recipients}
    assert len(preview["sample"]) == 5
    assert set(preview["sample"][0]) == {"id", "name", "email", "totalSpends", "city", "tags"}
    assert preview["fields"] == ["totalSpends", "city", "tags"]
    first = next(r for r in recipients if r.customer_id == "c001")
    assert first.fields == {"firstName": "Customer", "totalSpends": 50_400}


def test_columnar_preview_matches_the_database_preview(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    db_api = make_api(columns_enabled=False)
    seed(db_api, drain)
    col_api = make_api(columns_load_batch=7)  # loaded in several pages, the last one short
    wait_columns_current(col_api)
    query = {"rules": orjson.dumps(RULES).decode(), "sampleSize": 100}
    from_db = db_api.get("/api/customers/preview", params=query).json()
    from_columns = col_api.get("/api/customers/preview", params=query).json()
    assert from_columns["source"] == "columns"
    assert from_columns["count"] == from_db["count"]
    assert {s["id"] for s in from_columns["sample"]} == {s["id"] for s in from_db["sample"]}
    # later writes reach the read model through the change stream
    db_api.post("/api/customers", json=customer("new", totalSpends=20_000, city="Pune"))
    drain("ingest")
    wait_columns_current(col_api)
    again = col_api.get("/api/customers/preview", params=query).json()
    assert again["count"] == from_db["count"] + 1


def test_resolver_sends_in_numbered_chunks_and_redelivery_sends_nothing_more(
    api: TestClient, drain: Callable[[str], int], deps: Deps, clean_env: CleanEnv
) -> None:
    seed(api, drain, n=120)
    deps.settings.send_chunk_size = 7
    deps.settings.send_chunks_per_flush = 2
    launch(clean_env, "camp-2", {"operator": "AND", "conditions": []})
    [entry_id, fields] = clean_env.redis.xrange("segment")[0]
    event = decode(entry_id.decode(), fields)
    assert isinstance(event, CampaignLaunched)
    resolve_audience(event, deps)
    chunks = sends(clean_env)
    assert [c.chunk for c in chunks] == list(range(len(chunks)))
    assert sum(len(c.recipients) for c in chunks) == 120
    resolve_audience(event, deps)  # redelivered after completion
    assert len(sends(clean_env)) == len(chunks)
    assert [r.total for r in resolved(clean_env)] == [120]


def test_interrupted_resolution_resumes_after_the_last_saved_customer(
    api: TestClient, drain: Callable[[str], int], deps: Deps, clean_env: CleanEnv
) -> None:
    seed(api, drain, n=50)
    deps.settings.send_chunk_size = 5
    deps.settings.send_chunks_per_flush = 2
    launch(clean_env, "camp-3", {"operator": "AND", "conditions": []})
    [entry_id, fields] = clean_env.redis.xrange("segment")[0]
    event = decode(entry_id.decode(), fields)
    real_publish = crash_on_flush(deps, 3)
    with pytest.raises(ConnectionError):
        resolve_audience(event, deps)  # type: ignore[arg-type]
    assert len(sends(clean_env)) == 4  # two flushes of two chunks
    deps.producer.publish = real_publish  # type: ignore[method-assign]
    resolve_audience(event, deps)  # type: ignore[arg-type]
    chunks = sends(clean_env)
    ids = [r.customer_id for c in chunks for r in c.recipients]
    assert len(ids) == len(set(ids)) == 50
    assert [c.chunk for c in chunks] == list(range(10))
    assert [r.total for r in resolved(clean_env)] == [50]


def test_launch_with_invalid_rules_is_dead_lettered(
    drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    launch(clean_env, "camp-bad", {"operator": "AND", "conditions": [{"$where": "1"}]})
    drain("segment")
    assert clean_env.redis.xlen("segment.dlq") == 1
    assert clean_env.redis.xlen("send") == 0


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        ({"$where": "sleep(1000)"}, "unknown keys"),
        ({"operator": "AND", "conditions": [{"field": "totalSpends", "operator": ">",
          "value": {"$gt": ""}}]}, "expected a number"),
        ({"operator": "AND", "conditions": [{"field": "password", "operator": "=",
          "value": "x"}]}, "unknown field"),
        ({"operator": "AND", "conditions": [{"field": "name", "operator": "$regex",
          "value": ".*"}]}, "does not apply"),
        ({"operator": "AND", "conditions": [{"field": "name", "operator": "=",
          "value": {"$ne": None}}]}, "expected text"),
    ],
)  # fmt: skip
def test_preview_refuses_injection_attempts_with_a_reason(
    api: TestClient, rules: dict[str, Any], reason: str
) -> None:
    response = api.post("/api/customers/preview", json={"rules": rules})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_rules" and reason in orjson.dumps(error).decode()


def test_preview_refuses_deep_nesting_and_bad_json(api: TestClient) -> None:
    deep: dict[str, Any] = {"operator": "AND", "conditions": []}
    for _ in range(12):
        deep = {"operator": "AND", "conditions": [deep]}
    assert api.post("/api/customers/preview", json={"rules": deep}).status_code == 422
    bad = api.get("/api/customers/preview", params={"rules": "{not json"})
    assert bad.status_code == 422


def test_read_model_notices_change_notices_trimmed_before_it_read_them(
    make_api: Callable[..., TestClient], clean_env: CleanEnv
) -> None:
    api = make_api()
    wait_columns_current(api)
    model = api.app.state.preview  # type: ignore[attr-defined]
    assert not api.portal.call(model._missed_entries)  # type: ignore[union-attr]
    api.portal.call(model.stop)  # type: ignore[union-attr]
    for i in range(5):
        clean_env.redis.xadd(CHANGES_STREAM, {"docs": orjson.dumps([{"_id": f"x{i}"}])})
    model.consumed = 5  # read them all, then the stream was trimmed
    clean_env.redis.xtrim(CHANGES_STREAM, maxlen=1, approximate=False)
    assert not api.portal.call(model._missed_entries)  # type: ignore[union-attr]
    model.consumed = 3  # as if this process had read only the first three
    assert api.portal.call(model._missed_entries)  # type: ignore[union-attr]


def test_a_long_resolution_keeps_its_launch_entry_from_being_claimed(
    api: TestClient, drain: Callable[[str], int], deps: Deps, clean_env: CleanEnv
) -> None:
    seed(api, drain, n=30)
    deps.settings.send_chunk_size = 5
    deps.settings.send_chunks_per_flush = 1
    launch(clean_env, "camp-long", {"operator": "AND", "conditions": []})
    consumer = build_consumer("segment", deps)
    real_publish = deps.producer.publish
    idle_seen: list[int] = []

    def slow_publish(events: Any, **kw: Any) -> list[str]:
        time.sleep(0.05)
        [row] = clean_env.redis.xpending_range("segment", "segment", "-", "+", 1)
        idle_seen.append(int(row["time_since_delivered"]))
        return real_publish(events, **kw)

    deps.producer.publish = slow_publish  # type: ignore[method-assign]
    consumer.run(burst=True)
    # without the touch the idle time would keep growing with every flush
    assert len(idle_seen) >= 6 and max(idle_seen) < 250
    assert clean_env.redis.xpending("segment", "segment")["pending"] == 0


def test_preview_over_a_large_base_answers_503_with_progress_instead_of_scanning(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    small = make_api(columns_enabled=False)
    seed(small, drain, n=20)
    api = make_api(columns_scan_max_rows=10)  # 20 customers count as "too many to scan"
    wait_columns_current(api)
    query = {"rules": orjson.dumps(RULES).decode()}
    assert api.get("/api/customers/preview", params=query).json()["source"] == "columns"
    model = api.app.state.preview  # type: ignore[attr-defined]
    api.portal.call(model.stop)  # type: ignore[union-attr]

    # a change the model has not applied: exact answers are impossible, so 503
    clean_env.redis.xadd(CHANGES_STREAM, {"docs": orjson.dumps([{"_id": "c001"}])})
    behind = api.get("/api/customers/preview", params=query)
    assert behind.status_code == 503 and behind.headers["Retry-After"] == "1"
    error = behind.json()["error"]
    assert error["code"] == "preview_not_ready"
    assert error["details"]["state"] == "catching_up"
    assert error["details"]["changesBehind"] == 1

    # (re)loading: the answer says how far the load has got and when to come back
    model.columns = None  # type: ignore[union-attr]
    model.expected_rows = 20  # type: ignore[union-attr]
    loading = api.get("/api/customers/preview", params=query)
    assert loading.status_code == 503 and 1 <= int(loading.headers["Retry-After"]) <= 60
    details = loading.json()["error"]["details"]
    assert details["state"] == "loading"
    assert details["rowsLoaded"] == 0 and details["rowsTotal"] == 20

    # a base small enough to scan is still answered, exactly, from the database
    model.scan_max_rows = 100  # type: ignore[union-attr]
    answer = api.get("/api/customers/preview", params=query).json()
    assert answer["source"] == "database"
    assert answer["count"] == small.get("/api/customers/preview", params=query).json()["count"]


def test_catching_up_applies_changes_in_slices_between_requests(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api = make_api()
    seed(api, drain, n=600)
    wait_columns_current(api)
    model = api.app.state.preview  # type: ignore[attr-defined]
    found = clean_env.db("ingest").customers.find({"_id": {"$regex": "^c"}}, PROJECTION)
    docs = [{**d, "version": d["version"] + 1} for d in found]  # newer than the rows
    assert len(docs) == 600

    async def loop_turns_while_applying() -> int:
        turns, done = 0, False

        async def other_request() -> None:
            nonlocal turns
            while not done:
                turns += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(other_request())
        await model._apply(docs)  # type: ignore[union-attr]
        done = True
        await task
        return turns

    # one call for all 600 rows would hold the event loop (and every request) throughout
    assert api.portal.call(loop_turns_while_applying) >= 600 // APPLY_SLICE


def model_source(api: TestClient, asked: list[str | None]) -> Any:
    """The resolver's audience source over the API's read model, run in the API's
    loop as the worker runs it in its own (audience.hosted.HostedModel)."""
    consent = ConsentStore(api.app.state.store.db)  # type: ignore[attr-defined]
    inner = model_audience_source(
        api.app.state.preview,  # type: ignore[attr-defined]
        api.portal.call,  # type: ignore[attr-defined]
        consent.suppressed_addresses,
    )

    def source(
        rules: dict[str, Any],
        now: Any,
        after_id: str | None,
        limit: int,
        channel: str | None = None,
    ) -> list[str] | None:
        asked.append(after_id)
        ids = inner(rules, now, after_id, limit, channel)
        assert ids is not None  # these tests want the model's answer
        return ids

    return source


def seeded_model_source(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], n: int
) -> tuple[Any, list[str | None]]:
    """``n`` customers loaded, and the audience source of a current read model over
    them, with the list of the ``afterId`` it is asked for."""
    seed(make_api(columns_enabled=False), drain, n=n)
    col_api = make_api()
    wait_columns_current(col_api)
    asked: list[str | None] = []
    return model_source(col_api, asked), asked


@pytest.mark.parametrize("page_size", [50_000, 7])
def test_resolver_takes_the_audience_from_the_read_model_in_the_walks_order(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    deps: Deps,
    clean_env: CleanEnv,
    page_size: int,
) -> None:
    seed(make_api(columns_enabled=False), drain, n=90)
    walked_api = make_api(columns_enabled=False)
    deps.settings.send_chunk_size = 4
    deps.settings.audience_page_size = page_size
    launch(clean_env, "camp-walk")
    launch(clean_env, "camp-model")
    walk_event, model_event = (decode(i.decode(), f) for i, f in clean_env.redis.xrange("segment"))
    resolve_audience(walk_event, deps)  # no source: the database walk
    col_api = make_api()
    wait_columns_current(col_api)
    asked: list[str | None] = []
    deps.audience = model_source(col_api, asked)
    resolve_audience(model_event, deps)
    by_campaign: dict[str, list[Any]] = {}
    for chunk in sends(clean_env):
        by_campaign.setdefault(chunk.campaign_id, []).extend(chunk.recipients)
    walked, modelled = by_campaign["camp-walk"], by_campaign["camp-model"]
    ids = [r.customer_id for r in modelled]
    # one question per page, each after the last id of the page before
    assert asked == [None, *ids[page_size - 1 :: page_size]]
    assert [r.model_dump() for r in modelled] == [r.model_dump() for r in walked]
    assert (
        len(modelled)
        == walked_api.post("/api/customers/preview", json={"rules": RULES}).json()["count"]
    )
    assert [r.total for r in resolved(clean_env)] == [len(walked)] * 2


def test_an_interrupted_resolution_from_the_read_model_resumes_after_the_last_saved_id(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    deps: Deps,
    clean_env: CleanEnv,
) -> None:
    deps.audience, asked = seeded_model_source(make_api, drain, 40)
    deps.settings.send_chunk_size = 5
    deps.settings.send_chunks_per_flush = 1
    launch(clean_env, "camp-r", {"operator": "AND", "conditions": []})
    [event] = (decode(i.decode(), f) for i, f in clean_env.redis.xrange("segment"))
    real_publish = crash_on_flush(deps, 3)
    with pytest.raises(ConnectionError):
        resolve_audience(event, deps)  # type: ignore[arg-type]
    deps.producer.publish = real_publish  # type: ignore[method-assign]
    resolve_audience(event, deps)  # type: ignore[arg-type]
    ids = [r.customer_id for c in sends(clean_env) for r in c.recipients]
    assert len(ids) == len(set(ids)) == 40 and ids == sorted(ids)
    assert asked[0] is None and asked[1] == ids[9]  # resumed after the second chunk


def test_the_model_source_gives_none_while_the_model_is_not_current(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    seed(make_api(columns_enabled=False), drain, n=10)
    api = make_api()
    wait_columns_current(api)
    model = api.app.state.preview  # type: ignore[attr-defined]
    consent = ConsentStore(api.app.state.store.db)  # type: ignore[attr-defined]
    source = model_audience_source(
        model, api.portal.call, consent.suppressed_addresses, catch_up_s=0.05
    )
    assert source(RULES, datetime.now(UTC), None, 10) is not None
    api.portal.call(model.stop)
    clean_env.redis.xadd(CHANGES_STREAM, {"docs": orjson.dumps([{"_id": "c001"}])})
    assert source(RULES, datetime.now(UTC), None, 10) is None  # the resolver walks instead


def test_the_segment_worker_resolves_from_its_own_read_model(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    settings: IngestSettings,
    clean_env: CleanEnv,
) -> None:
    seed(make_api(columns_enabled=False), drain, n=30)
    hosted = HostedModel(settings).start()
    deps = build_deps(settings, hosted=hosted)
    try:
        assert deps.audience is not None
        wait_until(lambda: deps.audience(RULES, datetime.now(UTC), None, 100) is not None)
        launch(clean_env, "camp-hosted", RULES)
        consumer = build_consumer("segment", deps)
        consumer.run(burst=True)
        ids = [r.customer_id for c in sends(clean_env) for r in c.recipients]
        expected = deps.audience(RULES, datetime.now(UTC), None, 100)
        assert ids == expected and len(ids) > 0
    finally:
        hosted.stop()
        deps.redis.close()


def test_the_read_model_going_away_part_way_leaves_the_rest_for_a_resumed_resolution(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    deps: Deps,
    clean_env: CleanEnv,
) -> None:
    answering, asked = seeded_model_source(make_api, drain, 30)
    deps.settings.send_chunk_size = 5
    deps.settings.send_chunks_per_flush = 1
    deps.settings.audience_page_size = 10

    def gone_after_first_page(*args: Any) -> list[str] | None:
        return answering(*args) if not asked else None

    deps.audience = gone_after_first_page
    launch(clean_env, "camp-gone", {"operator": "AND", "conditions": []})
    [event] = (decode(i.decode(), f) for i, f in clean_env.redis.xrange("segment"))
    with pytest.raises(TransientError):
        resolve_audience(event, deps)  # type: ignore[arg-type]
    assert len([r for c in sends(clean_env) for r in c.recipients]) == 10  # the first page
    deps.audience = answering
    resolve_audience(event, deps)  # type: ignore[arg-type]
    ids = [r.customer_id for c in sends(clean_env) for r in c.recipients]
    assert len(ids) == len(set(ids)) == 30 and ids == sorted(ids)
    assert asked[1] == ids[9]  # resumed after the first page's last customer


def test_the_walk_waits_while_delivery_is_too_far_behind(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    deps: Deps,
    clean_env: CleanEnv,
) -> None:
    seed(make_api(columns_enabled=False), drain, n=40)
    client = clean_env.redis
    client.xgroup_create("send", "send", id="0", mkstream=True)
    deps.settings.send_chunk_size = 2
    deps.settings.send_chunks_per_flush = 1
    deps.settings.send_backlog_max = 3
    deps.settings.send_backlog_poll_s = 0.01
    launch(clean_env, "camp-slow", {"operator": "AND", "conditions": []})
    [event] = (decode(i.decode(), f) for i, f in client.xrange("segment"))
    resolver = threading.Thread(target=resolve_audience, args=(event, deps))
    resolver.start()
    unread_seen, read = [], 0
    while resolver.is_alive() or read < 20:
        unread_seen.append(client.xinfo_groups("send")[0]["lag"])
        time.sleep(0.02)  # delivery, slower than the walk
        for _, entries in client.xreadgroup("send", "d1", {"send": ">"}, count=1) or []:
            read += len(entries)
    resolver.join()
    assert read == 20  # 40 recipients in chunks of 2, each once
    assert max(unread_seen) <= 3 + 1  # the limit, plus the flush that found room
    assert max(unread_seen) >= 3  # it did run ahead of delivery up to the limit
