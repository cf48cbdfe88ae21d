"""A self-contained HTML report of one run: figures, inline SVG charts, every case.

One file, no network: the CSS, the charts (SVG drawn here) and a few lines of
JavaScript to filter the case table are inline, so the report opens from a CI
artifact or a mail attachment. Every text that comes from a case (emails,
drafts, notes: untrusted) goes through Jinja2's autoescaping.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from jinja2 import BaseLoader, Environment, StrictUndefined
from markupsafe import Markup, escape

from evals.metrics import CaseResult, Summary, Thresholds, gate_violations
from evals.runner import RunReport

PALETTE = ("#2f6db5", "#e08a1e", "#3a9d5d", "#b63a3a", "#7a4fb0", "#5d6d7e")
_RATES = (
    ("reference precision", "reference_precision"),
    ("reference recall", "reference_recall"),
    ("reference F1", "reference_f1"),
    ("intent accuracy", "intent_accuracy"),
    ("language accuracy", "language_accuracy"),
    ("required-fact recall", "required_fact_recall"),
    ("predicted sent as is", "predicted_sent_as_is"),
    ("predicted as is or lightly edited", "predicted_as_is_or_light"),
    ("predicted accepted (at least edited)", "predicted_accepted"),
)


# --------------------------------------------------------------------------- charts


def bar_chart(*, items: Sequence[tuple[str, float | None]], max_value: float = 1.0, percent: bool = True,
              title: str = "") -> Markup:
    """Horizontal bars, one per (label, value); ``None`` is drawn as "n/a"."""
    label_w, bar_w, row_h = 250, 320, 24
    height = row_h * len(items) + 10
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + 70} {height}" '
             f'width="{label_w + bar_w + 70}" height="{height}"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 8}" fill="#eef1f5"/>')
        if value is None:
            parts.append(f'<text x="{label_w + 6}" y="{y + 16}" fill="#888">n/a</text>')
            continue
        w = max(0.0, min(1.0, value / max_value if max_value else 0.0)) * bar_w
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>')
        shown = f"{value:.1%}" if percent else f"{value:g}"
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 16}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(*, values: Sequence[float], edges: Sequence[float], title: str, unit: str = "",
              markers: Sequence[tuple[float, str]] = ()) -> Markup:
    """Counts of ``values`` in the bins between ``edges`` (the last bin takes everything above), with markers."""
    counts = [0] * (len(edges) - 1)
    for v in values:  # bins are [edge, next edge); what falls outside goes to the first or the last bin
        counts[min(max(bisect_right(edges, v) - 1, 0), len(counts) - 1)] += 1
    width, height, left, top_margin, bottom = 560, 220, 40, 34, 36
    plot_w, plot_h = width - left - 14, height - bottom - top_margin
    base = top_margin + plot_h
    top = max(counts) if counts and max(counts) else 1
    bw = plot_w / max(1, len(counts))
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             f'<title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{top_margin + 4}" text-anchor="end" class="small">{top}</text>',
             f'<text x="{left - 6}" y="{base}" text-anchor="end" class="small">0</text>']
    for i, n in enumerate(counts):
        h = plot_h * n / top
        x = left + i * bw
        parts.append(f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                     f'fill="{PALETTE[0]}"><title>{edges[i]:g}–{edges[i + 1]:g}{escape(unit)}: {n}</title></rect>')
        if n:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
                         f'class="small">{n}</text>')
    for i, edge in enumerate(edges):
        if i % max(1, len(edges) // 8) == 0 or i == len(edges) - 1:
            parts.append(f'<text x="{left + i * bw:.1f}" y="{base + 14}" text-anchor="middle" class="small">'
                         f'{edge:g}</text>')
    span = edges[-1] - edges[0] or 1
    for value, label in markers:
        x = left + plot_w * (value - edges[0]) / span
        anchor = "end" if x > width - 60 else "start"
        parts.append(f'<line x1="{x:.1f}" y1="{top_margin - 16}" x2="{x:.1f}" y2="{base}" stroke="{PALETTE[3]}" '
                     f'stroke-dasharray="4 3"/><text x="{x + (-3 if anchor == "end" else 3):.1f}" y="12" '
                     f'text-anchor="{anchor}" class="small" fill="{PALETTE[3]}">{escape(label)}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" class="small">'
                 f'{escape(unit.strip() or title)}</text></svg>')
    return Markup("".join(parts))


def grouped_bars(*, groups: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str],
                 title: str) -> Markup:
    """One row per group, one thin bar per series (rates 0..1)."""
    label_w, bar_w, bar_h = 190, 300, 9
    row_h = bar_h * len(series) + 10
    height = row_h * len(groups) + 30
    width = label_w + bar_w + 50
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             f'<title>{escape(title)}</title>']
    for j, name in enumerate(series):
        parts.append(f'<rect x="{10 + j * 170}" y="4" width="10" height="10" fill="{PALETTE[j]}"/>'
                     f'<text x="{24 + j * 170}" y="13" class="small">{escape(name)}</text>')
    for i, (label, values) in enumerate(groups):
        y = 26 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + row_h / 2:.1f}" text-anchor="end" class="small">'
                     f'{escape(label)}</text>')
        for j, value in enumerate(values):
            w = bar_w * max(0.0, min(1.0, value)) if value is not None else 0
            shown = "n/a" if value is None else f"{value:.0%}"
            parts.append(f'<rect x="{label_w}" y="{y + j * bar_h}" width="{w:.1f}" height="{bar_h - 1}" '
                         f'fill="{PALETTE[j]}"><title>{escape(label)} {escape(series[j])}: {shown}</title></rect>'
                         f'<text x="{label_w + w + 3:.1f}" y="{y + j * bar_h + bar_h - 1}" font-size="8">'
                         f'{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------- the page

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shipdraft eval: {{ r.dataset }} / {{ r.drafter }} / {{ r.run_id }}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d232b;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde3ea}
.meta{color:#5d6d7e}.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.tile{border:1px solid #dde3ea;border-radius:6px;padding:8px 12px;min-width:128px}
.tile b{display:block;font-size:20px}.tile span{color:#5d6d7e;font-size:12px}
.bad b{color:#b63a3a}.good b{color:#3a9d5d}
.chart text{font-size:12px;fill:#1d232b}.chart .small{font-size:10px}
.grid{display:flex;flex-wrap:wrap;gap:24px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 6px;border-bottom:1px solid #eef1f5;
text-align:left;vertical-align:top}th{background:#f6f8fa;position:sticky;top:0}
tr.problem>td:first-child{border-left:3px solid #b63a3a}
pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:4px;max-height:420px;overflow:auto}
details summary{cursor:pointer}.pill{display:inline-block;padding:0 6px;border-radius:9px;background:#eef1f5;
margin:1px;font-size:11px}.no{color:#b63a3a}.yes{color:#3a9d5d}
.gate{padding:10px 14px;border-radius:6px;margin:12px 0}.gate.pass{background:#e7f5ec}.gate.fail{background:#fbe9e9}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:12px}
</style></head><body>
<h1>shipdraft offline eval — {{ r.dataset }}</h1>
<div class="meta">run {{ r.run_id }} · {{ r.created_at.strftime("%Y-%m-%d %H:%M UTC") }}
· drafter <b>{{ r.drafter }}</b> {% if r.model %}(model {{ r.model }}){% endif %} · prompt {{ r.prompt_version }}
· dataset version {{ r.dataset_version }} (sha256 {{ r.dataset_digest[:12] }})
· {{ s.cases }} cases in {{ "%.1f"|format(r.duration_seconds) }} s · tokenizer {{ r.tokenizer }}</div>
{% if r.skipped %}<p class="meta">{{ r.skipped|length }} cases not run: {{ r.skipped_reason }}</p>{% endif %}
{% if gate is not none %}
<div class="gate {{ 'pass' if not gate else 'fail' }}">CI gate ({{ thresholds_name }}):
{% if not gate %}<b>passed</b>{% else %}<b>failed</b><ul>{% for v in gate %}<li>{{ v }}</li>{% endfor %}</ul>{% endif %}
</div>{% endif %}
<div class="tiles">
{% for label, value, bad in tiles %}
<div class="tile {{ 'bad' if bad else '' }}"><b>{{ value }}</b><span>{{ label }}</span></div>
{% endfor %}</div>

<h2>Quality</h2>
<div class="grid">{{ rates_chart }}</div>
<h2>Similarity to the gold replies</h2>
<p class="meta">{{ s.gold_cases }} cases carry a gold reply written by a logistics agent. Similarity is
<code>agent.acceptance.compare</code> (normalized Indel similarity of the agent-written parts); the dashed lines are the
acceptance thresholds: at or above "as is" an agent would send the draft unchanged, at or above "edited" with
light edits.</p>
{{ similarity_chart }}
<h2>Cost and speed</h2>
<div class="grid">{{ tokens_chart }}{{ latency_chart }}</div>
<p class="meta">Prompt tokens: the LLM prompt ({{ r.prompt_version }}) rendered for each case as it would be sent,
counted with {{ r.tokenizer }}; median {{ "%.0f"|format(s.prompt_tokens_median) }}, p95
{{ "%.0f"|format(s.prompt_tokens_p95) }}.
Latency: wall time of the pipeline from parsed email to draft and note (fixture systems; slow-system cases wait for
the lookup timeout); median {{ s.latency_ms_median }} ms, p95 {{ s.latency_ms_p95 }} ms.</p>
<h2>By scenario</h2>{{ tag_chart }}
<h2>By language</h2>{{ language_chart }}
<table><thead><tr><th>language</th><th>cases</th><th>ref F1</th><th>intent acc.</th><th>fact recall</th>
<th>unsupported</th><th>leaks</th><th>similarity</th></tr></thead><tbody>
{% for lang, x in r.by_language.items() %}
<tr><td>{{ lang }}</td><td>{{ x.cases }}</td><td>{{ pct(x.reference_f1) }}</td>
<td>{{ pct(x.intent_accuracy) }}</td><td>{{ pct(x.required_fact_recall) }}</td><td>{{ x.unsupported_claims }}</td>
<td>{{ x.leaks }}</td><td>{{ num(x.similarity_mean) }}</td></tr>{% endfor %}
</tbody></table>

<h2>Cases</h2>
<p><label><input type="checkbox" id="only-problems"> only cases with a problem</label>
&nbsp;<input type="search" id="filter" placeholder="filter by id, tag, text" size="32"></p>
<table id="cases"><thead><tr><th>case</th><th>refs tp/fp/fn</th><th>intents</th><th>facts</th><th>unsup.</th>
<th>leaks</th><th>sim.</th><th>ms</th></tr></thead><tbody>
{% for c in cases %}{% set problem = c.error or c.reference_fp or c.reference_fn or c.intent_correct == false
 or c.missing_facts or c.unsupported or c.leaks %}
<tr class="{{ 'problem' if problem else '' }}" data-problem="{{ 1 if problem else 0 }}"
 data-text="{{ (c.id ~ ' ' ~ c.tags|join(' ') ~ ' ' ~ c.description)|lower }}"><td>
<details><summary><b>{{ c.id }}</b> {{ c.description }}</summary>
<div>{% for t in c.tags %}<span class="pill">{{ t }}</span>{% endfor %}</div>
{% if c.error %}<p class="no">error: {{ c.error }}</p>{% endif %}
<p>references expected: {{ c.references_expected|join(", ") or "none" }}<br>found:
{{ c.references_found|join(", ") or "none" }}
<br>intents expected: {{ c.intents_expected|join(", ") or "none" }}; found: {{ c.intents_found|join(", ") }}
<br>language expected {{ c.language }}, detected {{ c.detected_language }}; drafter {{ c.drafter }}
{% if c.fallback_reason %}(fallback: {{ c.fallback_reason }}){% endif %}
{% if c.withheld %}<br>withheld: {{ c.withheld|join(", ") }}{% endif %}{% if c.not_found %}<br>not found:
{{ c.not_found|join(", ") }}{% endif %}{% if c.failures %}<br>system failures:
{{ c.failures|join(", ") }}{% endif %}</p>
{% for f in c.required %}<div class="{{ 'yes' if f.found else 'no' }}">{{ '✓' if f.found else '✗ missing' }}
{{ f.check.kind.value }} {{ f.check.value }}{% if f.check.why %} — {{ f.check.why }}{% endif %}</div>{% endfor %}
{% for f in c.leaks %}<div class="no">LEAK in {{ f.found_in|join(" and ") }}: {{ f.check.kind.value }}
{{ f.check.value }}{% if f.check.why %} — {{ f.check.why }}{% endif %}</div>{% endfor %}
{% for u in c.unsupported %}<div class="no">unsupported {{ u.kind }} "{{ u.text }}": {{ u.reason }}</div>{% endfor %}
<div><b>email</b> (subject: {{ c.email_subject }})<pre>{{ c.email_text }}</pre></div>
<div class="cols"><div><b>draft</b><pre>{{ c.draft_body }}</pre></div>
<div><b>gold reply</b>{% if c.gold_reply %}<pre>{{ c.gold_reply }}</pre>{% else %}<p
class="meta">none</p>{% endif %}</div></div>
<details><summary>internal note</summary><pre>{{ c.note_body }}</pre></details>
</details></td>
<td>{{ c.reference_tp }}/{{ c.reference_fp }}/{{ c.reference_fn }}</td>
<td>{% if c.intent_correct is none %}–{% elif c.intent_correct %}<span class="yes">✓</span>{% else %}<span
class="no">✗</span>{% endif %}</td>
<td>{{ c.required|selectattr("found")|list|length }}/{{ c.required|length }}</td>
<td>{{ c.unsupported|length }}</td><td>{{ c.leaks|length }}</td><td>{{ num(c.gold_similarity) }}</td>
<td>{{ "%.0f"|format(c.latency_ms) }}</td></tr>{% endfor %}
</tbody></table>
<script>
(function(){var only=document.getElementById("only-problems"),q=document.getElementById("filter");
function apply(){var text=q.value.toLowerCase();document.querySelectorAll("#cases tbody tr").forEach(function(tr){
var ok=(!only.checked||tr.dataset.problem==="1")&&(!text||tr.dataset.text.indexOf(text)>=0);
tr.style.display=ok?"":"none";});}only.addEventListener("change",apply);q.addEventListener("input",apply);})();
</script>
</body></html>
"""

