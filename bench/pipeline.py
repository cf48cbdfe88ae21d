"""Pipeline benchmark: a few thousand generated emails through the real pipeline.

Two scenarios, each on its own fresh database (cloned from a migrated template
holding the demo business data) and its own Maildir:

1. ``embedded``: the embedded default exactly as ``shipdraft run`` wires it
   (template drafter, SQL connector on the demo schema, Maildir, default pools).
2. ``latency``: the same runtime, but the drafter waits 1 s before drafting (an
   LLM) and every call to a business system (directory, ERP, TMS, WMS) waits
   200 ms before running its query, at high concurrency.

Each scenario ingests N emails from the Maildir ``new/`` folder and processes
them with the runner's own ``ingest`` and ``process_pending``; it reports wall
time, emails per second, and CPU per email of this process and of the
PostgreSQL server processes (sleeping costs no CPU, so CPU per email is the
overhead outside the simulated waits). Afterwards it proves there is exactly
one draft per message: draft files, ``drafts`` rows and drafted messages agree,
and a second pass over a re-delivery of every email drafts nothing.

Run ``python bench/pipeline.py`` (``--quick`` for a smoke run). It starts an
embedded PostgreSQL in a temporary directory unless ``SHIPDRAFT_DATABASE_URL``
names a server (then a scratch database is created there and PostgreSQL CPU is
only measured with ``--postgres-pid``). The exit code is 0 whether targets are
met or not; missed targets are printed as FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import functools
import inspect
import logging
import os
import platform
import pstats
import random
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.scratch_db (python bench/pipeline.py)

from agent.drafting import Drafter, DraftRequest
from agent.lookup import BusinessSystems
from agent.models import Draft, Fulfillment, Order, ReferenceKind, Shipment
from agent.pipeline import Outcome, ProcessResult
from bench.scratch_db import create_database, drop_database
from connectors.base import registered_connectors
from shipdraft import demo
from shipdraft.processes import DraftingProcesses
from shipdraft.runner import draft_pending, ingest, one_pass
from shipdraft.settings import Settings
from shipdraft.wiring import Database, Runtime, open_runtime
from store.migrate import migrate

TARGET_OVERHEAD_MS = 20.0  # CPU per email, python + postgres
TARGET_RATE = 100.0  # emails/s with the simulated latencies
LLM_SECONDS = 1.0
CONNECTOR_SECONDS = 0.2


# ---------------------------------------------------------------------------------------------- simulated latency


class SlowDrafter:
    """An LLM stand-in: waits, then lets the wrapped drafter write the draft."""

    def __init__(self, *, inner: Drafter, seconds: float) -> None:
        self.name = inner.name
        self._inner = inner
        self._seconds = seconds

    async def draft(self, *, request: DraftRequest) -> Draft:
        await asyncio.sleep(self._seconds)
        return await self._inner.draft(request=request)


class SlowSystem:
    """A remote business system stand-in: every call waits, then runs the wrapped connector's query."""

    def __init__(self, *, inner: Any, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:  # anything else (system, serves, check, ...) without delay
        return getattr(self._inner, name)

    async def customers_for_sender(self, *, address: str) -> list[Any]:
        await asyncio.sleep(self._seconds)
        return await self._inner.customers_for_sender(address=address)  # type: ignore[no-any-return]

    async def get_order(self, *, order_no: str) -> Order | None:
        await asyncio.sleep(self._seconds)
        return await self._inner.get_order(order_no=order_no)  # type: ignore[no-any-return]

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        await asyncio.sleep(self._seconds)
        return await self._inner.find_orders_by_po(customer_po=customer_po)  # type: ignore[no-any-return]

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        await asyncio.sleep(self._seconds)
        return await self._inner.shipments_for_order(order_no=order_no)  # type: ignore[no-any-return]

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        await asyncio.sleep(self._seconds)
        return await self._inner.track(kind=kind, value=value)  # type: ignore[no-any-return]

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        await asyncio.sleep(self._seconds)
        return await self._inner.fulfillment(order_no=order_no)  # type: ignore[no-any-return]


class TimedMailbox:
    """Pass-through to the mail provider that adds up the wall time spent inside each of its calls.

    The Maildir provider never awaits inside a call, so for it this is the time the call blocks the event loop.
    """

    def __init__(self, *, inner: Any) -> None:
        self._inner = inner
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await attr(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed


# ---------------------------------------------------------------------------------------------- CPU accounting


class ServerCpu:
    """User + system CPU seconds of a PostgreSQL postmaster and all its (live and exited) children."""

    def __init__(self, *, pid: int | None) -> None:
        self._proc = psutil.Process(pid) if pid else None

    @property
    def available(self) -> bool:
        return self._proc is not None

    def pids(self) -> set[int]:
        if self._proc is None:
            return set()
        return {self._proc.pid} | {c.pid for c in self._proc.children(recursive=True)}

    def seconds(self) -> float:
        if self._proc is None:
            return 0.0
        t = self._proc.cpu_times()
        exited = t.children_user + t.children_system  # backends that ended
        return t.user + t.system + exited + live_cpu_seconds(self._proc.children(recursive=True))

    def by_kind(self) -> Counter[str]:
        """CPU seconds per kind of server process: "backend" (sessions) or its title ("walwriter", ...).

        A process that ends between two readings moves its CPU to "exited processes", so one kind's difference
        can be negative; the report leaves those out (the total, ``seconds``, is unaffected).
        """
        out: Counter[str] = Counter()
        if self._proc is None:
            return out
        t = self._proc.cpu_times()
        out["postmaster"] += t.user + t.system
        out["exited processes"] += t.children_user + t.children_system
        for child in self._proc.children(recursive=True):
            try:
                title, cpu = " ".join(child.cmdline()), child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            kind = title.removeprefix("postgres: ").strip()
            if "[local]" in kind or "127.0.0.1" in kind or "idle" in kind:
                kind = "backend"
            out[kind.split(" for ")[0]] += cpu.user + cpu.system
        return out


def live_cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds of these processes; one that ended meanwhile counts 0."""
    total = 0.0
    for process in processes:
        try:
            t = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


# ---------------------------------------------------------------------------------------------- generated emails


@dataclasses.dataclass(frozen=True)
class World:
    contacts: dict[str, list[str]]  # customer_id -> contact addresses
    languages: dict[str, str]  # customer_id -> language
    companies: dict[str, str]  # customer_id -> company name
    orders: dict[str, list[tuple[str, str | None]]]  # customer_id -> [(order_no, customer_po)]
    containers: dict[str, list[str]]  # customer_id -> container numbers and shipment ids


def load_world(*, url: str) -> World:
    """Real (customer, contact, order, container) combinations from the demo business data."""
    with psycopg.connect(url) as conn:
        customers = conn.execute("SELECT customer_id, name, language FROM demo.customers").fetchall()
        contacts = conn.execute("SELECT c.customer_id, c.email FROM demo.contacts c "
                                "JOIN demo.orders o USING (customer_id) GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        orders = conn.execute("SELECT customer_id, order_no, customer_po FROM demo.orders "
                              "ORDER BY order_no").fetchall()
        shipments = conn.execute("SELECT o.customer_id, coalesce(s.container_no, s.shipment_id) "
                                 "FROM demo.shipments s JOIN demo.orders o USING (order_no) "
                                 "ORDER BY s.shipment_id").fetchall()
    world = World(contacts={}, languages={c: lang for c, _, lang in customers},
                  companies={c: name for c, name, _ in customers}, orders={}, containers={})
    for cid, address in contacts:
        world.contacts.setdefault(cid, []).append(address)
    for cid, order_no, po in orders:
        world.orders.setdefault(cid, []).append((order_no, po))
    for cid, ref in shipments:
        world.containers.setdefault(cid, []).append(ref)
    return world


_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "hello": "Hi,", "bye": "Kind regards,",
        "one": ["Could you please tell me the status of order {a}? When will it be delivered?",
                "What is the ETA for order {a}? Our warehouse needs to plan the unloading.",
                "Please send the proof of delivery for order {a}."],
        "two": "Could you give me an update on orders {a} and {b}? Are they still on schedule?",
        "ship": "Where is {a} now, and when do you expect it to arrive?",
        "po": "Could you check our purchase order {a}? We have not received a confirmation yet.",
        "none": "When is your next departure to our warehouse? We have a few pallets that need to go next week.",
        "subject": ["Status order {a}", "ETA {a}", "Question about {a}", "Delivery date"],
    },
    "no": {
        "hello": "Hei,", "bye": "Med vennlig hilsen",
        "one": ["Kan dere gi meg status på ordre {a}? Når kommer varene?",
                "Hva er forventet leveringsdato for ordre {a}? Vi må planlegge mottaket.",
                "Kan dere sende kvittering for levering på ordre {a}?"],
        "two": "Kan dere gi oss en oppdatering på ordre {a} og {b}? Holder de planen?",
        "ship": "Hvor er {a} nå, og når kommer sendingen fram?",
        "po": "Kan dere sjekke vår bestilling {a}? Vi har ikke fått ordrebekreftelse ennå.",
        "none": "Når har dere neste avgang til lageret vårt? Vi har noen paller som skal sendes neste uke.",
        "subject": ["Status ordre {a}", "Levering {a}", "Spørsmål om {a}", "Leveringsdato"],
    },
    "sv": {
        "hello": "Hej,", "bye": "Vänliga hälsningar",
        "one": ["Kan ni berätta vad som är status för beställning {a}? När kommer leveransen?",
                "Vad är beräknad ankomst för order {a}? Vi behöver planera mottagningen.",
                "Kan ni skicka leveransbekräftelse för order {a}?"],
        "two": "Kan ni ge oss en uppdatering om order {a} och {b}? Håller de tidplanen?",
        "ship": "Var är {a} nu och när kommer sändningen fram?",
        "po": "Kan ni kolla vår beställning {a}? Vi har inte fått någon orderbekräftelse än.",
        "none": "När går nästa avgång till vårt lager? Vi har några pallar som ska skickas nästa vecka.",
        "subject": ["Status order {a}", "Leverans {a}", "Fråga om {a}", "Leveransdatum"],
    },
    "da": {
        "hello": "Hej,", "bye": "Venlig hilsen",
        "one": ["Kan I venligst oplyse status på ordre {a}? Hvornår kommer varerne?",
                "Hvad er forventet leveringsdato for ordre {a}? Vi skal planlægge modtagelsen.",
                "Kan I sende kvittering for levering på ordre {a}?"],
        "two": "Kan I give os en opdatering på ordre {a} og {b}? Holder de planen?",
        "ship": "Hvor er {a} nu, og hvornår kommer forsendelsen frem?",
        "po": "Kan I tjekke vores bestilling {a}? Vi har ikke fået en ordrebekræftelse endnu.",
        "none": "Hvornår er jeres næste afgang til vores lager? Vi har nogle paller, der skal af sted næste uge.",
        "subject": ["Status ordre {a}", "Levering {a}", "Spørgsmål om {a}", "Leveringsdato"],
    },
    "de": {
        "hello": "Hallo,", "bye": "Mit freundlichen Grüßen",
        "one": ["Können Sie mir bitte den Status der Bestellung {a} mitteilen? Wann wird die Ware geliefert?",
                "Wann ist die voraussichtliche Ankunft für Auftrag {a}? Wir müssen die Annahme planen.",
                "Bitte senden Sie uns den Liefernachweis für Auftrag {a}."],
        "two": "Können Sie uns ein Update zu den Aufträgen {a} und {b} geben? Sind sie noch im Plan?",
        "ship": "Wo ist {a} jetzt, und wann wird die Sendung ankommen?",
        "po": "Können Sie bitte unsere Bestellung {a} prüfen? Wir haben noch keine Bestätigung erhalten.",
        "none": "Wann ist Ihre nächste Abfahrt zu unserem Lager? Wir haben einige Paletten für nächste Woche.",
        "subject": ["Status Auftrag {a}", "Lieferung {a}", "Frage zu {a}", "Liefertermin"],
    },
}
# (kind, weight): own order, two own orders, own container/shipment id, own PO, unknown order,
# another customer's order (must be withheld), no reference at all, unknown sender asking about a real order
_KINDS = (("one", 40), ("two", 15), ("ship", 10), ("po", 7), ("unknown", 10), ("cross", 10), ("none", 5),
          ("stranger", 3))
_BASE_DATE = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def _display_name(address: str, company: str) -> str:
    local = address.partition("@")[0]
    if "." in local:
        return " ".join(p.capitalize() for p in local.split("."))
    return f"{company} {local.capitalize()}"


def generate_emails(*, world: World, count: int, seed: int, tag: str) -> Iterator[tuple[str, bytes]]:
    """``count`` (file name, RFC 822 bytes) pairs with unique Message-IDs."""
    rng = random.Random(seed)
    customers = sorted(world.orders)
    kinds = [k for k, _ in _KINDS]
    weights = [w for _, w in _KINDS]
    for i in range(count):
        cid = rng.choice(customers)
        sender = rng.choice(world.contacts[cid])
        name = _display_name(sender, world.companies[cid])
        lang = world.languages[cid] if rng.random() < 0.7 else rng.choice(sorted(_TEXTS))
        text = _TEXTS[lang]
        kind = rng.choices(kinds, weights)[0]
        own = world.orders[cid]
        a, _ = rng.choice(own)
        if kind == "one":
            body = rng.choice(text["one"]).format(a=a)
        elif kind == "two":
            (a, _), (b, _) = rng.sample(own, 2)
            body = text["two"].format(a=a, b=b)
        elif kind == "ship" and world.containers.get(cid):
            a = rng.choice(world.containers[cid])
            body = text["ship"].format(a=a)
        elif kind == "po" and any(po and po.startswith("PO-") for _, po in own):
            a = rng.choice([po for _, po in own if po and po.startswith("PO-")])
            body = text["po"].format(a=a)
        elif kind == "unknown":
            a = f"NK209{rng.randrange(1000):03d}"
            body = rng.choice(text["one"]).format(a=a)
        elif kind == "cross":
            other = rng.choice([c for c in customers if c != cid])
            a, _ = rng.choice(world.orders[other])
            body = rng.choice(text["one"]).format(a=a)
        elif kind == "none":
            a = ""
            body = text["none"]
        elif kind == "stranger":
            sender = f"buyer{rng.randrange(100)}@unknown-{rng.randrange(20)}.example"
            name = f"Buyer {i}"
            body = rng.choice(text["one"]).format(a=a)
        else:  # no container or PO for this customer: ask about an order instead
            body = rng.choice(text["one"]).format(a=a)
        subject = rng.choice(text["subject"]).format(a=a) if a else text["subject"][-1]
        plain = f"{text['hello']}\n\n{body}\n\n{text['bye']}\n{name}\n{world.companies.get(cid, '')}\n"
        when = _BASE_DATE + timedelta(minutes=i)
        msg = EmailMessage()
        msg["From"] = formataddr((name, sender))
        msg["To"] = "ops@nordkyst-logistikk.example"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = f"<{tag}.{i}.{uuid.uuid4().hex}@{sender.partition('@')[2]}>"
        if rng.random() < 0.2:  # a reply in an existing thread, with quoted history
            parent = f"<draft-{uuid.uuid4()}@shipdraft>"
            msg["In-Reply-To"] = parent
            msg["References"] = parent
            msg.replace_header("Subject", f"Re: {subject}")
            plain += (f"\nOn {format_datetime(when - timedelta(days=2))}, Nordkyst Logistikk wrote:\n"
                      "> Thank you for your email. We will come back to you shortly.\n> \n> Nordkyst Logistikk AS\n")
        msg.set_content(plain)
        if rng.random() < 0.15:  # Outlook-style multipart/alternative
            paragraphs = "".join(f"<p>{line}</p>" for line in plain.splitlines() if line)
            msg.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
        yield f"bench-{tag}-{i:06d}", msg.as_bytes()


def deliver(*, root: Path, emails: list[tuple[str, bytes]], suffix: str = "") -> None:
    new = root / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name, raw in emails:
        (new / f"{name}{suffix}").write_bytes(raw)


# ---------------------------------------------------------------------------------------------- databases


def count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]  # our own literal queries
    return int(row[0]) if row else 0


# ---------------------------------------------------------------------------------------------- scenarios


@dataclasses.dataclass
class Figures:
    scenario: str
    emails: int
    concurrency: int
    processes: int = 1
    ingest_s: float = 0.0
    process_s: float = 0.0
    python_cpu_s: float = 0.0
    postgres_cpu_s: float | None = None
    postgres_cpu_by_kind: dict[str, float] = dataclasses.field(default_factory=dict)
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)
    withheld: int = 0
    draft_files: int = 0
    draft_ids_in_files: int = 0
    draft_rows: int = 0
    distinct_draft_messages: int = 0
    drafted_messages: int = 0
    note_files: int = 0
    second_pass_ingested: int = 0
    second_pass_duplicates: int = 0
    second_pass_results: int = 0
    second_pass_new_drafts: int = 0
    mailbox_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    pass_errors: list[str] = dataclasses.field(default_factory=list)
    pool_waits: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)  # name -> (queued, wait ms)

    @property
    def wall_s(self) -> float:
        return self.ingest_s + self.process_s

    @property
    def rate(self) -> float:
        return self.emails / self.wall_s if self.wall_s else 0.0

    @property
    def process_rate(self) -> float:
        return self.emails / self.process_s if self.process_s else 0.0

    @property
    def python_ms(self) -> float:
        return 1000 * self.python_cpu_s / self.emails

    @property
    def total_ms(self) -> float | None:
        if self.postgres_cpu_s is None:
            return None
        return 1000 * (self.python_cpu_s + self.postgres_cpu_s) / self.emails

    @property
    def duplicates(self) -> int:
        """Drafts beyond one per message, wherever they show up (a draft id is derived from the message)."""
        return (max(0, self.draft_files - self.draft_ids_in_files)  # two files for one draft id
                + max(0, self.draft_ids_in_files - self.emails)  # more drafts than messages
                + max(0, self.draft_rows - self.distinct_draft_messages)  # two rows for one message
                + self.second_pass_new_drafts)  # anything drafted again after a re-delivery

    @property
    def not_drafted(self) -> int:
        """Messages that should have a draft but did not reach the ``drafted`` state (failed for good)."""
        exempt = self.outcomes.get(Outcome.SKIPPED.value, 0) + self.outcomes.get(Outcome.QUARANTINED.value, 0)
        return max(0, self.emails - exempt - self.drafted_messages)


@dataclasses.dataclass(frozen=True)
class ScenarioSpec:
    name: str
    concurrency: int
    db_pool_size: int
    connector_connections: int | None  # None: the mailbox YAML's setting (the embedded default)
    latency: bool
    processes: int = 1  # drafting processes (the runner and its helpers); concurrency and pools are split among them


def slow_systems(*, runtime: Runtime, database_url: str, max_connections: int | None,
                 latency: float) -> tuple[BusinessSystems, list[Any]]:
    """The mailbox's business systems rebuilt with a bigger pool, each kind behind a latency proxy."""
    factories = registered_connectors()
    built: dict[str, Any] = {}
    for conn_name in set(runtime.config.systems.values()):
        cfg = dict(runtime.config.connectors[conn_name])
        if max_connections:
            cfg["max_connections"] = max_connections
        built[conn_name] = factories[cfg["type"]](name=conn_name, config=cfg,
                                                  context={"database_url": database_url})

    def pick(kind: str) -> Any:
        name = runtime.config.systems.get(kind)
        return SlowSystem(inner=built[name], seconds=latency) if name else None

    systems = BusinessSystems(directory=pick("directory"), orders=pick("erp"), tracker=pick("tms"),
                              warehouse=pick("wms"), names=runtime.deps.systems.names)
    return systems, list(built.values())


@contextlib.asynccontextmanager
async def latency_runtime(runtime: Runtime, *, max_connections: int | None) -> AsyncIterator[Runtime]:
    """``runtime`` with the drafter and every business system behind simulated latencies (also in helpers)."""
    systems, extra = slow_systems(runtime=runtime, database_url=runtime.database.url,
                                  max_connections=max_connections, latency=CONNECTOR_SECONDS)
    deps = dataclasses.replace(runtime.deps, drafter=SlowDrafter(inner=runtime.deps.drafter, seconds=LLM_SECONDS),
                               systems=systems)
    try:
        yield dataclasses.replace(runtime, deps=deps, connectors={c.name: c for c in extra})
    finally:
        for c in extra:
            await c.aclose()


@contextlib.asynccontextmanager
async def helper_runtime(runtime: Runtime, *, latency: bool, max_connections: int | None) -> AsyncIterator[Runtime]:
    """A helper's runtime as the runner's: latencies applied, the embedding model loaded before the clock runs."""
    async with contextlib.AsyncExitStack() as stack:
        if latency:
            runtime = await stack.enter_async_context(latency_runtime(runtime, max_connections=max_connections))
        if runtime.threads.embedder is not None:  # the runner's model was loaded by index_history
            await runtime.threads.embedder.embed(texts=["warm-up"])
        yield runtime


def helper_cpu_seconds(*, server: ServerCpu) -> float:
    """CPU seconds of this process's live child processes (drafting helpers), PostgreSQL's excluded."""
    skip = server.pids()
    return live_cpu_seconds([c for c in psutil.Process().children(recursive=True) if c.pid not in skip])


async def run_scenario(*, spec: ScenarioSpec, admin_url: str, template: str, work: Path, world: World,
                       emails: int, seed: int, server: ServerCpu, profile: Path | None) -> Figures:
    db_name = f"shipdraft_bench_{spec.name}_{os.getpid()}"
    url = create_database(admin_url=admin_url, name=db_name, template=template)
    n = spec.processes
    per_process = {"concurrency": max(1, spec.concurrency // n), "pool": max(1, spec.db_pool_size // n),
                   "connectors": spec.connector_connections and max(1, spec.connector_connections // n)}
    settings = Settings(database_url=url, data_dir=work / spec.name, concurrency=per_process["concurrency"],
                        db_pool_size=per_process["pool"], processes=n)
    figures = Figures(scenario=spec.name, emails=emails, concurrency=spec.concurrency, processes=n)
    helpers: DraftingProcesses | None = None
    try:
        async with contextlib.AsyncExitStack() as stack:
            base = await stack.enter_async_context(
                open_runtime(settings=settings, database=Database(url=url, embedded=None)))
            await demo.index_history(mailbox=base.config.name, threads=base.threads)
            timed = TimedMailbox(inner=base.provider)
            runtime = dataclasses.replace(base, provider=timed)
            if spec.latency:
                runtime = await stack.enter_async_context(
                    latency_runtime(runtime, max_connections=per_process["connectors"]))
            if n > 1:  # the same helpers open_runtime would make, with the scenario's latencies applied in each
                customize = functools.partial(helper_runtime, latency=spec.latency,
                                              max_connections=per_process["connectors"])
                helpers = DraftingProcesses(settings=settings, database_url=url, processes=n, customize=customize)
                runtime = dataclasses.replace(runtime, helpers=helpers)
            root: Path = runtime.provider.root  # type: ignore[attr-defined]
            batch = list(generate_emails(world=world, count=emails, seed=seed, tag=spec.name))
            deliver(root=root, emails=batch)
            progress(f"[{spec.name}] {emails} emails in {root / 'new'}; {n} process(es), each: concurrency "
                     f"{per_process['concurrency']}, db pool {per_process['pool']}, connector pool "
                     f"{per_process['connectors'] or 'default'}")
            if helpers is not None:  # start the helpers, open their runtimes, load their models: before the clock
                await helpers.process_pending(runtime=runtime, on_result=lambda r: None)

            results: list[ProcessResult] = []
            profiler = cProfile.Profile() if profile else None
            cpu0 = time.process_time() + helper_cpu_seconds(server=server)
            kinds0, srv0, t0 = server.by_kind(), server.seconds(), time.perf_counter()
            if profiler:
                profiler.enable()
            stored, duplicates = await ingest(runtime=runtime)
            t1 = time.perf_counter()
            while True:  # process_pending takes up to 1000 claimable messages per call, like one runner pass
                try:
                    done = await draft_pending(runtime=runtime, on_result=results.append)
                except Exception as exc:  # like runner.run: a failing pass is logged, the next pass retries
                    figures.pass_errors.append(f"{type(exc).__name__}: {exc}")
                    progress(f"[{spec.name}] pass failed ({type(exc).__name__}: {exc}); waiting for its "
                             "orphaned tasks, then retrying")
                    await drain_orphans()
                    if len(figures.pass_errors) >= 20:
                        raise
                    continue
                if not done:
                    break
                progress(f"[{spec.name}] processed {len(results)}/{stored} "
                         f"({time.perf_counter() - t1:.1f} s)")
            t2 = time.perf_counter()
            if profiler:
                profiler.disable()
            cpu1, srv1 = time.process_time() + helper_cpu_seconds(server=server), server.seconds()
            if profiler and profile:
                dump_profile(profiler=profiler, path=profile.with_name(f"{profile.stem}-{spec.name}{profile.suffix}"))

            figures.ingest_s, figures.process_s = t1 - t0, t2 - t1
            figures.python_cpu_s = cpu1 - cpu0
            figures.postgres_cpu_s = (srv1 - srv0) if server.available else None
            kinds = server.by_kind()
            kinds.subtract(kinds0)
            figures.postgres_cpu_by_kind = {k: v for k, v in kinds.items() if v > 0.00001 * emails}
            figures.outcomes = Counter(r.outcome.value for r in results)
            figures.withheld = sum(1 for r in results if r.withheld)
            figures.mailbox_seconds = dict(timed.seconds)
            connector_pools = [find_pool(c) for c in runtime.connectors.values()]
            for label, pools in (("application", [base.pool]), ("connector", connector_pools)):
                stats = [p.get_stats() for p in pools if p is not None]
                figures.pool_waits[label] = (sum(x.get("requests_queued", 0) for x in stats),
                                             sum(x.get("requests_wait_ms", 0) for x in stats))
            if stored != emails or duplicates:
                progress(f"[{spec.name}] WARNING: ingest stored {stored} of {emails} ({duplicates} duplicates)")

            # exactly one draft per message: files, rows and states agree ...
            check_drafts(figures=figures, root=root, url=url)
            before = figures.draft_files
            # ... and a re-delivery of every email (same Message-IDs, new file names) drafts nothing new
            deliver(root=root, emails=batch, suffix="-redelivered")
            again = await one_pass(runtime=runtime)
            again2 = await one_pass(runtime=runtime)
            figures.second_pass_ingested = again.ingested + again2.ingested
            figures.second_pass_duplicates = again.duplicates + again2.duplicates
            figures.second_pass_results = len(again.results) + len(again2.results)
            check_drafts(figures=figures, root=root, url=url)
            figures.second_pass_new_drafts = max(0, figures.draft_files - before)
            if helpers is not None:
                await asyncio.to_thread(helpers.close)
    finally:
        if helpers is not None:
            helpers.close()
        drop_database(admin_url=admin_url, name=db_name)
    return figures


async def drain_orphans() -> None:
    """Wait for the per-message tasks a failed ``process_pending`` left running (its gather was abandoned)."""
    current = asyncio.current_task()
    orphans = [t for t in asyncio.all_tasks()
               if t is not current and "process_pending" in getattr(t.get_coro(), "__qualname__", "")]
    if orphans:
        await asyncio.wait(orphans)


def find_pool(connector: Any) -> Any:
    """The psycopg pool inside a SQL connector (for its wait statistics), wherever it keeps it."""
    for holder in (connector, getattr(connector, "_backend", None)):
        pool = getattr(holder, "_pool", None)
        if pool is not None and hasattr(pool, "get_stats"):
            return pool
    return None


def check_drafts(*, figures: Figures, root: Path, url: str) -> None:
    drafts = [p.name for p in (root / ".Drafts" / "cur").iterdir()]
    figures.draft_files = len(drafts)
    figures.draft_ids_in_files = len({n.split(":", 1)[0] for n in drafts})
    figures.note_files = sum(1 for p in (root / "cur").iterdir() if p.name.startswith("shipdraft-note-"))
    figures.draft_rows = count(url, "SELECT count(*) FROM drafts")
    figures.distinct_draft_messages = count(url, "SELECT count(DISTINCT message_id) FROM drafts")
    figures.drafted_messages = count(url, "SELECT count(*) FROM messages WHERE state = 'drafted'")


def dump_profile(*, profiler: cProfile.Profile, path: Path) -> None:
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler, stream=sys.stderr).strip_dirs()
    progress(f"cProfile written to {path}; top functions by own time:")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def calibration_ms() -> float:
    """CPU ms of a fixed pure-Python loop: a rough hint of this machine's speed at the moment.

    The project's machine varies by up to 2x from one minute to the next; the loop runs on one core alone,
    so it does not track how the two cores behave under the benchmark's load. Printed with every report.
    """
    start, x = time.process_time(), 0
    for i in range(3_000_000):
        x += i * i % 7
    return 1000 * (time.process_time() - start)


def report(*, runs: list[Figures], server: ServerCpu, calibration: tuple[float, float]) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    print()
    print(f"shipdraft pipeline benchmark — {platform.python_implementation()} {platform.python_version()}, "
          f"{cores} cores ({platform.processor() or platform.machine()}), PostgreSQL CPU "
          f"{'measured' if server.available else 'not measured'}")
    columns = (  # (title, second title line, width)
        ("scenario", "", 9), ("emails", "", 6), ("proc", "", 4), ("conc", "", 4), ("ingest", "s", 7),
        ("process", "s", 8),
        ("wall", "s", 7), ("emails/s", "", 8), ("CPU ms/email", "python", 12), ("CPU ms/email", "py+postgres", 12),
        ("duplicate", "drafts", 9), ("failed", "attempts", 8), ("not", "drafted", 7), ("failed", "passes", 6),
    )
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"load average at the end (1/5/15 min): {load}  (above {cores} means other work shared the cores)")
    print(f"machine speed, CPU ms of a fixed single-thread loop before / after: {calibration[0]:.0f} / "
          f"{calibration[1]:.0f}  (lower is faster; 129-840 seen on the project's machines; a rough hint only: "
          "compare figures run back to back)")
    print(" ".join(f"{t:<{w}}" if i == 0 else f"{t:>{w}}" for i, (t, _, w) in enumerate(columns)))
    print(" ".join(f"{t:<{w}}" if i == 0 else f"{t:>{w}}" for i, (_, t, w) in enumerate(columns)))
    print("-" * (sum(w for _, _, w in columns) + len(columns) - 1))
    for f in runs:
        values = (f.scenario, f.emails, f.processes, f.concurrency, f"{f.ingest_s:.2f}", f"{f.process_s:.2f}",
                  f"{f.wall_s:.2f}",
                  f"{f.rate:.1f}", f"{f.python_ms:.2f}", "n/a" if f.total_ms is None else f"{f.total_ms:.2f}",
                  f.duplicates, f.outcomes.get(Outcome.FAILED.value, 0), f.not_drafted, len(f.pass_errors))
        print(" ".join(f"{v!s:<{w}}" if i == 0 else f"{v!s:>{w}}" for i, (v, (_, _, w)) in
                       enumerate(zip(values, columns, strict=True))))
    print()
    for f in runs:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(f.outcomes.items()))
        print(f"[{f.scenario}] outcomes: {outcomes}; with withheld references: {f.withheld}; "
              f"processing only: {f.process_rate:.1f} emails/s")
        print(f"[{f.scenario}] draft files {f.draft_files} (distinct draft ids {f.draft_ids_in_files}), note files "
              f"{f.note_files}, drafts rows {f.draft_rows} (distinct messages {f.distinct_draft_messages}), "
              f"messages drafted {f.drafted_messages}")
        print(f"[{f.scenario}] re-delivery of all {f.emails}: ingested {f.second_pass_ingested}, recognised as "
              f"duplicates {f.second_pass_duplicates}, processed {f.second_pass_results}, new drafts "
              f"{f.second_pass_new_drafts}")
        print(f"[{f.scenario}] duplicate drafts: {f.duplicates}")
        calls = ", ".join(f"{k} {1000 * v / f.emails:.2f}" for k, v in
                          sorted(f.mailbox_seconds.items(), key=lambda kv: -kv[1]))
        spent = 1000 * sum(f.mailbox_seconds.values()) / f.emails
        print(f"[{f.scenario}] time inside mailbox calls, ms/email (Maildir: event loop blocked): {calls}; "
              f"total {spent:.2f} of {1000 * f.wall_s / f.emails:.2f} ms wall per email")
        waits = ", ".join(f"{k} pool: {q} requests queued, {ms / 1000:.1f} s waited in total"
                          for k, (q, ms) in f.pool_waits.items())
        print(f"[{f.scenario}] {waits}")
        if f.postgres_cpu_by_kind:
            print(f"[{f.scenario}] PostgreSQL CPU ms/email by process: " + ", ".join(
                f"{k} {1000 * v / f.emails:.2f}" for k, v in sorted(f.postgres_cpu_by_kind.items(),
                                                                    key=lambda kv: -kv[1])))
        if f.pass_errors:
            print(f"[{f.scenario}] {len(f.pass_errors)} processing pass(es) failed and were retried: "
                  + "; ".join(sorted(set(f.pass_errors))))
    print()
    print("targets (2 cores):")
    for f in runs:
        if f.total_ms is not None:
            print(f"  {verdict(f.total_ms <= TARGET_OVERHEAD_MS)}  [{f.scenario}] CPU overhead (python+postgres) "
                  f"{f.total_ms:.2f} ms/email <= {TARGET_OVERHEAD_MS:g} ms  "
                  f"({f.total_ms / TARGET_OVERHEAD_MS:.0%} of budget)")
        print(f"  {verdict(f.python_ms <= TARGET_OVERHEAD_MS)}  [{f.scenario}] CPU overhead (python only) "
              f"{f.python_ms:.2f} ms/email <= {TARGET_OVERHEAD_MS:g} ms  "
              f"({f.python_ms / TARGET_OVERHEAD_MS:.0%} of budget)")
    for f in runs:
        if f.scenario == "latency":
            print(f"  {verdict(f.rate >= TARGET_RATE)}  [{f.scenario}] throughput {f.rate:.1f} emails/s >= "
                  f"{TARGET_RATE:g} emails/s with LLM {LLM_SECONDS:g} s + connectors {CONNECTOR_SECONDS * 1000:g} ms "
                  f"({f.rate / TARGET_RATE:.2f}x target)")
    for f in runs:
        note = f"  ({f.not_drafted} of {f.emails} messages not drafted: failed for good)" if f.not_drafted else ""
        print(f"  {verdict(f.duplicates == 0)}  [{f.scenario}] duplicate drafts: {f.duplicates}{note}")


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--emails", type=int, default=3000, help="emails per scenario (default 3000)")
    p.add_argument("--concurrency", type=int, default=32,
                   help="messages at once in the embedded scenario (default 32, the Settings default)")
    p.add_argument("--latency-concurrency", type=int, default=400,
                   help="messages at once in the simulated-latency scenario (default 400)")
    p.add_argument("--latency-pool", type=int, default=40,
                   help="application pool and SQL connector pool size in the latency scenario (default 40)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    p.add_argument("--processes", type=int, default=1,
                   help="drafting processes in the embedded scenario (default 1, the Settings default)")
    p.add_argument("--latency-processes", type=int, default=cores,
                   help=f"drafting processes in the latency scenario, sharing its concurrency and pools "
                        f"(default: one per core, {cores})")
    p.add_argument("--scenario", choices=("embedded", "latency", "both"), default="both")
    p.add_argument("--quick", action="store_true", help="smoke run: 200 emails")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--profile", type=Path, default=None,
                   help="write a cProfile of each scenario's ingest+processing to PATH-<scenario>.prof")
    p.add_argument("--postgres-pid", type=int, default=None,
                   help="postmaster pid to measure when SHIPDRAFT_DATABASE_URL points at a local server")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (Maildirs) afterwards")
    args = p.parse_args(argv)
    if args.quick:
        args.emails = min(args.emails, 200)
    return args


async def main_async(args: argparse.Namespace) -> list[Figures]:
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="shipdraft-bench-"))
    handle = None
    configured = os.environ.get("SHIPDRAFT_DATABASE_URL")
    try:
        if configured:
            admin_url, pid = configured, args.postgres_pid
        else:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                import pgserver
            t = time.perf_counter()
            handle = pgserver.get_server(work / "pgdata", cleanup_mode="delete")
            admin_url, pid = handle.get_uri(), handle.get_pid()
            progress(f"embedded PostgreSQL started in {time.perf_counter() - t:.1f} s (postmaster pid {pid})")
        server = ServerCpu(pid=pid)
        template = f"shipdraft_bench_template_{os.getpid()}"
        template_url = create_database(admin_url=admin_url, name=template)
        migrate(url=template_url)
        demo.load_business_data(url=template_url)
        world = load_world(url=template_url)
        max_connections = count(admin_url, "SELECT current_setting('max_connections')::int")
        if 2 * args.latency_pool + 10 > max_connections:  # application pool + connector pool + headroom
            args.latency_pool = max(1, (max_connections - 10) // 2)
            progress(f"PostgreSQL allows {max_connections} connections: latency pools capped at {args.latency_pool}")

        specs = []
        if args.scenario in ("embedded", "both"):
            specs.append(ScenarioSpec(name="embedded", concurrency=args.concurrency,
                                      db_pool_size=Settings().db_pool_size * args.processes,
                                      connector_connections=None, latency=False, processes=args.processes))
        if args.scenario in ("latency", "both"):
            specs.append(ScenarioSpec(name="latency", concurrency=args.latency_concurrency,
                                      db_pool_size=args.latency_pool, connector_connections=args.latency_pool,
                                      latency=True, processes=args.latency_processes))
        runs = []
        before = calibration_ms()
        for spec in specs:
            runs.append(await run_scenario(spec=spec, admin_url=admin_url, template=template, work=work,
                                           world=world, emails=args.emails, seed=args.seed, server=server,
                                           profile=args.profile))
        drop_database(admin_url=admin_url, name=template)
        report(runs=runs, server=server, calibration=(before, calibration_ms()))
        return runs
    finally:
        if handle is not None:
            handle.cleanup()
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    asyncio.run(main_async(args))
    return 0  # a benchmark: missed targets are printed as FAIL, not signalled by the exit code


if __name__ == "__main__":
    sys.exit(main())
