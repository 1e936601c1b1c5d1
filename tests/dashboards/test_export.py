import io

import openpyxl

from dashboards import data
from dashboards.export import SHEET, VERDICT_COLUMN, to_excel


def test_exported_leads_keep_their_ids_first_so_verdicts_match_back(dash_settings):
    scope = data.Scope("leader")
    ids = data.leads(scope)["lead_id"].head(3).tolist()
    book = openpyxl.load_workbook(io.BytesIO(to_excel(data.leads_for_export(scope, ids))))
    rows = list(book[SHEET].iter_rows(values_only=True))
    assert rows[0][0] == "线索编号"
    assert rows[0][-1] == VERDICT_COLUMN
    assert sorted(r[0] for r in rows[1:]) == sorted(ids)


def test_an_officer_cannot_export_another_districts_leads(dash_settings):
    other = data.leads(data.Scope("leader"), district="通州区")["lead_id"].head(2).tolist()
    assert other
    assert data.leads_for_export(data.Scope("district", "崇川区"), other).empty
