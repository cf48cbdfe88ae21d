"""WMS connectors."""
