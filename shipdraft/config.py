"""Mailbox configuration from YAML: provider, business systems, reference rules, style.

Secrets never appear in the YAML: connectors name the environment variable
that holds each credential (``env:VARIABLE``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.llm import LLMSettings
from agent.profile import AuthorizationPolicy, MailboxProfile, ReferenceRules, StyleGuide
from agent.retrieval import RetrievalConfig


class ConfigError(Exception):
    """The mailbox YAML is missing, malformed or inconsistent."""


class MailboxConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    address: str
    display_name: str = ""
    provider: dict[str, Any]
    references: ReferenceRules = Field(default_factory=ReferenceRules)
    authorization: AuthorizationPolicy = AuthorizationPolicy.STRICT
    style: StyleGuide = Field(default_factory=StyleGuide)
    drafter: Literal["template", "llm"] = "template"
    llm: LLMSettings | None = None
    prompt: str = Field(default="draft-v1", description="prompt version in prompts/llm/ for the LLM drafter")
    systems: dict[str, str] = Field(default_factory=dict, description="kind -> connector name")
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    replace_untouched_drafts: bool = Field(
        default=True, description="a new customer message replaces the thread's older draft if nobody edited it")
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig,
                                       description="similar past threads: embedder, search weights, redaction")

    @model_validator(mode="after")
    def _consistent(self) -> MailboxConfig:
        if "type" not in self.provider:
            raise ValueError("provider.type is required (maildir, ...)")
        if self.drafter == "llm" and self.llm is None:
            raise ValueError("drafter: llm needs an llm: block (provider, model, api_key_env, ...)")
        if "directory" not in self.systems:
            raise ValueError("systems.directory is required: authorization needs to know who the sender is")
        unknown_kinds = set(self.systems) - {"directory", "erp", "tms", "wms"}
        if unknown_kinds:
            raise ValueError(f"systems: unknown kinds {sorted(unknown_kinds)} (directory, erp, tms, wms)")
        missing = {c for c in self.systems.values() if c not in self.connectors}
        if missing:
            raise ValueError(f"systems name connectors that are not configured: {sorted(missing)}")
        for cname, cfg in self.connectors.items():
            if "type" not in cfg:
                raise ValueError(f"connectors.{cname}.type is required")
        return self

    def profile(self) -> MailboxProfile:
        return MailboxProfile(name=self.name, address=self.address, references=self.references,
                              authorization=self.authorization, style=self.style,
                              replace_untouched_drafts=self.replace_untouched_drafts)


def demo_config_path() -> Path:
    return Path(str(files("shipdraft").joinpath("demo", "mailbox.yaml")))


def load_mailbox_config(*, path: Path) -> MailboxConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read mailbox config {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return MailboxConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
