"""HTTP routes of the vendor_sim service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
