"""The statistics and the rankings as tables (CSV, Excel) and as chart-ready JSON (labels and series).

Tables have Chinese headers (Excel users read them); every section's scalar figures are columns, so
an area added later (incidents, supplies) is exported with no change here.
"""

from __future__ import annotations

from server.plumbing.csv_export import Sheet

HEADERS = {
    "level": "范围", "name": "名称",
    "organisation.companies": "物业企业数", "organisation.compounds": "项目数",
    "organisation.residential_compounds": "住宅项目数", "organisation.households_registered": "已登记户数",
    "organisation.households_total": "总户数", "organisation.coverage": "覆盖率",
    "organisation.compounds_without_total": "未填总户数的项目", "organisation.residents": "居民数",
    "organisation.residents_counted_at": "居民数统计时间",
    "organisation.staff": "物业人员", "organisation.guards": "保安",
    "gate.checkins": "今日出入", "gate.allowed": "今日放行", "gate.denied": "今日拦截",
    "health.readings": "今日测温", "health.high_readings": "今日体温偏高", "health.fevers": "今日发热",
    "health.active_quarantines": "居家隔离中",
    "delivery.open_deliveries": "待完成送菜", "delivery.delivered_last_7_days": "近7天送达",
    "delivery.median_minutes_to_deliver": "送达中位时长(分钟)",
    "roster.shifts_today": "今日班次", "roster.places_required": "需排岗位", "roster.places_filled": "已排岗位",
    "roster.roster_coverage": "排班覆盖率",
    "incidents.incidents_30_days": "近30天应急事件", "incidents.open_incidents": "处置中事件",
    "incidents.median_minutes_to_first_arrival": "首批到达中位时长(分钟)",
    "incidents.median_minutes_to_needs_met": "需求满足中位时长(分钟)",
    "incidents.arrived_within_target": "按时到达事件数",
    "supplies.stocks_below_threshold": "低于预警的库存", "supplies.masks_on_hand": "口罩库存",
}
LEVEL_NAMES = {"alliance": "联盟", "company": "企业", "compound": "小区", "total": "合计"}
NO_COMPANY = "无物业企业"


def _scalar_columns(answer: dict) -> list[str]:
    """section.figure for every scalar figure of every section of the answer, in answer order."""
    columns = []
    for key, value in answer.items():
        if isinstance(value, dict) and key != "scope":
            columns += [f"{key}.{figure}" for figure, v in value.items() if not isinstance(v, list | dict)]
    return columns


def _values(row: dict, columns: list[str]) -> list[object]:
    values = []
    for column in columns:
        section, figure = column.split(".", 1)
        values.append((row.get(section) or {}).get(figure))
    return values


def statistics_table(answer: dict) -> tuple[list[str], list[list[object]]]:
    """One row per company (alliance) or compound (company), then the scope's total; header in Chinese."""
    columns = _scalar_columns(answer)
    header = [HEADERS["level"], HEADERS["name"], *[HEADERS.get(c, c) for c in columns]]
    breakdown = answer.get("companies") or answer.get("compounds") or []
    level = "company" if "companies" in answer else "compound"
    rows = [[LEVEL_NAMES[level], row.get("name") or NO_COMPANY, *_values(row, columns)] for row in breakdown]
    scope = answer["scope"]
    rows.append([LEVEL_NAMES["total"] if breakdown else LEVEL_NAMES[scope["level"]], scope["name"],
                 *_values(answer, columns)])
    return header, rows


def statistics_sheets(answer: dict) -> list[Sheet]:
    """The workbook: the figures table (also the CSV), today's check-ins per hour and per gate."""
    header, rows = statistics_table(answer)
    gate = answer.get("gate") or {}
    return [
        Sheet("统计", header, rows),
        Sheet("今日出入(按小时)", ["小时", "放行", "拦截"],
              [[f"{h['hour']:02d}:00", h["allowed"], h["denied"]] for h in gate.get("by_hour", [])]),
        Sheet("今日出入(按出入口)", ["出入口编号", "出入口", "放行", "拦截"],
              [[g["gate_id"], g["name"], g["allowed"], g["denied"]] for g in gate.get("by_gate", [])]),
    ]


def statistics_chart(answer: dict) -> dict:
    """Chart-ready JSON: each chart has labels and series of values of the same length."""
    gate = answer.get("gate") or {}
    hours = gate.get("by_hour", [])
    gates = gate.get("by_gate", [])
    charts = [
        {"id": "checkins_by_hour", "title": "今日出入(按小时)", "labels": [f"{h['hour']:02d}:00" for h in hours],
         "series": [{"name": "allowed", "label": "放行", "values": [h["allowed"] for h in hours]},
                    {"name": "denied", "label": "拦截", "values": [h["denied"] for h in hours]}]},
        {"id": "checkins_by_gate", "title": "今日出入(按出入口)", "labels": [g["name"] for g in gates],
         "series": [{"name": "allowed", "label": "放行", "values": [g["allowed"] for g in gates]},
                    {"name": "denied", "label": "拦截", "values": [g["denied"] for g in gates]}]},
    ]
    breakdown = answer.get("companies") or answer.get("compounds")
    if breakdown:
        labels = [row.get("name") or NO_COMPANY for row in breakdown]
        organisation = [row.get("organisation") or {} for row in breakdown]
        charts += [
            {"id": "households", "title": "户数与覆盖率", "labels": labels,
             "series": [{"name": "households_registered", "label": "已登记户数",
                         "values": [o.get("households_registered") for o in organisation]},
                        {"name": "households_total", "label": "总户数",
                         "values": [o.get("households_total") for o in organisation]},
                        {"name": "coverage", "label": "覆盖率", "values": [o.get("coverage") for o in organisation]}]},
            {"id": "checkins_today", "title": "今日出入", "labels": labels,
             "series": [{"name": "checkins", "label": "今日出入",
                         "values": [(row.get("gate") or {}).get("checkins") for row in breakdown]}]},
        ]
    return {"scope": answer["scope"], "day": answer["day"], "as_of": answer["as_of"], "charts": charts}


RANKING_HEADER = ["名次", "物业企业", "平均分", "评价数", "周期", "是否排名"]


def ranking_table(ranking: dict) -> tuple[list[str], list[list[object]]]:
    """Ranked companies in order, then those with too few ratings (no rank)."""
    rows = [[r["rank"], r["name"], r["average"], r["ratings"], ranking["period"], "是"] for r in ranking["ranked"]]
    rows += [[None, r["name"], r["average"], r["ratings"], ranking["period"], "否(评价不足)"]
             for r in ranking["unranked"]]
    return RANKING_HEADER, rows


def ranking_chart(ranking: dict) -> dict:
    """The ranked companies' averages and counts as a chart."""
    ranked = ranking["ranked"]
    return {"period": ranking["period"], "min_ratings": ranking["min_ratings"], "charts": [
        {"id": "satisfaction", "title": f"满意度排名 {ranking['period']}", "labels": [r["name"] for r in ranked],
         "series": [{"name": "average", "label": "平均分", "values": [r["average"] for r in ranked]},
                    {"name": "ratings", "label": "评价数", "values": [r["ratings"] for r in ranked]}]}]}
