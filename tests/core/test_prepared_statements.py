"""PostgreSQL connections bind parameters on the server, so a query run often is prepared once (docs/operations.md)."""

from __future__ import annotations

import pytest
from django.db import connection

from core.models import User
from tests.markers import postgresql_only

pytestmark = [pytest.mark.django_db, postgresql_only]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_query_run_often_with_other_parameters_is_prepared_once() -> None:
    users = [User.objects.create_user(username=f"person{number}") for number in range(7)]

    for user in users:  # the same text each time; only the parameter differs
        assert User.objects.get(pk=user.pk).username == user.username

    user_reads = [text for text in prepared_statements() if 'FROM "core_user"' in text and "$1" in text]
    assert len(user_reads) == 1, user_reads
