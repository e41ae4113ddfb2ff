"""The gateway's MongoDB collections: users (with their role), api_keys, the append-only
audit log, and a marker naming the first admin. The only module touching pymongo."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from libs.common.clock import now_utc
from libs.common.mongo import IndexSpec, ensure_indexes

INDEXES = (
    IndexSpec("users", [("provider", 1), ("subject", 1)], unique=True, name="provider_subject"),
    IndexSpec("users", [("email", 1)], name="email"),
    IndexSpec("api_keys", [("hash", 1)], unique=True, name="hash"),
    IndexSpec("api_keys", [("userId", 1), ("createdAt", DESCENDING)], name="user_created"),
    IndexSpec("role_grants", [("email", 1)], unique=True, name="email"),
    IndexSpec("audit", [("atMs", DESCENDING)], name="at"),
    IndexSpec("audit", [("action", 1), ("atMs", DESCENDING)], name="action_at"),
    IndexSpec("audit", [("actor.userId", 1), ("atMs", DESCENDING)], name="actor_at"),
)
FIRST_ADMIN_MARKER = "first_admin"


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
        """Record a sign-in; a new person gets their role now: admin when nobody has
        claimed the installation yet, else the role an admin granted to their email,
        else viewer. An existing person keeps the role they hold."""
        user_id = user_id_for(provider, subject)
        now = now_utc()
        email = email.lower()
        fields: dict[str, Any] = {
            "provider": provider,
            "subject": subject,
            "email": email,
            "name": name,
            "lastLoginAt": now,
        }
        if picture:  # never store null: the key is simply absent
            fields["picture"] = picture
        existing = self.users.find_one({"_id": user_id}, {"role": 1})
        if existing is None or "role" not in existing:
            fields["role"] = self._role_for_newcomer(user_id, email)
        self.users.update_one(
            {"_id": user_id},
            {"$set": fields, "$setOnInsert": {"createdAt": now}},
            upsert=True,
        )
        stored = self.users.find_one({"_id": user_id}) or {"_id": user_id, **fields}
        return stored

    def _role_for_newcomer(self, user_id: str, email: str) -> str:
        try:
            # One document with a fixed _id: of two first sign-ins at once, one wins.
            self.db["markers"].insert_one({"_id": FIRST_ADMIN_MARKER, "userId": user_id})
            return "admin"
        except DuplicateKeyError:
            pass
        grant = self.db["role_grants"].find_one({"email": email})
        return str(grant["role"]) if grant else "viewer"

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        return self.users.find_one({"_id": user_id})

    def list_users(self) -> list[dict[str, Any]]:
        return list(self.users.find({}).sort("email", 1))

    def set_role(self, user_id: str, role: str) -> dict[str, Any] | None:
        result = self.users.update_one({"_id": user_id}, {"$set": {"role": role}})
        return self.get_user(user_id) if result.matched_count == 1 else None

    def count_admins(self) -> int:
        return self.users.count_documents({"role": "admin"})

    def grant_role(self, email: str, role: str) -> None:
        """The role a person gets at their first sign-in (and now, if already known)."""
        email = email.lower()
        self.db["role_grants"].update_one(
            {"email": email}, {"$set": {"role": role, "at": now_utc()}}, upsert=True
        )
        self.users.update_many({"email": email}, {"$set": {"role": role}})
        # Granting admin by hand claims an empty installation for that person.
        if role == "admin":
            with contextlib.suppress(DuplicateKeyError):
                self.db["markers"].insert_one({"_id": FIRST_ADMIN_MARKER, "email": email})

    def list_grants(self) -> list[dict[str, Any]]:
        return list(self.db["role_grants"].find({}, {"_id": 0}).sort("email", 1))

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
            "createdAt": now_utc(),
        }
        self.keys.insert_one(doc)
        return doc

    def list_keys(self, user_id: str | None) -> list[dict[str, Any]]:
        """One person's active keys, or everyone's (None)."""
        query: dict[str, Any] = {"revokedAt": {"$exists": False}}
        if user_id is not None:
            query["userId"] = user_id
        return list(self.keys.find(query, {"hash": 0}).sort("createdAt", DESCENDING))

    def find_active_key(self, key_hash: str) -> dict[str, Any] | None:
        return self.keys.find_one({"hash": key_hash, "revokedAt": {"$exists": False}})

    def revoke_key(self, user_id: str | None, key_id: str) -> bool:
        """Revoke one of a person's keys, or anyone's (None)."""
        query: dict[str, Any] = {"_id": key_id, "revokedAt": {"$exists": False}}
        if user_id is not None:
            query["userId"] = user_id
        result = self.keys.update_one(
            query,
            {"$set": {"revokedAt": now_utc()}},
        )
        return result.matched_count == 1

    def touch_keys(self, key_ids: list[str], when: datetime) -> None:
        if key_ids:
            # Epoch milliseconds: the embedded DB stores a datetime $set on an existing
            # document as naive text.
            used_ms = int(when.timestamp() * 1000)
            self.keys.update_many({"_id": {"$in": key_ids}}, {"$set": {"lastUsedMs": used_ms}})

    # audit log: insert and read only, by design (no update, no delete)
    def append_audit(self, entry: dict[str, Any]) -> None:
        self.db["audit"].insert_one({"_id": "aud_" + uuid.uuid4().hex[:24], **entry})

    def find_audit(self, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Newest first. Times are filtered on ``atMs`` (epoch milliseconds), which
        compares the same on MongoDB and the embedded database."""
        cursor = self.db["audit"].find(filters).sort([("atMs", DESCENDING), ("_id", DESCENDING)])
        return list(cursor.limit(limit))
