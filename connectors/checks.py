"""The logic behind ``shipdraft connectors list`` and ``shipdraft connectors check``.

``check_connectors`` validates a mailbox's connector configuration and calls
each configured system once, concurrently, returning one ``CheckResult`` per
system (``result.line()`` is the line to print). A connector with a
``check()`` method (``HealthCheck``) runs its own self-test (the SQL connector
runs every named query once); any other is probed with one harmless lookup of
a reference that cannot exist, for the first kind it serves: "not found"
proves the URL, the credentials and the mapping of errors work. Messages come
from the connector error tree and never hold secrets.

``registry_lines`` lists every registered connector type with its kinds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from connectors.base import (
    ConfigurationError,
    ConnectorError,
    ConnectorFactory,
    HealthCheck,
    Kind,
    RegisteredConnector,
    connector_registry,
)

PROBE_REFERENCE = "SHIPDRAFT-CHECK-0"
PROBE_ADDRESS = "shipdraft-check@invalid.example"


class CheckResult(BaseModel):
    """The outcome of checking one configured system."""

    model_config = ConfigDict(frozen=True)

    connector: str
    type: str
    kinds: tuple[str, ...] = ()
    ok: bool
    category: str = ""
    message: str
    elapsed_ms: float = 0.0

    def line(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        used = ", ".join(self.kinds) or "not used by systems"
        where = f" ({self.category})" if self.category and not self.ok else ""
        return f"{status} {self.connector} [{self.type}: {used}] {self.message}{where} - {self.elapsed_ms:.0f} ms"


async def check_connectors(
    *,
    connectors: Mapping[str, Mapping[str, Any]],
    systems: Mapping[str, str],
    context: Mapping[str, Any],
    registry: Mapping[str, ConnectorFactory] | None = None,
    timeout: float = 10.0,
) -> list[CheckResult]:
    """Build and call every configured connector once; one result per connector, in YAML order."""
    factories = dict(registry) if registry is not None else {
        r.type: r.factory for r in connector_registry() if r.factory is not None}
    used_as: dict[str, list[str]] = {}
    for kind, cname in systems.items():
        used_as.setdefault(cname, []).append(kind)
    results = [_missing_connector(kind, cname) for kind, cname in systems.items() if cname not in connectors]
    checked = await asyncio.gather(*(
        _check_one(name=name, config=cfg, kinds=tuple(used_as.get(name, ())), factories=factories,
                   context=context, timeout=timeout) for name, cfg in connectors.items()))
    return [*results, *checked]


async def _check_one(*, name: str, config: Mapping[str, Any], kinds: tuple[str, ...],
                     factories: Mapping[str, ConnectorFactory], context: Mapping[str, Any],
                     timeout: float) -> CheckResult:
    ctype = str(config.get("type", "?"))
    started = time.perf_counter()

    def result(ok: bool, message: str, category: str = "") -> CheckResult:
        return CheckResult(connector=name, type=ctype, kinds=kinds, ok=ok, category=category, message=message,
                           elapsed_ms=(time.perf_counter() - started) * 1000)

    factory = factories.get(ctype)
    if factory is None:
        return result(False, f"type {ctype!r} is not registered (known: {', '.join(sorted(factories))})",
                      "configuration")
    try:
        connector = factory(name=name, config=config, context=context)
    except ConnectorError as exc:
        return result(False, str(exc), exc.category.value)
    try:
        not_served = [k for k in kinds if not _serves(connector, k)]
        if not_served:
            return result(False, f"systems use it as {', '.join(not_served)}, which its configuration does not "
                                 "serve", "configuration")
        try:
            async with asyncio.timeout(timeout):
                message = await _call_once(connector, kinds)
        except TimeoutError:
            return result(False, f"no answer within {timeout:g} s", "timeout")
        except ConnectorError as exc:
            return result(False, str(exc), exc.category.value)
        return result(True, message)
    finally:
        await connector.aclose()


async def _call_once(connector: Any, kinds: tuple[str, ...]) -> str:
    if isinstance(connector, HealthCheck):
        return await connector.check()
    served = [k for k in (*kinds, *Kind) if _serves(connector, k)]
    if not served:
        raise ConfigurationError(f"connectors.{connector.name}: serves no kind", setting=f"connectors.{connector.name}")
    kind = Kind(served[0])
    if kind == Kind.DIRECTORY:
        await connector.customers_for_sender(address=PROBE_ADDRESS)
    elif kind == Kind.ERP:
        await connector.get_order(order_no=PROBE_REFERENCE)
    elif kind == Kind.TMS:
        await connector.shipments_for_order(order_no=PROBE_REFERENCE)
    else:
        await connector.fulfillment(order_no=PROBE_REFERENCE)
    return f"answered a {kind.value} lookup"


def _serves(connector: Any, kind: str) -> bool:
    serves = getattr(connector, "serves", None)
    return bool(serves(kind)) if callable(serves) else kind in getattr(connector, "kinds", ())


def _missing_connector(kind: str, cname: str) -> CheckResult:
    return CheckResult(connector=cname, type="?", kinds=(kind,), ok=False, category="configuration",
                       message=f"systems.{kind} names connector {cname!r}, which is not configured")


def registry_lines(entries: list[RegisteredConnector] | None = None) -> list[str]:
    """One line per registered connector type: type, kinds, where it comes from (or why it fails to load)."""
    found = connector_registry() if entries is None else entries
    width = max((len(e.type) for e in found), default=4)
    lines = []
    for e in found:
        if e.error:
            lines.append(f"{e.type:<{width}}  BROKEN: {e.error} ({e.target})")
        else:
            origin = f"{e.target}, {e.distribution}" if e.distribution else e.target
            lines.append(f"{e.type:<{width}}  {', '.join(e.kinds) or '-':<26}  {origin}")
    return lines
