"""Odoo's external API, one small client for both wire formats: JSON-2 (Odoo 19+) and XML-RPC.

Used by every Odoo adapter (``connectors.erp.odoo`` for ``sale.order``, the WMS adapter for
``stock.picking``). Build one per configured system, on top of that system's ``HttpSystem``::

    rpc = OdooRpc(system=self, protocol="json2")                       # auth: {type: odoo, key, database}
    rpc = OdooRpc(system=self, protocol="xmlrpc", database="prod", login="api@example.com",
                  key=secret_from_env("env:ODOO_API_KEY", setting="connectors.odoo.api_key"))
    rows = await rpc.search_read(model="sale.order", domain=[["name", "=", "S00042"]],
                                 fields=["name", "state"], limit=20)

- JSON-2: ``POST /json/2/<model>/search_read`` with named arguments ``{"domain", "fields", "limit",
  "order"}``; ``Authorization: bearer <api key>`` and ``X-Odoo-Database`` come from the system's
  ``OdooApiKey`` auth. The answer is the list of records. Errors are HTTP statuses with
  ``{"name": "odoo.exceptions.AccessError", "message": ..., "arguments", "context", "debug"}``, mapped
  by ``HttpSystem`` (401/403 -> ``ConfigurationError``). Goes through the system's cache, breaker,
  retries and concurrency limit.
- XML-RPC (deprecated from Odoo 19, removal planned for 22): ``/xmlrpc/2/common`` ``authenticate(db,
  login, key, {})`` once (the uid is kept by this client), then ``/xmlrpc/2/object``
  ``execute_kw(db, uid, key, model, "search_read", [domain], {"fields", "limit", "order"})``.
  Payloads are built and parsed with the standard library (``xmlrpc.client.dumps``/``loads``) and sent
  on the system's own client (``HttpSystem.send``: its transport, concurrency limit and timeout), so
  tests mock them with respx. A ``<fault>`` about access or credentials becomes a
  ``ConfigurationError``, any other fault a ``SystemError_``; ``authenticate`` answering ``false`` is a
  ``ConfigurationError`` naming the login and key settings. Calls share the system's breaker and
  timeout and retry transient failures like ``HttpSystem`` does (``Retry-After`` honoured up to
  ``max_retry_after``, longer fails at once).

Values keep Odoo's conventions: many2one fields are ``[id, "name"]``, empty fields are ``false``,
datetimes are naive UTC strings ``"YYYY-MM-DD HH:MM:SS"``.
"""

from __future__ import annotations

import asyncio
import xmlrpc.client
from collections.abc import Sequence
from typing import Any, Literal
from xml.parsers.expat import ExpatError

from pydantic import SecretStr

from connectors.base import ConfigurationError, ConnectorError, RetryableError, SystemError_
from connectors.http import HttpSystem, error_for_response

Protocol = Literal["json2", "xmlrpc"]
_XML_HEADERS = {"Content-Type": "text/xml", "Accept": "text/xml"}
_ACCESS_FAULTS = ("AccessDenied", "Access Denied", "AccessError", "access denied", "Invalid apikey")


def xmlrpc_request(method: str, params: tuple[Any, ...]) -> bytes:
    """An XML-RPC ``<methodCall>`` body."""
    return xmlrpc.client.dumps(params, methodname=method, allow_none=False, encoding="utf-8").encode("utf-8")


