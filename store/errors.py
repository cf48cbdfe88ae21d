"""The exception tree of the store package."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every store error."""


class MigrationError(StoreError):
    """A migration failed or the database lacks something it needs (pgvector)."""


class UnknownMailboxError(StoreError):
    """No mailbox of that name is configured."""
