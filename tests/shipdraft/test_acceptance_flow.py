"""Every acceptance outcome through the real pipeline, then the metrics over them (API and CLI)."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from api.app import create_app
from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


def _draft_file(runtime: Runtime, draft_id: str) -> Path:
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    return next(p for p in (root / ".Drafts" / "cur").iterdir() if draft_id in p.name)


def _sent_now(raw: bytes) -> bytes:
    """The message as sent just now (after its draft was posted, as in a real mailbox)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    del msg["Date"]
    msg["Date"] = format_datetime(datetime.now(UTC))
    return msg.as_bytes()


def _as_sent(path: Path, *, keep_header: bool = True, edit: tuple[str, str] | None = None,
             sender: str = "ola@nordkyst-logistikk.example") -> bytes:
    msg = email.message_from_bytes(_sent_now(path.read_bytes()), policy=email.policy.default)
    if not keep_header:
        del msg["X-Shipdraft-Draft-Id"]
    msg["Sender"] = sender
    if edit:
        msg.set_content(msg.get_content().replace(*edit, 1))
    return msg.as_bytes()


async def test_outcomes_and_metrics(runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    bodies = {"as_is": "Når kommer ordre NK204117?", "edited": "Status for ordre NK204131?",
              "discarded": "Hvor er ordre NK204152?", "superseded": "Når kommer ordre NK204125?",
              "own": "Når kommer ordre NK204140?", "expired": "Status ordre NK204118?"}
    ids = {}
    for key, body in bodies.items():
        (root / "new" / key).write_bytes(make_email(body=body, subject=key, message_id=f"<{key}@hansen.example>"))
    # an automatic message gets no draft (skipped), but an agent answers it: first response without a draft
    (root / "new" / "auto").write_bytes(make_email(body="Ordre NK204117 mottatt.", subject="auto",
                                                   message_id="<auto@hansen.example>",
                                                   extra={"Auto-Submitted": "auto-generated"}))
    for r in (await one_pass(runtime=runtime)).results:
        ids[r.subject] = r.draft_id
    sent = root / ".Sent" / "cur"
    (sent / "s1:2,S").write_bytes(_as_sent(_draft_file(runtime, ids["as_is"])))
    _draft_file(runtime, ids["as_is"]).unlink()
    edit = ("\n\n", "\n\nWe also checked your other orders, and everything looks fine there.\n\n")
    (sent / "s2:2,S").write_bytes(_as_sent(_draft_file(runtime, ids["edited"]), keep_header=False, edit=edit))
    _draft_file(runtime, ids["edited"]).unlink()
    _draft_file(runtime, ids["discarded"]).unlink()
    # the agent answers "own" from scratch and leaves the draft untouched in Drafts
    own = make_email(sender="ops@nordkyst-logistikk.example", name="Ops", body="Hei, jeg ringer deg.",
                     subject="Re: own", in_reply_to="<own@hansen.example>", to="kari.nilsen@hansen-mobler.example")
    (sent / "s3:2,S").write_bytes(_sent_now(own))
    (sent / "s4:2,S").write_bytes(_sent_now(make_email(
        sender="ops@nordkyst-logistikk.example", name="Ops", body="Takk, vi ser på det.", subject="Re: auto",
        in_reply_to="<auto@hansen.example>", to="kari.nilsen@hansen-mobler.example")))
    # the customer writes again in the "superseded" thread before anyone used the draft
    (root / "new" / "again").write_bytes(make_email(body="Hallo? Ordre NK204125?", subject="Re: superseded",
                                                    in_reply_to="<superseded@hansen.example>"))
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE drafts SET posted_at = now() - interval '20 days' WHERE draft_id = %s",
                     (ids["expired"],))
    await one_pass(runtime=runtime)

    with psycopg.connect(database_url) as conn:
        rows = dict(conn.execute(
            "SELECT d.draft_id::text, a.outcome FROM acceptance_events a JOIN drafts d USING (draft_id)").fetchall())
        as_is = conn.execute("SELECT seconds_to_send, sent_by, jsonb_array_length(suggestions) FROM "
                             "acceptance_events WHERE draft_id = %s", (ids["as_is"],)).fetchone()
    assert rows[ids["as_is"]] == "sent_as_is"
    assert rows[ids["edited"]] == "edited"
    assert rows[ids["discarded"]] == "discarded"
    assert rows[ids["own"]] == "replied_without_draft"
    assert rows[ids["superseded"]] == "superseded"
    assert rows[ids["expired"]] == "expired"
    assert as_is is not None and as_is[0] is not None and as_is[1] == "ola@nordkyst-logistikk.example"
    assert as_is[2] >= 1  # per-suggestion outcomes recorded

    app = create_app(settings=runtime.settings, pool=runtime.pool)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        [total] = (await c.get("/metrics/acceptance", params={"by": "mailbox"})).json()
        by_intent = (await c.get("/metrics/acceptance", params={"by": "intent"})).json()
        kinds = (await c.get("/metrics/suggestions")).json()
        times = (await c.get("/metrics/response-times")).json()
        edits = (await c.get("/metrics/edit-sizes")).json()
        by_dim = {dim: (await c.get("/metrics/acceptance", params={"by": dim})).json()
                  for dim in ("language", "drafter", "prompt", "week")}
        assert (await c.get("/metrics/acceptance", params={"by": "nonsense"})).status_code == 422
        assert (await c.get("/metrics/acceptance", params={"mailbox": "nobody"})).json() == []
    assert total["drafts"] == 5  # superseded drafts are not counted
    assert total["sent_as_is"] == 1 and total["light_edit"] + total["edited"] == 1
    assert total["rate_as_is"] == pytest.approx(0.2)
    assert {r["key"] for r in by_intent} >= {"eta_request"}
    assert {k["kind"] for k in kinds} >= {"order_status"} and all(0 <= k["rate"] <= 1 for k in kinds)
    # every answered customer message: as_is, edited and own had a draft in the mailbox when the reply went
    # (own was answered from scratch next to it); the automatic message never had one
    by_kind = {t["kind"]: t for t in times}
    assert set(by_kind) == {"with draft", "without draft"}
    assert by_kind["with draft"]["replies"] == 3 and by_kind["with draft"]["draft_to_send_p50_s"] is not None
    assert by_kind["without draft"]["replies"] == 1 and by_kind["without draft"]["draft_to_send_p50_s"] is None
    # timed from the messages' Date (23 Nov), not from when this test stored them
    assert all(t["p50_s"] > 86400 for t in times)
    # edit sizes of the drafts that were sent from the draft: one unchanged, one with a sentence added
    assert sum(b["drafts"] for b in edits) == 2 and {"bucket": "0", "drafts": 1} in edits
    assert next(b for b in edits if b["bucket"] != "0")["bucket"] in ("21-100", "101-300")
    for dim, rows in by_dim.items():  # every breakdown counts the same five drafts
        assert sum(r["drafts"] for r in rows) == 5, dim
    assert {r["key"] for r in by_dim["drafter"]} == {"template"} and all(r["key"] for r in by_dim["language"])
    assert all(r["key"].startswith("reply.") for r in by_dim["prompt"])  # the template drafter's version
    assert all(r["key"] and "-W" in r["key"] for r in by_dim["week"])

    env = {**os.environ, "SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "shipdraft.cli", "metrics", "--by", "drafter"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "template" in done.stdout and "20.0%" in done.stdout
    assert "first response with draft: 3 answered messages" in done.stdout
    assert "first response without draft: 1 answered messages" in done.stdout
