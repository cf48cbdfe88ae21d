"""Shared bits of the ERP adapter tests: fixture files (copies of documented vendor answers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    """A JSON fixture, ``"sap/sales_order_4711.json"``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_text(name: str) -> str:
    """A raw fixture (XML-RPC bodies)."""
    return (FIXTURES / name).read_text(encoding="utf-8")


async def no_sleep(seconds: float) -> None:
    return None
