"""Dossier tabs of a model that governance serves beyond its governance page: the model's findings and its
ledger entries.

Both start from the permission gate: the model through ``registered_model_get`` (a model the user may not see is
a 404), the rows through the governance selectors. The findings are filtered by the one FindingFilterSet the
findings list and the API use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.permissions import has_model_permission
from governance.filtersets import FindingFilterSet
from governance.ledger import HASHED_FIELDS, LedgerVerification, event_hash
from governance.models import GovernanceEvent
from governance.selectors import finding_list_queryset, governance_event_queryset, ledger_verification
from governance.views import _checkbox_filters, _page
from inventory.selectors import registered_model_get
from inventory.views import signed_in


@login_required
@require_safe
def model_findings(request: HttpRequest, key: str) -> HttpResponse:
    """The Findings tab: the model's findings, filtered (status, severity, source, owner, overdue) and paged.

    Filters the FindingFilterSet rejects are shown next to their field and list nothing (status 400).
    """
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    rows = finding_list_queryset(user=user).filter(model=model)
    filterset = FindingFilterSet(request.GET, queryset=rows, request=request)
    # The model is fixed by the tab, so its filter is not offered (and a ?model= in the URL is ignored).
    # Dropped before the form is built from the filters, so the form has no such field either.
    filterset.filters.pop("model")
    _checkbox_filters(filterset.form, "status", "severity", "source")
    filterset.form.fields["overdue"].widget = forms.Select(
        choices=[("", "Any"), ("true", "Overdue only"), ("false", "Not overdue")]
    )
    valid = filterset.is_valid()
    listed = filterset.qs if valid else filterset.queryset.none()
    context = {
        **_page(request, listed),
        "model": model,
        "form": filterset.form,
        "filters_valid": valid,
        "today": timezone.localdate(),
    }
    return render(request, "governance/model_findings.html", context, status=200 if valid else 400)


@dataclass(frozen=True)
class CheckedEvent:
    """A ledger entry with whether its stored hash still matches its content."""

    event: GovernanceEvent
    hash_matches: bool


def event_hash_matches(event: GovernanceEvent) -> bool:
    """Whether an entry's content still hashes to its stored hash (a row edited in place would not)."""
    return event_hash({name: getattr(event, name) for name in HASHED_FIELDS}) == event.hash


@login_required
@require_safe
def model_ledger(request: HttpRequest, key: str) -> HttpResponse:
    """The Ledger tab: the model's ledger entries, newest first, each re-hashed, and (``?verify=1``, for the roles
    that read the whole ledger) a verification of the whole chain they belong to."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    page_context = _page(request, governance_event_queryset(user=user).filter(model=model))
    page = page_context["page_obj"]
    checked = [CheckedEvent(event, event_hash_matches(event)) for event in page.object_list]
    can_verify = has_model_permission(user, GovernanceEvent, "view")
    verification: LedgerVerification | None = None
    if can_verify and request.GET.get("verify"):
        verification = ledger_verification(user=user)
    context: dict[str, Any] = {
        **page_context,
        "model": model,
        "events": checked,
        "altered": [item.event.seq for item in checked if not item.hash_matches],
        "can_verify": can_verify,
        "verification": verification,
    }
    return render(request, "governance/model_ledger.html", context)
