"""Markers shared across test modules."""

import pytest

# Behaviour that exists only on PostgreSQL (row locks between connections, triggers, a test database other
# processes can open). CI runs the suite twice, on PostgreSQL and on SQLite; tests carrying this marker are
# collected in the PostgreSQL pass and deselected (not skipped) on SQLite by tests/conftest.py.
postgresql_only = pytest.mark.postgresql_only
