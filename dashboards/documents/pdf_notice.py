"""A notice as PDF (reportlab), with a TrueType CJK font embedded.

reportlab embeds TrueType outlines only (not the OpenType/CFF of fonts-noto-cjk), so
the font is WenQuanYi Zen Hei from the Debian package ``fonts-wqy-zenhei`` (a .ttc;
the first face), or ``PINGAN_CJK_FONT`` pointing at another TrueType CJK font.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dashboards.documents.content import Notice

FONT_NAME = "PinganCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontMissing(RuntimeError):
    """No TrueType CJK font to embed (one line, actionable)."""


def font_available() -> bool:
    """Whether a PDF can be made here (the page offers the PDF download only then)."""
    try:
        cjk_font()
    except FontMissing:
        return False
    return True


@cache
def cjk_font() -> str:
    """Register the CJK font once per process and return its name."""
    wanted = os.environ.get("PINGAN_CJK_FONT")
    paths = [Path(wanted)] if wanted else [Path(p) for p in FONT_CANDIDATES]
    for path in paths:
        if path.is_file():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
            return FONT_NAME
    raise FontMissing(
        "no TrueType CJK font for the PDF notices: install the Debian package "
        "fonts-wqy-zenhei (`make documents`) or set PINGAN_CJK_FONT to a .ttf/.ttc file"
    )


def cjk_table_style(font: str, grid_width: float) -> TableStyle:
    """The documents' table style: a grid, a grey header row, cells centred vertically, and
    every cell's font the CJK one (the cells are Paragraphs in it, but a Table sets its
    cells' font, Helvetica by default, on the canvas all the same)."""
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), grid_width, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )


def cjk_document(buf: io.BytesIO, font: str, **layout: Any) -> SimpleDocTemplate:
    """An A4 document of Pingan's whose canvas starts in the CJK font (else an unembedded
    Helvetica lands in the file), with a fixed creation date (the same content gives the
    same bytes); ``layout``: margins and title."""
    return SimpleDocTemplate(
        buf, pagesize=A4, author="Pingan", invariant=1, initialFontName=font, **layout
    )


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=11.5, leading=19, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=21, leading=30, alignment=TA_CENTER,
            textColor=colors.HexColor("#C00000"),
        ),
        "number": ParagraphStyle("number", parent=base, fontSize=13, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", parent=base, fontSize=13, leading=22, spaceBefore=6),
        "paragraph": ParagraphStyle("paragraph", parent=base, firstLineIndent=23),
        "salutation": base,
        "signature": ParagraphStyle("signature", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
    }  # fmt: skip


def _escape(text: str) -> str:
    # Paragraph text is reportlab mini-markup: data values must stay text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_pdf(notice: Notice) -> bytes:
    font = cjk_font()
    st = _styles(font)
    story: list = []
    for block in notice.blocks():
        if block.kind == "table":
            rows = [[Paragraph(_escape(c), st["cell"]) for c in row] for row in block.rows]
            widths = [42 * mm, 16 * mm, 16 * mm, 17 * mm, 17 * mm, 25 * mm, 17 * mm, 12 * mm]
            table = Table(rows, colWidths=widths, repeatRows=1)
            table.setStyle(cjk_table_style(font, 0.5))
            story += [table, Spacer(1, 4 * mm)]
        else:
            story.append(Paragraph(_escape(block.text), st.get(block.kind, st["paragraph"])))
            if block.kind == "number":
                story.append(Spacer(1, 4 * mm))
    buf = io.BytesIO()
    doc = cjk_document(
        buf,
        font,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=f"{notice.notice_id} {notice.unit_name}",
    )
    doc.build(story)
    return buf.getvalue()
