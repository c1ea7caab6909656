"""k-means and the silhouette for peer groups, without importing scikit-learn.

Peer groups cluster a few dozen parks; scikit-learn's ``KMeans`` does that in milliseconds but
importing it costs 0.7-0.8 s (it pulls in ``scipy.stats``), which was a sixth of ``parkgeo
map`` on 120,000 firms. This module runs the same algorithm with the same random draws:
k-means++ seeding (``2 + log(k)`` local trials, the first centre drawn with
``RandomState.choice``, the others with ``RandomState.uniform``, one generator shared by the
``n_init`` starts), Lloyd iterations on centred data with the tolerance scaled by the mean
variance, empty clusters moved to the points farthest from their centres, and the start of
lowest inertia kept unless it is the same partition as the best so far. The labels equal
``sklearn.cluster.KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(x)``
(``tests/test_kmeans.py`` compares them on random compositions and the bundled sample); the
silhouette equals ``sklearn.metrics.silhouette_score`` to rounding.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_MAX_ITER = 300
_TOL = 1e-4

Floats = NDArray[np.float64]
Labels = NDArray[np.int64]


def kmeans_labels(x: Floats, k: int, *, n_init: int = 10, random_state: int = 0) -> Labels:
    """Labels of the best of ``n_init`` k-means++ / Lloyd runs on the rows of ``x``."""
    data = np.array(x, dtype=np.float64, order="C")  # a copy: centred below
    tol = float(np.mean(np.var(data, axis=0))) * _TOL
    # centring makes the squared-norm expansion of distances more accurate
    data -= data.mean(axis=0)
    norms = np.einsum("ij,ij->i", data, data)
    rng = np.random.RandomState(random_state)
    best_labels: Labels | None = None
    best_inertia = np.inf
    for _ in range(n_init):
        centres = _kmeans_plusplus(data, k, norms, rng)
        labels, inertia = _lloyd(data, centres, tol)
        if best_labels is None or (
            inertia < best_inertia and not _same_partition(labels, best_labels, k)
        ):
            best_labels, best_inertia = labels, inertia
    assert best_labels is not None
    return best_labels


def silhouette(x: Floats, labels: Labels) -> float:
    """Mean silhouette of ``labels`` under the Euclidean distance (scikit-learn's definition)."""
    data = np.asarray(x, dtype=np.float64)
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.ravel()
    freqs = np.bincount(codes)
    dist = np.sqrt(_squared_distances(data, data, np.einsum("ij,ij->i", data, data)))
    np.fill_diagonal(dist, 0.0)
    n = len(codes)
    per_cluster = np.zeros((n, len(freqs)))
    for i in range(n):
        per_cluster[i] = np.bincount(codes, weights=dist[i], minlength=len(freqs))
    rows = np.arange(n)
    intra = per_cluster[rows, codes]
    per_cluster[rows, codes] = np.inf
    inter = (per_cluster / freqs).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        intra = intra / np.clip(freqs - 1, 0, None)[codes]
        scores = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(scores)))


def _squared_distances(a: Floats, b: Floats, b_norms: Floats) -> Floats:
    # the expansion |a|^2 + |b|^2 - 2ab, as scikit-learn computes it, so near ties fall alike
    out: Floats = -2.0 * (a @ b.T)
    out += np.einsum("ij,ij->i", a, a)[:, None]
    out += b_norms[None, :]
    np.maximum(out, 0.0, out=out)
    return out


def _kmeans_plusplus(data: Floats, k: int, norms: Floats, rng: np.random.RandomState) -> Floats:
    n = data.shape[0]
    weights = np.ones(n)
    trials = 2 + int(np.log(k))
    centres = np.empty((k, data.shape[1]))
    first = rng.choice(n, p=weights / weights.sum())
    centres[0] = data[first]
    closest = _squared_distances(data[first][None, :], data, norms)
    potential = closest @ weights
    for c in range(1, k):
        draws = rng.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(weights * closest), draws)
        np.clip(candidates, None, closest.size - 1, out=candidates)
        to_candidates = _squared_distances(data[candidates], data, norms)
        np.minimum(closest, to_candidates, out=to_candidates)
        candidate_potential = to_candidates @ weights.reshape(-1, 1)
        best = int(np.argmin(candidate_potential))
        potential = candidate_potential[best]
        closest = to_candidates[best]
        centres[c] = data[candidates[best]]
    return centres


def _assign(data: Floats, centres: Floats) -> Labels:
    # |c|^2 - 2xc: |x|^2 does not change which centre is nearest; the first nearest wins ties
    scores = np.einsum("ij,ij->i", centres, centres)[None, :] - 2.0 * (data @ centres.T)
    labels: Labels = np.argmin(scores, axis=1).astype(np.int64)
    return labels


def _lloyd(data: Floats, centres: Floats, tol: float) -> tuple[Labels, float]:
    k = len(centres)
    labels = np.full(len(data), -1, dtype=np.int64)
    strict = False
    for _ in range(_MAX_ITER):
        new_labels = _assign(data, centres)
        new_centres, counts = _centre_sums(data, new_labels, k)
        _move_empty(data, centres, new_centres, counts, new_labels)
        _average(new_centres, counts)
        shift = float((np.sqrt(((new_centres - centres) ** 2).sum(axis=1)) ** 2).sum())
        centres = new_centres
        if np.array_equal(new_labels, labels):
            strict = True
            labels = new_labels
            break
        labels = new_labels
        if shift <= tol:
            break
    if not strict:
        labels = _assign(data, centres)
    inertia = float(((data - centres[labels]) ** 2).sum())
    return labels, inertia


def _centre_sums(data: Floats, labels: Labels, k: int) -> tuple[Floats, Floats]:
    sums = np.zeros((k, data.shape[1]))
    np.add.at(sums, labels, data)
    return sums, np.bincount(labels, minlength=k).astype(np.float64)


def _move_empty(data: Floats, old: Floats, sums: Floats, counts: Floats, labels: Labels) -> None:
    empty = np.flatnonzero(counts == 0)
    if not len(empty):
        return
    far = ((data - old[labels]) ** 2).sum(axis=1)
    if far.max() == 0:
        return  # more clusters than distinct points: nothing to move
    farthest = np.argpartition(far, -len(empty))[: -len(empty) - 1 : -1]
    for cluster, point in zip(empty, farthest, strict=True):
        sums[labels[point]] -= data[point]
        sums[cluster] = data[point]
        counts[cluster] = 1.0
        counts[labels[point]] -= 1.0


def _average(sums: Floats, counts: Floats) -> None:
    biggest = int(np.argmax(counts))
    for j in range(len(sums)):
        if counts[j] > 0:
            sums[j] *= 1.0 / counts[j]
        else:
            sums[j] = sums[biggest]


def _same_partition(a: Labels, b: Labels, k: int) -> bool:
    mapping = np.full(k, -1, dtype=np.int64)
    for x, y in zip(a, b, strict=True):
        if mapping[x] == -1:
            mapping[x] = y
        elif mapping[x] != y:
            return False
    return True
