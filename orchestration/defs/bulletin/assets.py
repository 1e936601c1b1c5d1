"""The newest month's bulletin PDF (and the quarter's when that month closes a quarter),
made from the published snapshot."""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs.publish.assets import PUBLISHED_KEY
from orchestration.resources import PinganResource

BULLETIN_KEY = dg.AssetKey(["bulletin"])


@dg.asset(
    key=BULLETIN_KEY,
    deps=[PUBLISHED_KEY],
    group_name="bulletin",
    kinds={"python", "pdf"},
    description=(
        "The monthly bulletin (月度通报) of the newest month with an index, and the "
        "quarterly one (季度通报) when that month closes a quarter, as PDF in "
        "<data dir>/bulletins (`pingan report` writes the same)"
    ),
)
def bulletin(context: AssetExecutionContext, pingan: PinganResource) -> dg.MaterializeResult:
    from dashboards.documents.bulletin_write import latest_period, write_bulletin
    from orchestration.defs.notices.command import quiet_streamlit

    quiet_streamlit()
    month = latest_period("month", pingan.settings)
    if month is None:
        context.log.info("no safety index in the published snapshot: no bulletin")
        return dg.MaterializeResult(metadata={"bulletins": 0})
    periods = [month]
    quarter = latest_period("quarter", pingan.settings)
    if quarter is not None and quarter.last == month.last:
        periods.append(quarter)
    files = []
    for period in periods:
        result = write_bulletin(period, settings=pingan.settings, progress=context.log.info)
        context.log.info(f"{period.code}: {result.path} ({result.seconds:.1f} s)")
        files.append(str(result.path))
    return dg.MaterializeResult(
        metadata={
            "month": month.code,
            "quarter": periods[1].code if len(periods) > 1 else "",
            "bulletins": len(files),
            "files": dg.MetadataValue.json(files),
        }
    )
