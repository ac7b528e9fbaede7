"""RestrictedCompiledQuery: a gated query compiled once per set of roles gives each user what restrict gives them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import roles
from core.permissions import RestrictedCompiledQuery, restrict
from inventory.models import ModelVersion, RegisteredModel
from tests.conftest import PERSONA_USERS
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


def versions_named() -> RestrictedCompiledQuery[ModelVersion]:
    return RestrictedCompiledQuery(
        lambda user, version: restrict(user, "view", ModelVersion.objects.all()).filter(version=version).order_by("pk"),
        version=str,
    )


def models_keyed() -> RestrictedCompiledQuery[RegisteredModel]:
    return RestrictedCompiledQuery(
        lambda user, key: restrict(user, "change", RegisteredModel.objects.all()).filter(key=key), key=str
    )


def test_every_persona_gets_what_restrict_gives_them(personas: Any) -> None:
    ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    ModelVersionFactory(model=personas.model_b, version="1.0.0", actor=personas.owner_b)
    versions, models = versions_named(), models_keyed()

    for name in PERSONA_USERS:
        user = getattr(personas, name)
        expected = list(restrict(user, "view", ModelVersion.objects.filter(version="1.0.0")).order_by("pk"))
        assert versions.all(user, version="1.0.0") == expected, name
        for model in (personas.model_a, personas.model_b):
            may_change = restrict(user, "change", RegisteredModel.objects.filter(pk=model.pk)).exists()
            assert (models.first(user, key=model.key) is not None) == may_change, (name, model.key)


def test_users_with_the_same_roles_share_one_compiled_query_and_see_their_own_rows(personas: Any) -> None:
    models = models_keyed()

    assert models.first(personas.owner_a, key=personas.model_a.key) == personas.model_a
    assert models.first(personas.owner_b, key=personas.model_a.key) is None
    assert models.first(personas.owner_b, key=personas.model_b.key) == personas.model_b
    assert models.first(personas.risk_officer, key=personas.model_a.key) == personas.model_a
    # Two owners, one Risk Officer: two sets of roles.
    assert len(models._per_roles) == 2


def test_a_user_given_another_role_is_answered_for_the_new_role(personas: Any) -> None:
    models = models_keyed()
    assert models.first(personas.owner_b, key=personas.model_a.key) is None

    personas.owner_b.groups.add(Group.objects.get(name=roles.RISK_OFFICER))
    fresh = type(personas.owner_b).objects.get(pk=personas.owner_b.pk)  # a new request loads the user again

    assert models.first(fresh, key=personas.model_a.key) == personas.model_a


def test_anonymous_and_inactive_users_get_nothing_without_a_query(personas: Any) -> None:
    models = models_keyed()
    personas.admin.is_active = False

    with CaptureQueriesContext(connection) as queries:
        assert models.all(AnonymousUser(), key=personas.model_a.key) == []
        assert models.all(personas.admin, key=personas.model_a.key) == []
    assert len(queries) == 0


def test_migrations_make_every_query_compile_again(personas: Any) -> None:
    # A flushed and refilled test database (or a migration) may give permission rows new ids, which the compiled
    # SQL of a scoped user names.
    from django.apps import apps
    from django.db.models.signals import post_migrate

    models = models_keyed()
    models.first(personas.owner_a, key=personas.model_a.key)
    (compiled,) = models._per_roles.values()
    assert compiled._statements

    post_migrate.send(sender=apps.get_app_config("core"), app_config=apps.get_app_config("core"), using="default")

    assert not compiled._statements
    assert models.first(personas.owner_a, key=personas.model_a.key) == personas.model_a
