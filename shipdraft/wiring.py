"""Wiring: settings + mailbox YAML -> database, repositories, provider, connectors, pipeline deps.

``open_runtime`` is the one place that constructs concrete classes; the
runner, the API, the Celery worker and the benchmark all go through it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from celery import Celery
from psycopg_pool import AsyncConnectionPool

from agent.drafting import Drafter, TemplateDrafter
from agent.embeddings import Embedder, EmbedderKind, EmbeddingConfigError, build_embedder
from agent.llm import LangChainChatModel
from agent.llm_drafter import LLMDrafter, load_prompt
from agent.lookup import BusinessSystems
from agent.pipeline import PipelineDeps
from connectors.base import registered_connectors
from connectors.mail.base import ENTRY_POINT_GROUP as MAIL_ENTRY_POINTS
from connectors.mail.base import MailProvider, SyncState
from shipdraft.config import ConfigError, MailboxConfig, demo_config_path, load_mailbox_config
from shipdraft.embedded import start_embedded
from shipdraft.processes import DraftingProcesses
from shipdraft.settings import Executor, Settings
from store.db import open_pool
from store.drafts import DraftRepository
from store.llm_budget import TokenBudgetRepository
from store.mail_sync import MailSyncRepository
from store.mailboxes import MailboxRepository
from store.messages import MessageRepository
from store.migrate import migrate
from store.prompts import StoredPromptSelector
from store.threads import PastThreadRepository
from worker.app import create_celery

log = logging.getLogger(__name__)


@dataclass
class Database:
    url: str
    embedded: Any | None  # the pgserver handle, kept alive while the database is used


def resolve_database(*, settings: Settings) -> Database:
    """The configured PostgreSQL, or the embedded one when none is configured."""
    if settings.database_url is not None:
        return Database(url=settings.database_url.get_secret_value(), embedded=None)
    url, handle = start_embedded(data_dir=settings.data_dir)
    return Database(url=url, embedded=handle)


def mailbox_config(*, settings: Settings) -> MailboxConfig:
    return load_mailbox_config(path=settings.mailbox_config or demo_config_path())


def is_demo(*, settings: Settings) -> bool:
    return settings.mailbox_config is None


@dataclass
class Runtime:
    settings: Settings
    database: Database
    pool: AsyncConnectionPool
    config: MailboxConfig
    messages: MessageRepository
    drafts: DraftRepository
    threads: PastThreadRepository
    provider: MailProvider
    deps: PipelineDeps
    connectors: dict[str, Any]
    celery: Celery | None = None
    helpers: DraftingProcesses | None = None  # settings.processes > 1 with the inline executor


def build_provider(*, config: MailboxConfig, settings: Settings, state: SyncState | None = None) -> MailProvider:
    """The mailbox provider registered under ``shipdraft.mailboxes`` for ``provider.type``."""
    kind = config.provider["type"]
    providers = {ep.name: ep for ep in entry_points(group=MAIL_ENTRY_POINTS)}
    if kind not in providers:
        raise ConfigError(f"mailbox {config.name}: provider.type {kind!r} is not registered "
                          f"(known: {', '.join(sorted(providers))})")
    factory = providers[kind].load()
    return factory.from_config(name=config.name, config=config.provider, address=config.address,
                               display_name=config.display_name, base_dir=settings.data_dir, state=state)


def build_connectors(*, config: MailboxConfig, database_url: str) -> dict[str, Any]:
    factories = registered_connectors()
    built: dict[str, Any] = {}
    for name, cfg in config.connectors.items():
        factory = factories.get(cfg["type"])
        if factory is None:
            raise ConfigError(f"connectors.{name}.type {cfg['type']!r} is not registered "
                              f"(known: {', '.join(sorted(factories))})")
        built[name] = factory(name=name, config=cfg, context={"database_url": database_url})
    return built


def build_systems(*, config: MailboxConfig, connectors: dict[str, Any]) -> BusinessSystems:
    def pick(kind: str) -> Any:
        name = config.systems.get(kind)
        return connectors[name] if name else None

    return BusinessSystems(directory=pick("directory"), orders=pick("erp"), tracker=pick("tms"),
                           warehouse=pick("wms"),
                           names={k: getattr(connectors[v], "system", v) for k, v in config.systems.items()})


def build_drafter(*, config: MailboxConfig, pool: AsyncConnectionPool) -> Drafter:
    """The mailbox's drafter: the template drafter, or the LLM drafter with the template one as fallback."""
    template = TemplateDrafter()
    if config.drafter == "template" or config.llm is None:
        return template
    default = load_prompt(name=config.prompt)
    return LLMDrafter(model=LangChainChatModel(settings=config.llm), settings=config.llm, fallback=template,
                      prompt=default, mailbox=config.name, budget=TokenBudgetRepository(pool=pool),
                      selector=StoredPromptSelector(pool=pool, default=default))


