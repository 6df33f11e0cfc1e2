"""The review UI's export summaries (汇总申报, SPEC §10): the list of summaries with their
period, inventories, lines and totals, and the same as CSV, through ``engine.summary_view``
like the JSON API."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.deps import ServicesDep
from service.engine import summary_view
from service.web.access import OperatorPage
from service.web.pages import render

router = APIRouter(prefix="/review", include_in_schema=False)

CSV_COLUMNS = (
    "sumNo",
    "ebcCode",
    "agentCode",
    "createdAt",
    "releasedFrom",
    "releasedTo",
    "inventories",
    "lines",
    "qty",
    "totalPrice",
)


@router.get("/summaries")
async def summaries_page(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    async with services.db.read() as conn:
        rows = await summary_view.listing(conn, me)
    return render(request, "summaries.html", rows=rows)


@router.get("/summaries.csv")
async def summaries_csv(services: ServicesDep, me: OperatorPage) -> Response:
    async with services.db.read() as conn:
        rows = await summary_view.listing(conn, me)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row, "inventories": " ".join(row["inventories"])}
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return Response(
        out.getvalue().encode("utf-8-sig"),  # a BOM: spreadsheet programs then read the 中文
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="summaries.csv"'},
    )
