"""Chat models for the LLM drafter: provider settings, the LangChain adapter, a scripted model.

The provider (who: OpenAI, Azure OpenAI, or any OpenAI-compatible base URL
such as vLLM, Ollama or a llama.cpp server; auth and endpoint) is separate
from the wire format (structured output as a pydantic model). The drafter
talks to the small ``ChatModel`` protocol, so tests swap in a
``ScriptedChatModel`` and no test can reach a real LLM.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agent.errors import AgentError


class LLMError(AgentError):
    """The model could not give a usable answer; ``reason`` is short and safe to log."""

    def __init__(self, reason: str, *, kind: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # timeout, rate_limited, server_error, content_filter, invalid_output, refusal, config


class ProviderKind(StrEnum):
    OPENAI = "openai"
    AZURE = "azure"
    COMPATIBLE = "compatible"


class LLMSettings(BaseModel):
    """Per-mailbox LLM configuration (from the mailbox YAML). The key is read from an environment variable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: ProviderKind = ProviderKind.OPENAI
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    base_url: str | None = None  # compatible endpoints: http://localhost:11434/v1 (Ollama), vLLM, llama.cpp
    azure_endpoint: str | None = None
    azure_deployment: str | None = None
    api_version: str = "2024-10-21"
    temperature: float = 0.2
    timeout_seconds: float = 30.0
    max_output_tokens: int = 800
    structured_output: Literal["json_schema", "function_calling", "json_mode"] = "json_schema"
    hosted: bool | None = Field(default=None, description="Redact PII before sending; default: true unless "
                                                           "the endpoint is local (compatible provider).")
    daily_token_budget: int = 200_000

    @property
    def is_hosted(self) -> bool:
        if self.hosted is not None:
            return self.hosted
        return self.provider != ProviderKind.COMPATIBLE

    def api_key(self) -> SecretStr:
        value = os.environ.get(self.api_key_env, "")
        if not value and self.provider != ProviderKind.COMPATIBLE:
            raise LLMError(f"environment variable {self.api_key_env} (llm.api_key_env) is not set", kind="config")
        return SecretStr(value or "not-needed")


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0


class ChatReply(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    parsed: Any
    usage: Usage


class ChatModel(Protocol):
    name: str

    async def generate(self, *, messages: Sequence[tuple[str, str]], schema: type[BaseModel]) -> ChatReply:
        """Answer the (role, content) messages with an instance of ``schema``; raise LLMError otherwise."""


class LangChainChatModel:
    """OpenAI, Azure OpenAI or an OpenAI-compatible server through langchain-openai."""

    def __init__(self, *, settings: LLMSettings) -> None:
        self.settings = settings
        self.name = f"{settings.provider.value}:{settings.model}"
        self._model = self._build()

    def _build(self) -> Any:
        s = self.settings
        # our own httpx client: one connection pool per drafter, our timeout, and respx-testable
        client = httpx.AsyncClient(timeout=httpx.Timeout(s.timeout_seconds, connect=10.0))
        common: dict[str, Any] = {"temperature": s.temperature, "timeout": s.timeout_seconds, "max_retries": 0,
                                  "max_tokens": s.max_output_tokens, "api_key": s.api_key(),
                                  "http_async_client": client}
        if s.provider == ProviderKind.AZURE:
            from langchain_openai import AzureChatOpenAI

            if not s.azure_endpoint or not s.azure_deployment:
                raise LLMError("llm.azure_endpoint and llm.azure_deployment are required for Azure", kind="config")
            return AzureChatOpenAI(azure_endpoint=s.azure_endpoint, azure_deployment=s.azure_deployment,
                                   api_version=s.api_version, **common)
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=s.model, base_url=s.base_url, **common)

    async def generate(self, *, messages: Sequence[tuple[str, str]], schema: type[BaseModel]) -> ChatReply:
        import openai

        runnable = self._model.with_structured_output(schema, method=self.settings.structured_output,
                                                      include_raw=True)
        started = time.perf_counter()
        try:
            out = await runnable.ainvoke(list(messages))
        except openai.APITimeoutError as exc:
            raise LLMError("the model did not answer in time", kind="timeout") from exc
        except openai.RateLimitError as exc:
            raise LLMError("the provider rate-limited the request (429)", kind="rate_limited") from exc
        except openai.BadRequestError as exc:
            code = getattr(exc, "code", None) or ""
            if "content_filter" in str(code) or "content_filter" in str(exc):
                raise LLMError("the provider's content filter blocked the request", kind="content_filter") from exc
            raise LLMError(f"the provider rejected the request ({exc.status_code})", kind="config") from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
            raise LLMError(f"the provider refused the credentials or model ({exc.status_code}); check llm.model "
                           f"and {self.settings.api_key_env}", kind="config") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the provider failed ({exc.status_code})", kind="server_error") from exc
        except openai.APIConnectionError as exc:
            raise LLMError("the provider could not be reached", kind="server_error") from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise LLMError("the provider's content filter stopped the answer", kind="content_filter") from exc
        except openai.LengthFinishReasonError as exc:
            raise LLMError("the answer was cut off at the token limit", kind="invalid_output") from exc
        except (ValidationError, ValueError) as exc:  # the SDK's own parse of a non-JSON answer
            raise LLMError("the model's answer was not valid JSON for the draft schema",
                           kind="invalid_output") from exc
        latency = int((time.perf_counter() - started) * 1000)
        raw = out.get("raw")
        usage_meta = getattr(raw, "usage_metadata", None) or {}
        usage = Usage(prompt_tokens=int(usage_meta.get("input_tokens", 0)),
                      completion_tokens=int(usage_meta.get("output_tokens", 0)), latency_ms=latency)
        refusal = (getattr(raw, "additional_kwargs", None) or {}).get("refusal")
        if refusal:
            raise LLMError("the model refused to answer", kind="refusal")
        if out.get("parsing_error") is not None or out.get("parsed") is None:
            raise LLMError("the model's answer was not valid JSON for the draft schema", kind="invalid_output")
        return ChatReply(parsed=out["parsed"], usage=usage)


class ScriptedChatModel:
    """A chat model that answers from a script: for tests and evals, never the network.

    Each script item is a JSON string, a dict, or an ``LLMError`` to raise. The
    messages it was sent are kept in ``calls``.
    """

    name = "scripted"

    def __init__(self, *, script: Sequence[str | dict[str, Any] | LLMError]) -> None:
        self._script = list(script)
        self.calls: list[list[tuple[str, str]]] = []

    async def generate(self, *, messages: Sequence[tuple[str, str]], schema: type[BaseModel]) -> ChatReply:
        self.calls.append(list(messages))
        if not self._script:
            raise LLMError("the script is exhausted", kind="server_error")
        item = self._script.pop(0) if len(self._script) > 1 else self._script[0]
        if isinstance(item, LLMError):
            raise item
        try:
            data = json.loads(item) if isinstance(item, str) else item
            parsed = schema.model_validate(data)
        except (ValueError, ValidationError) as exc:
            raise LLMError("the model's answer was not valid JSON for the draft schema",
                           kind="invalid_output") from exc
        prompt_tokens = sum(len(content) for _, content in messages) // 4
        return ChatReply(parsed=parsed, usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=100))
