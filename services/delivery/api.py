"""HTTP routes of the delivery service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
