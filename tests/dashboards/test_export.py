import csv
import io

import openpyxl
import pandas as pd

from dashboards import data
from dashboards.export import SHEET, VERDICT_COLUMN, dispatch_sheet, to_csv, to_excel


def test_exported_leads_keep_their_ids_first_so_verdicts_match_back(dash_settings):
    scope = data.Scope("leader")
    ids = data.leads(scope)["lead_id"].head(3).tolist()
    sheet = dispatch_sheet(data.leads_for_export(scope, ids))
    book = openpyxl.load_workbook(io.BytesIO(to_excel(sheet)))
    rows = list(book[SHEET].iter_rows(values_only=True))
    assert rows[0][0] == "线索编号"
    assert rows[0][-1] == VERDICT_COLUMN
    assert sorted(r[0] for r in rows[1:]) == sorted(ids)
    lines = list(csv.reader(io.StringIO(to_csv(sheet).decode("utf-8-sig"))))
    assert lines[0][0] == "线索编号" and sorted(r[0] for r in lines[1:]) == sorted(ids)


def test_an_officer_cannot_export_another_districts_leads(dash_settings):
    other = data.leads(data.Scope("leader"), district="通州区")["lead_id"].head(2).tolist()
    assert other
    assert data.leads_for_export(data.Scope("district", "崇川区"), other).empty


def test_ordinary_text_and_numbers_keep_their_types_in_the_export():
    frame = pd.DataFrame({"a": ["崇川区和平桥街道3-201室", "1-2"], "n": [1.5, 2.0]})
    book = openpyxl.load_workbook(io.BytesIO(to_excel(frame, "s")))
    assert list(book["s"].iter_rows(values_only=True))[1:] == [
        ("崇川区和平桥街道3-201室", 1.5),
        ("1-2", 2.0),
    ]
