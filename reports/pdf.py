"""HTML template to PDF with WeasyPrint: title page, table of contents, page numbers, and a footer naming when
the report was generated and by whom.

Report templates extend ``reports/pdf/base.html`` and pass their ``sections`` (anchor id and heading), from
which the base draws the table of contents; the page numbers in it come from CSS ``target-counter`` and the
page footer from ``@page`` margin boxes, so WeasyPrint lays out both. The renderer fetches nothing: every
resource a report needs is inline (charts are inline SVG), and any URL in the content (an artifact's URI
recorded by a pipeline) stays text, so rendering never reaches the network or the file system.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "report-pdf.css"


@dataclass(frozen=True)
class Section:
    """One entry of the table of contents: the anchor id of a heading in the report and its title."""

    id: str
    title: str


class FetchRefused(ValueError):
    """A report tried to load an external resource; reports are self-contained."""


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint URL fetcher that loads nothing, so content written by users cannot make the renderer fetch."""
    raise FetchRefused(f"PDF reports load no external resources ({url[:80]})")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: anything but plain letters, digits and spaces as a hex escape, so a
    username or title can neither end the string nor the ``<style>`` element it sits in."""
    escaped = "".join(
        char if char.isascii() and (char.isalnum() or char in " .,:-_@") else f"\\{ord(char):x} " for char in text
    )
    return f'"{escaped}"'


def user_label(user: Any) -> str:
    """How a report names the person who generated it: full name and username, or the username alone."""
    username = getattr(user, "username", "") or "system"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({username})" if full and full != username else username


def footer_css(*, title: str, generated_at: dt.datetime, generated_by: str) -> str:
    """The page footer (report title, generated when and by whom, page x of y) as an ``@page`` rule."""
    stamp = f"Generated {timezone.localtime(generated_at):%Y-%m-%d %H:%M %Z} by {generated_by}"
    return (
        "@page { "
        f"@bottom-left {{ content: {css_string(stamp)}; }} "
        f"@top-left {{ content: {css_string(title)}; }} "
        '@bottom-right { content: "Page " counter(page) " of " counter(pages); } '
        "} "
        "@page :first { @top-left { content: none; } }"
    )


def render_pdf(
    *,
    template: str,
    context: Mapping[str, Any],
    path: Path,
    title: str,
    subtitle: str,
    user: Any,
    sections: Sequence[Section],
    generated_at: dt.datetime | None = None,
) -> None:
    """Render ``template`` (which extends ``reports/pdf/base.html``) to a PDF at ``path``."""
    from weasyprint import CSS, HTML

    generated_at = generated_at or timezone.now()
    generated_by = user_label(user)
    html = render_to_string(
        template,
        {
            **context,
            "report_title": title,
            "report_subtitle": subtitle,
            "generated_at": generated_at,
            "generated_by": generated_by,
            "sections": sections,
            "footer_css": mark_safe(footer_css(title=title, generated_at=generated_at, generated_by=generated_by)),  # noqa: S308 - every value is CSS-escaped by css_string  # nosec B308 B703
        },
    )
    stylesheets = [CSS(filename=str(STYLESHEET))]
    document = HTML(string=html, url_fetcher=refuse_fetch)
    document.write_pdf(str(path), stylesheets=stylesheets)
