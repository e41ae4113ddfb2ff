"""HTTP routes of the ai service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
