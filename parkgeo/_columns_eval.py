"""Header aliases and units of the per-mu evaluation: optional enterprise columns, parcels.

Used by :mod:`parkgeo.evaluate_inputs` and :mod:`parkgeo.evaluate_land` (parkgeo.evaluate).
Kept apart from ``parkgeo._columns.ENTERPRISE_ALIASES`` so that the density readers do not
change; the evaluation reads these columns itself. Units: money 10,000 CNY, masses and water
tonnes, electricity kWh, land hectares (shown as mu in the evaluation). The mass and
electricity units are registered for headers in ``parkgeo._columns.HEADER_UNITS``. This
module is data only and imports nothing from parkgeo.
"""

from __future__ import annotations

__all__ = ["ELECTRICITY_UNITS", "EVALUATION_ALIASES", "MASS_UNITS", "PARCEL_ALIASES"]

MASS_UNITS: dict[str, float] = {
    "吨": 1.0,
    "t": 1.0,
    "tonnes": 1.0,
    "公斤": 1e-3,
    "千克": 1e-3,
    "kg": 1e-3,
    "万吨": 1e4,
    "立方米": 1.0,  # water: 1 m3 = 1 t
    "m3": 1.0,
    "万立方米": 1e4,
}
ELECTRICITY_UNITS: dict[str, float] = {
    "千瓦时": 1.0,
    "度": 1.0,
    "kwh": 1.0,
    "万千瓦时": 1e4,
    "万度": 1e4,
    "万kwh": 1e4,
    "兆瓦时": 1e3,
    "mwh": 1e3,
}
EVALUATION_ALIASES: dict[str, tuple[str, ...]] = {
    "revenue": (
        "revenue",
        "营业收入",
        "主营业务收入",
        "营业收入总额",
        "销售收入",
        "销售收入总额",
        "sales",
        "operating_revenue",
    ),
    "rd_expense": (
        "rd_expense",
        "研发经费",
        "R&D经费支出",
        "R&D经费",
        "研发经费支出",
        "研发费用",
        "研发投入",
        "rd",
        "r&d",
        "rd_expenditure",
    ),
    "tech_investment": ("tech_investment", "技改投资", "技术改造投资", "技改投入"),
    "cod_t": ("cod_t", "COD", "COD排放量", "化学需氧量", "化学需氧量排放量", "cod"),
    "so2_t": ("so2_t", "SO2", "SO2排放量", "二氧化硫", "二氧化硫排放量", "so2"),
    "nox_t": ("nox_t", "NOx", "NOx排放量", "氮氧化物", "氮氧化物排放量", "nox"),
    "emissions_t": (
        "emissions_t",
        "污染物排放量",
        "主要污染物排放量",
        "排放总量",
        "污染物排放总量",
        "emissions",
    ),
    "water_t": ("water_t", "用水量", "新鲜水用量", "取水量", "water"),
    "electricity_kwh": ("electricity_kwh", "用电量", "电耗", "用电总量", "electricity"),
    "above_scale": ("above_scale", "规上", "规模以上", "是否规上", "规上企业", "是否规模以上"),
    "land_area": (
        "land_area",
        "用地面积",
        "占地面积",
        "土地面积",
        "实际用地面积",
        "企业用地面积",
        "land",
        "land_ha",
        "land_mu",
    ),
    "founded_year": ("founded_year", "成立年份", "成立时间", "成立日期", "投产年份", "投产时间"),
}
PARCEL_ALIASES: dict[str, tuple[str, ...]] = {
    "parcel_id": (
        "parcel_id",
        "宗地编号",
        "宗地代码",
        "宗地号",
        "地块编号",
        "不动产单元号",
        "parcel",
    ),
    "owner_id": (
        "owner_id",
        "权利人代码",
        "权利人统一社会信用代码",
        "使用权人代码",
        "土地使用权人代码",
        "统一社会信用代码",
        "enterprise_id",
        "owner",
    ),
    "share": ("share", "份额", "分摊比例", "共有份额", "分摊系数"),
}
