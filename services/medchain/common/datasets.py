"""Demo and benchmark tables that ship inside packages, and their split across hospitals.

Breast cancer (569 x 30, binary) and diabetes (442 x 10, raw clinical units, regression) come with
scikit-learn; the NCCTG lung data (228 patients, 18 institutions) comes with lifelines, and its real
`inst` column is the natural hospital split. Synthetic hospitals for the sklearn tables are made
non-IID: a Dirichlet(alpha) share of each label goes to each site (Hsu et al., 2019); for
regression the "labels" are the target's quantile bins, so sites see different outcome ranges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn import datasets as sklearn_datasets

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]
Task = Literal["classification", "regression"]

LUNG_FEATURES = ("age", "sex", "ph.ecog", "ph.karno", "pat.karno", "wt.loss")
LUNG_HORIZON_DAYS = 365


@dataclass(frozen=True)
class Dataset:
    """Features with their targets; `groups` holds each row's natural site when there is one."""

    name: str
    features: FloatArray
    targets: FloatArray
    feature_names: tuple[str, ...]
    task: Task
    classes: tuple[int, ...] = ()
    groups: IndexArray | None = None

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def subset(self, indices: IndexArray) -> Dataset:
        """The rows at `indices`, in that order."""
        return Dataset(
            self.name,
            self.features[indices],
            self.targets[indices],
            self.feature_names,
            self.task,
            self.classes,
            None if self.groups is None else self.groups[indices],
        )


def breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer: 569 x 30, target 1 = benign, 0 = malignant."""
    bunch = sklearn_datasets.load_breast_cancer()
    return Dataset(
        "breast_cancer",
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.float64),
        tuple(str(n) for n in bunch.feature_names),
        "classification",
        (0, 1),
    )


def diabetes() -> Dataset:
    """Diabetes progression after one year: 442 x 10 in raw units (`scaled=False`)."""
    bunch = sklearn_datasets.load_diabetes(scaled=False)
    return Dataset(
        "diabetes",
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.float64),
        tuple(str(n) for n in bunch.feature_names),
        "regression",
    )


def lung() -> Dataset:
    """NCCTG advanced lung cancer, one row per patient, grouped by institution (`inst`).

    Target: 1 if the patient died within 365 days. Patients censored before day 365 have no
    known outcome and are left out, as are rows missing `inst` or a feature (meal.cal, missing for
    47 patients, is not used): 168 patients from 17 institutions remain.
    """
    from lifelines.datasets import load_lung  # type: ignore[import-untyped]  # heavy: load lazily

    frame = load_lung()
    frame = frame.dropna(subset=["inst", *LUNG_FEATURES])
    died_in_horizon = (frame["status"] == 1) & (frame["time"] <= LUNG_HORIZON_DAYS)
    known = died_in_horizon | (frame["time"] > LUNG_HORIZON_DAYS)
    frame, died_in_horizon = frame[known], died_in_horizon[known]
    return Dataset(
        "lung",
        frame[list(LUNG_FEATURES)].to_numpy(dtype=np.float64),
        died_in_horizon.to_numpy(dtype=np.float64),
        LUNG_FEATURES,
        "classification",
        (0, 1),
        frame["inst"].to_numpy(dtype=np.int64),
    )


def quantile_bins(targets: FloatArray, n_bins: int) -> IndexArray:
    """Bin index (0..n_bins-1) of each target by its empirical quantile."""
    edges = np.quantile(targets, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    return np.searchsorted(edges, targets, side="right").astype(np.int64)


def dirichlet_split(
    labels: npt.ArrayLike, n_sites: int, *, alpha: float, seed: int, min_size: int = 10
) -> list[IndexArray]:
    """Share each label's rows among sites by Dirichlet(alpha) proportions; small alpha = skewed.

    Draws again (from the same seeded generator, so still deterministic) until every site has at
    least `min_size` rows; ValueError if 1000 draws never manage it.
    """
    y = np.asarray(labels)
    if n_sites < 1 or alpha <= 0 or n_sites * min_size > y.shape[0]:
        raise ValueError(f"cannot give {n_sites} sites {min_size}+ of {y.shape[0]} rows")
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        parts: list[list[int]] = [[] for _ in range(n_sites)]
        for label in np.unique(y):
            rows = rng.permutation(np.flatnonzero(y == label))
            shares = rng.dirichlet(np.full(n_sites, alpha))
            cuts = (np.cumsum(shares)[:-1] * rows.shape[0]).astype(np.int64)
            for site, chunk in enumerate(np.split(rows, cuts)):
                parts[site].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]
    raise ValueError(f"no Dirichlet({alpha}) draw gave every site {min_size} rows")


def non_iid_split(
    dataset: Dataset, n_sites: int, *, alpha: float = 0.5, seed: int = 0, min_size: int = 10
) -> list[IndexArray]:
    """Dirichlet over labels for classification, over n_sites quantile bins for regression."""
    labels = (
        dataset.targets
        if dataset.task == "classification"
        else quantile_bins(dataset.targets, n_sites)
    )
    return dirichlet_split(labels, n_sites, alpha=alpha, seed=seed, min_size=min_size)


def split_by_group(dataset: Dataset) -> dict[int, IndexArray]:
    """Row indices of each natural site (e.g. lung's institutions), by group id."""
    if dataset.groups is None:
        raise ValueError(f"dataset {dataset.name} has no natural sites")
    return {
        int(g): np.flatnonzero(dataset.groups == g).astype(np.int64)
        for g in np.unique(dataset.groups)
    }


@dataclass(frozen=True)
class HospitalData:
    """One hospital's rows: what it trains on and what it keeps back for evaluation."""

    name: str
    train: Dataset
    held_out: Dataset


def train_held_out_split(
    dataset: Dataset, indices: IndexArray, *, held_out_fraction: float, seed: int
) -> tuple[IndexArray, IndexArray]:
    """Split one site's rows; stratified by label for classification (ceil of the fraction)."""
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    rng = np.random.default_rng(seed)
    strata = (
        [indices[dataset.targets[indices] == c] for c in np.unique(dataset.targets[indices])]
        if dataset.task == "classification"
        else [indices]
    )
    train: list[int] = []
    held: list[int] = []
    for stratum in strata:
        shuffled = rng.permutation(stratum)
        count = min(math.ceil(held_out_fraction * shuffled.shape[0]), shuffled.shape[0] - 1)
        held.extend(shuffled[:count].tolist())
        train.extend(shuffled[count:].tolist())
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(held, dtype=np.int64))


def hospitals(
    dataset: Dataset,
    parts: Sequence[IndexArray],
    *,
    held_out_fraction: float = 0.2,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> list[HospitalData]:
    """One HospitalData per part (named h1, h2, ... unless given), each with its own split."""
    labels = list(names) if names is not None else [f"h{i + 1}" for i in range(len(parts))]
    if len(labels) != len(parts):
        raise ValueError(f"{len(parts)} parts but {len(labels)} names")
    out: list[HospitalData] = []
    for site, (name, indices) in enumerate(zip(labels, parts, strict=True)):
        train, held = train_held_out_split(
            dataset, indices, held_out_fraction=held_out_fraction, seed=seed + site
        )
        out.append(HospitalData(name, dataset.subset(train), dataset.subset(held)))
    return out
