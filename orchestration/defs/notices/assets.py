"""The month's notice documents (.docx and .pdf), made from the published snapshot."""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs.publish.assets import PUBLISHED_KEY
from orchestration.resources import PinganResource

NOTICES_KEY = dg.AssetKey(["notice_documents"])


@dg.asset(
    key=NOTICES_KEY,
    deps=[PUBLISHED_KEY],
    group_name="notices",
    kinds={"python"},
    description=(
        "The numbered notices (提示单) of the newest month with alerts, as .docx and .pdf "
        "in <data dir>/notices/YYYY-MM (`pingan notices` writes the same)"
    ),
)
def notice_documents(
    context: AssetExecutionContext, pingan: PinganResource
) -> dg.MaterializeResult:
    from dashboards.documents import write_notices
    from dashboards.documents.write import latest_month
    from orchestration.defs.notices.command import quiet_streamlit

    quiet_streamlit()
    month = latest_month(pingan.settings)
    if month is None:
        context.log.info("no notices in the published snapshot")
        return dg.MaterializeResult(metadata={"notices": 0})
    result = write_notices(month, settings=pingan.settings, progress=context.log.info)
    context.log.info(f"{month}: {len(result.notices)} notices in {result.out_dir}")
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "notices": len(result.notices),
            "files": len(result.files),
            "out_dir": str(result.out_dir),
            "seconds": round(result.seconds, 2),
        }
    )
