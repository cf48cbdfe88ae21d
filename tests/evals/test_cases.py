"""The case format and the loader: folders, single YAML and JSONL files, clear errors; the committed dataset."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from agent.models import Intent
from agent.parsing import parse_email
from evals import DatasetError
from evals.cases import Case, CaseEmail, load_dataset
from tests.evals.conftest import PROFILE, case, standard_cases, write_dataset

CORE = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "core"


def test_a_folder_gets_sources_on_every_record_at_the_dataset_clock(tmp_path: Path) -> None:
    data = load_dataset(path=write_dataset(tmp_path / "d", standard_cases(), clock="2026-11-23T08:00:00+00:00",
                                           system_names={"erp": "sap-s4"}))
    assert data.name == "mini" and len(data.cases) == 3 and len(data.digest) == 64
    first = data.cases[0]
    order = first.business.orders[0]
    assert order.source.system == "sap-s4" and order.source.record_id == "NK204117"
    assert order.source.fetched_at.isoformat() == "2026-11-23T08:00:00+00:00"
    assert first.business.shipments[0].source.system == "tms"
    assert first.expect.intents == (Intent.ETA_REQUEST,)


def test_a_single_yaml_file_and_a_jsonl_file_load_the_same_cases(tmp_path: Path) -> None:
    cases = standard_cases()
    single = tmp_path / "one.yaml"
    single.write_text(yaml.safe_dump({"name": "one", "profile": PROFILE, "cases": cases}), encoding="utf-8")
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(c) for c in cases) + "\n\n", encoding="utf-8")
    from_yaml, from_jsonl = load_dataset(path=single), load_dataset(path=lines)
    assert [c.id for c in from_yaml.cases] == [c.id for c in from_jsonl.cases] == ["eta-own", "mixed", "no-ref"]
    assert from_yaml.cases[1].expect == from_jsonl.cases[1].expect


def test_expected_references_are_normalized() -> None:
    c = Case.model_validate(case("x", body="b",
                                 refs=(("container_number", "MSKU 441720-9"), ("customer_po", "PO-55040"))))
    assert [r.value for r in c.expect.references] == ["MSKU4417209", "PO55040"]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda cs: cs.append(dict(cs[0])), "appears twice"),
    (lambda cs: cs[1]["expect"].update(intents=["wish_list"]), "case mixed"),
    (lambda cs: cs[2]["business"].update(systems=["erp"]), "directory"),
    (lambda cs: cs[0].update(id="Bad Id"), "case Bad Id"),
    (lambda cs: cs[0]["email"].update(body="", html=None), "body or html"),
])
def test_invalid_cases_name_the_file_and_the_case(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    cases = standard_cases()
    mutate(cases)
    folder = write_dataset(tmp_path / "bad", cases)
    with pytest.raises(DatasetError) as err:
        load_dataset(path=folder)
    assert message in str(err.value)
    assert "cases.yaml" in str(err.value) or "appears twice" in str(err.value)


def test_unreadable_datasets_say_why(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(path=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no dataset\.yaml"):
        load_dataset(path=tmp_path / "empty")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not valid YAML"):
        load_dataset(path=broken)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({"name": "x", "profile": PROFILE, "colour": "red", "cases": standard_cases()}))
    with pytest.raises(DatasetError, match="colour"):
        load_dataset(path=unknown)
    bad_line = tmp_path / "bad.jsonl"
    bad_line.write_text('{"id": "a"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.jsonl:1 is not valid JSON"):
        load_dataset(path=bad_line)


def test_emails_become_rfc822_the_parser_reads() -> None:
    from datetime import UTC, datetime

    clock = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    plain = CaseEmail.model_validate({"from": "Kari <kari@x.example>", "subject": "Hei", "body": "Når kommer NK204117?",
                                      "attachments": [{"filename": "PO 4500123456.pdf",
                                                       "content_type": "application/pdf", "text": "x"}]})
    parsed = parse_email(raw=plain.to_rfc822(case_id="c1", clock=clock))
    assert parsed.message_id == "<c1@evals.shipdraft.example>" and parsed.from_address == "kari@x.example"
    assert "NK204117" in parsed.reply_text and parsed.attachments[0].filename == "PO 4500123456.pdf"
    assert parsed.date == clock
    html_only = CaseEmail.model_validate({"from": "a@x.example", "subject": "s",
                                          "html": "<p>Where is <b>NK204117</b>?</p>"})
    assert "NK204117" in parse_email(raw=html_only.to_rfc822(case_id="c2", clock=clock)).reply_text
    raw = CaseEmail.model_validate({"raw": "From: a@x.example\nMessage-ID: <r@x>\nSubject: s\n\nbody text\n"})
    assert parse_email(raw=raw.to_rfc822(case_id="c3", clock=clock)).message_id == "<r@x>"


# --------------------------------------------------------------------------- the committed core dataset


def test_the_core_dataset_covers_what_the_issue_asks_for() -> None:
    data = load_dataset(path=CORE)
    cases = data.cases
    assert len(cases) >= 150
    assert len({c.id for c in cases}) == len(cases)
    languages = Counter(c.expect.language for c in cases)
    assert set(languages) >= {"en", "no", "sv", "da", "de"} and min(languages.values()) >= 30
    intents = {i for c in cases for i in c.expect.intents}
    assert intents == set(Intent)  # every intent, "other" included
    tags = Counter(t for c in cases for t in c.tags)
    for needed in ("multi_reference", "missing_data", "outage", "other_customer", "injection", "no_reference",
                   "quoted", "html", "attachment", "slow_system"):
        assert tags[needed] >= 3 if needed not in ("slow_system",) else tags[needed] >= 1, needed
    assert sum(c.expect.gold_reply is not None for c in cases) >= 0.4 * len(cases)
    assert sum(bool(c.expect.must_not_include) for c in cases) >= 30
    assert sum(len(c.expect.references) > 1 for c in cases) >= 20
    outages = {k.value for c in cases for k in c.business.outages}
    assert outages >= {"directory", "erp", "tms", "wms"}
    assert any(c.business.delays for c in cases)
    scripted = [c for c in cases if c.scripted_llm_answer]
    assert len(scripted) >= 0.4 * len(cases) and any("injection" in c.tags for c in scripted)


def test_the_core_dataset_is_what_its_generator_writes() -> None:
    done = subprocess.run([sys.executable, str(CORE / "generate.py"), "--check"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
