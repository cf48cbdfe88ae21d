"""The exception tree of the agent package."""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error raised by the agent package."""


class ParseError(AgentError):
    """The message cannot be read; it is quarantined with this reason."""


class ConfigurationError(AgentError):
    """A mailbox profile is invalid (bad regex, unknown language, ...)."""


class TemplateError(AgentError):
    """A draft or note template failed to render."""
