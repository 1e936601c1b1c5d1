"""The fonts of a PDF as poppler's ``pdffonts`` lists them: for the document tests and the
bulletin benchmark, which must find every font embedded."""

from __future__ import annotations

import subprocess
from pathlib import Path


def pdf_fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(name, embedded) of every font in ``pdf``."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = out.stdout.splitlines()[2:]  # under the two header lines
    # columns: name type encoding emb sub uni object ID; the type may hold a space
    # ("CID TrueType"), so "emb" is read as the 5th field from the end
    return [(row.split()[0], row.split()[-5] == "yes") for row in rows]
