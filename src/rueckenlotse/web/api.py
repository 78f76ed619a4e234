"""REST API v1 (mounted under /api/v1 by ``create_app``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
