"""Markers shared across test modules."""

import pytest
from django.db import connection

# Behaviour that exists only on PostgreSQL (row locks between connections, triggers, a test database other
# processes can open). CI runs the suite twice, on PostgreSQL and on SQLite; these run in the PostgreSQL pass.
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL behaviour; runs in the PostgreSQL pass of the suite"
)
