"""The LangChain adapter against the OpenAI chat completions API (respx; never the network)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from agent.llm import LangChainChatModel, LLMError, LLMSettings, ProviderKind
from agent.llm_drafter import LLMDraftOutput

pytestmark = pytest.mark.anyio
URL = "https://api.openai.com/v1/chat/completions"
ANSWER = {"reply_text": "Hi Kari,\n\nOrder NK204117 is shipped.\n\nBest regards", "confidence": 0.9,
          "language": "en", "note_points": ["check the ETA"],
          "suggestions": [{"text": "Order NK204117 is shipped.", "fact_ids": ["F1"], "kind": "status"}]}


def completion(content: str | None, *, refusal: str | None = None, finish: str = "stop") -> dict:
    """The documented chat.completion object."""
    return {
        "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1763900000, "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": refusal},
                     "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": 812, "completion_tokens": 95, "total_tokens": 907,
                  "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
        "system_fingerprint": "fp_44709d6fcb",
    }


def error(status: int, message: str, type_: str, code: str | None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "type": type_, "param": None, "code": code}})


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> LangChainChatModel:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    return LangChainChatModel(settings=LLMSettings(model="gpt-4o-mini", timeout_seconds=5))


MESSAGES = [("system", "You write drafts."), ("human", "CUSTOMER EMAIL: where is NK204117?")]


@respx.mock
async def test_structured_output_and_usage(model: LangChainChatModel) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200, json=completion(json.dumps(ANSWER))))
    reply = await model.generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert reply.parsed.suggestions[0].fact_ids == ["F1"]
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (812, 95)
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["response_format"]["type"] == "json_schema"
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert route.calls.last.request.headers["authorization"] == "Bearer sk-test-not-real"


@respx.mock
@pytest.mark.parametrize(("response", "kind"), [
    (error(429, "Rate limit reached for gpt-4o-mini", "requests", "rate_limit_exceeded"), "rate_limited"),
    (error(500, "The server had an error while processing your request.", "server_error", None), "server_error"),
    (error(503, "The engine is currently overloaded.", "server_error", None), "server_error"),
    (error(400, "The response was filtered due to the prompt triggering content management policy.",
           "invalid_request_error", "content_filter"), "content_filter"),
    (error(401, "Incorrect API key provided: sk-test***.", "invalid_request_error", "invalid_api_key"), "config"),
    (httpx.Response(200, json=completion("this is not json")), "invalid_output"),
    (httpx.Response(200, json=completion(None, refusal="I can't help with that.")), "refusal"),
])
async def test_errors_become_llm_errors(model: LangChainChatModel, response: httpx.Response, kind: str) -> None:
    respx.post(URL).mock(return_value=response)
    with pytest.raises(LLMError) as info:
        await model.generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert info.value.kind == kind
    assert "sk-test" not in str(info.value)


@respx.mock
async def test_timeout(model: LangChainChatModel) -> None:
    respx.post(URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(LLMError) as info:
        await model.generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert info.value.kind == "timeout"


@respx.mock
@pytest.mark.parametrize(("finish", "kind"), [("content_filter", "content_filter"), ("length", "invalid_output")])
async def test_truncated_answers_by_finish_reason(model: LangChainChatModel, finish: str, kind: str) -> None:
    """A 200 whose ``finish_reason`` says the answer was cut (Azure's content filter, the token limit)."""
    respx.post(URL).mock(return_value=httpx.Response(200, json=completion(json.dumps(ANSWER)[:40], finish=finish)))
    with pytest.raises(LLMError) as info:
        await model.generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert info.value.kind == kind


@respx.mock
async def test_usage_and_latency_are_measured(model: LangChainChatModel) -> None:
    respx.post(URL).mock(return_value=httpx.Response(200, json=completion(json.dumps(ANSWER))))
    reply = await model.generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert reply.usage.prompt_tokens == 812 and reply.usage.completion_tokens == 95
    assert 0 <= reply.usage.latency_ms < 5000


@respx.mock
async def test_json_mode_for_servers_without_json_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """vLLM, Ollama and llama.cpp servers that only know ``response_format: json_object``."""
    settings = LLMSettings(provider=ProviderKind.COMPATIBLE, model="qwen2.5:7b", base_url="http://vllm.internal:8000/v1",
                           api_key_env="VLLM_KEY", structured_output="json_mode")
    monkeypatch.setenv("VLLM_KEY", "local-token")
    route = respx.post("http://vllm.internal:8000/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=completion(json.dumps(ANSWER))))
    reply = await LangChainChatModel(settings=settings).generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert reply.parsed.reply_text.startswith("Hi Kari")
    sent = json.loads(route.calls.last.request.content)
    assert sent["response_format"] == {"type": "json_object"} and sent["model"] == "qwen2.5:7b"
    assert route.calls.last.request.headers["authorization"] == "Bearer local-token"
    respx.post("http://vllm.internal:8000/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=completion("Sure! Here is your reply: Hi Kari")))
    with pytest.raises(LLMError) as info:
        await LangChainChatModel(settings=settings).generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert info.value.kind == "invalid_output"


@respx.mock
async def test_function_calling_answer(model: LangChainChatModel) -> None:
    """The documented tool_calls shape, for endpoints that do structured output through a forced tool."""
    fc = LangChainChatModel(settings=model.settings.model_copy(update={"structured_output": "function_calling"}))
    body = completion(None, finish="tool_calls")
    body["choices"][0]["message"]["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
        "name": "LLMDraftOutput", "arguments": json.dumps(ANSWER)}}]
    route = respx.post(URL).mock(return_value=httpx.Response(200, json=body))
    reply = await fc.generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert reply.parsed.suggestions[0].fact_ids == ["F1"]
    sent = json.loads(route.calls.last.request.content)
    assert sent["tools"][0]["function"]["name"] == "LLMDraftOutput"


@respx.mock
async def test_openai_compatible_base_url_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_KEY", raising=False)
    settings = LLMSettings(provider=ProviderKind.COMPATIBLE, model="llama3.1:8b", base_url="http://localhost:11434/v1",
                           api_key_env="OLLAMA_KEY")
    route = respx.post("http://localhost:11434/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=completion(json.dumps(ANSWER))))
    reply = await LangChainChatModel(settings=settings).generate(messages=MESSAGES, schema=LLMDraftOutput)
    assert reply.parsed.language == "en" and route.called
    assert not settings.is_hosted


@respx.mock
async def test_azure_deployment_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    settings = LLMSettings(provider=ProviderKind.AZURE, azure_endpoint="https://contoso.openai.azure.com",
                           azure_deployment="drafts-4o", api_key_env="AZURE_OPENAI_API_KEY")
    route = respx.post(url__regex=r"https://contoso\.openai\.azure\.com/openai/deployments/drafts-4o/chat/completions.*")
    route.mock(return_value=httpx.Response(200, json=completion(json.dumps(ANSWER))))
    await LangChainChatModel(settings=settings).generate(messages=MESSAGES, schema=LLMDraftOutput)
    request = route.calls.last.request
    assert request.headers["api-key"] == "azure-test-key"
    assert "api-version=2024-10-21" in str(request.url)


def test_missing_key_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        LangChainChatModel(settings=LLMSettings())
