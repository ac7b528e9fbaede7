"""factory_boy factories that create inventory rows through the services, so object permissions and field
history are exactly what production code would leave.

Tests call the typed functions at the bottom (``RegisteredModelFactory(...)`` returns a ``RegisteredModel``);
factory_boy's own classes return untyped objects to a type checker."""

from __future__ import annotations

from typing import Any, cast

import factory
from django.contrib.auth.models import Group

from core import roles
from core.models import User
from core.services import user_create
from inventory import services
from inventory.choices import LifecycleStage, ModelType
from inventory.models import BusinessUnit, ModelVersion, RegisteredModel


def system_actor() -> User:
    """A superuser that the factories act as (the real actors are the personas)."""
    actor, created = User.objects.get_or_create(username="factory-admin", defaults={"is_superuser": True})
    if created:
        actor.set_unusable_password()
        actor.save()
    return actor


class _UserFactory(factory.Factory):
    """A person with roles: ``UserFactory(roles=[roles.MODEL_OWNER])``."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@bank.example")
    title = "Analyst"
    roles: list[str] = []
    password = "correct-horse-battery"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        Group.objects.get_or_create(name=roles.MODEL_OWNER)  # roles exist after migrate; cheap safety
        return user_create(**kwargs)


class _BusinessUnitFactory(factory.Factory):
    class Meta:
        model = BusinessUnit

    code = factory.Sequence(lambda n: f"UNIT{n}")
    name = factory.LazyAttribute(lambda o: f"Unit {o.code}")
    key_prefix = "TS"
    parent = None

    @classmethod
    def _create(cls, model_class: type[BusinessUnit], *args: Any, **kwargs: Any) -> BusinessUnit:
        return services.business_unit_create(actor=system_actor(), **kwargs)


class _RegisteredModelFactory(factory.Factory):
    class Meta:
        model = RegisteredModel

    name = factory.Sequence(lambda n: f"Model {n}")
    purpose = "Scores applications for credit decisions."
    model_type = ModelType.MACHINE_LEARNING
    business_unit = factory.SubFactory(_BusinessUnitFactory)
    business_owner = factory.SubFactory(_UserFactory, roles=[roles.MODEL_OWNER])
    technical_owner = factory.SelfAttribute("business_owner")
    lifecycle_stage = LifecycleStage.DEVELOPMENT

    @classmethod
    def _create(cls, model_class: type[RegisteredModel], *args: Any, **kwargs: Any) -> RegisteredModel:
        actor = kwargs.pop("actor", None) or system_actor()
        return services.registered_model_create(actor=actor, **kwargs)


class _ModelVersionFactory(factory.Factory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(_RegisteredModelFactory)
    version = factory.Sequence(lambda n: f"1.{n}.0")

    @classmethod
    def _create(cls, model_class: type[ModelVersion], *args: Any, **kwargs: Any) -> ModelVersion:
        actor = kwargs.pop("actor", None) or system_actor()
        return services.model_version_create(actor=actor, **kwargs)


def UserFactory(**kwargs: Any) -> User:
    return cast(User, _UserFactory(**kwargs))


def BusinessUnitFactory(**kwargs: Any) -> BusinessUnit:
    return cast(BusinessUnit, _BusinessUnitFactory(**kwargs))


def RegisteredModelFactory(**kwargs: Any) -> RegisteredModel:
    return cast(RegisteredModel, _RegisteredModelFactory(**kwargs))


def ModelVersionFactory(**kwargs: Any) -> ModelVersion:
    return cast(ModelVersion, _ModelVersionFactory(**kwargs))
