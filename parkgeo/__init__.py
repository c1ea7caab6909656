"""parkgeo: which industrial parks earn their land, which burn too much energy for what they
make, and which industry clusters each park is missing.

The public API is listed in ``__all__``. Importing parkgeo does not import scikit-learn, folium
or dask: the functions that need them import them when called.
"""

from __future__ import annotations

from parkgeo._errors import (
    CRSError,
    DataValidationError,
    GeometryError,
    InputFormatError,
    MissingAssetError,
    ParkgeoError,
    SchemaError,
)
from parkgeo._stream import (
    BatchedResult,
    iter_enterprise_batches,
    park_metrics_batched,
    park_metrics_file,
)
from parkgeo._validate import REASONS as REJECT_REASONS
from parkgeo._validate import validate_enterprises, validate_parks
from parkgeo.clusters import ClusterResult, industry_clusters
from parkgeo.coords import (
    COORD_SYSTEMS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_coords,
    convert_geometry,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geodesic_area_ha,
    local_metric_crs,
    lonlat_of,
    normalize_coord_system,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from parkgeo.datasets import TianjinSample, load_tianjin, planted_gaps, sample_path
from parkgeo.distributed import park_metrics_dask
from parkgeo.gaps import missing_clusters
from parkgeo.industry import (
    STRATEGIC_CATEGORIES,
    IndustryCodeError,
    industry_name,
    is_valid_code,
    load_classification,
    load_strategic_mapping,
    normalize_code,
    normalize_codes,
    rollup,
    strategic_category,
)
from parkgeo.io import (
    Loaded,
    atomic_path,
    atomic_write,
    format_csv,
    format_json,
    read_column_mapping,
    read_enterprises,
    read_parks,
    split_lonlat_column,
    write_table,
)
from parkgeo.join import MATCH_KINDS, JoinResult, assign_parks
from parkgeo.maps import cluster_map, density_map, gap_map, map_html, planner_map, save_map
from parkgeo.metrics import (
    ALL,
    ALL_PARKS,
    STATUSES,
    Partials,
    Targets,
    finish,
    park_metrics,
    partials_of,
    read_targets,
)
from parkgeo.siting import rank_parks, score_sites
from parkgeo.structure import (
    PeerGroups,
    colocation_proximity,
    colocation_quotients,
    industry_totals,
    location_quotients,
    park_industry_matrix,
    peer_groups,
    presence,
    proximity,
    relatedness_density,
)

__version__ = "0.1.0"

__all__ = [
    "ALL",
    "ALL_PARKS",
    "COORD_SYSTEMS",
    "MATCH_KINDS",
    "REJECT_REASONS",
    "STATUSES",
    "STRATEGIC_CATEGORIES",
    "BatchedResult",
    "CRSError",
    "ClusterResult",
    "DataValidationError",
    "GeometryError",
    "IndustryCodeError",
    "InputFormatError",
    "JoinResult",
    "Loaded",
    "MissingAssetError",
    "ParkgeoError",
    "Partials",
    "PeerGroups",
    "SchemaError",
    "Targets",
    "TianjinSample",
    "__version__",
    "assign_parks",
    "atomic_path",
    "atomic_write",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cluster_map",
    "colocation_proximity",
    "colocation_quotients",
    "convert_coords",
    "convert_geometry",
    "density_map",
    "finish",
    "format_csv",
    "format_json",
    "gap_map",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geodesic_area_ha",
    "industry_clusters",
    "industry_name",
    "industry_totals",
    "is_valid_code",
    "iter_enterprise_batches",
    "load_classification",
    "load_strategic_mapping",
    "load_tianjin",
    "local_metric_crs",
    "location_quotients",
    "lonlat_of",
    "map_html",
    "missing_clusters",
    "normalize_code",
    "normalize_codes",
    "normalize_coord_system",
    "park_industry_matrix",
    "park_metrics",
    "park_metrics_batched",
    "park_metrics_dask",
    "park_metrics_file",
    "partials_of",
    "peer_groups",
    "planner_map",
    "planted_gaps",
    "presence",
    "proximity",
    "rank_parks",
    "read_column_mapping",
    "read_enterprises",
    "read_parks",
    "read_targets",
    "relatedness_density",
    "rollup",
    "sample_path",
    "save_map",
    "score_sites",
    "split_lonlat_column",
    "strategic_category",
    "to_wgs84",
    "validate_enterprises",
    "validate_parks",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "write_table",
]
