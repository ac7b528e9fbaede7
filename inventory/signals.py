"""Signals the inventory sends so that apps above it can react without the inventory importing them."""

from django.dispatch import Signal

# Sent inside the reporting transaction after a pipeline reports a deployment (created or updated), with
# ``deployment``, ``actor`` and ``created``. The deployment gate checks the deployed digest against the
# approval and raises a finding for an unapproved one; a receiver that raises aborts the report.
deployment_reported = Signal()
