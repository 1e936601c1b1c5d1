"""Documents made from the published snapshot: the numbered notices (提示单), .docx and PDF.

``write_notices(month, out_dir)`` is the one path: ``pingan notices``, the Dagster
asset and the tests call it; the 预警提示单 page renders one notice on click with
:func:`render_docx` / :func:`render_pdf`.
"""

from dashboards.documents.content import Notice, load_notices
from dashboards.documents.docx_notice import render_docx
from dashboards.documents.pdf_notice import render_pdf
from dashboards.documents.write import WrittenNotices, write_notices

__all__ = ["Notice", "WrittenNotices", "load_notices", "render_docx", "render_pdf", "write_notices"]
