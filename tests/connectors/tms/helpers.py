"""Shared bits of the TMS adapter tests: fixture files (copies of documented vendor answers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    """A JSON fixture, ``"dhl/express_transit.json"``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


async def no_sleep(seconds: float) -> None:
    return None
