"""HTTP routes of the campaign service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
