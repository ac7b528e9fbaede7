"""Markers shared across test modules."""

import pytest

# Behaviour that exists only on PostgreSQL (row locks between connections, triggers, a test database other
# processes can open). CI runs the suite twice, on PostgreSQL and on SQLite; tests carrying this marker are
# collected in the PostgreSQL pass and deselected (not skipped) on SQLite by tests/conftest.py.
postgresql_only = pytest.mark.postgresql_only

# CI runs the suite twice side by side, on PostgreSQL and on SQLite; tests whose outcome does not depend on that
# database run in one pass only, chosen to keep the two passes about as long as each other. tests/conftest.py
# deselects them in the other pass.

# In the PostgreSQL pass: the embedded default's processes, which run in a SQLite folder of their own
# (tests/integration/embedded.py) whatever database the suite uses.
single_pass = pytest.mark.single_pass

# In the SQLite pass: the API fuzzer, the permission matrix and the browser tests (marked ``browser``) send their
# requests through the same views and ORM queries the rest of the suite runs on both databases.
sqlite_pass = pytest.mark.sqlite_pass
