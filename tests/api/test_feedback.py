"""Thumbs up/down with a reason through the API, on a real draft and its suggestions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from api.app import create_app
from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


@dataclass
class Drafted:
    client: httpx.AsyncClient
    runtime: Runtime
    draft_id: str
    suggestions: int
    version: str


@pytest.fixture
async def drafted(runtime: Runtime) -> AsyncIterator[Drafted]:
    app = create_app(settings=runtime.settings, pool=runtime.pool)
    (runtime.provider.root / "new" / "m1").write_bytes(make_email())  # type: ignore[attr-defined]
    await one_pass(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        (message,) = (await c.get("/messages")).json()
        draft = (await c.get(f"/messages/{message['id']}")).json()["draft"]
        yield Drafted(client=c, runtime=runtime, draft_id=draft["draft_id"], suggestions=len(draft["suggestions"]),
                      version=draft["template_version"])


async def test_thumbs_on_a_draft_one_per_person(drafted: Drafted) -> None:
    c, url = drafted.client, f"/drafts/{drafted.draft_id}/feedback"
    first = await c.post(url, json={"rating": "up", "author": "kari@nordkyst.example"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["rating"], body["reason"], body["suggestion_index"], body["mailbox"], body["version"]) == (
        "up", "", None, "ops", drafted.version)
    # the same person changes their mind: the rating is replaced, not added
    changed = await c.post(url, json={"rating": "down", "reason": "  wrong ETA ", "author": "kari@nordkyst.example"})
    assert changed.status_code == 200 and changed.json()["id"] == body["id"]
    assert changed.json()["reason"] == "wrong ETA"
    other = await c.post(url, json={"rating": "up", "author": "ola@nordkyst.example"})
    assert other.status_code == 201
    listed = (await c.get(url)).json()
    assert [(f["author"], f["rating"]) for f in listed] == [("kari@nordkyst.example", "down"),
                                                           ("ola@nordkyst.example", "up")]
    stats = (await c.get("/mailboxes/ops/prompt-stats")).json()["versions"][0]
    assert (stats["version"], stats["thumbs_up"], stats["thumbs_down"]) == (drafted.version, 1, 1)
    async with drafted.runtime.pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT action FROM audit_log WHERE action LIKE 'feedback_%%' ORDER BY id")
        assert [r["action"] for r in await cur.fetchall()] == ["feedback_up", "feedback_down", "feedback_up"]


async def test_thumbs_on_a_suggestion(drafted: Drafted) -> None:
    assert drafted.suggestions > 0, "the template drafter splits its drafts into suggestions"
    c, url = drafted.client, f"/drafts/{drafted.draft_id}/feedback"
    given = await c.post(url, json={"rating": "down", "reason": "date format", "suggestion_index": 0,
                                    "author": "kari@nordkyst.example"})
    assert given.status_code == 201
    body = given.json()
    assert body["suggestion_index"] == 0 and body["suggestion_kind"] and body["suggestion_text"]
    # a rating of the whole draft by the same person is a separate rating
    assert (await c.post(url, json={"rating": "up", "author": "kari@nordkyst.example"})).status_code == 201
    assert [f["suggestion_index"] for f in (await c.get(url)).json()] == [None, 0]
    beyond = await c.post(url, json={"rating": "up", "suggestion_index": drafted.suggestions, "author": "kari"})
    assert beyond.status_code == 422 and "no suggestion" in beyond.json()["detail"]


@pytest.mark.parametrize("body", [
    {"rating": "down", "author": "kari"},  # a thumbs down without a reason
    {"rating": "down", "reason": "   ", "author": "kari"},
    {"rating": "meh", "author": "kari"},
    {"rating": "up"},
    {"rating": "up", "author": ""},
    {"rating": "up", "author": "x" * 201},
    {"rating": "down", "reason": "x" * 2001, "author": "kari"},
    {"rating": "up", "suggestion_index": -1, "author": "kari"},
    {"rating": "up", "suggestion_index": 10_000, "author": "kari"},
    {"rating": "up", "author": "kari", "draft_id": "00000000-0000-0000-0000-000000000000"},
])
async def test_bad_feedback_is_refused(drafted: Drafted, body: dict[str, object]) -> None:
    response = await drafted.client.post(f"/drafts/{drafted.draft_id}/feedback", json=body)
    assert response.status_code == 422
    assert (await drafted.client.get(f"/drafts/{drafted.draft_id}/feedback")).json() == []


async def test_unknown_drafts(drafted: Drafted) -> None:
    unknown = "/drafts/00000000-0000-0000-0000-000000000000/feedback"
    assert (await drafted.client.post(unknown, json={"rating": "up", "author": "kari"})).status_code == 404
    assert (await drafted.client.get(unknown)).status_code == 404
    assert (await drafted.client.post("/drafts/not-a-uuid/feedback",
                                      json={"rating": "up", "author": "kari"})).status_code == 422


async def test_evaluators_search_feedback(drafted: Drafted) -> None:
    c, url = drafted.client, f"/drafts/{drafted.draft_id}/feedback"
    await c.post(url, json={"rating": "down", "reason": "too long", "author": "a"})
    await c.post(url, json={"rating": "up", "author": "b"})
    assert [f["author"] for f in (await c.get("/feedback", params={"rating": "down"})).json()] == ["a"]
    assert len((await c.get("/feedback", params={"mailbox": "ops"})).json()) == 2
    assert (await c.get("/feedback", params={"mailbox": "support"})).json() == []
    name = drafted.version.split("@")[0]
    assert len((await c.get("/feedback", params={"version": name})).json()) == 2
    assert len((await c.get("/feedback", params={"version": drafted.version})).json()) == 2
    assert (await c.get("/feedback", params={"version": "draft-v9"})).json() == []
    assert len((await c.get("/feedback", params={"limit": 1})).json()) == 1
    assert (await c.get("/feedback", params={"limit": 0})).status_code == 422
    assert (await c.get("/feedback", params={"rating": "sideways"})).status_code == 422
