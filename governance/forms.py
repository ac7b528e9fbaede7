"""Web forms of governance. Like the inventory's, they check the shape of the input only and hand the values to
the governance services, which hold the rules (who may act, segregation of duties, which state a step needs);
what a service refuses comes back onto the form through :func:`inventory.forms.add_service_errors`.

The small step forms are rendered many times on one page (one per version and step), so each is built with its
own ``auto_id`` to keep element ids unique while the field names stay those the view reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from governance.choices import ApprovalStage, FindingSeverity
from governance.models import PolicyPack, Questionnaire, TierPolicy
from inventory.choices import RiskTier
from inventory.validators import LONG_TEXT_MAX

# Rows offered for findings (at validation) or conditions (at approval) in one go; more can be raised later.
FINDING_ROWS = 3
FINDING_ROWS_MAX = 20
EVIDENCE_LINKS_MAX = 50


@dataclass(frozen=True)
class Button:
    """A submit button of a step form; ``value`` is sent as the form's ``outcome`` when the step has two ways
    to go (approve or reject), otherwise it is empty."""

    label: str
    value: str = ""
    secondary: bool = False


def _comment(label: str, *, required: bool, help_text: str = "", rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=LONG_TEXT_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class StepForm(forms.Form):
    """A governance step taken with a comment: submit, withdraw, close a finding... ``buttons`` say how it is sent."""

    buttons: tuple[Button, ...] = ()
    outcomes: tuple[str, ...] = ()

    def __init__(self, *args: Any, buttons: tuple[Button, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A form with its own buttons (approve or reject) keeps them; the others get a button named after the step.
        self.buttons = self.buttons or buttons
        if self.outcomes:
            # The buttons carry the outcome; the field exists so a missing or forged value is refused.
            self.fields["outcome"] = forms.ChoiceField(
                choices=[(value, value) for value in self.outcomes], widget=forms.HiddenInput
            )


class OptionalCommentForm(StepForm):
    """A step whose comment is optional (submit, start validation, deploy)."""

    comment = _comment("Comment", required=False, help_text="Optional; kept with the step and in the ledger.")


class RequiredCommentForm(StepForm):
    """A step that must say why (withdraw, retire)."""

    comment = _comment("Reason", required=True, help_text="Kept with the step and in the ledger.")


class ValidateForm(StepForm):
    """The validator's conclusion: passed (on to risk review) or failed (the version is rejected)."""

    outcomes = ("passed", "failed")
    buttons = (Button("Pass validation", "passed"), Button("Fail validation", "failed", secondary=True))
    comment = _comment("Validation conclusion", required=True, rows=3)


class DecideForm(StepForm):
    """A Risk Officer's decision at risk review; the conditions of an approval become findings."""

    outcomes = ("approve", "reject")
    buttons = (Button("Approve", "approve"), Button("Reject", "reject", secondary=True))
    comment = _comment("Decision comment", required=True, rows=3)


class ReviewForm(StepForm):
    """A Risk Officer's decision on a risk assessment or a tier override; rejecting needs a comment."""

    outcomes = ("approve", "reject")
    buttons = (Button("Approve", "approve"), Button("Reject", "reject", secondary=True))
    comment = _comment("Comment", required=False, help_text="Required when rejecting.")


class FindingItemForm(forms.Form):
    """One issue found at validation or one condition of an approval: it becomes a finding owned by the model's
    business owner."""

    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=[("", "Choose a severity"), *FindingSeverity.choices])
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    description = _comment("Description", required=False)


FindingItemFormSet = forms.formset_factory(
    FindingItemForm, extra=FINDING_ROWS, max_num=FINDING_ROWS_MAX, validate_max=True
)


def finding_items(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The filled rows of a findings formset, as the workflow services take them (empty rows are skipped)."""
    return [form.cleaned_data for form in formset.forms if form.cleaned_data]


class EvidenceLinksField(forms.CharField):
    """http(s) links, one a line; whether each is a valid URL is the service's check, which names the bad one."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", LONG_TEXT_MAX)
        kwargs.setdefault("help_text", "One http(s) link a line, e.g. the pull request with the fix.")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        """The non-empty lines."""
        links = _lines(super().clean(value))
        if len(links) > EVIDENCE_LINKS_MAX:
            raise ValidationError(f"At most {EVIDENCE_LINKS_MAX} links.")
        return links


class StartRemediationForm(StepForm):
    """The owner starts fixing a finding."""

    comment = _comment("Comment", required=False, help_text="Optional: what is being done.")
    evidence_links = EvidenceLinksField(label="Evidence links")


class CloseFindingForm(StepForm):
    """The second line closes a finding, saying how it was resolved."""

    resolution = _comment("Resolution", required=True, rows=3)
    evidence_links = EvidenceLinksField(label="Evidence links")


class AcceptRiskForm(StepForm):
    """A Risk Officer accepts the risk of a finding instead of requiring a fix."""

    justification = _comment("Justification", required=True, rows=3, help_text="At least 20 characters.")


class ReopenFindingForm(StepForm):
    """The second line reopens a closed or risk-accepted finding."""

    reason = _comment("Reason", required=True)


class OverrideRequestForm(StepForm):
    """Ask for a tier other than the computed one; a Risk Officer decides."""

    buttons = (Button("Request the override"),)

    tier = forms.TypedChoiceField(
        label="Requested tier", choices=[("", "Choose a tier"), *RiskTier.choices], coerce=int
    )
    justification = _comment(
        "Justification", required=True, rows=3, help_text="Why the computed tier is wrong; at least 20 characters."
    )


class AssessmentForm(forms.Form):
    """A questionnaire version rendered from its definition: radio buttons for single-choice questions,
    checkboxes for multiple-choice ones, each with its help text; and the assessor's notes."""

    def __init__(self, *args: Any, questionnaire: Questionnaire, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question_ids: list[str] = []
        for question in questionnaire.definition["questions"]:
            choices = [(option["value"], option.get("label", option["value"])) for option in question["options"]]
            options: dict[str, Any] = {"label": question["text"], "help_text": question.get("help", "")}
            if question.get("kind", "single") == "multiple":
                field: forms.Field = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, **options
                )
            else:
                field = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **options)
            self.fields[f"q_{question['id']}"] = field
            self.question_ids.append(question["id"])
        self.fields["rationale"] = _comment(
            "Notes for the reviewer", required=False, rows=3, help_text="Optional: anything the answers do not say."
        )

    def question_fields(self) -> list[forms.BoundField]:
        """The questions' fields, in the questionnaire's order."""
        return [self[f"q_{qid}"] for qid in self.question_ids]

    def answers(self) -> dict[str, Any]:
        """The answers as the assessment service takes them: question id to a value, or a list of values."""
        return {qid: self.cleaned_data[f"q_{qid}"] for qid in self.question_ids}