def xmlrpc_result(content: bytes, *, system: str, name: str, setting: str) -> Any:
    """The value of an XML-RPC ``<methodResponse>``; a ``<fault>`` becomes a connector error."""
    try:
        (value,), _ = xmlrpc.client.loads(content, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        text = str(fault.faultString)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        summary = (lines[-1] if lines else str(fault.faultCode))[:200]  # a traceback ends with the error
        if any(marker in text for marker in _ACCESS_FAULTS):
            raise ConfigurationError(f"{system}: Odoo refused access ({summary[:160]}); check {setting}",
                                     system=name, setting=setting) from None
        raise SystemError_(f"{system}: Odoo fault: {summary}", system=name) from None
    except (ValueError, ExpatError, xmlrpc.client.ResponseError) as exc:  # ExpatError is no ValueError
        raise SystemError_(f"{system}: answer is not XML-RPC", system=name) from exc
    return value


class OdooRpc:
    """``search_read`` over JSON-2 or XML-RPC for one configured Odoo system."""

    def __init__(self, *, system: HttpSystem, protocol: Protocol = "json2", database: str | None = None,
                 login: str | None = None, key: SecretStr | None = None, setting: str = "") -> None:
        self.system, self.protocol = system, protocol
        self.database, self.login, self._key = database, login, key
        self.setting = setting or f"connectors.{system.name}"
        if protocol == "xmlrpc" and not (database and login and key):
            raise ConfigurationError(f"{self.setting}: XML-RPC needs database, login and api_key",
                                     system=system.name, setting=f"{self.setting}.login")
        self._uid: int | None = None
        self._uid_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<OdooRpc {self.system.name} {self.protocol}>"

    async def search_read(self, *, model: str, domain: Sequence[Any], fields: Sequence[str], limit: int = 80,
                          order: str | None = None) -> list[dict[str, Any]]:
        """Records of ``model`` matching ``domain``, with ``fields``."""
        options: dict[str, Any] = {"fields": list(fields), "limit": limit}
        if order:
            options["order"] = order
        if self.protocol == "json2":
            rows = await self.system.post_json(f"/json/2/{model}/search_read",
                                               json={"domain": list(domain), **options}, cache=True)
        else:
            uid = await self._authenticate()
            assert self._key is not None
            rows = await self._xmlrpc("/xmlrpc/2/object", "execute_kw", (
                self.database, uid, self._key.get_secret_value(), model, "search_read", [list(domain)], options))
        if not isinstance(rows, list):
            raise SystemError_(f"{self.system.system}: {model}.search_read did not answer a list",
                               system=self.system.name)
        return [r for r in rows if isinstance(r, dict)]

    async def aclose(self) -> None:
        """Nothing of its own to close: calls go through the system's client (closed by the system)."""

    # ------------------------------------------------------------------ XML-RPC

    async def _authenticate(self) -> int:
        async with self._uid_lock:
            if self._uid is None:
                assert self._key is not None
                uid = await self._xmlrpc("/xmlrpc/2/common", "authenticate",
                                         (self.database, self.login, self._key.get_secret_value(), {}))
                if not isinstance(uid, int) or isinstance(uid, bool):
                    raise ConfigurationError(
                        f"{self.system.system}: Odoo refused the login; check {self.setting}.login and "
                        f"{self.setting}.api_key", system=self.system.name, setting=f"{self.setting}.api_key")
                self._uid = uid
            return self._uid

    async def _xmlrpc(self, path: str, method: str, params: tuple[Any, ...]) -> Any:
        body = xmlrpc_request(method, params)
        system, breaker = self.system, self.system.breaker
        breaker.before_call()
        attempt = 0
        while True:
            try:
                value = await self._xml_attempt(path, body)
            except RetryableError as error:
                attempt += 1
                if attempt > system.options.retries or not system.should_retry(error):
                    breaker.record_failure(error)
                    raise
                await system._sleep(system.retry_wait(error, attempt=attempt))
                continue
            except ConnectorError as error:
                breaker.record_failure(error)
                raise
            except BaseException:
                breaker.record_abandoned()
                raise
            breaker.record_success()
            return value

    async def _xml_attempt(self, path: str, body: bytes) -> Any:
        system = self.system
        response = await system.send("POST", path, content=body, headers=_XML_HEADERS)
        if not response.is_success:
            raise error_for_response(response, system=system.system, name=system.name,
                                     auth_setting=f"{self.setting}.api_key")
        return xmlrpc_result(response.content, system=system.system, name=system.name,
                             setting=f"{self.setting}.login, {self.setting}.api_key")
