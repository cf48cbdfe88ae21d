"""The shipdraft pipeline: pure domain logic, no web, queue or database code."""
