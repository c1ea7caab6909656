"""The GCJ-02 and BD-09 point conversions: the published offset formulas and their iterative inverses.

Kernels only; ``parkgeo.coords`` is their public home (it re-exports the six conversions).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from parkgeo._geodesy import as_arrays, in_china

__all__ = [
    "RAW_CONVERSIONS",
    "apply_in_china",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid parameters, as used by the GCJ-02 algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_OFFSET_LON = 0.0065
_BD_OFFSET_LAT = 0.006

# The forward transforms are contractions with Lipschitz constant ~3e-3, so each fixed-point
# step gains more than two digits; 1e-12 degrees (~0.1 micrometre) is reached in 4-6 steps.
_INVERSE_TOL_DEG = 1e-12
_INVERSE_MAX_ITER = 50


# --------------------------------------------------------------------------------------------
# point conversions
# --------------------------------------------------------------------------------------------


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS-84, in degrees, at WGS-84 positions (no China test)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _gcj_encode(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _bd_encode(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 -> BD-09 (Baidu's published formula), no China test."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_OFFSET_LON, z * np.sin(theta) + _BD_OFFSET_LAT


def _bd_decode_approx(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The usual closed-form approximate BD-09 -> GCJ-02, used as the first guess."""
    x = lon - _BD_OFFSET_LON
    y = lat - _BD_OFFSET_LAT
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


_Encode = Callable[
    [NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]
]


def _invert(
    encode: _Encode,
    target_lon: NDArray[np.float64],
    target_lat: NDArray[np.float64],
    guess_lon: NDArray[np.float64],
    guess_lat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``encode(lon, lat) == target`` by fixed-point iteration from a first guess.

    ``x <- x - (encode(x) - target)`` converges because ``encode`` is the identity plus an offset
    whose derivative is of order 1e-3. Points that have converged are frozen so the loop only
    works on the rest.
    """
    lon, lat = guess_lon.copy(), guess_lat.copy()
    active = np.isfinite(lon) & np.isfinite(lat)
    for _ in range(_INVERSE_MAX_ITER):
        if active.all():  # the first steps: skip the cost of gathering and scattering
            enc_lon, enc_lat = encode(lon, lat)
            err_lon = enc_lon - target_lon
            err_lat = enc_lat - target_lat
            lon -= err_lon
            lat -= err_lat
            active = (np.abs(err_lon) > _INVERSE_TOL_DEG) | (np.abs(err_lat) > _INVERSE_TOL_DEG)
            continue
        if not active.any():
            break
        idx = np.flatnonzero(active)
        enc_lon, enc_lat = encode(lon[idx], lat[idx])
        err_lon = enc_lon - target_lon[idx]
        err_lat = enc_lat - target_lat[idx]
        lon[idx] -= err_lon
        lat[idx] -= err_lat
        done = (np.abs(err_lon) <= _INVERSE_TOL_DEG) & (np.abs(err_lat) <= _INVERSE_TOL_DEG)
        active[idx[done]] = False
    return lon, lat


def _wgs_to_gcj_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _gcj_encode(lon, lat)


def _gcj_to_wgs_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_gcj_encode, lon, lat, lon - dlon, lat - dlat)


def _gcj_to_bd_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _bd_encode(lon, lat)


def _bd_to_gcj_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    guess_lon, guess_lat = _bd_decode_approx(lon, lat)
    return _invert(_bd_encode, lon, lat, guess_lon, guess_lat)


def _wgs_to_bd_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _bd_encode(*_gcj_encode(lon, lat))


def _bd_to_wgs_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _gcj_to_wgs_raw(*_bd_to_gcj_raw(lon, lat))


def apply_in_china(
    raw: _Encode, lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon_arr, lat_arr = as_arrays(lon, lat)
    mask = in_china(lon_arr, lat_arr)
    if mask.all():
        return _reshape(raw, lon_arr, lat_arr)
    out_lon, out_lat = lon_arr.copy(), lat_arr.copy()
    if mask.any():
        new_lon, new_lat = raw(lon_arr[mask], lat_arr[mask])
        out_lon[mask] = new_lon
        out_lat[mask] = new_lat
    return out_lon, out_lat


def _reshape(
    raw: _Encode, lon_arr: NDArray[np.float64], lat_arr: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    new_lon, new_lat = raw(lon_arr.ravel(), lat_arr.ravel())
    return (
        np.asarray(new_lon, dtype=np.float64).reshape(lon_arr.shape),
        np.asarray(new_lat, dtype=np.float64).reshape(lat_arr.shape),
    )


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 (or CGCS2000) longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        Degrees; scalars or arrays of the same shape.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitude and latitude, float64, same shape as the input. Points outside China
        (:data:`CHINA_BBOX`) and NaN are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.404, 2.35], [39.915, 48.85])
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([116.410244, 2.35], [39.916404, 48.85])
    """
    return apply_in_china(_wgs_to_gcj_raw, lon, lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to WGS-84, exactly (iterative inverse).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS-84 degrees such that :func:`wgs84_to_gcj02` gives back the input to 1e-12 degrees.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(117.2, 39.1))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.2, 39.1)
    """
    return apply_in_china(_gcj_to_wgs_raw, lon, lat)


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410369, 39.921337)
    """
    return apply_in_china(_gcj_to_bd_raw, lon, lat)


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert Baidu BD-09 longitude/latitude to GCJ-02, exactly (iterative inverse).

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(117.2, 39.1))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.2, 39.1)
    """
    return apply_in_china(_bd_to_gcj_raw, lon, lat)


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 longitude/latitude to Baidu BD-09 (via GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(117.2, 39.1)
    >>> round(float(lon), 4), round(float(lat), 4)
    (117.2128, 39.1069)
    """
    return apply_in_china(_wgs_to_bd_raw, lon, lat)


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert Baidu BD-09 longitude/latitude to WGS-84, exactly (iterative inverse).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(117.2, 39.1))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.2, 39.1)
    """
    return apply_in_china(_bd_to_wgs_raw, lon, lat)


RAW_CONVERSIONS: dict[tuple[str, str], _Encode] = {
    ("wgs84", "gcj02"): _wgs_to_gcj_raw,
    ("gcj02", "wgs84"): _gcj_to_wgs_raw,
    ("gcj02", "bd09"): _gcj_to_bd_raw,
    ("bd09", "gcj02"): _bd_to_gcj_raw,
    ("wgs84", "bd09"): _wgs_to_bd_raw,
    ("bd09", "wgs84"): _bd_to_wgs_raw,
}
