"""Each write body gets fields of its own: shallow copies of the declared leaf fields, deep copies of nested ones."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import InputSerializer, StrictCharField
from gate.api.serializers import GateCheckInput


class _Body(InputSerializer):
    name = StrictCharField(max_length=5, validators=[lambda value: None])
    count = serializers.IntegerField(min_value=1)
    labels = serializers.ListField(child=StrictCharField(max_length=3))
    flags = serializers.JSONField(required=False, default=[])  # type: ignore[arg-type]  # a leaf field with a list default


def _declared() -> dict[str, Any]:
    return dict(_Body._declared_fields)


def test_every_body_binds_its_own_fields_and_leaves_the_declared_ones_unbound() -> None:
    first, second = _Body(data={}), _Body(data={})
    for name, declared in _declared().items():
        assert first.fields[name] is not declared and first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert first.fields[name].field_name == name
        assert getattr(declared, "parent", None) is None and getattr(declared, "field_name", None) is None


def test_a_body_s_validators_are_its_own() -> None:
    declared = len(_declared()["name"].validators)
    first, second = _Body(data={}), _Body(data={})
    first.fields["name"].validators.append(lambda value: None)
    assert len(second.fields["name"].validators) == len(_declared()["name"].validators) == declared
    assert len(first.fields["name"].validators) == declared + 1


def test_nested_fields_are_deep_copies_bound_to_their_own_body() -> None:
    first, second = _Body(data={}), _Body(data={})
    labels: Any = first.fields["labels"]
    assert labels.child is not second.fields["labels"].child  # type: ignore[attr-defined]
    assert labels.child.parent is labels
    assert labels.child.root is first


def test_validation_is_unchanged() -> None:
    body = _Body(data={"name": "toolong", "count": 0, "labels": ["abcd"], "extra": 1})
    assert not body.is_valid()
    assert body.errors == {
        "name": ["Ensure this field has no more than 5 characters."],
        "count": ["Ensure this value is greater than or equal to 1."],
        "labels": {0: ["Ensure this field has no more than 3 characters."]},
        "extra": ["Unknown field. This body accepts: change_reason, count, flags, labels, name."],
    }
    good = _Body(data={"name": "ok", "count": 2, "labels": ["a"]})
    assert good.is_valid(), good.errors
    assert dict(good.validated_data) == {"name": "ok", "count": 2, "labels": ["a"], "flags": []}
    gate = GateCheckInput(data={"model": 5, "version": "1", "environment": "prod", "digest": "x" * 80})
    assert not gate.is_valid()
    assert set(gate.errors) == {"model", "digest"}


def test_a_mutable_default_is_each_body_s_own() -> None:
    first, second = (
        _Body(data={"name": "a", "count": 1, "labels": []}),
        _Body(data={"name": "b", "count": 1, "labels": []}),
    )
    assert first.is_valid() and second.is_valid()
    first.validated_data["flags"].append("changed")
    assert second.validated_data["flags"] == [] == _declared()["flags"].default
