"""A notice as a Word document (python-docx), in the layout of an official notice."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from dashboards.documents.content import Notice

FONT = "宋体"  # Word substitutes an installed CJK font where SimSun is missing
HEADING_FONT = "黑体"
RED = RGBColor(0xC0, 0x00, 0x00)


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # East Asian text takes its font from w:eastAsia, not from the run's ascii font.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def render_docx(notice: Notice) -> bytes:
    doc = Document()
    doc.core_properties.title = f"{notice.notice_id} {notice.unit_name}"
    doc.core_properties.author = "Pingan"
    for block in notice.blocks():
        if block.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(block.text)
            _font(run, HEADING_FONT, 22, bold=True)
            run.font.color.rgb = RED
        elif block.kind == "number":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(block.text), FONT, 14)
        elif block.kind == "heading":
            _font(doc.add_paragraph().add_run(block.text), HEADING_FONT, 14, bold=True)
        elif block.kind == "table":
            header, *body = block.rows
            table = doc.add_table(rows=1, cols=len(header))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(table.rows[0].cells, header, strict=True):
                _font(cell.paragraphs[0].add_run(text), HEADING_FONT, 9, bold=True)
            for row in body:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    _font(cell.paragraphs[0].add_run(text), FONT, 9)
        elif block.kind == "salutation":
            _font(doc.add_paragraph().add_run(block.text), FONT, 12)
        elif block.kind == "signature":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(p.add_run(block.text), FONT, 12)
        else:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            _font(p.add_run(block.text), FONT, 12)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
