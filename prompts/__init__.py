"""Versioned jinja2 templates for drafts and notes (package data)."""
