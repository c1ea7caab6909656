"""The bundled sample thinned so that disclosure control has something to withhold: the first
park keeps 2 firms, one firm lies outside every park, and the second park's largest firm pays
90% of its park's tax. Shared by the disclosure tests of the CLI and of the outputs."""

from __future__ import annotations

import pandas as pd

from parkgeo import TianjinSample, assign_parks


def thinned_firms(sample: TianjinSample) -> pd.DataFrame:
    firms = sample.enterprises.copy()
    joined = assign_parks(firms, sample.parks, nearest=False).assigned
    ids = sample.parks["park_id"].tolist()
    small = joined["park_id"] == ids[0]
    outside = joined["park_id"].isna()
    keep_small = joined.loc[small, "enterprise_id"].unique()[:2]
    keep_out = joined.loc[outside, "enterprise_id"].unique()[:1]
    keep = (~small | joined["enterprise_id"].isin(keep_small)) & (
        ~outside | joined["enterprise_id"].isin(keep_out)
    )
    firms = firms[keep.to_numpy()].copy()
    in_park = (joined["park_id"] == ids[1])[keep.to_numpy()].to_numpy()
    big = firms.loc[in_park, "enterprise_id"].iloc[0]
    for year in sorted(firms["year"].unique()):
        mine = ((firms["enterprise_id"] == big) & (firms["year"] == year)).to_numpy()
        rest = firms.loc[in_park & ~mine & (firms["year"] == year).to_numpy(), "tax"].sum()
        firms.loc[mine, "tax"] = 9.0 * rest
    return firms
