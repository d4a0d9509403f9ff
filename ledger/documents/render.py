"""HTML templates to PDF: Jinja for the page, WeasyPrint for the print, segno for the QR code.

WeasyPrint fetches what a page links to; its fetcher here allows `data:` URLs only, so a
document never reaches the network or the file system (the stylesheet is inlined and the QR
code is an SVG data URI).  Printing takes a few hundred milliseconds of CPU, most of it holding
the GIL, so a worker thread would hold the event loop too: the page is made here (Jinja, a few
milliseconds) and printed in a worker process (ledger/infra/workers.py), two at a time and
sixteen more in line; past that a PDF request is answered 503 with Retry-After.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from ledger.documents.filters import FILTERS
from ledger.infra.workers import WorkerPool

__all__ = ["TEMPLATES", "html", "pdf", "qr_data_uri"]

TEMPLATES = Path(__file__).parent / "templates"
PRINTERS = WorkerPool("PDFs", waiting=16)
"""The processes that print PDFs, for the whole process (each API worker has its own)."""


@functools.cache
def _environment() -> Environment:
    """The templates, with the filters the documents and the pages share."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    env.filters.update(FILTERS)
    return env


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as an SVG data URI (error correction M, a quiet zone of 4)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, dark="#111")


def html(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def _print(page: str) -> bytes:
    fetcher = URLFetcher(allowed_protocols=("data",))
    printed: bytes = HTML(string=page, url_fetcher=fetcher).write_pdf()
    return printed


async def pdf(template: str, **context: Any) -> bytes:
    """The template rendered to a PDF, printed in a worker process (`WorkersBusy` when too
    many wait for one)."""
    return await PRINTERS.run(_print, html(template, **context))
