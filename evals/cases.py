"""The eval case format and the dataset loader.

A **case** is one inbound email, the state of the business systems behind it
(customers and their contacts, orders, shipments, fulfillments, and which
systems are down or slow), and what a good answer looks like: the references
and intents in the email, facts the draft must state, facts it must never
state (another customer's data, withheld references, injected links), and
optionally a gold reply written by a logistics agent.

A **dataset** is a folder::

    dataset.yaml        name, description, version, clock, profile (the mailbox), lookup_timeout
    cases*.yaml         YAML lists of cases (or a ``cases:`` list inside dataset.yaml)
    cases*.jsonl        one case per line

or a single YAML file holding the ``dataset.yaml`` keys and ``cases``. Records
carry no ``source``: the loader adds one (system = the kind's system name,
record id, fetched at the dataset clock), so they are the very
``agent.models`` records a real connector returns. The full field reference
is ``docs/evals.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from agent.models import Fulfillment, Intent, Order, ReferenceKind, Shipment
from agent.profile import MailboxProfile
from connectors.base import Kind
from evals import DatasetError

DEFAULT_CLOCK = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DEFAULT_SYSTEM_NAMES = {Kind.DIRECTORY: "crm", Kind.ERP: "erp", Kind.TMS: "tms", Kind.WMS: "wms"}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CASE_ID = r"^[a-z0-9][a-z0-9_.-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- the email


class CaseAttachment(_Model):
    filename: str
    content_type: str = "text/plain"
    text: str = ""


class CaseEmail(_Model):
    """The inbound message, as fields (built into RFC 822) or as a complete ``raw`` message."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    sender: str = Field(default="", alias="from", description='"Name <address>" or an address')
    to: str = "ops@nordkyst-logistikk.example"
    cc: str = ""
    subject: str = ""
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    body: str = ""
    html: str | None = Field(default=None, description="an HTML alternative; the only body when body is empty")
    headers: dict[str, str] = Field(default_factory=dict)
    attachments: tuple[CaseAttachment, ...] = ()
    raw: str | None = Field(default=None, description="a complete RFC 822 message instead of the fields above")

    @model_validator(mode="after")
    def _usable(self) -> CaseEmail:
        if self.raw is None and not self.sender:
            raise ValueError("email needs 'from' (or a complete 'raw' message)")
        if self.raw is None and not (self.body or self.html):
            raise ValueError("email needs a body or html (or a complete 'raw' message)")
        return self

    def to_rfc822(self, *, case_id: str, clock: datetime) -> bytes:
        """The message as a mail server would deliver it."""
        if self.raw is not None:
            return self.raw.encode("utf-8")
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = self.to
        if self.cc:
            msg["Cc"] = self.cc
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(self.date or clock)
        msg["Message-ID"] = self.message_id or f"<{case_id}@evals.shipdraft.example>"
        if self.in_reply_to:
            msg["In-Reply-To"] = self.in_reply_to
            msg["References"] = self.in_reply_to
        for name, value in self.headers.items():
            msg[name] = value
        if self.body:
            msg.set_content(self.body)
            if self.html:
                msg.add_alternative(self.html, subtype="html")
        else:
            msg.set_content(self.html or "", subtype="html")
        for a in self.attachments:
            maintype, _, subtype = a.content_type.partition("/")
            msg.add_attachment(a.text.encode("utf-8"), maintype=maintype, subtype=subtype or "octet-stream",
                               filename=a.filename)
        return msg.as_bytes()


# --------------------------------------------------------------------------- the business state


class Outage(StrEnum):
    """How a system fails in a case; each is the connector error of the same category."""

    RETRYABLE = "retryable"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    CONFIGURATION = "configuration"
    SYSTEM = "system"


class Customer(_Model):
    """A customer of the mailbox: its contacts (exact addresses) and email domains."""

    id: str
    name: str = ""
    contacts: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @field_validator("contacts", "domains")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in values)


