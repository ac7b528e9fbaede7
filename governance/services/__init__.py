"""Writes of governance, one module per concern: assessments, policies, workflow, findings, notifications."""
