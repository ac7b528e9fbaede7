"""Enumerations of report exports."""

from django.db import models


class ExportKind(models.TextChoices):
    REGISTER_CSV = "register_csv", "Inventory register (CSV)"
    REGISTER_XLSX = "register_xlsx", "Inventory register (XLSX)"
    PORTFOLIO_PDF = "portfolio_pdf", "Portfolio compliance report (PDF)"
    PORTFOLIO_XLSX = "portfolio_xlsx", "Portfolio compliance report (XLSX)"
    MODEL_PDF = "model_pdf", "Model governance report (PDF)"
    EVIDENCE_PACK = "evidence_pack", "Evidence pack (ZIP)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Error"


FINISHED_EXPORT_STATUSES = (ExportStatus.DONE, ExportStatus.ERROR)

# File name extension and media type of each kind's file.
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    ExportKind.REGISTER_CSV: ("csv", "text/csv; charset=utf-8"),
    ExportKind.REGISTER_XLSX: ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ExportKind.PORTFOLIO_PDF: ("pdf", "application/pdf"),
    ExportKind.PORTFOLIO_XLSX: ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ExportKind.MODEL_PDF: ("pdf", "application/pdf"),
    ExportKind.EVIDENCE_PACK: ("zip", "application/zip"),
}
