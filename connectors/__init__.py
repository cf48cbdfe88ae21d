"""Adapters to external systems, grouped by kind behind one Protocol each."""