def build_embedder_for(*, config: MailboxConfig, settings: Settings,
                       environ: Mapping[str, str] | None = None) -> Embedder | None:
    """The mailbox's embedder (``retrieval.embedder``, or the process override ``SHIPDRAFT_EMBEDDER``).

    The local model is the offline default: where its packages are not installed,
    similar threads are found by full-text search alone and a warning says so.
    A hosted embedder that is configured but cannot be built is a configuration error.
    """
    wanted = config.retrieval.embedder
    if settings.embedder is not None:
        wanted = wanted.model_copy(update={"kind": settings.embedder})
    try:
        return build_embedder(config=wanted, environ=os.environ if environ is None else environ,
                              cache_dir=settings.data_dir / "models")
    except EmbeddingConfigError as exc:
        if wanted.kind != EmbedderKind.LOCAL:
            raise ConfigError(f"mailbox {config.name}: retrieval.embedder: {exc}") from exc
        log.warning("local embeddings unavailable; similar threads use full-text search only",
                    extra={"mailbox": config.name, "reason": str(exc)})
        return None


def build_threads(*, config: MailboxConfig, settings: Settings, pool: AsyncConnectionPool) -> PastThreadRepository:
    """The similar-thread index of the mailbox, with its embedder, search settings and redaction policy."""
    return PastThreadRepository(pool=pool, embedder=build_embedder_for(config=config, settings=settings),
                                search=config.retrieval.search, redaction=config.retrieval.redaction,
                                rules=config.references)


@asynccontextmanager
async def open_runtime(*, settings: Settings, database: Database | None = None) -> AsyncIterator[Runtime]:
    """Everything a process needs, opened in order and closed in reverse."""
    config = mailbox_config(settings=settings)
    db = database or resolve_database(settings=settings)
    migrate(url=db.url)
    pool = await open_pool(url=db.url, max_size=settings.db_pool_size)
    connectors: dict[str, Any] = {}
    provider: MailProvider | None = None
    threads: PastThreadRepository | None = None
    helpers: DraftingProcesses | None = None
    try:
        await MailboxRepository(pool=pool).upsert(name=config.name, address=config.address,
                                                  provider=config.provider["type"],
                                                  config=config.model_dump(mode="json"))
        connectors = build_connectors(config=config, database_url=db.url)
        provider = build_provider(config=config, settings=settings,
                                  state=MailSyncRepository(pool=pool).state(mailbox=config.name))
        threads = build_threads(config=config, settings=settings, pool=pool)
        if settings.processes > 1 and settings.executor == Executor.INLINE:
            helpers = DraftingProcesses(settings=settings, database_url=db.url, processes=settings.processes)
        deps = PipelineDeps(
            profile=config.profile(), systems=build_systems(config=config, connectors=connectors),
            drafter=build_drafter(config=config, pool=pool), index=threads,
            similar_limit=config.retrieval.search.limit, lookup_timeout=settings.lookup_timeout,
            max_message_bytes=settings.max_message_bytes, lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
        yield Runtime(settings=settings, database=db, pool=pool, config=config,
                      messages=MessageRepository(pool=pool), drafts=DraftRepository(pool=pool), threads=threads,
                      provider=provider, deps=deps, connectors=connectors,
                      celery=create_celery(settings=settings) if settings.executor == Executor.CELERY else None,
                      helpers=helpers)
    finally:
        if helpers is not None:
            await asyncio.to_thread(helpers.close)
        for c in connectors.values():
            await c.aclose()
        if provider is not None:
            await provider.aclose()
        if threads is not None and threads.embedder is not None:
            await threads.embedder.aclose()
        await pool.close()
