"""Composition root: settings, CLI, embedded mode and wiring."""
