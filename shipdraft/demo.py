"""The demo world: business data, the demo Maildir and the past threads used as style examples."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import psycopg

from agent.errors import ParseError
from agent.parsing import parse_email
from store.threads import PastThreadRepository

_SEEDED_MARKER = ".shipdraft-demo-seeded"


def demo_dir() -> Path:
    return Path(str(files("shipdraft").joinpath("demo")))


def load_business_data(*, url: str) -> None:
    """(Re)create the ``demo`` schema: customers, contacts, orders, shipments, events, fulfillments."""
    sql = (demo_dir() / "business.sql").read_text(encoding="utf-8")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # our own packaged file


def seed_maildir(*, root: Path) -> int:
    """Deliver the demo inbox into ``root/new`` once; later runs reuse what is there."""
    marker = root / _SEEDED_MARKER
    if marker.exists():
        return 0
    (root / "new").mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted((demo_dir() / "inbox").glob("*.eml")):
        target = root / "new" / f"demo-{path.stem}"
        if not target.exists():
            shutil.copyfile(path, target)
            count += 1
    marker.write_text("demo inbox delivered\n", encoding="utf-8")
    return count


async def index_history(*, mailbox: str, threads: PastThreadRepository) -> int:
    """Index the demo's answered past threads (``NN-customer.eml`` + ``NN-reply.eml``)."""
    added = 0
    for customer_path in sorted((demo_dir() / "history").glob("*-customer.eml")):
        reply_path = customer_path.with_name(customer_path.name.replace("-customer", "-reply"))
        if not reply_path.exists():
            continue
        try:
            customer = parse_email(raw=customer_path.read_bytes())
            reply = parse_email(raw=reply_path.read_bytes())
        except ParseError:
            continue
        added += await threads.add(mailbox=mailbox, thread_key=customer.message_id, subject=customer.subject,
                                   customer_text=customer.reply_text, reply_text=reply.reply_text,
                                   language=customer.language, replied_at=reply.date)
    return added
