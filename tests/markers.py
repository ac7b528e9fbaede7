"""Markers shared across test modules."""

import pytest

# Behaviour that exists only on PostgreSQL (row locks between connections, triggers, a test database other
# processes can open). CI runs the suite twice, on PostgreSQL and on SQLite; tests carrying this marker are
# collected in the PostgreSQL pass and deselected (not skipped) on SQLite by tests/conftest.py.
postgresql_only = pytest.mark.postgresql_only

# Tests whose outcome does not depend on the database the suite runs on: they run the embedded default in a
# SQLite folder of their own (tests/integration/embedded.py), or drive the portal only over HTTP in a real browser
# (tests/browser/, marked ``browser``) or an API fuzzer, where the ORM paths they cross are the ones the rest of the
# suite already runs on both databases. CI runs them once, in the PostgreSQL pass; tests/conftest.py deselects
# them (and every ``browser`` test) on SQLite.
single_pass = pytest.mark.single_pass

# The API fuzzer and the permission matrix send thousands of requests through the same views and ORM queries the
# rest of the suite runs on both databases; they run once, in the SQLite pass, which is the shorter of CI's two
# passes running side by side (tests/conftest.py deselects them on PostgreSQL).
sqlite_pass = pytest.mark.sqlite_pass
