"""What the federated model is compared with: a model on the pooled data and local-only models.

Both use exactly the patients and the held-out split the trainers use (same consent, same
pseudonym-based split), so the comparison is like for like. Pure given the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.preprocessing import StandardScaler

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SiteRows:
    hospital: str
    train_x: FloatArray
    train_y: FloatArray
    holdout_x: FloatArray
    holdout_y: FloatArray


def _fit_score(
    task: str, x: FloatArray, y: FloatArray, test_x: FloatArray, test_y: FloatArray
) -> float:
    scaler = StandardScaler().fit(x)
    if task == "regression":
        model = LinearRegression().fit(scaler.transform(x), y)
        return float(np.sqrt(mean_squared_error(test_y, model.predict(scaler.transform(test_x)))))
    if len(np.unique(y)) < 2:
        return float(accuracy_score(test_y, np.full_like(test_y, y[0])))
    classifier = LogisticRegression(max_iter=5000).fit(scaler.transform(x), y)
    return float(accuracy_score(test_y, classifier.predict(scaler.transform(test_x))))


def pooled_and_local(task: str, sites: list[SiteRows]) -> dict[str, object]:
    """Pooled-data score and each local-only model's score, all on the union of held-out rows."""
    test_x = np.concatenate([s.holdout_x for s in sites])
    test_y = np.concatenate([s.holdout_y for s in sites])
    pooled = _fit_score(
        task,
        np.concatenate([s.train_x for s in sites]),
        np.concatenate([s.train_y for s in sites]),
        test_x,
        test_y,
    )
    local = {s.hospital: _fit_score(task, s.train_x, s.train_y, test_x, test_y) for s in sites}
    metric = "rmse" if task == "regression" else "accuracy"
    return {
        "metric": metric,
        "pooled": pooled,
        "local_only": local,
        "local_only_mean": float(np.mean(list(local.values()))),
        "held_out_rows": int(test_y.shape[0]),
    }
