"""Thin resource classes: build a command or a query, delegate, shape the answer."""
