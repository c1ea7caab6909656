"""parkgeo._kmeans against scikit-learn: the same labels, the same silhouette."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score

from parkgeo import assign_parks, load_tianjin, park_industry_matrix
from parkgeo._kmeans import kmeans_labels, silhouette


def _compositions(seed: int) -> np.ndarray:
    """Hellinger features of random sparse park x industry mixes, some parks repeated."""
    rng = np.random.default_rng(seed)
    n_parks, n_industries = int(rng.integers(6, 70)), int(rng.integers(2, 40))
    counts = rng.gamma(0.3, size=(n_parks, n_industries)) * (
        rng.random((n_parks, n_industries)) < 0.5
    )
    counts[counts.sum(axis=1) == 0, 0] = 1.0
    if seed % 4 == 0:
        counts[: n_parks // 3] = counts[0]  # identical mixes: ties and empty clusters
    return np.sqrt(counts / counts.sum(axis=1, keepdims=True))


def _sklearn_labels(feats: np.ndarray, k: int, seed: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = KMeans(n_clusters=k, n_init=10, random_state=seed)
        return np.asarray(est.fit_predict(feats))


@pytest.mark.parametrize("seed", range(60))
def test_labels_and_silhouette_equal_scikit_learn(seed: int) -> None:
    feats = _compositions(seed)
    distinct = len(np.unique(np.round(feats, 12), axis=0))
    for k in range(2, min(10, distinct - 1) + 1):
        expected = _sklearn_labels(feats, k, seed % 3)
        got = kmeans_labels(feats, k, n_init=10, random_state=seed % 3)
        np.testing.assert_array_equal(got, expected)
        if 2 <= len(np.unique(expected)) < len(feats):
            assert silhouette(feats, expected) == pytest.approx(
                silhouette_score(feats, expected), abs=1e-12
            )


def test_bundled_sample_peer_features() -> None:
    sample = load_tianjin()
    assigned = assign_parks(sample.enterprises, sample.parks)
    matrix = park_industry_matrix(assigned.assigned)
    x = matrix.to_numpy(dtype=float)
    x = x[x.sum(axis=1) > 0]
    feats = np.sqrt(x / x.sum(axis=1, keepdims=True))
    for k in (2, 3, 4, 5):
        for seed in (0, 1, 42):
            np.testing.assert_array_equal(
                kmeans_labels(feats, k, random_state=seed), _sklearn_labels(feats, k, seed)
            )


def test_input_not_changed_and_deterministic() -> None:
    feats = _compositions(7)
    before = feats.copy()
    first = kmeans_labels(feats, 3)
    np.testing.assert_array_equal(feats, before)
    np.testing.assert_array_equal(kmeans_labels(feats, 3), first)


def test_peer_groups_do_not_import_scikit_learn() -> None:
    code = (
        "import sys, pandas as pd; from parkgeo import peer_groups; "
        "m = pd.DataFrame({'A': [9, 8, 1, 0, 5, 4], 'B': [1, 2, 9, 10, 5, 6], "
        "'C': [0, 1, 0, 2, 9, 8]}, index=list('abcdef')); "
        "pg = peer_groups(m); print(pg.k, 'sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["2", "False"]
