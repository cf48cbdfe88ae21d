"""The FastAPI application. The request scope borrows a pooled connection through the repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from psycopg_pool import AsyncConnectionPool

from agent.drafting import TemplateDrafter
from agent.pipeline import PipelineDeps
from api.auth import token_checker
from api.feedback import create_feedback_router
from api.messages import messages_router
from api.metrics import metrics_router
from api.prompts import create_prompts_router, preview_target
from api.schemas import Health
from api.webhooks import GmailHook, GraphHook, create_webhook_router
from connectors.mail.base import PushEvent
from connectors.mail.jwt_verify import GoogleOidcVerifier
from connectors.mail.oauth import resolve_secret
from shipdraft.settings import Settings
from store.db import open_pool
from store.llm_budget import TokenBudgetRepository
from store.mail_sync import MailSyncRepository
from store.messages import MessageRepository
from store.migrate import migrate
from store.threads import PastThreadRepository


class _AppRecorder:
    """Records webhook notifications through the app's pool (opened in the lifespan)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def record_notification(self, *, mailbox: str, source: str, key: str, event: PushEvent) -> bool:
        repo = MailSyncRepository(pool=self._app.state.pool)
        return await repo.record_notification(mailbox=mailbox, source=source, key=key, event=event)


def webhook_router(*, app: FastAPI, settings: Settings) -> APIRouter:
    """Graph and Gmail push endpoints for the configured mailbox; they only record, the runner acts."""
    from shipdraft.wiring import mailbox_config

    config = mailbox_config(settings=settings)
    kind = config.provider["type"]
    graph, gmail = {}, {}
    if kind == "graph":
        graph[config.name] = GraphHook(client_state=resolve_secret(config.provider.get("client_state"),
                                                                   setting="provider.client_state"))
    elif kind == "gmail":
        gmail[config.name] = GmailHook(audience=config.provider["push_audience"],
                                       service_account_email=config.provider["push_service_account"],
                                       mailbox_address=config.address)
    return create_webhook_router(recorder=_AppRecorder(app), graph=graph, gmail=gmail,
                                 verifier=GoogleOidcVerifier() if gmail else None)


def create_app(*, settings: Settings, pool: AsyncConnectionPool | None = None) -> FastAPI:
    """The API app; pass ``pool`` to share an open pool (tests), else one is opened at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is not None:
            app.state.messages = MessageRepository(pool=pool)
            app.state.pool = pool
            yield
            return
        from shipdraft.wiring import build_connectors, build_systems, mailbox_config, resolve_database

        database = resolve_database(settings=settings)
        migrate(url=database.url)
        own = await open_pool(url=database.url, max_size=settings.db_pool_size)
        app.state.pool, app.state.messages, app.state.database = own, MessageRepository(pool=own), database
        # previews run the mailbox's real stages (lookups included) without posting anything
        config = mailbox_config(settings=settings)
        connectors = build_connectors(config=config, database_url=database.url)
        deps = PipelineDeps(profile=config.profile(), systems=build_systems(config=config, connectors=connectors),
                            drafter=TemplateDrafter(), index=PastThreadRepository(pool=own),
                            lookup_timeout=settings.lookup_timeout, max_message_bytes=settings.max_message_bytes)
        app.state.preview_targets = {config.name: preview_target(config=config, deps=deps,
                                                                 budget=TokenBudgetRepository(pool=own))}
        try:
            yield
        finally:
            for connector in connectors.values():
                await connector.aclose()
            await own.close()

    app = FastAPI(title="shipdraft", version="0.1.0", lifespan=lifespan,
                  description="Grounded draft replies for logistics shared mailboxes.")

    @app.get("/health", response_model=Health)
    async def health(request: Request) -> Health:
        try:
            async with request.app.state.pool.connection() as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:
            raise HTTPException(status_code=503, detail=f"database unavailable: {type(exc).__name__}") from exc
        return Health(status="ok", database="ok")

    app.include_router(webhook_router(app=app, settings=settings))
    protected = [Depends(token_checker(settings=settings))]
    app.include_router(messages_router(), dependencies=protected)
    app.include_router(metrics_router(), dependencies=protected)
    app.include_router(create_prompts_router(), dependencies=protected)
    app.include_router(create_feedback_router(), dependencies=protected)
    return app
