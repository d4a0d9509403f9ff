"""Edges to the outside world: settings, the PostgreSQL server, migrations."""
