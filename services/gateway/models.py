"""Requests, responses and documents of the gateway."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic.alias_generators import to_camel

ScopeName = Literal["ingest", "read", "campaigns"]
RoleName = Literal["admin", "marketer", "viewer"]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class UserOut(ApiModel):
    id: str
    email: str
    name: str
    picture: str | None = None
    role: RoleName = "viewer"


class UserItem(ApiModel):
    id: str
    email: str
    name: str
    role: RoleName
    created_at: datetime | None = None
    last_login_at: datetime | None = None


class RoleGrant(ApiModel):
    """The role a person gets at their first sign-in (given before they ever sign in)."""

    email: EmailStr
    role: RoleName


class UserList(ApiModel):
    items: list[UserItem]
    grants: list[RoleGrant]


class RoleChange(ApiModel):
    role: RoleName


class AuditActor(ApiModel):
    user_id: str | None = None
    email: str | None = None
    role: str | None = None
    via: str
    key_id: str | None = None


class AuditEntry(ApiModel):
    id: str
    at: datetime
    action: str
    actor: AuditActor
    method: str
    path: str
    target: str | None = None
    status: int
    outcome: str
    ip: str | None = None
    trace_id: str | None = None
    details: dict[str, object] | None = None


class AuditPage(ApiModel):
    items: list[AuditEntry]
    next_before: int | None = Field(
        None, description="pass as `before` for the next (older) page; null at the end"
    )


class SessionRecord(BaseModel):
    """What Redis holds under session:<id>."""

    user_id: str
    email: str
    name: str
    picture: str | None = None
    created_at: float


class DevLoginRequest(ApiModel):
    email: EmailStr = "dev@example.com"
    name: str = Field("Developer", max_length=200)


class AuthConfig(ApiModel):
    dev_login: bool
    providers: list[str]


class KeyCreate(ApiModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[ScopeName] = Field(min_length=1)

    @field_validator("scopes")
    @classmethod
    def _unique(cls, scopes: list[ScopeName]) -> list[ScopeName]:
        return sorted(set(scopes))


class KeyCreated(ApiModel):
    id: str
    name: str
    scopes: list[str]
    key: str = Field(description="shown once; only its hash is stored")
    prefix: str
    created_at: datetime


class KeyItem(ApiModel):
    id: str
    owner: str | None = None
    name: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None


class KeyList(ApiModel):
    items: list[KeyItem]


class ConsumerInfo(ApiModel):
    name: str
    pending: int
    idle_ms: int


class GroupInfo(ApiModel):
    name: str
    pending: int
    lag: int | None
    last_delivered_id: str
    oldest_pending_age_ms: int | None
    consumers: list[ConsumerInfo]


class DlqInfo(ApiModel):
    stream: str
    length: int


class PartitionInfo(ApiModel):
    """One Redis stream of a partitioned logical stream, and the server that holds it."""

    stream: str
    node: str
    length: int
    groups: list[GroupInfo]
    dlq: DlqInfo


class StreamInfo(ApiModel):
    stream: str
    length: int
    groups: list[GroupInfo]
    dlq: DlqInfo
    partitions: list[PartitionInfo] = []


class StreamsOverview(ApiModel):
    streams: list[StreamInfo]


class ReplayResult(ApiModel):
    replayed: int