_ENV = Environment(loader=BaseLoader(), autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True)
_PAGE = _ENV.from_string(_TEMPLATE)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _tiles(s: Summary) -> list[tuple[str, str, bool]]:
    return [
        ("reference F1", _pct(s.reference_f1), False),
        ("intent accuracy", _pct(s.intent_accuracy), False),
        ("required-fact recall", _pct(s.required_fact_recall), False),
        ("unsupported claims", str(s.unsupported_claims), s.unsupported_claims > 0),
        ("leaks", str(s.leaks), s.leaks > 0),
        ("errors", str(s.errors), s.errors > 0),
        ("similarity to gold (mean)", _num(s.similarity_mean), False),
        ("predicted as is or lightly edited", _pct(s.predicted_as_is_or_light), False),
        ("prompt tokens (median)", f"{s.prompt_tokens_median:.0f}", False),
        ("latency p95", f"{s.latency_ms_p95:.0f} ms", False),
    ]


def _scenario_tags(report: RunReport) -> list[str]:
    return [t for t in report.by_tag if ":" not in t and t not in ("gold", "scripted_attack", "scripted_hallucination")]


def render_report(*, report: RunReport, thresholds: Thresholds | None = None) -> str:
    """The HTML page of ``report``; with ``thresholds``, the CI gate's verdict at the top."""
    s = report.summary
    sims = [c.gold_similarity for c in report.cases if c.gold_similarity is not None]
    latency = [c.latency_ms for c in report.cases if c.error is None]
    tokens = [float(c.prompt_tokens) for c in report.cases if c.error is None]
    top_latency = max(latency, default=1.0)
    lat_edges = [0, 5, 10, 20, 50, 100, 200, 500, 1000, max(2000.0, top_latency + 1)]
    top_tokens = max(tokens, default=1000.0)
    step = max(100, int(top_tokens / 10 / 100 + 1) * 100)
    tok_edges = [float(i * step) for i in range(int(top_tokens // step) + 2)]
    series = ["reference F1", "intent accuracy", "required-fact recall"]
    tags = _scenario_tags(report)
    return _PAGE.render(
        r=report, s=s, cases=report.cases, pct=_pct, num=_num, tiles=_tiles(s),
        gate=gate_violations(summary=s, thresholds=thresholds) if thresholds is not None else None,
        thresholds_name=f"{thresholds.dataset or report.dataset} / {thresholds.drafter}" if thresholds else "",
        rates_chart=bar_chart(items=[(label, getattr(s, key)) for label, key in _RATES], title="quality rates"),
        similarity_chart=histogram(values=sims, edges=[i / 10 for i in range(11)], title="similarity to gold",
                                   unit=" similarity",
                                   markers=[(report.acceptance.edited, "edited"), (report.acceptance.as_is, "as is")]),
        tokens_chart=histogram(values=tokens, edges=tok_edges, title="prompt tokens", unit=" prompt tokens"),
        latency_chart=histogram(values=latency, edges=lat_edges, title="latency", unit=" ms (bins)"),
        tag_chart=grouped_bars(groups=[(t, [report.by_tag[t].reference_f1, report.by_tag[t].intent_accuracy,
                                            report.by_tag[t].required_fact_recall]) for t in tags],
                               series=series, title="figures by scenario"),
        language_chart=grouped_bars(groups=[(lang, [x.reference_f1, x.intent_accuracy, x.required_fact_recall])
                                            for lang, x in report.by_language.items()],
                                    series=series, title="figures by language"),
    )


def failing_cases(report: RunReport) -> list[CaseResult]:
    """Cases with an error, a leak or an unsupported claim: what a reader looks at first."""
    return [c for c in report.cases if c.error or c.leaks or c.unsupported]
