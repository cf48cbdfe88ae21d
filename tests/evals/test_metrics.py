"""The figures: facts found by meaning in every language, micro-averages, percentiles, the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.models import Reference, ReferenceKind, ReferenceSource
from evals.cases import FactCheck
from evals.metrics import (
    CaseResult,
    FactResult,
    Summary,
    Thresholds,
    check_facts,
    fact_in_text,
    gate_violations,
    percentile,
    prf,
    reference_counts,
    scored_references,
    summarize,
)


def check(kind: str, value: str, **extra: object) -> FactCheck:
    return FactCheck.model_validate({"kind": kind, "value": value, **extra})


@pytest.mark.parametrize("text", [
    "The expected arrival in Drammen is 26 November 2026.",
    "Forventet ankomst til Drammen er 26.11.2026.",
    "Beräknad ankomst till Jönköping är 2026-11-26.",
    "Die voraussichtliche Ankunft ist am Donnerstag, 26. November.",
    "vi forventer den i Aarhus torsdag den 26. november",
    "ETA: 2026-11-26T14:00:00+01:00",
])
def test_a_date_is_found_in_any_format_and_language(text: str) -> None:
    assert fact_in_text(check=check("date", "2026-11-26"), text=text)


def test_a_date_of_another_year_or_day_is_not_the_fact() -> None:
    assert not fact_in_text(check=check("date", "2026-11-26"), text="It arrives on 26 November 2027.")
    assert not fact_in_text(check=check("date", "2026-11-26"), text="It arrives on 27 November.")
    assert fact_in_text(check=check("date", "2026-11-26", any_of=("2026-11-27",)), text="on 27 November")


@pytest.mark.parametrize(("code", "text", "found"), [
    ("in_transit", "Shipment SHP-1 is in transit.", True),
    ("in_transit", "Sendingen er underveis.", True),
    ("in_transit", "Die Sendung ist unterwegs.", True),
    ("delivered", "Ordren ble levert 20.11.", True),
    ("delivered", "We will deliver it next week.", False),
    ("confirmed", "Ordre NK1 er bekreftet.", True),
    ("shipped", "The order has not been picked yet.", False),
])
def test_a_status_is_found_by_any_phrase_of_the_shared_vocabulary(code: str, text: str, found: bool) -> None:
    assert fact_in_text(check=check("status", code), text=text) is found


def test_references_numbers_and_text() -> None:
    assert fact_in_text(check=check("reference", "NK204117"), text="Ordre 204117 er sendt.")
    assert fact_in_text(check=check("reference", "MSKU4417209"), text="container MSKU 441720 9")
    assert not fact_in_text(check=check("reference", "NK204117"), text="Ordre NK204118 er sendt.")
    assert fact_in_text(check=check("number", "1250"), text="a refund of 1.250 NOK")
    assert fact_in_text(check=check("text", "Kassel", any_of=("Cassel",)), text="bound for cassel")
    assert not fact_in_text(check=check("text", "Kassel"), text="")


def test_the_note_is_searched_only_for_checks_meant_everywhere() -> None:
    checks = [check("reference", "NK204999"), check("date", "2026-12-08", where="everywhere")]
    results = check_facts(checks=checks, draft="Nothing here.", note="withheld: NK204999; ETA 2026-12-08")
    assert [(r.found, r.found_in) for r in results] == [(False, ()), (True, ("note",))]


def test_references_only_in_quoted_history_are_not_scored() -> None:
    def ref(value: str, source: ReferenceSource) -> Reference:
        return Reference(kind=ReferenceKind.ORDER_NUMBER, value=value, raw=value, source=source, span=(0, 1))

    found = scored_references([ref("NK1", ReferenceSource.SUBJECT), ref("NK2", ReferenceSource.QUOTED),
                               ref("NK3", ReferenceSource.NEW_TEXT)])
    assert found == {"order_number:NK1", "order_number:NK3"}
    from evals.cases import ExpectedReference

    expected = [ExpectedReference(kind=ReferenceKind.ORDER_NUMBER, value="NK1"),
                ExpectedReference(kind=ReferenceKind.CUSTOMER_PO, value="PO9")]
    assert reference_counts(expected=expected, found=found) == (1, 1, 1)


def test_prf_and_percentile_edges() -> None:
    assert prf(tp=0, fp=0, fn=0) == (1.0, 1.0, 1.0)
    assert prf(tp=0, fp=2, fn=0) == (0.0, 1.0, 0.0)
    p, r, f = prf(tp=8, fp=2, fn=2)
    assert (round(p, 3), round(r, 3), round(f, 3)) == (0.8, 0.8, 0.8)
    assert percentile([], 95) == 0.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def _result(case_id: str, **values: object) -> CaseResult:
    return CaseResult(id=case_id, **values)  # type: ignore[arg-type]


def test_summaries_are_micro_averaged_over_cases() -> None:
    leak = FactResult(check=check("reference", "NK9"), found=True, found_in=("draft",))
    results = [
        _result("a", language="en", detected_language="en", reference_tp=3, reference_fp=1, intent_correct=True,
                required=(FactResult(check=check("date", "2026-11-26"), found=True),), gold_similarity=0.98,
                predicted_outcome="sent_as_is", latency_ms=10.0, prompt_tokens=700),
        _result("b", language="no", detected_language="da", reference_tp=1, reference_fn=1, intent_correct=False,
                required=(FactResult(check=check("date", "2026-11-26"), found=False),), forbidden=(leak,),
                gold_similarity=0.40, predicted_outcome="rewritten", latency_ms=30.0, prompt_tokens=900),
        _result("c", error="quarantined: empty message", reference_fn=2, intent_correct=None),
        _result("d", gold_similarity=0.85, predicted_outcome="edited", predicted_light_edit=True),
        _result("e", gold_similarity=0.60, predicted_outcome="edited"),
    ]
    s = summarize(results[:3])
    assert (s.cases, s.errors, s.reference_tp, s.reference_fp, s.reference_fn) == (3, 1, 4, 1, 3)
    assert s.reference_precision == 0.8 and s.reference_recall == round(4 / 7, 4)
    assert s.intent_cases == 2 and s.intent_accuracy == 0.5 and s.language_accuracy == 0.5
    assert (s.required_facts, s.required_found, s.required_fact_recall) == (2, 1, 0.5)
    assert s.leaks == 1 and s.cases_with_leaks == 1
    assert s.gold_cases == 2 and s.predicted_sent_as_is == 0.5 and s.predicted_accepted == 0.5
    assert s.similarity_mean == 0.69 and s.latency_ms_median == 20.0 and s.prompt_tokens_total == 1600
    # predicted acceptance at the three thresholds: as is 1 of 4; + lightly edited 2 of 4; at least edited 3 of 4
    s = summarize(results)
    assert s.gold_cases == 4 and s.predicted_sent_as_is == 0.25
    assert s.predicted_as_is_or_light == 0.5 and s.predicted_accepted == 0.75


def test_the_gate_names_every_threshold_it_misses() -> None:
    thresholds = Thresholds(min_cases=150, min_reference_f1=0.95, min_required_fact_recall=0.9,
                            min_intent_accuracy=0.9)
    good = Summary(cases=200, reference_f1=0.97, required_fact_recall=0.93, intent_accuracy=0.91)
    assert gate_violations(summary=good, thresholds=thresholds) == []
    bad = Summary(cases=100, errors=1, unsupported_claims=2, leaks=1, reference_f1=0.9, required_fact_recall=0.8,
                  intent_accuracy=0.85)
    problems = gate_violations(summary=bad, thresholds=thresholds)
    assert len(problems) == 7 and any("intent accuracy 0.8500 below 0.9000" in p for p in problems)
    assert any("2 unsupported claims" in p for p in problems) and any("1 leaks" in p for p in problems)


def test_thresholds_load_from_json_and_say_what_is_wrong(tmp_path: Path) -> None:
    from evals import EvalError
    from evals.metrics import load_thresholds

    good = tmp_path / "t.json"
    good.write_text('{"dataset": "core", "min_reference_f1": 0.99, "max_leaks": 0}', encoding="utf-8")
    assert load_thresholds(path=good).min_reference_f1 == 0.99
    bad = tmp_path / "bad.json"
    bad.write_text('{"min_reference_f1": 0.99, "max_leak": 0}', encoding="utf-8")
    with pytest.raises(EvalError, match="max_leak"):
        load_thresholds(path=bad)
    with pytest.raises(EvalError, match="cannot read thresholds"):
        load_thresholds(path=tmp_path / "missing.json")