class BusinessState(_Model):
    """What the business systems know for one case, and how they behave."""

    customers: tuple[Customer, ...] = ()
    orders: tuple[Order, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    fulfillments: tuple[Fulfillment, ...] = ()
    systems: tuple[Kind, ...] = (Kind.DIRECTORY, Kind.ERP, Kind.TMS, Kind.WMS)
    outages: dict[Kind, Outage] = Field(default_factory=dict)
    delays: dict[Kind, float] = Field(default_factory=dict, description="seconds each call of that kind takes")

    @model_validator(mode="before")
    @classmethod
    def _add_sources(cls, data: Any, info: ValidationInfo) -> Any:
        """Records in a case have no ``source``; give each the one its connector would."""
        if not isinstance(data, dict):
            return data
        context = info.context or {}
        clock = context.get("clock", DEFAULT_CLOCK)
        names = {**DEFAULT_SYSTEM_NAMES, **context.get("system_names", {})}
        out = dict(data)
        for key, kind, id_field in (("orders", Kind.ERP, "order_no"), ("shipments", Kind.TMS, "shipment_id"),
                                    ("fulfillments", Kind.WMS, "order_no")):
            records = []
            for record in out.get(key) or ():
                if isinstance(record, dict) and "source" not in record:
                    record = {**record, "source": {"system": names[kind], "record_id": str(record.get(id_field, "")),
                                                   "fetched_at": clock}}
                records.append(record)
            out[key] = records
        return out

    @model_validator(mode="after")
    def _directory_present(self) -> BusinessState:
        if Kind.DIRECTORY not in self.systems:
            raise ValueError("systems must include directory: authorization needs to know who the sender is")
        return self


# --------------------------------------------------------------------------- expectations


class FactKind(StrEnum):
    """How a fact is looked for in a draft: by meaning, not by spelling (see ``evals.metrics``)."""

    DATE = "date"  # any date format or language; value is ISO (2026-12-03)
    STATUS = "status"  # a status code (in_transit); any phrase of the shared vocabulary
    REFERENCE = "reference"  # an identifier, normalized (NK204117 also matches "ordre 204117")
    NUMBER = "number"
    TEXT = "text"  # case-insensitive substring; ``any_of`` gives alternatives


class Scope(StrEnum):
    DRAFT = "draft"  # the draft's subject and body
    EVERYWHERE = "everywhere"  # the draft and the internal note (another customer's record content)


class FactCheck(_Model):
    kind: FactKind
    value: str
    any_of: tuple[str, ...] = ()
    where: Scope = Scope.DRAFT
    why: str = ""

    def label(self) -> str:
        return f"{self.kind.value}:{self.value}"


class ExpectedReference(_Model):
    kind: ReferenceKind
    value: str

    @field_validator("value")
    @classmethod
    def _normalized(cls, value: str) -> str:
        return re.sub(r"[\s.\-/]", "", value).upper()


class Expectations(_Model):
    """What a good answer to the case looks like.

    ``references``: every reference in the subject, the new text, forwarded text and attachments
    (not those only in quoted history), normalized. ``intents``: what the customer asks for, as a set.
    """

    language: str | None = None
    references: tuple[ExpectedReference, ...] = ()
    intents: tuple[Intent, ...] = ()
    must_include: tuple[FactCheck, ...] = ()
    must_not_include: tuple[FactCheck, ...] = ()
    gold_reply: str | None = None


class Case(_Model):
    id: str = Field(pattern=_CASE_ID)
    description: str = ""
    tags: tuple[str, ...] = ()
    email: CaseEmail
    business: BusinessState = Field(default_factory=BusinessState)
    expect: Expectations = Field(default_factory=Expectations)
    scripted_llm_answer: dict[str, Any] | None = Field(
        default=None, description="what a scripted model answers for --drafter llm (LLMDraftOutput fields)")
    lookup_timeout: float | None = Field(default=None, gt=0, description="overrides the dataset's")

    @property
    def language(self) -> str:
        return self.expect.language or "unknown"


# --------------------------------------------------------------------------- the dataset


class Dataset(_Model):
    name: str
    description: str = ""
    version: str = "1"
    clock: datetime = DEFAULT_CLOCK
    profile: MailboxProfile
    system_names: dict[Kind, str] = Field(default_factory=lambda: dict(DEFAULT_SYSTEM_NAMES))
    lookup_timeout: float = Field(default=2.0, gt=0)
    cases: tuple[Case, ...] = ()
    digest: str = Field(default="", description="sha256 of the files read, set by the loader")
    path: str = ""

    def raw_email(self, case: Case) -> bytes:
        return case.email.to_rfc822(case_id=case.id, clock=self.clock)

    def timeout_for(self, case: Case) -> float:
        return case.lookup_timeout or self.lookup_timeout


_META_KEYS = {"name", "description", "version", "clock", "profile", "system_names", "lookup_timeout"}


def load_dataset(*, path: Path) -> Dataset:
    """A dataset from a folder (``dataset.yaml`` + case files) or from one YAML or JSONL file."""
    if not path.exists():
        raise DatasetError(f"dataset {path} does not exist")
    digest = hashlib.sha256()
    if path.is_dir():
        meta_path = path / "dataset.yaml"
        if not meta_path.is_file():
            raise DatasetError(f"{path} has no dataset.yaml")
        meta = _read_yaml_mapping(meta_path, digest)
        raw_cases: list[tuple[str, Any]] = [(f"{meta_path}#cases[{i}]", c) for i, c in
                                            enumerate(meta.pop("cases", None) or [])]
        files = sorted([*path.glob("cases*.yaml"), *path.glob("cases*.yml"), *path.glob("cases*.jsonl")])
        for case_file in files:
            raw_cases += _read_cases(case_file, digest)
    elif path.suffix == ".jsonl":
        meta = {"name": path.stem, "profile": {"name": path.stem, "address": "ops@evals.example"}}
        raw_cases = _read_cases(path, digest)
    else:
        meta = _read_yaml_mapping(path, digest)
        raw_cases = [(f"{path}#cases[{i}]", c) for i, c in enumerate(meta.pop("cases", None) or [])]
    unknown = set(meta) - _META_KEYS
    if unknown:
        raise DatasetError(f"{path}: unknown dataset keys {sorted(unknown)} (known: {sorted(_META_KEYS)})")
    try:
        base = Dataset.model_validate({**meta, "cases": []})
    except ValidationError as exc:
        raise DatasetError(f"{path}: invalid dataset settings: {exc}") from exc
    context = {"clock": base.clock, "system_names": base.system_names}
    cases: list[Case] = []
    for where, data in raw_cases:
        try:
            cases.append(Case.model_validate(data, context=context))
        except ValidationError as exc:
            case_id = data.get("id", "?") if isinstance(data, dict) else "?"
            raise DatasetError(f"{where} (case {case_id}): {exc}") from exc
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise DatasetError(f"{path}: case id {case.id!r} appears twice")
        seen.add(case.id)
    if not cases:
        raise DatasetError(f"{path}: the dataset has no cases")
    return base.model_copy(update={"cases": tuple(cases), "digest": digest.hexdigest(), "path": str(path)})


def _read_yaml_mapping(path: Path, digest: Any) -> dict[str, Any]:
    text = _read_text(path, digest)
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a mapping at the top level")
    return data


def _read_cases(path: Path, digest: Any) -> list[tuple[str, Any]]:
    text = _read_text(path, digest)
    if path.suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append((f"{path}:{n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{n} is not valid JSON: {exc}") from exc
        return out
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a list of cases")
    return [(f"{path}[{i}]", c) for i, c in enumerate(data)]


def _read_text(path: Path, digest: Any) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    digest.update(path.name.encode())
    digest.update(raw)
    return raw.decode("utf-8")
