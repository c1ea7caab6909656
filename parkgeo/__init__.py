"""parkgeo: which industrial parks earn their land, which burn too much energy for what they
make, and which industry clusters each park is missing.

The public API is listed in ``__all__``. Names are imported lazily on first use (PEP 562), so
``import parkgeo`` and ``parkgeo --version`` do not pay for pandas, pyarrow, shapely or pyproj
until a function needs them; scikit-learn, folium and dask load only inside the functions that
use them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute); the one table of the public API
_PUBLIC: dict[str, tuple[str, str]] = {
    "CRSError": ("parkgeo._errors", "CRSError"),
    "DataValidationError": ("parkgeo._errors", "DataValidationError"),
    "GeometryError": ("parkgeo._errors", "GeometryError"),
    "InputFormatError": ("parkgeo._errors", "InputFormatError"),
    "MissingAssetError": ("parkgeo._errors", "MissingAssetError"),
    "ParkgeoError": ("parkgeo._errors", "ParkgeoError"),
    "SchemaError": ("parkgeo._errors", "SchemaError"),
    "BatchedResult": ("parkgeo.scale", "BatchedResult"),
    "iter_enterprise_batches": ("parkgeo.scale", "iter_enterprise_batches"),
    "park_metrics_batched": ("parkgeo.scale", "park_metrics_batched"),
    "park_metrics_file": ("parkgeo.scale", "park_metrics_file"),
    "REJECT_REASONS": ("parkgeo._ledger", "REASONS"),
    "validate_enterprises": ("parkgeo._validate", "validate_enterprises"),
    "validate_parks": ("parkgeo._validate_parks", "validate_parks"),
    "ClusterResult": ("parkgeo.clusters", "ClusterResult"),
    "industry_clusters": ("parkgeo.clusters", "industry_clusters"),
    "COORD_SYSTEMS": ("parkgeo.coords", "COORD_SYSTEMS"),
    "bd09_to_gcj02": ("parkgeo.coords", "bd09_to_gcj02"),
    "bd09_to_wgs84": ("parkgeo.coords", "bd09_to_wgs84"),
    "convert_coords": ("parkgeo.coords", "convert_coords"),
    "convert_geometry": ("parkgeo.coords", "convert_geometry"),
    "gcj02_to_bd09": ("parkgeo.coords", "gcj02_to_bd09"),
    "gcj02_to_wgs84": ("parkgeo.coords", "gcj02_to_wgs84"),
    "geodesic_area_ha": ("parkgeo.coords", "geodesic_area_ha"),
    "local_metric_crs": ("parkgeo.coords", "local_metric_crs"),
    "lonlat_of": ("parkgeo.coords", "lonlat_of"),
    "normalize_coord_system": ("parkgeo.coords", "normalize_coord_system"),
    "to_wgs84": ("parkgeo.coords", "to_wgs84"),
    "wgs84_to_bd09": ("parkgeo.coords", "wgs84_to_bd09"),
    "wgs84_to_gcj02": ("parkgeo.coords", "wgs84_to_gcj02"),
    "TianjinSample": ("parkgeo.datasets", "TianjinSample"),
    "load_tianjin": ("parkgeo.datasets", "load_tianjin"),
    "planted_gaps": ("parkgeo.datasets", "planted_gaps"),
    "sample_path": ("parkgeo.datasets", "sample_path"),
    "DisclosureError": ("parkgeo.disclosure", "DisclosureError"),
    "DisclosureRules": ("parkgeo.disclosure", "DisclosureRules"),
    "ProtectedTable": ("parkgeo.disclosure", "ProtectedTable"),
    "contributions_of": ("parkgeo.disclosure", "contributions_of"),
    "protect": ("parkgeo.disclosure", "protect"),
    "read_disclosure_rules": ("parkgeo.disclosure", "read_disclosure_rules"),
    "park_metrics_dask": ("parkgeo.scale", "park_metrics_dask"),
    "EvaluationResult": ("parkgeo.evaluate", "EvaluationResult"),
    "evaluate_enterprises": ("parkgeo.evaluate", "evaluate_enterprises"),
    "read_supplement": ("parkgeo.evaluate", "read_supplement"),
    "write_evaluation": ("parkgeo.evaluate", "write_evaluation"),
    "ParcelLand": ("parkgeo.evaluate_land", "ParcelLand"),
    "allocate_parcels": ("parkgeo.evaluate_land", "allocate_parcels"),
    "Scheme": ("parkgeo.evaluate_scheme", "Scheme"),
    "SchemeError": ("parkgeo.evaluate_scheme", "SchemeError"),
    "read_scheme": ("parkgeo.evaluate_scheme", "read_scheme"),
    "score_firms": ("parkgeo.evaluate_scoring", "score_firms"),
    "missing_clusters": ("parkgeo.gaps", "missing_clusters"),
    "STRATEGIC_CATEGORIES": ("parkgeo.industry", "STRATEGIC_CATEGORIES"),
    "IndustryCodeError": ("parkgeo.industry", "IndustryCodeError"),
    "industry_name": ("parkgeo.industry", "industry_name"),
    "is_valid_code": ("parkgeo.industry", "is_valid_code"),
    "load_classification": ("parkgeo.industry", "load_classification"),
    "load_strategic_mapping": ("parkgeo.industry", "load_strategic_mapping"),
    "normalize_code": ("parkgeo.industry", "normalize_code"),
    "normalize_codes": ("parkgeo.industry", "normalize_codes"),
    "rollup": ("parkgeo.industry", "rollup"),
    "strategic_category": ("parkgeo.industry", "strategic_category"),
    "Loaded": ("parkgeo.io", "Loaded"),
    "atomic_path": ("parkgeo.io", "atomic_path"),
    "atomic_write": ("parkgeo.io", "atomic_write"),
    "format_csv": ("parkgeo.io", "format_csv"),
    "format_json": ("parkgeo.io", "format_json"),
    "read_column_mapping": ("parkgeo.io", "read_column_mapping"),
    "read_enterprises": ("parkgeo.io", "read_enterprises"),
    "read_parks": ("parkgeo.io", "read_parks"),
    "split_lonlat_column": ("parkgeo.io", "split_lonlat_column"),
    "write_table": ("parkgeo.io", "write_table"),
    "MATCH_KINDS": ("parkgeo.join", "MATCH_KINDS"),
    "JoinResult": ("parkgeo.join", "JoinResult"),
    "assign_parks": ("parkgeo.join", "assign_parks"),
    "cluster_map": ("parkgeo.maps", "cluster_map"),
    "density_map": ("parkgeo.maps", "density_map"),
    "gap_map": ("parkgeo.maps", "gap_map"),
    "health_report": ("parkgeo.health", "health_report"),
    "map_html": ("parkgeo.maps", "map_html"),
    "planner_map": ("parkgeo.maps", "planner_map"),
    "save_map": ("parkgeo.maps", "save_map"),
    "plan_report": ("parkgeo.report", "plan_report"),
    "save_report": ("parkgeo.report", "save_report"),
    "ALL": ("parkgeo._figures", "ALL"),
    "ALL_PARKS": ("parkgeo._figures", "ALL_PARKS"),
    "STATUSES": ("parkgeo._figures", "STATUSES"),
    "Partials": ("parkgeo._partials", "Partials"),
    "Targets": ("parkgeo._targets", "Targets"),
    "finish": ("parkgeo._partials", "finish"),
    "park_metrics": ("parkgeo.metrics", "park_metrics"),
    "partials_of": ("parkgeo._partials", "partials_of"),
    "read_targets": ("parkgeo._targets", "read_targets"),
    "with_park_geometry": ("parkgeo.results", "with_park_geometry"),
    "rank_parks": ("parkgeo.siting", "rank_parks"),
    "score_sites": ("parkgeo.siting", "score_sites"),
    "PeerGroups": ("parkgeo.structure", "PeerGroups"),
    "colocation_proximity": ("parkgeo.structure", "colocation_proximity"),
    "colocation_quotients": ("parkgeo.structure", "colocation_quotients"),
    "industry_totals": ("parkgeo.structure", "industry_totals"),
    "location_quotients": ("parkgeo.structure", "location_quotients"),
    "park_industry_matrix": ("parkgeo.structure", "park_industry_matrix"),
    "peer_groups": ("parkgeo.structure", "peer_groups"),
    "presence": ("parkgeo.structure", "presence"),
    "proximity": ("parkgeo.structure", "proximity"),
    "relatedness_density": ("parkgeo.structure", "relatedness_density"),
    "default_year": ("parkgeo.years", "default_year"),
}

if TYPE_CHECKING:  # static checkers and IDEs see ordinary imports
    from parkgeo._errors import (
        CRSError,
        DataValidationError,
        GeometryError,
        InputFormatError,
        MissingAssetError,
        ParkgeoError,
        SchemaError,
    )
    from parkgeo._figures import ALL, ALL_PARKS, STATUSES
    from parkgeo._ledger import (
        REASONS as REJECT_REASONS,
    )
    from parkgeo._partials import Partials, finish, partials_of
    from parkgeo._targets import Targets, read_targets
    from parkgeo._validate import (
        validate_enterprises,
    )
    from parkgeo._validate_parks import (
        validate_parks,
    )
    from parkgeo.clusters import (
        ClusterResult,
        industry_clusters,
    )
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
    from parkgeo.datasets import (
        TianjinSample,
        load_tianjin,
        planted_gaps,
        sample_path,
    )
    from parkgeo.disclosure import (
        DisclosureError,
        DisclosureRules,
        ProtectedTable,
        contributions_of,
        protect,
        read_disclosure_rules,
    )
    from parkgeo.evaluate import (
        EvaluationResult,
        evaluate_enterprises,
        read_supplement,
        write_evaluation,
    )
    from parkgeo.evaluate_land import (
        ParcelLand,
        allocate_parcels,
    )
    from parkgeo.evaluate_scheme import (
        Scheme,
        SchemeError,
        read_scheme,
    )
    from parkgeo.evaluate_scoring import (
        score_firms,
    )
    from parkgeo.gaps import (
        missing_clusters,
    )
    from parkgeo.health import (
        health_report,
    )
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
    from parkgeo.join import (
        MATCH_KINDS,
        JoinResult,
        assign_parks,
    )
    from parkgeo.maps import (
        cluster_map,
        density_map,
        gap_map,
        map_html,
        planner_map,
        save_map,
    )
    from parkgeo.metrics import park_metrics
    from parkgeo.report import plan_report, save_report
    from parkgeo.results import with_park_geometry
    from parkgeo.scale import (
        BatchedResult,
        iter_enterprise_batches,
        park_metrics_batched,
        park_metrics_dask,
        park_metrics_file,
    )
    from parkgeo.siting import (
        rank_parks,
        score_sites,
    )
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
    from parkgeo.years import default_year

# kept literal so linters and readers see the API; a test checks it equals _PUBLIC
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
    "DisclosureError",
    "DisclosureRules",
    "EvaluationResult",
    "GeometryError",
    "IndustryCodeError",
    "InputFormatError",
    "JoinResult",
    "Loaded",
    "MissingAssetError",
    "ParcelLand",
    "ParkgeoError",
    "Partials",
    "PeerGroups",
    "ProtectedTable",
    "SchemaError",
    "Scheme",
    "SchemeError",
    "Targets",
    "TianjinSample",
    "__version__",
    "allocate_parcels",
    "assign_parks",
    "atomic_path",
    "atomic_write",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cluster_map",
    "colocation_proximity",
    "colocation_quotients",
    "contributions_of",
    "convert_coords",
    "convert_geometry",
    "default_year",
    "density_map",
    "evaluate_enterprises",
    "finish",
    "format_csv",
    "format_json",
    "gap_map",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geodesic_area_ha",
    "health_report",
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
    "plan_report",
    "planner_map",
    "planted_gaps",
    "presence",
    "protect",
    "proximity",
    "rank_parks",
    "read_column_mapping",
    "read_disclosure_rules",
    "read_enterprises",
    "read_parks",
    "read_scheme",
    "read_supplement",
    "read_targets",
    "relatedness_density",
    "rollup",
    "sample_path",
    "save_map",
    "save_report",
    "score_firms",
    "score_sites",
    "split_lonlat_column",
    "strategic_category",
    "to_wgs84",
    "validate_enterprises",
    "validate_parks",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "with_park_geometry",
    "write_evaluation",
    "write_table",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'parkgeo' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
