"""The prompt API over a real database: versions, diff, preview (scripted LLM), rollout, acceptance per version."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

import api.prompts
from agent.llm import LLMError, LLMSettings, ProviderKind, ScriptedChatModel
from agent.llm_drafter import PromptVersion, load_prompt
from agent.models import Acceptance, AcceptanceOutcome
from api.app import create_app
from api.prompts import PreviewTarget, preview_target, preview_targets
from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from store.drafts import DraftRepository
from store.llm_budget import TokenBudgetRepository
from tests.helpers import make_email

pytestmark = pytest.mark.anyio
V1 = load_prompt(name="draft-v1")
V2 = PromptVersion(name="draft-v2", system=V1.system + "8. Keep it under 80 words.\n", user=V1.user)
REPLY = ("Hei Kari,\n\nTakk for henvendelsen. Vi sjekker saken og kommer tilbake til deg så snart vi vet mer."
         "\n\nMed vennlig hilsen\nNordkyst Logistikk – Kundeservice")
GOOD = json.dumps({"reply_text": REPLY, "note_points": ["check the ETA"], "confidence": 0.8, "language": "no",
                   "suggestions": [{"text": "Vi sjekker saken og kommer tilbake til deg så snart vi vet mer.",
                                    "fact_ids": ["F1", "F404"], "kind": "request_info"}]})
ASKS = ("Hei, når kommer ordre NK204117? Og hva med NK204207? Ring meg på +47 912 34 567.\n\nKari")
NEW_VERSION = {"name": "draft-v2", "system": V2.system, "user": V2.user, "author": "lead@nordkyst.example",
               "message": "Shorter replies", "parent": "draft-v1"}


@dataclass
class Harness:
    client: httpx.AsyncClient
    runtime: Runtime
    targets: dict[str, PreviewTarget]
    model: ScriptedChatModel

    def use_model(self, model: ScriptedChatModel) -> None:
        self.model = model
        self.targets["ops"] = PreviewTarget(deps=self.runtime.deps, llm=LLMSettings(provider=ProviderKind.OPENAI),
                                            model=model, budget=TokenBudgetRepository(pool=self.runtime.pool))


@pytest.fixture
async def h(runtime: Runtime) -> AsyncIterator[Harness]:
    app = create_app(settings=runtime.settings, pool=runtime.pool)
    targets: dict[str, PreviewTarget] = {}
    app.dependency_overrides[preview_targets] = lambda: targets
    harness = Harness(client=None, runtime=runtime, targets=targets, model=None)  # type: ignore[arg-type]
    harness.use_model(ScriptedChatModel(script=[GOOD]))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        harness.client = c
        yield harness


async def stored_message(h: Harness, body: str = ASKS) -> int:
    (h.runtime.provider.root / "new" / "m1").write_bytes(make_email(body=body))  # type: ignore[attr-defined]
    await one_pass(runtime=h.runtime)
    (message,) = (await h.client.get("/messages")).json()
    return int(message["id"])


# --------------------------------------------------------------------------- versions and diff


async def test_versions_are_created_listed_and_diffed(h: Harness) -> None:
    listed = (await h.client.get("/prompts")).json()
    assert [(p["name"], p["source"], p["version"]) for p in listed] == [("draft-v1", "file", V1.version)]
    assert "system" not in listed[0]

    created = await h.client.post("/prompts", json=NEW_VERSION)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["version"], body["source"], body["parent"]) == (
        "draft-v2", V2.version, "api", "draft-v1")
    assert body["author"] == "lead@nordkyst.example" and body["warnings"] == [] and body["created_at"]

    got = (await h.client.get("/prompts/draft-v2")).json()
    assert got["system"] == V2.system and got["user"] == V2.user
    assert [p["name"] for p in (await h.client.get("/prompts")).json()] == ["draft-v1", "draft-v2"]

    diff = (await h.client.get("/prompts/draft-v1/diff/draft-v2")).json()
    assert (diff["base"], diff["head"], diff["identical"]) == (V1.version, V2.version, False)
    assert (diff["system"]["added"], diff["system"]["removed"]) == (1, 0)
    assert diff["system"]["unified"].startswith(f"--- {V1.version}/system.j2\n+++ {V2.version}/system.j2\n@@")
    assert "\n+8. Keep it under 80 words." in diff["system"]["unified"]
    assert diff["user"] == {"unified": "", "added": 0, "removed": 0}
    assert (await h.client.get("/prompts/draft-v2/diff/draft-v1")).json()["system"]["removed"] == 1
    assert (await h.client.get("/prompts/draft-v1/diff/draft-v1")).json()["identical"] is True
    narrow = (await h.client.get("/prompts/draft-v1/diff/draft-v2", params={"context": 0})).json()
    assert narrow["system"]["unified"].count("\n") == 3  # two header lines, one hunk header, one line

    assert (await h.client.get("/prompts/draft-v9")).status_code == 404
    assert (await h.client.get("/prompts/draft-v1/diff/draft-v9")).status_code == 404
    assert (await h.client.get("/prompts/Bad%20Name")).status_code == 422
    assert (await h.client.get("/prompts/draft-v1/diff/draft-v2", params={"context": 99})).status_code == 422


async def test_creation_refuses_duplicates_and_templates_that_do_not_render(h: Harness) -> None:
    assert (await h.client.post("/prompts", json=NEW_VERSION)).status_code == 201
    again = await h.client.post("/prompts", json={**NEW_VERSION, "message": "again"})
    assert again.status_code == 409 and again.json()["detail"]["existing"] == "draft-v2"
    same = await h.client.post("/prompts", json={**NEW_VERSION, "name": "draft-v2-copy"})
    assert same.status_code == 409 and same.json()["detail"]["existing"] == "draft-v2"
    assert (await h.client.post("/prompts", json={**NEW_VERSION, "name": "draft-v1"})).status_code == 409

    broken = await h.client.post("/prompts", json={**NEW_VERSION, "name": "draft-v3",
                                                   "user": V2.user + "{% if withheld %}{{ withheld_refs }}{% endif %}"})
    assert broken.status_code == 422
    assert broken.json()["detail"]["problems"] == ["unknown variable 'withheld_refs' (StrictUndefined)"]
    unsafe = await h.client.post("/prompts", json={**NEW_VERSION, "name": "draft-v3",
                                                   "system": "{{ text.__class__.__mro__ }}"})
    assert unsafe.status_code == 422 and "unsafe" in unsafe.json()["detail"]["problems"][0]
    for bad in ({"name": "Draft 3"}, {"author": ""}, {"message": ""}, {"system": "x" * 20_001},
                {"parent": "../x"}, {"api_key": "sk-x"}):
        response = await h.client.post("/prompts", json={**NEW_VERSION, "name": "draft-v3", **bad})
        assert response.status_code == 422, bad
    orphan = await h.client.post("/prompts", json={**NEW_VERSION, "name": "draft-v3", "system": V2.system + "!",
                                                   "parent": "draft-v0"})
    assert orphan.status_code == 422 and "parent" in orphan.json()["detail"]
    assert [p["name"] for p in (await h.client.get("/prompts")).json()] == ["draft-v1", "draft-v2"]


async def test_a_prompt_without_the_email_is_created_with_a_warning(h: Harness) -> None:
    response = await h.client.post("/prompts", json={**NEW_VERSION, "name": "facts-only",
                                                     "user": "{% for f in facts %}{{ f.value }}\n{% endfor %}."})
    assert response.status_code == 201
    assert response.json()["warnings"] == ["the prompt never shows the customer's email ({{ text }})"]


# --------------------------------------------------------------------------- preview


async def test_preview_of_a_stored_message_shows_the_exact_messages_and_the_draft(h: Harness) -> None:
    message_id = await stored_message(h)
    await h.client.post("/prompts", json=NEW_VERSION)
    response = await h.client.post("/prompts/draft-v2/preview", json={"message_id": message_id})
    assert response.status_code == 200, response.text
    out = response.json()
    assert (out["version"], out["mailbox"], out["redacted"], out["llm"]) == (V2.version, "ops", True, "scripted")
    assert [m["role"] for m in out["messages"]] == ["system", "human"]
    system, human = (m["content"] for m in out["messages"])
    # exactly what the model was sent
    assert h.model.calls == [[("system", system), ("human", human)]]
    assert system.endswith("8. Keep it under 80 words.")
    assert "F1 | NK204117 | order.status | shipped | nordkyst-demo" in human
    # the other customer's order is withheld: counted, and nothing the systems know about it is shown
    # (the customer's own email still names it); the phone number is redacted
    facts_part = human.split("CUSTOMER EMAIL")[0]
    assert out["withheld"] == 1 and "WITHHELD: 1 reference(s)" in human and "NK204207" not in facts_part
    assert "HLXU8803192" not in human and "Baltic" not in human
    assert "+47 912 34 567" not in human and "[PHONE_1]" in human
    assert out["references"] == ["order_number:NK204117", "order_number:NK204207"] and out["facts"] > 0
    draft = out["draft"]
    assert (draft["drafter"], draft["template_version"], draft["body"]) == ("llm", V2.version, REPLY)
    assert draft["suggestions"][0]["fact_ids"] == ["F1"] and draft["fallback_reason"] is None
    assert "INTERNAL NOTE" in out["note"]
    # nothing was stored or posted: the message keeps its template draft
    detail = (await h.client.get(f"/messages/{message_id}")).json()
    assert detail["draft"]["drafter"] == "template"
    assert len((await h.client.get("/messages")).json()) == 1


async def test_preview_without_the_llm_renders_only(h: Harness) -> None:
    message_id = await stored_message(h)
    h.targets["ops"] = PreviewTarget(deps=h.runtime.deps)  # a mailbox without an LLM
    out = (await h.client.post("/prompts/draft-v1/preview", json={"message_id": message_id})).json()
    assert out["draft"] is None and out["llm"] is None and out["redacted"] is False
    assert "+47 912 34 567" in out["messages"][1]["content"]  # a local model sees the text as it is
    h.use_model(ScriptedChatModel(script=[GOOD]))
    out = (await h.client.post("/prompts/draft-v1/preview", json={"message_id": message_id, "draft": False})).json()
    assert out["draft"] is None and out["note"] is None and out["redacted"] is True and h.model.calls == []
    assert "[PHONE_1]" in out["messages"][1]["content"]


async def test_preview_shows_the_fallback_and_spends_the_budget(h: Harness) -> None:
    message_id = await stored_message(h)
    h.use_model(ScriptedChatModel(script=[LLMError("the provider rate-limited the request (429)",
                                                   kind="rate_limited")]))
    out = (await h.client.post("/prompts/draft-v1/preview", json={"message_id": message_id})).json()
    assert out["draft"]["drafter"] == "template" and "rate_limited" in out["draft"]["fallback_reason"]
    assert len(out["messages"]) == 2  # the messages the failing model was sent

    budget = TokenBudgetRepository(pool=h.runtime.pool)
    h.use_model(ScriptedChatModel(script=[GOOD]))
    await h.client.post("/prompts/draft-v1/preview", json={"message_id": message_id})
    assert await budget.remaining(mailbox="ops", limit=200_000) < 200_000
    await budget.spend(mailbox="ops", tokens=10_000_000)
    out = (await h.client.post("/prompts/draft-v1/preview", json={"message_id": message_id})).json()
    assert "budget" in out["draft"]["fallback_reason"]
    assert len(h.model.calls) == 1  # a spent budget stops the preview before the model is called


async def test_preview_of_an_uploaded_email(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = make_email(body="Hei, hvor er ordre NK204117?")
    ok = await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "ops"}, content=raw,
                             headers={"Content-Type": "message/rfc822"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["references"] == ["order_number:NK204117"] and ok.json()["draft"]["drafter"] == "llm"
    assert (await h.client.get("/messages")).json() == []  # an upload is never stored

    monkeypatch.setattr(api.prompts, "MAX_UPLOAD_BYTES", 2048)
    big = make_email(body="x" * 5000)
    declared = await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "ops"}, content=big)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused while it streams in
        for _ in range(100):
            yield b"x" * 1024

    streamed = await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "ops"}, content=chunks())
    assert streamed.status_code == 413
    assert (await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "ops"},
                                content=b"  \n")).status_code == 422
    unreadable = await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "ops"},
                                     content=b"Subject: nothing\n\n")
    assert unreadable.status_code == 422 and "cannot be parsed" in unreadable.json()["detail"]


async def test_preview_errors(h: Harness) -> None:
    message_id = await stored_message(h)
    assert (await h.client.post("/prompts/draft-v9/preview", json={"message_id": message_id})).status_code == 404
    assert (await h.client.post("/prompts/draft-v1/preview", json={"message_id": 999_999})).status_code == 404
    assert (await h.client.post("/prompts/draft-v1/preview", json={"message_id": 0})).status_code == 422
    assert (await h.client.post("/prompts/draft-v1/preview",
                                json={"message_id": message_id, "raw": "x"})).status_code == 422
    assert (await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "Not Valid"},
                                content=b"x")).status_code == 422
    h.targets.clear()  # this API process has no pipeline for the mailbox
    missing = await h.client.post("/prompts/draft-v1/preview", json={"message_id": message_id})
    assert missing.status_code == 409 and "cannot be previewed" in missing.json()["detail"]
    assert (await h.client.post("/prompts/draft-v1/preview/upload", params={"mailbox": "ops"},
                                content=make_email())).status_code == 409


# --------------------------------------------------------------------------- rollout and acceptance per version


async def test_rollout_per_mailbox(h: Harness) -> None:
    default = (await h.client.get("/mailboxes/ops/rollout")).json()
    assert (default["source"], default["id"]) == ("default", None)
    assert default["arms"] == [{"version": "draft-v1", "percent": 100, "version_id": V1.version}]
    await h.client.post("/prompts", json=NEW_VERSION)

    split = {"split": [{"version": "draft-v2", "percent": 10}, {"version": "draft-v1", "percent": 90}],
             "author": "lead@nordkyst.example", "message": "try v2 on 10 %"}
    put = await h.client.put("/mailboxes/ops/rollout", json=split)
    assert put.status_code == 200, put.text
    assert put.json()["source"] == "rollout" and put.json()["arms"][0] == {"version": "draft-v2", "percent": 10,
                                                                           "version_id": V2.version}
    current = (await h.client.get("/mailboxes/ops/rollout")).json()
    assert current == put.json()
    full = await h.client.put("/mailboxes/ops/rollout", json={"version": "draft-v2", "author": "lead"})
    assert full.json()["arms"] == [{"version": "draft-v2", "percent": 100, "version_id": V2.version}]
    history = (await h.client.get("/mailboxes/ops/rollout/history")).json()
    assert [r["message"] for r in history] == ["", "try v2 on 10 %"]

    for bad in ({"version": "draft-v2", "split": split["split"], "author": "x"},  # both
                {"author": "x"},  # neither
                {"split": [{"version": "draft-v2", "percent": 10}], "author": "x"},  # sums to 10
                {"split": [{"version": "draft-v2", "percent": 50}, {"version": "draft-v2", "percent": 50}],
                 "author": "x"},
                {"version": "draft-v2"},  # no author
                {"version": "draft-v7", "author": "x"}):  # unknown version
        assert (await h.client.put("/mailboxes/ops/rollout", json=bad)).status_code == 422, bad
    assert (await h.client.put("/mailboxes/nobody/rollout", json={"version": "draft-v1", "author": "x"})
            ).status_code == 404
    assert (await h.client.get("/mailboxes/nobody/rollout")).status_code == 404
    assert (await h.client.get("/mailboxes/NO%20BODY/rollout")).status_code == 422
    assert len((await h.client.get("/mailboxes/ops/rollout/history")).json()) == 2  # the refused ones left no trace


async def test_acceptance_per_version_with_intervals(h: Harness) -> None:
    await stored_message(h)
    (message,) = (await h.client.get("/messages")).json()
    stats = (await h.client.get("/mailboxes/ops/prompt-stats")).json()
    (version,) = stats["versions"]
    assert version["name"] == "reply.no" and (version["drafts"], version["pending"]) == (1, 1)
    assert version["sent_as_is"] == {"successes": 0, "total": 0, "rate": None, "low": None, "high": None,
                                     "confidence": 0.95}

    await DraftRepository(pool=h.runtime.pool).record_outcome(
        draft_id=message["draft_id"], acceptance=Acceptance(outcome=AcceptanceOutcome.SENT_AS_IS, similarity=1.0),
        sent_provider_key=None, sent_at=None)
    stats = (await h.client.get("/mailboxes/ops/prompt-stats", params={"confidence": 0.9})).json()
    rate = stats["versions"][0]["sent_as_is"]
    assert (rate["successes"], rate["total"], rate["rate"], rate["high"], rate["confidence"]) == (1, 1, 1.0, 1.0, 0.9)
    assert 0 < rate["low"] < 0.5  # one draft proves little
    assert stats["comparisons"] == []
    same = (await h.client.get("/mailboxes/ops/prompt-stats", params={"baseline": "reply.no"})).json()
    assert same["comparisons"] == []  # nothing to compare the baseline with
    assert (await h.client.get("/mailboxes/ops/prompt-stats", params={"baseline": "draft-v0"})).status_code == 422
    assert (await h.client.get("/mailboxes/ops/prompt-stats", params={"confidence": 1.5})).status_code == 422
    assert (await h.client.get("/mailboxes/nobody/prompt-stats")).status_code == 404
    window = (await h.client.get("/mailboxes/ops/prompt-stats", params={"until": "2020-01-01T00:00:00Z"})).json()
    assert window["versions"] == []


async def test_the_endpoints_are_in_the_openapi_document(h: Harness) -> None:
    paths = set((await h.client.get("/openapi.json")).json()["paths"])
    assert {"/prompts", "/prompts/{name}", "/prompts/{base}/diff/{head}", "/prompts/{name}/preview",
            "/prompts/{name}/preview/upload", "/mailboxes/{mailbox}/rollout", "/mailboxes/{mailbox}/rollout/history",
            "/mailboxes/{mailbox}/prompt-stats"} <= paths


async def test_preview_targets_follow_the_mailbox_configuration(runtime: Runtime,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    template = preview_target(config=runtime.config, deps=runtime.deps, budget=None)
    assert (template.llm, template.model) == (None, None)
    local = runtime.config.model_copy(update={"drafter": "llm", "llm": LLMSettings(
        provider=ProviderKind.COMPATIBLE, model="llama3", base_url="http://127.0.0.1:11434/v1")})
    built = preview_target(config=local, deps=runtime.deps, budget=None)
    assert built.model is not None and built.model.name == "compatible:llama3"  # built, nothing sent
    monkeypatch.delenv("SHIPDRAFT_TEST_UNSET_KEY", raising=False)
    hosted = runtime.config.model_copy(update={"drafter": "llm", "llm": LLMSettings(
        provider=ProviderKind.OPENAI, api_key_env="SHIPDRAFT_TEST_UNSET_KEY")})
    keyless = preview_target(config=hosted, deps=runtime.deps, budget=None)
    assert keyless.model is None and keyless.llm is not None  # previews still render, redacted, without a draft
