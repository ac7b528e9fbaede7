"""Web forms of the inventory. They check the shape of the input only (types, lengths, formats, known choices)
and hand the values to the services, which hold the rules; what a service refuses comes back onto the form,
field by field, through :func:`add_service_errors`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from core.models import User
from core.selectors import user_queryset
from inventory.choices import DataSensitivity, LifecycleStage, ModelType, RegulatoryUse
from inventory.models import INVENTORY_COLUMNS, BusinessUnit, RegisteredModel
from inventory.selectors import business_unit_queryset
from inventory.services import REASON_MAX
from inventory.services.saved_views import NAME_MAX
from inventory.validators import LONG_TEXT_MAX, validate_digest, validate_model_key, validate_version_label

# Inventory filters shown as groups of checkboxes rather than multi-selects, which are hard to use.
CHECKBOX_FILTERS = ("model_type", "stage", "tier", "eu_ai_act_category", "compliance")
OVERDUE_CHOICES = [("", "Any"), ("true", "Overdue only"), ("false", "Not overdue")]


def person_label(user: User) -> str:
    """How a person is named in pickers: full name and username, since names are not unique in a large bank."""
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


def unit_label(unit: BusinessUnit) -> str:
    """A business unit indented by its depth, so a flat select still shows the hierarchy."""
    return "\u00a0\u00a0\u00a0" * unit.depth + str(unit)


def present_inventory_filters(form: forms.Form) -> forms.Form:
    """Adjust how the inventory FilterSet's form looks on the page.

    Only widgets and labels change: the fields, and so the validation, stay exactly those the API applies.
    """
    for name in CHECKBOX_FILTERS:
        field = form.fields[name]
        widget = forms.CheckboxSelectMultiple()
        widget.choices = list(field.choices)  # type: ignore[attr-defined]
        field.widget = widget
    form.fields["validation_overdue"].widget = forms.Select(choices=OVERDUE_CHOICES)
    for name in ("unit", "owner", "validator"):
        form.fields[name].empty_label = "Any"  # type: ignore[attr-defined]
    for name in ("owner", "validator"):
        form.fields[name].label_from_instance = person_label  # type: ignore[attr-defined]
    form.fields["unit"].label_from_instance = unit_label  # type: ignore[attr-defined]
    form.fields["unit"].help_text = "Includes the units below it."
    ordering = form.fields["ordering"]
    ordering.widget.choices = [("", "Key (default)"), *((v, label) for v, label in ordering.choices if v)]  # type: ignore[attr-defined]
    form.fields["q"].help_text = "Key, name, or an owner's username or surname."
    form.fields["tag"].help_text = "One tag, e.g. pd."
    form.fields["compliance"].help_text = "In the latest finished compliance sweep."
    form.fields["breaks"].help_text = "Non-compliant with this rule in the latest sweep, e.g. CMP-003."
    return form


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put what a service refused on the form: each message on the field it names, the others on the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        if field in form.fields:
            form.add_error(field, messages)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            label = field.replace("_", " ").capitalize()
            form.add_error(None, [f"{label}: {message}" for message in messages])


class PersonChoiceField(forms.ModelChoiceField):
    """Picks one person, labelled with full name and username."""

    def label_from_instance(self, obj: Any) -> str:
        """Full name and username."""
        return person_label(obj)


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    """Picks several people, labelled with full name and username."""

    def label_from_instance(self, obj: Any) -> str:
        """Full name and username."""
        return person_label(obj)


class UnitChoiceField(forms.ModelChoiceField):
    """Picks a business unit from the indented hierarchy."""

    def label_from_instance(self, obj: Any) -> str:
        """The unit, indented by its depth."""
        return unit_label(obj)


def _help(field_name: str) -> str:
    return str(getattr(RegisteredModel._meta.get_field(field_name), "help_text", ""))


def _text(label: str, *, required: bool = False, rows: int = 3, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=LONG_TEXT_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _date(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class RegisteredModelForm(forms.Form):
    """The editable part of a model's inventory record, shared by the register and edit pages.

    Business units and people are offered from what the signed-in user may see; owners and validators are
    active people, never service accounts. Tags are typed as comma-separated text.
    """

    name = forms.CharField(max_length=200)
    business_unit = UnitChoiceField(queryset=BusinessUnit.objects.none(), empty_label="Choose a business unit")
    model_type = forms.ChoiceField(label="Model type", choices=[("", "Choose a type"), *ModelType.choices])
    vendor_name = forms.CharField(label="Vendor", max_length=200, required=False, help_text=_help("vendor_name"))
    lifecycle_stage = forms.ChoiceField(
        label="Lifecycle stage", choices=LifecycleStage.choices, initial=LifecycleStage.PROPOSED
    )
    purpose = _text("Purpose and intended use", required=True, rows=4, help_text=_help("purpose"))
    restrictions_on_use = _text("Restrictions on use", help_text=_help("restrictions_on_use"))
    inputs = _text("Inputs", help_text=_help("inputs"))
    outputs = _text("Outputs", help_text=_help("outputs"))
    limitations = _text("Limitations", help_text=_help("limitations"))
    business_owner = PersonChoiceField(
        label="Business owner", queryset=User.objects.none(), empty_label="Choose a person"
    )
    technical_owner = PersonChoiceField(
        label="Technical owner", queryset=User.objects.none(), empty_label="Choose a person"
    )
    validators = PeopleChoiceField(
        label="Validators",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Independent of the owners.",
    )
    regulatory_uses = forms.MultipleChoiceField(
        label="Regulatory uses",
        choices=RegulatoryUse.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_help("regulatory_uses"),
    )
    data_sensitivity = forms.ChoiceField(
        label="Data sensitivity", choices=DataSensitivity.choices, initial=DataSensitivity.INTERNAL
    )
    tags = forms.CharField(
        required=False, max_length=1000, help_text="Comma-separated, e.g. pd, retail, irb. New tags are created."
    )
    last_validated_on = _date("Last validated on")
    next_validation_due = _date("Next validation due")
    change_reason = forms.CharField(
        label="Reason for change",
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the model's history with your name and the time.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = user_queryset(user=user).filter(is_active=True, is_service_account=False).prefetch_related(None)
        self.fields["business_unit"].queryset = business_unit_queryset(user=user)  # type: ignore[attr-defined]
        for name in ("business_owner", "technical_owner", "validators"):
            self.fields[name].queryset = people  # type: ignore[attr-defined]

    def clean_tags(self) -> list[str]:
        """Tag names from the comma-separated text, in order and without repeats; their format is checked by
        the service, which names each bad tag."""
        names: list[str] = []
        for part in self.cleaned_data["tags"].split(","):
            name = part.strip()
            if name and name not in names:
                names.append(name)
        return names

    def record_values(self) -> dict[str, Any]:
        """The cleaned record as the services take it (without the reason)."""
        values = {name: value for name, value in self.cleaned_data.items() if name != "change_reason"}
        values["validators"] = list(values["validators"])
        return values


class RegisteredModelCreateForm(RegisteredModelForm):
    """Register a model. Without a key the unit's next key is issued; the user is offered as its owner."""

    key = forms.CharField(
        required=False,
        max_length=20,
        validators=[validate_model_key],
        help_text="Leave empty to get the next key of the business unit, e.g. CR-0043. A key never changes.",
    )

    field_order = ["key"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        if not user.is_service_account:
            self.fields["business_owner"].initial = user.pk
            self.fields["technical_owner"].initial = user.pk
        self.fields["change_reason"].label = "Note for the history"
        self.fields["change_reason"].help_text = "Optional: why the model is registered now."

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``registered_model_create``."""
        values = self.record_values()
        values["key"] = values["key"] or None
        values["reason"] = self.cleaned_data["change_reason"]
        return values


def registered_model_initial(model: RegisteredModel) -> dict[str, Any]:
    """The edit form's starting values: the record as it is now."""
    initial: dict[str, Any] = {
        name: getattr(model, name)
        for name in (
            "name",
            "model_type",
            "vendor_name",
            "lifecycle_stage",
            "purpose",
            "restrictions_on_use",
            "inputs",
            "outputs",
            "limitations",
            "regulatory_uses",
            "data_sensitivity",
            "last_validated_on",
            "next_validation_due",
        )
    }
    initial["business_unit"] = model.business_unit_id
    initial["business_owner"] = model.business_owner_id
    initial["technical_owner"] = model.technical_owner_id
    initial["validators"] = [person.pk for person in model.validators.all()]
    initial["tags"] = ", ".join(tag.name for tag in model.tags.all())
    return initial


class RegisteredModelEditForm(RegisteredModelForm):
    """Edit a model's record; a reason is required, and only the fields the user changed are sent on."""

    def __init__(self, *args: Any, user: User, model: RegisteredModel, **kwargs: Any) -> None:
        super().__init__(*args, user=user, initial=registered_model_initial(model), **kwargs)
        self.fields["change_reason"].required = True

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the record, as ``registered_model_update`` takes them."""
        values = self.record_values()
        return {name: values[name] for name in self.changed_data if name in values}


class ModelVersionForm(forms.Form):
    """Register a new draft version of a model."""

    version = forms.CharField(max_length=50, validators=[validate_version_label], help_text="e.g. 2.3.0")
    description = _text("Description", rows=3, help_text="What changed in this version.")
    artifact_digest = forms.CharField(
        label="Artifact digest",
        max_length=71,
        required=False,
        validators=[validate_digest],
        help_text="sha256:<64 hex digits> of the model file or image.",
    )
    training_data_ref = forms.CharField(
        label="Training data reference",
        max_length=500,
        required=False,
        help_text="Where the training data lives (URI, table, dataset version).",
    )
    metrics = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Evaluation metrics as JSON, e.g. {"auc": 0.81, "gini": 0.62}.',
    )
    change_reason = forms.CharField(
        label="Note for the history",
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_metrics(self) -> dict[str, Any]:
        """Metrics are a JSON object; what its values may be is the service's rule."""
        metrics = self.cleaned_data["metrics"]
        if metrics is None:
            return {}
        if not isinstance(metrics, dict):
            raise ValidationError('Give the metrics as a JSON object of name: number, e.g. {"auc": 0.81}.')
        return metrics

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``model_version_create``."""
        values = dict(self.cleaned_data)
        values["reason"] = values.pop("change_reason")
        return values


class ColumnsForm(forms.Form):
    """Which columns the inventory table shows; the service's rules (known codes, key or name) apply on save."""

    columns = forms.MultipleChoiceField(
        label="Columns",
        choices=INVENTORY_COLUMNS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least the key or the name."},
    )


class SavedViewForm(forms.Form):
    """Save the current filters and columns under a name."""

    name = forms.CharField(
        label="Name of this view",
        max_length=NAME_MAX,
        help_text="Saves the filters and columns shown now, e.g. Tier 1 overdue.",
    )
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)


class SavedViewRenameForm(forms.Form):
    """Give a saved view another name."""

    name = forms.CharField(label="New name", max_length=NAME_MAX)
