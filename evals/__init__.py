"""Offline evaluation of the drafting pipeline: datasets, the harness, metrics, reports and replay.

- ``evals.cases``: the case format (an email, the business state behind it,
  expectations) and the dataset loader;
- ``evals.fixture_connectors``: in-memory business systems built from a
  case, able to fail or be slow on purpose;
- ``evals.runner``: the real pipeline over a dataset, one ``RunReport``;
- ``evals.metrics``: the figures (references, intents, facts, unsupported
  claims, leaks, similarity to gold, predicted acceptance, tokens, latency)
  and the CI gate;
- ``evals.report_html``, ``evals.compare``: a self-contained HTML report and
  a case-by-case comparison of two runs;
- ``evals.replay``: drafts for answered threads of a real mailbox, compared
  with what the team actually sent.

Every error this package raises on purpose is an ``EvalError``.
"""

from __future__ import annotations


class EvalError(Exception):
    """Base of every error of the evals package; the message says what to fix."""


class DatasetError(EvalError):
    """A dataset cannot be read: missing file, invalid YAML/JSON, a case that does not validate."""


class RunConfigurationError(EvalError):
    """The run cannot start as asked (an LLM drafter without a model, an unknown prompt version, ...)."""


class ReportError(EvalError):
    """A run report (JSON) cannot be read."""
