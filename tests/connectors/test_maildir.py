"""The Maildir provider: ingest, acknowledge, post draft and note atomically, find them again, sent items."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.models import Draft, Note
from agent.parsing import parse_email
from connectors.mail.base import MailError
from connectors.mail.maildir import MaildirMailbox
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


@pytest.fixture
def box(tmp_path: Path) -> MaildirMailbox:
    return MaildirMailbox(name="ops", path=tmp_path / "ops", address="ops@x.example", display_name="Ops")


def _draft(draft_id: str = "d-1") -> Draft:
    return Draft(draft_id=draft_id, subject="Re: hi", body="Hello\n", language="en", drafter="template",
                 template_version="reply.en@0")


async def test_new_mail_is_offered_until_acknowledged(box: MaildirMailbox) -> None:
    (box.root / "new" / "a").write_bytes(make_email())
    (box.root / "cur" / "b:2,S").write_bytes(make_email())  # already seen by a client, never stored by us
    assert sorted(i.provider_key for i in await box.fetch_new()) == ["a", "b"]
    await box.acknowledge(provider_key="a")
    await box.acknowledge(provider_key="b")
    assert await box.fetch_new() == []
    assert (box.root / "cur" / "a:2,").exists() and not (box.root / "new" / "a").exists()


async def test_draft_and_note_are_found_after_posting(box: MaildirMailbox) -> None:
    inbound = parse_email(raw=make_email())
    assert await box.find_draft(draft_id="d-1") is None
    location = await box.post_draft(inbound=inbound, draft=_draft())
    assert await box.find_draft(draft_id="d-1") == location
    note_location = await box.post_note(inbound=inbound, note=Note(draft_id="d-1", subject="[shipdraft note] x",
                                                                    body="facts"))
    assert await box.find_note(draft_id="d-1") == note_location
    assert list((box.root / ".Drafts" / "tmp").iterdir()) == []  # nothing half-written left behind
    # our own files never come back as inbound mail
    assert await box.fetch_new() == []


async def test_draft_resaved_by_a_client_under_another_name_is_still_found(box: MaildirMailbox) -> None:
    inbound = parse_email(raw=make_email())
    location = await box.post_draft(inbound=inbound, draft=_draft("d-2"))
    (box.root / location).rename(box.root / ".Drafts" / "cur" / "1700000000.M1P1.client:2,DS")
    assert await box.find_draft(draft_id="d-2") == ".Drafts/cur/1700000000.M1P1.client:2,DS"


async def test_sent_items_are_offered_once(box: MaildirMailbox) -> None:
    (box.root / ".Sent" / "cur" / "s1:2,S").write_bytes(make_email())
    assert [i.provider_key for i in await box.fetch_sent()] == ["s1"]
    assert await box.fetch_sent() == []


def test_path_is_required(tmp_path: Path) -> None:
    with pytest.raises(MailError, match=r"provider\.path"):
        MaildirMailbox.from_config(name="ops", config={}, address="a@b", display_name="", base_dir=tmp_path)
    relative = MaildirMailbox.from_config(name="ops", config={"path": "m/ops"}, address="a@b", display_name="",
                                          base_dir=tmp_path)
    assert relative.root == tmp_path / "m" / "ops"


async def test_looking_a_draft_up_reads_each_file_once(box: MaildirMailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors.mail.maildir as maildir

    inbound = parse_email(raw=make_email())
    for i in range(40):
        await box.post_draft(inbound=inbound, draft=_draft(f"d-{i}"))
    (box.root / ".Drafts" / "cur" / "resaved:2,DS").write_bytes(  # a client re-saved d-x under its own name
        make_email(extra={"X-Shipdraft-Draft-Id": "d-x"}))
    parses: list[str] = []
    real = maildir._HEADERS.parse

    def counting(fh, *args, **kwargs):  # type: ignore[no-untyped-def]
        parses.append(fh.name)
        return real(fh, *args, **kwargs)

    monkeypatch.setattr(maildir._HEADERS, "parse", counting)
    assert await box.find_draft(draft_id="d-7") == ".Drafts/cur/shipdraft-draft-d-7:2,D"  # by name: no parse
    assert parses == []
    assert await box.find_draft(draft_id="d-x") == ".Drafts/cur/resaved:2,DS"  # by header: each file read once
    assert await box.find_draft(draft_id="missing") is None
    assert await box.find_draft(draft_id="d-x") == ".Drafts/cur/resaved:2,DS"
    assert len(parses) == len(set(parses)) == 41
