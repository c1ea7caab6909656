"""Chinese headers and outcome descriptions for the evaluation workbook (``lang="zh"``).

Column names in Python and in CSV/Parquet stay canonical (stable for scripts); the workbook a
planner opens gets Chinese headers, and the ledger's ``detail`` says each outcome in Chinese.
Outcome codes themselves stay as they are, so filters keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["OUTCOME_ZH", "zh_headers", "zh_table"]

OUTCOME_ZH: dict[str, str] = {
    "evaluated": "已评价",
    "no_land": "无用地数据",
    "ineligible_industry": "行业不在评价范围",
    "ineligible_years": "投产年限不足",
    "below_min_land": "用地面积低于门槛",
    "no_group": "不属于任何评价组",
    "no_indicators": "无可计算的指标",
    "year_not_evaluated": "非评价年度",
    "allocated": "单一企业使用",
    "shared": "多家企业共用",
    "idle": "闲置（无企业）",
    "owner_not_in_data": "权利人不在企业数据中",
    "no_geometry": "无有效图形",
    "no_matching_enterprise": "补充表中无对应企业",
    "rejected": "输入行未通过校验",
}

_COMMON = {
    "enterprise_id": "企业代码",
    "name": "企业名称",
    "year": "年度",
    "park_id": "园区代码",
    "industry": "行业代码",
    "group": "评价组代码",
    "group_name": "评价组",
    "land_ha": "用地面积_公顷",
    "land_mu": "用地面积_亩",
    "land_source": "用地来源",
    "n_parcels": "宗地数",
    "total": "总分",
    "bonus": "加分",
    "class": "等级",
    "rank": "组内排名",
    "n_group": "组内企业数",
    "veto": "否决项",
    "reason": "末等原因",
    "outcome": "评价结果",
    "input_notes": "数据问题",
    "source_row": "源数据行号",
    "tax": "税收_万元",
    "profit": "利润总额_万元",
    "value_added": "工业增加值_万元",
    "energy_tce": "综合能耗_吨标准煤",
    "employees": "从业人员_人",
    "lon": "经度",
    "lat": "纬度",
    "revenue": "营业收入_万元",
    "rd_expense": "研发经费_万元",
    "tech_investment": "技改投资_万元",
    "cod_t": "COD排放_吨",
    "so2_t": "二氧化硫排放_吨",
    "nox_t": "氮氧化物排放_吨",
    "emissions_t": "污染物排放_吨",
    "water_t": "用水量_吨",
    "electricity_kwh": "用电量_千瓦时",
    "above_scale": "规上企业",
    "founded_year": "成立年份",
    "years_in_operation": "投产年限",
    # park roll-up
    "n_firms": "企业数",
    "n_evaluated": "参评企业数",
    "land_mu_evaluated": "参评用地_亩",
    "land_mu_low": "末两等用地_亩",
    "land_share_low": "末两等用地占比",
    "median_tax_per_mu": "亩均税收中位数_万元",
    "tax_gain": "增税潜力_万元",
    "n_low_without_tax": "末两等无税收数据企业数",
    "n_idle_parcels": "闲置宗地数",
    "idle_land_mu": "闲置用地_亩",
    # ledger
    "record": "记录类型",
    "id": "编号",
    "detail": "说明",
    "area_ha": "面积_公顷",
    # changes
    "year_from": "起始年度",
    "year_to": "结束年度",
    "class_from": "原等级",
    "class_to": "新等级",
    "change": "变化",
    "total_from": "原总分",
    "total_to": "新总分",
    "why": "原因",
}
_SCHEME = {
    "group": "评价组代码",
    "group_name": "评价组",
    "key": "指标代码",
    "name": "指标",
    "formula": "公式",
    "unit": "单位",
    "direction": "方向",
    "weight": "权重",
    "method": "计分方法",
    "base": "基准值",
    "cap": "上限倍数",
    "winsorize": "缩尾分位数",
    "missing": "缺失处理",
}
_TEXT = ("enterprise_id", "park_id", "parcel_id", "id", "firms", "industry")


def zh_headers(
    columns: Sequence[str],
    *,
    sheet: str,
    indicator_names: Mapping[str, str],
    labels: Sequence[str],
) -> dict[str, str]:
    """Canonical column -> Chinese header for one sheet (unknown columns keep their name)."""
    if sheet == "scheme":
        return {c: _SCHEME.get(c, c) for c in columns}
    table = dict(_COMMON)
    for label in labels:
        table[f"n_{label}"] = f"{label}类企业数"
        table[f"land_mu_{label}"] = f"{label}类用地_亩"
    for key, name in indicator_names.items():
        table[key] = name
        table[f"score_{key}"] = f"{name}得分"
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in columns:
        header = table.get(c, c)
        # two columns must never share a header
        out[c] = header if header not in used else f"{header}（{c}）"
        used.add(out[c])
    return out


def zh_table(
    frame: pd.DataFrame,
    *,
    sheet: str,
    indicator_names: Mapping[str, str],
    labels: Sequence[str],
) -> tuple[pd.DataFrame, list[str]]:
    """The table with Chinese headers (and Chinese ledger details), and its text columns."""
    if sheet == "ledger" and "outcome" in frame.columns:
        zh = frame["outcome"].map(OUTCOME_ZH)
        detail = frame["detail"].astype("str") if "detail" in frame.columns else None
        if detail is not None:
            # keep parcel detail (the firms holding it) after the Chinese outcome
            firms = detail.where(detail.str.startswith("firms: "), "")
            extra = firms.str.replace("firms: ", "企业：", regex=False)
            frame = frame.assign(detail=(zh.fillna(detail) + " " + extra).str.strip())
    headers = zh_headers(
        [str(c) for c in frame.columns],
        sheet=sheet,
        indicator_names=indicator_names,
        labels=labels,
    )
    text = [headers[c] for c in _TEXT if c in headers]
    return frame.rename(columns=headers), text
