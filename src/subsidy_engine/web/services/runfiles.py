"""The files of a run folder the web app records and offers: kind → (label, path in the folder, media type)."""

from __future__ import annotations

RUN_FILES: dict[str, tuple[str, str, str]] = {
    "payments.csv": ("发放名单(系统格式 CSV,UTF-8 无 BOM)", "payments.csv", "text/csv; charset=utf-8"),
    "payments.xlsx": (
        "发放名单(Excel)",
        "payments.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "publish.csv": ("公示名单(证件号码打码,CSV)", "publish/payments.csv", "text/csv; charset=utf-8"),
    "publish.xlsx": (
        "公示名单(证件号码打码,Excel)",
        "publish/payments.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "totals.csv": ("汇总(系统格式 CSV)", "totals.csv", "text/csv; charset=utf-8"),
    "rejects.csv": ("拒绝行(证件号码打码)", "masked/rejects.csv", "text/csv; charset=utf-8"),
    "manifest.json": ("计算清单(审计复核用)", "manifest.json", "application/json"),
}
