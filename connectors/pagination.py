"""Pagination strategies: how to ask for the next page of a list endpoint.

A strategy turns the first request into a ``Page`` (a URL and query
parameters) and, given the answer to a page, says what the next page is or
that there is none. ``HttpSystem.paginate`` drives it. The strategies cover
what the systems we connect to use:

- ``SinglePage``: no pagination.
- ``PageNumber``: ``?page=1&pageSize=100``; stops on a short page.
- ``Offset``: ``?offset=0&limit=100`` (also OData ``$skip``/``$top``, Frappe
  ``limit_start``/``limit_page_length``); stops on a short page.
- ``Cursor``: a token in the body (``nextPageToken``) sent back as a parameter.
- ``NextLink``: a URL in the body (OData ``@odata.nextLink``, ``d.__next``,
  ``links.next``), absolute or relative.
- ``LinkHeader``: the RFC 8288 ``Link: <...>; rel="next"`` header.

Body paths are JMESPath expressions (keys with dots or ``@`` are quoted:
``"@odata.nextLink"``). ``pagination_from_config`` builds one from YAML
(``paginate: {type: offset, offset_param: $skip, limit_param: $top, limit: 50}``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin

import httpx
import jmespath
from jmespath.exceptions import JMESPathError

from connectors.base import ConfigurationError


@dataclass(frozen=True, slots=True)
class Page:
    """One page request: a URL (absolute or relative to the base URL) and its query parameters."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)


class Pagination(Protocol):
    def first(self, *, url: str, params: Mapping[str, Any]) -> Page: ...

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None: ...


class SinglePage:
    def first(self, *, url: str, params: Mapping[str, Any]) -> Page:
        return Page(url=url, params=dict(params))

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None:
        return None


@dataclass(frozen=True, slots=True)
class PageNumber:
    param: str = "page"
    size_param: str | None = "pageSize"
    size: int = 100
    start: int = 1

    def first(self, *, url: str, params: Mapping[str, Any]) -> Page:
        extra = {self.size_param: self.size} if self.size_param else {}
        return Page(url=url, params={**params, **extra, self.param: self.start})

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None:
        if item_count == 0 or item_count < self.size:
            return None
        return Page(url=page.url, params={**page.params, self.param: int(page.params[self.param]) + 1})


@dataclass(frozen=True, slots=True)
class Offset:
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = 100

    def first(self, *, url: str, params: Mapping[str, Any]) -> Page:
        return Page(url=url, params={**params, self.offset_param: 0, self.limit_param: self.limit})

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None:
        if item_count == 0 or item_count < self.limit:
            return None
        return Page(url=page.url, params={**page.params,
                                          self.offset_param: int(page.params[self.offset_param]) + item_count})


class Cursor:
    """A continuation token found at ``cursor_path`` in the body, sent back as ``cursor_param``."""

    def __init__(self, *, cursor_path: str, cursor_param: str) -> None:
        self.cursor_path, self.cursor_param = cursor_path, cursor_param
        self._expr = compile_path(cursor_path, setting="paginate.cursor_path")

    def first(self, *, url: str, params: Mapping[str, Any]) -> Page:
        return Page(url=url, params=dict(params))

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None:
        token = self._expr.search(body)
        if token in (None, "") or token == page.params.get(self.cursor_param):
            return None
        return Page(url=page.url, params={**page.params, self.cursor_param: token})


class NextLink:
    """The URL of the next page at ``link_path`` in the body; it carries its own query parameters."""

    def __init__(self, *, link_path: str) -> None:
        self.link_path = link_path
        self._expr = compile_path(link_path, setting="paginate.link_path")

    def first(self, *, url: str, params: Mapping[str, Any]) -> Page:
        return Page(url=url, params=dict(params))

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None:
        link = self._expr.search(body)
        if not isinstance(link, str) or not link:
            return None
        return Page(url=urljoin(str(response.request.url), link))


class LinkHeader:
    """RFC 8288 ``Link`` header with ``rel="next"`` (GitHub-style APIs, many WMS)."""

    def first(self, *, url: str, params: Mapping[str, Any]) -> Page:
        return Page(url=url, params=dict(params))

    def next(self, *, page: Page, body: Any, response: httpx.Response, item_count: int) -> Page | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        return Page(url=urljoin(str(response.request.url), link))


class KeyPath:
    """A plain dotted path (``customer.id``) read with dict lookups: the JMESPath result, ~10x cheaper."""

    def __init__(self, path: str) -> None:
        self.expression = path
        self._keys = tuple(path.split("."))

    def search(self, value: Any) -> Any:
        for key in self._keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def compile_path(path: str, *, setting: str) -> KeyPath | jmespath.parser.ParsedResult:
    """A compiled JMESPath expression (``.search(data)``); a wrong one is a configuration error."""
    if _PLAIN.match(path):
        return KeyPath(path)
    try:
        return jmespath.compile(path)
    except JMESPathError as exc:
        raise ConfigurationError(f"{setting}: {path!r} is not a valid JMESPath expression: {exc}",
                                 setting=setting) from exc


def pagination_from_config(config: Mapping[str, Any] | None, *, setting: str) -> Pagination:
    """The strategy a ``paginate:`` mapping describes; none means a single page."""
    if not config:
        return SinglePage()
    options = dict(config)
    kind = options.pop("type", None)
    try:
        if kind == "page_number":
            return PageNumber(**options)
        if kind == "offset":
            return Offset(**options)
        if kind == "cursor":
            return Cursor(**options)
        if kind == "next_link":
            return NextLink(**options)
        if kind == "link_header" and not options:
            return LinkHeader()
        if kind == "none" and not options:
            return SinglePage()
    except TypeError as exc:
        raise ConfigurationError(f"{setting}: {exc}", setting=setting) from exc
    raise ConfigurationError(f"{setting}: type must be one of page_number, offset, cursor, next_link, link_header, "
                             f"none (got {kind!r} with options {sorted(options)})", setting=setting)
