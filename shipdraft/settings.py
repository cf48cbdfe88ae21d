"""Process settings: one pydantic-settings class, environment prefix ``SHIPDRAFT_``.

Per-mailbox configuration (connectors, rules, style) lives in the mailbox
YAML named by ``mailbox_config``; this class holds only process-wide knobs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.acceptance import AcceptanceThresholds
from agent.embeddings import EmbedderKind


class Executor(StrEnum):
    INLINE = "inline"
    CELERY = "celery"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIPDRAFT_", env_file=None, extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL with pgvector; unset means the embedded PostgreSQL (pgserver)."
    )
    data_dir: Path = Field(default=Path("var"), description="Embedded database, demo Maildir and other state.")
    mailbox_config: Path | None = Field(default=None, description="Mailbox YAML; unset means the demo mailbox.")
    executor: Executor = Field(default=Executor.INLINE, description="inline (embedded) or celery (workers).")
    broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    result_backend: SecretStr | None = SecretStr("redis://127.0.0.1:6379/1")
    concurrency: int = Field(default=32, ge=1, description="Messages processed at once by one runner process.")
    processes: int = Field(default=1, ge=1, le=64, description="Processes that draft at once in the inline "
                           "executor, the runner included (one core each; shipdraft/processes.py).")
    db_pool_size: int = Field(default=10, ge=1)
    poll_interval: float = Field(default=2.0, gt=0, description="Seconds between mailbox polls.")
    lookup_timeout: float = Field(default=10.0, gt=0, description="Deadline (s) of one email's whole lookup.")
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_attempts: int = Field(default=5, ge=1)
    lease_seconds: int = Field(default=300, ge=10)
    discard_grace_seconds: float = Field(default=3600.0, ge=0)
    draft_expiry_days: float = Field(default=14.0, gt=0, description="an open draft this old counts as expired")
    acceptance: AcceptanceThresholds = Field(
        default_factory=AcceptanceThresholds,
        description='similarity thresholds of the acceptance outcomes, as JSON: SHIPDRAFT_ACCEPTANCE='
                    '\'{"as_is": 0.97, "light_edit": 0.8, "edited": 0.5, "rewritten": 0.2, "suggestion": 85}\'')
    embedder: EmbedderKind | None = Field(
        default=None, description="overrides the mailbox's retrieval.embedder.kind in this process "
                                  "(local, openai, deterministic, none)")
    log_level: str = "WARNING"
    api_token: SecretStr | None = Field(default=None, description="bearer token for the API; unset = loopback only")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