class PackActivateForm(StepForm):
    """Choose the installation's rule pack, with a reason for the ledger."""

    buttons = (Button("Switch rule pack"),)

    pack = forms.ModelChoiceField(label="Rule pack", queryset=PolicyPack.objects.none(), empty_label="Choose a pack")
    reason = _comment("Reason", required=True)

    def __init__(self, *args: Any, packs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pack"].queryset = packs  # type: ignore[attr-defined]


class NamesField(forms.CharField):
    """Short names typed as comma-separated text (review triggers, kinds of evidence)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        """The names in order, without blanks."""
        return [part.strip() for part in super().clean(value).split(",") if part.strip()]

    def prepare_value(self, value: Any) -> Any:
        """A stored list is shown as the comma-separated text it is typed as."""
        return ", ".join(value) if isinstance(value, list) else value


class TierPolicyForm(forms.Form):
    """Edit a tier's policy with a reason; only the fields the user changed are sent on, and the service checks
    them (stages in order, approvers in range, known bias thresholds)."""

    required_stages = forms.MultipleChoiceField(
        label="Approval stages",
        choices=ApprovalStage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Risk review is always needed; independent validation may be skipped for low tiers.",
    )
    required_approvers = forms.IntegerField(
        label="Distinct approvers at risk review", min_value=0, max_value=100, help_text="Between 1 and 5."
    )
    revalidation_interval_days = forms.IntegerField(
        label="Revalidation interval (days)",
        required=False,
        min_value=0,
        help_text="Empty for trigger-based review only.",
    )
    review_triggers = NamesField(label="Review triggers", help_text="Comma-separated, e.g. material_change, drift.")
    required_evidence = NamesField(label="Required evidence", help_text="Comma-separated artifact or document kinds.")
    bias_audit_cadence_days = forms.IntegerField(
        label="Bias audit cadence (days)", required=False, min_value=0, help_text="Empty for no scheduled audit."
    )
    bias_thresholds = forms.JSONField(
        label="Bias thresholds",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Threshold name: number, e.g. {"selection_rate_ratio_min": 0.8, "min_group_size": 30}.',
    )
    reason = _comment("Reason for the change", required=True, help_text="Kept in the ledger with the old values.")

    def __init__(self, *args: Any, policy: TierPolicy, **kwargs: Any) -> None:
        initial = {
            name: getattr(policy, name)
            for name in (
                "required_stages",
                "required_approvers",
                "revalidation_interval_days",
                "review_triggers",
                "required_evidence",
                "bias_audit_cadence_days",
                "bias_thresholds",
            )
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_bias_thresholds(self) -> Any:
        """An empty box means no thresholds."""
        value = self.cleaned_data["bias_thresholds"]
        return {} if value is None else value

    def changes(self) -> dict[str, Any]:
        """The policy fields whose value differs from the stored policy, as ``tier_policy_update`` takes them."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "reason" and value != self.initial.get(name)
        }


class IdListField(forms.Field):
    """A list of ids sent as repeated form values."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        """Whole positive numbers; anything else is refused."""
        ids: list[int] = []
        for item in value or []:
            try:
                number = int(item)
            except (TypeError, ValueError):
                raise ValidationError("Give notification ids as whole numbers.") from None
            if number < 1:
                raise ValidationError("Give notification ids as whole numbers.")
            ids.append(number)
        return ids


class PublishForm(StepForm):
    """Publish a draft questionnaire: nothing to fill in, the button is the decision."""

    buttons = (Button("Publish"),)


class MarkReadForm(StepForm):
    """Mark some of my notifications read, or all of them."""

    buttons = (Button("Mark as read"),)

    ids = IdListField(required=False)
    all = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        """Something must be chosen."""
        cleaned = super().clean() or {}
        if not cleaned.get("all") and not cleaned.get("ids"):
            raise ValidationError("Choose the notifications to mark as read.")
        return cleaned
