"""A small hand-written dataset for the harness tests: one customer asks, another customer's records exist.

Sender Kari (C100, Hansen Møbler) asks about her order NK204117 (in transit, ETA 26 November)
and sometimes about NK204999, which belongs to C500 (Müller, ETA 8 December, bound for Kassel).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.cases import Dataset, load_dataset

KARI = "Kari Nilsen <kari.nilsen@hansen-mobler.example>"

PROFILE: dict[str, Any] = {
    "name": "ops",
    "address": "ops@nordkyst-logistikk.example",
    "references": {"order_patterns": [r"\bNK[\s-]?\d{6}\b"], "order_label_value": r"(?:NK[\s-]?)?\d{6}",
                   "order_prefix": "NK"},
    "style": {"company": "Nordkyst Logistikk AS", "signature": "Nordkyst Logistikk – Kundeservice"},
}

BUSINESS: dict[str, Any] = {
    "customers": [
        {"id": "C100", "name": "Hansen Møbler AS", "contacts": ["kari.nilsen@hansen-mobler.example"],
         "domains": ["hansen-mobler.example"]},
        {"id": "C500", "name": "Müller Maschinenbau GmbH", "contacts": ["julia.mueller@mueller.example"]},
    ],
    "orders": [
        {"order_no": "NK204117", "customer_id": "C100", "customer_po": "PO-55040", "status": "shipped",
         "confirmed_date": "2026-11-27"},
        {"order_no": "NK204999", "customer_id": "C500", "status": "shipped", "confirmed_date": "2026-12-09"},
    ],
    "shipments": [
        {"shipment_id": "SHP-100200", "order_no": "NK204117", "customer_id": "C100", "carrier": "DSV",
         "status": "in_transit", "eta": "2026-11-26T14:00:00+01:00", "destination": "Drammen",
         "container_no": "MSKU4417209"},
        {"shipment_id": "SHP-100300", "order_no": "NK204999", "customer_id": "C500", "carrier": "DHL",
         "status": "in_transit", "eta": "2026-12-08T14:00:00+01:00", "destination": "Kassel"},
    ],
}

GOLD = ("Hi Kari,\n\nOrder NK204117 is on its way with DSV and should reach Drammen on 26 November 2026.\n\n"
        "Best regards,\nNordkyst Logistikk – Kundeservice\n")


def case(case_id: str, *, body: str, subject: str = "ETA NK204117", sender: str = KARI,
         refs: tuple[tuple[str, str], ...] = (("order_number", "NK204117"),),
         intents: tuple[str, ...] = ("eta_request",),
         must: tuple[dict[str, Any], ...] = ({"kind": "date", "value": "2026-11-26"},),
         must_not: tuple[dict[str, Any], ...] = (), gold: str | None = None, business: dict[str, Any] | None = None,
         scripted: dict[str, Any] | None = None, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": case_id, "tags": list(tags),
        "email": {"from": sender, "subject": subject, "body": body},
        "business": copy.deepcopy(business if business is not None else BUSINESS),
        "expect": {"language": "en", "references": [{"kind": k, "value": v} for k, v in refs],
                   "intents": list(intents), "must_include": list(must), "must_not_include": list(must_not)},
    }
    if gold:
        out["expect"]["gold_reply"] = gold
    if scripted:
        out["scripted_llm_answer"] = scripted
    return out


def other_customer_checks() -> tuple[dict[str, Any], ...]:
    return ({"kind": "reference", "value": "NK204999"},
            {"kind": "date", "value": "2026-12-08", "where": "everywhere"},
            {"kind": "text", "value": "Kassel", "where": "everywhere"})


def standard_cases() -> list[dict[str, Any]]:
    return [
        case("eta-own", body="Hi,\n\nWhen will order NK204117 arrive in Drammen?\n\nThanks,\nKari\n", gold=GOLD,
             tags=("eta",),
             scripted={"reply_text": GOLD.replace("2026.\n", "2026. We will refund 500 NOK.\n"), "confidence": 0.8,
                       "language": "en"}),
        case("mixed", subject="ETA NK204117 and NK204999",
             body="Hi,\n\nWhen will orders NK204117 and NK204999 be delivered?\n\nKari\n",
             refs=(("order_number", "NK204117"), ("order_number", "NK204999")), must_not=other_customer_checks(),
             tags=("other_customer",)),
        case("no-ref", subject="Where is our delivery?", refs=(), must=(),
             body="Hi,\n\nOur delivery should have been here yesterday. Where is it?\n\nKari\n", tags=("eta",)),
    ]


def write_dataset(folder: Path, cases: list[dict[str, Any]], **meta: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(yaml.safe_dump({"name": "mini", "profile": PROFILE, **meta},
                                                        allow_unicode=True), encoding="utf-8")
    (folder / "cases.yaml").write_text(yaml.safe_dump(cases, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def mini(tmp_path: Path) -> Dataset:
    return load_dataset(path=write_dataset(tmp_path / "mini", standard_cases()))
