"""TMS connectors."""
