"""The gateway's MongoDB collections: users and api_keys. The only module touching pymongo."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from libs.common.mongo import IndexSpec, ensure_indexes

INDEXES = (
    IndexSpec("users", [("provider", 1), ("subject", 1)], unique=True, name="provider_subject"),
    IndexSpec("users", [("email", 1)], name="email"),
    IndexSpec("api_keys", [("hash", 1)], unique=True, name="hash"),
    IndexSpec("api_keys", [("userId", 1), ("createdAt", DESCENDING)], name="user_created"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def user_id_for(provider: str, subject: str) -> str:
    """Stable per (issuer, subject): a repeated sign-in finds the same user, no race."""
    return "usr_" + hashlib.sha256(f"{provider}|{subject}".encode()).hexdigest()[:24]


class GatewayStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db
        self.users = db["users"]
        self.keys = db["api_keys"]

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # users
    def upsert_user(
        self, *, provider: str, subject: str, email: str, name: str, picture: str | None
    ) -> dict[str, Any]:
        user_id = user_id_for(provider, subject)
        now = _now()
        fields: dict[str, Any] = {
            "provider": provider,
            "subject": subject,
            "email": email.lower(),
            "name": name,
            "lastLoginAt": now,
        }
        if picture:  # never store null: the key is simply absent
            fields["picture"] = picture
        self.users.update_one(
            {"_id": user_id},
            {"$set": fields, "$setOnInsert": {"createdAt": now}},
            upsert=True,
        )
        return {"_id": user_id, **fields}

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        return self.users.find_one({"_id": user_id})

    # api keys
    def insert_key(
        self,
        *,
        user_id: str,
        email: str,
        name: str,
        scopes: list[str],
        key_hash: str,
        prefix: str,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": "key_" + uuid.uuid4().hex[:20],
            "userId": user_id,
            "email": email,
            "name": name,
            "scopes": scopes,
            "hash": key_hash,
            "prefix": prefix,
            "createdAt": _now(),
        }
        self.keys.insert_one(doc)
        return doc

    def list_keys(self, user_id: str) -> list[dict[str, Any]]:
        cursor = self.keys.find(
            {"userId": user_id, "revokedAt": {"$exists": False}}, {"hash": 0}
        ).sort("createdAt", DESCENDING)
        return list(cursor)

    def find_active_key(self, key_hash: str) -> dict[str, Any] | None:
        return self.keys.find_one({"hash": key_hash, "revokedAt": {"$exists": False}})

    def revoke_key(self, user_id: str, key_id: str) -> bool:
        result = self.keys.update_one(
            {"_id": key_id, "userId": user_id, "revokedAt": {"$exists": False}},
            {"$set": {"revokedAt": _now()}},
        )
        return result.matched_count == 1

    def touch_keys(self, key_ids: list[str], when: datetime) -> None:
        if key_ids:
            # Epoch milliseconds: the embedded DB stores a datetime $set on an existing
            # document as naive text.
            used_ms = int(when.timestamp() * 1000)
            self.keys.update_many({"_id": {"$in": key_ids}}, {"$set": {"lastUsedMs": used_ms}})
