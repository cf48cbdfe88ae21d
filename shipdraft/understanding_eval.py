"""``shipdraft eval understanding``: parsing, references and intents scored on the labelled set.

Reads ``evals/understanding/labels.yaml`` and the emails beside it, runs the
same ``parse_email`` + ``extract_references`` + ``RuleIntentClassifier`` the
pipeline runs (with the demo mailbox's reference rules, which the set was
written for) and reports:

- precision, recall and F1 per reference kind and overall, on (kind, value);
- of the references found right: how often the place (subject, new text,
  forwarded, attachment, quoted) and the validity (with the suggestion for a
  typo) are right too;
- intent accuracy (the exact set) and per-intent precision and recall;
- language accuracy; new-text accuracy (the customer's new text, whitespace
  normalized, equals the label); forwarded and hidden-text flags.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.intents import IntentClassifier, RuleIntentClassifier
from agent.parsing import parse_email
from agent.profile import ReferenceRules
from agent.references import extract_references

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "evals" / "understanding"
TARGET_REFERENCE_F1 = 0.98
TARGET_INTENT_ACCURACY = 0.90


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class UnderstandingReport:
    emails: int = 0
    references: dict[str, Scores] = field(default_factory=dict)
    intents: dict[str, Scores] = field(default_factory=dict)
    intent_exact: int = 0
    language_right: int = 0
    reply_text_right: int = 0
    source_right: int = 0
    validity_right: int = 0
    flags_right: int = 0
    errors: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def overall(self) -> Scores:
        total = Scores()
        for s in self.references.values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    @property
    def intent_accuracy(self) -> float:
        return self.intent_exact / self.emails if self.emails else 0.0

    @property
    def passed(self) -> bool:
        return (self.overall.f1 >= TARGET_REFERENCE_F1 and self.intent_accuracy >= TARGET_INTENT_ACCURACY
                and not self.errors)


def evaluate(*, directory: Path = DEFAULT_DIR, rules: ReferenceRules | None = None,
             classifier: IntentClassifier | None = None) -> UnderstandingReport:
    """Score the understanding stage on the labelled emails in ``directory``."""
    if rules is None:
        from shipdraft.config import demo_config_path, load_mailbox_config

        rules = load_mailbox_config(path=demo_config_path()).references
    classifier = classifier or RuleIntentClassifier()
    labels = yaml.safe_load((directory / "labels.yaml").read_text(encoding="utf-8"))
    report = UnderstandingReport()
    for entry in labels:
        report.emails += 1
        name = entry["file"]
        try:
            email = parse_email(raw=(directory / "emails" / name).read_bytes())
        except Exception as exc:  # a labelled email must parse: count it and go on
            report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        found = {(r.kind.value, r.value): r for r in extract_references(email=email, rules=rules)}
        want = {(r["kind"], r["value"]): r for r in entry["references"]}
        for kind in {k for k, _ in found} | {k for k, _ in want}:
            report.references.setdefault(kind, Scores())
        for key, ref in found.items():
            scores = report.references[key[0]]
            if key in want:
                scores.tp += 1
                label = want[key]
                report.source_right += ref.source.value == label["source"]
                report.validity_right += (ref.validity.value == label["validity"]
                                          and ref.suggestion == label.get("suggestion"))
                if ref.source.value != label["source"]:
                    report.misses.append(f"{name}: {key} found in {ref.source.value}, labelled {label['source']}")
            else:
                scores.fp += 1
                report.misses.append(f"{name}: extra {key} ({ref.source.value}: {ref.raw!r})")
        for key in want.keys() - found.keys():
            report.references[key[0]].fn += 1
            report.misses.append(f"{name}: missing {key} ({want[key]['source']})")
        got_intents = {i.value for i in classifier.classify(email=email)}
        want_intents = set(entry["intents"])
        report.intent_exact += got_intents == want_intents
        if got_intents != want_intents:
            report.misses.append(f"{name}: intents {sorted(got_intents)}, labelled {sorted(want_intents)}")
        for intent in got_intents | want_intents:
            s = report.intents.setdefault(intent, Scores())
            if intent in got_intents and intent in want_intents:
                s.tp += 1
            elif intent in got_intents:
                s.fp += 1
            else:
                s.fn += 1
        report.language_right += email.language == entry["language"]
        if email.language != entry["language"]:
            report.misses.append(f"{name}: language {email.language}, labelled {entry['language']}")
        same_text = _squash(email.reply_text) == _squash(entry["reply_text"])
        report.reply_text_right += same_text
        if not same_text:
            report.misses.append(f"{name}: new text differs: {email.reply_text[:200]!r}")
        report.flags_right += (email.forwarded == entry["forwarded"]
                               and email.hidden_text == entry["hidden_text"])
    return report


def as_dict(report: UnderstandingReport) -> dict[str, Any]:
    """The figures as plain data (for --json and for tests)."""
    overall = report.overall
    return {
        "emails": report.emails,
        "references": {k: _scores(s) for k, s in sorted(report.references.items())},
        "references_overall": _scores(overall),
        "source_accuracy": round(report.source_right / overall.tp, 4) if overall.tp else 0.0,
        "validity_accuracy": round(report.validity_right / overall.tp, 4) if overall.tp else 0.0,
        "intent_accuracy": round(report.intent_accuracy, 4),
        "intents": {k: _scores(s) for k, s in sorted(report.intents.items())},
        "language_accuracy": _ratio(report.language_right, report.emails),
        "reply_text_accuracy": _ratio(report.reply_text_right, report.emails),
        "flag_accuracy": _ratio(report.flags_right, report.emails),
        "errors": report.errors,
        "passed": report.passed,
    }


def format_report(report: UnderstandingReport, *, verbose: bool = False) -> str:
    """The report for a person: a table per references and intents, then the other figures."""
    d = as_dict(report)
    lines = [f"understanding eval: {report.emails} emails", "",
             f"{'reference kind':<18} {'precision':>9} {'recall':>7} {'F1':>7} {'tp':>5} {'fp':>4} {'fn':>4}"]
    for kind, s in d["references"].items():
        lines.append(f"{kind:<18} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>7.3f} "
                     f"{s['tp']:>5} {s['fp']:>4} {s['fn']:>4}")
    o = d["references_overall"]
    lines += [f"{'ALL':<18} {o['precision']:>9.3f} {o['recall']:>7.3f} {o['f1']:>7.3f} {o['tp']:>5} {o['fp']:>4} "
              f"{o['fn']:>4}   (target F1 >= {TARGET_REFERENCE_F1})",
              f"place right {d['source_accuracy']:.3f}, validity and suggestion right {d['validity_accuracy']:.3f}",
              "", f"{'intent':<18} {'precision':>9} {'recall':>7} {'F1':>7}"]
    for intent, s in d["intents"].items():
        lines.append(f"{intent:<18} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>7.3f}")
    lines += [f"intent accuracy (exact set) {d['intent_accuracy']:.3f}   (target >= {TARGET_INTENT_ACCURACY})",
              f"language accuracy {d['language_accuracy']:.3f}",
              f"new text exactly right {d['reply_text_accuracy']:.3f}",
              f"forwarded / hidden-text flags right {d['flag_accuracy']:.3f}"]
    lines += [f"ERROR {e}" for e in report.errors]
    if verbose:
        lines += ["", *report.misses]
    lines.append("PASS" if report.passed else "FAIL: below target")
    return "\n".join(lines)


def _scores(s: Scores) -> dict[str, Any]:
    return {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
            "tp": s.tp, "fp": s.fp, "fn": s.fn}


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def count_kinds(directory: Path = DEFAULT_DIR) -> Counter[str]:
    """How many labelled references of each kind the set holds."""
    labels = yaml.safe_load((directory / "labels.yaml").read_text(encoding="utf-8"))
    return Counter(r["kind"] for entry in labels for r in entry["references"])
