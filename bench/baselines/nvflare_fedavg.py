"""The benchmark study as NVIDIA FLARE's scikit-learn FedAvg in its simulator (FLARE venv).

Usage: python nvflare_fedavg.py STUDY_DIR RESULT.json WORKSPACE

FLARE's own `SklearnFedAvgRecipe` (FedAvg controller, weighted aggregation, joblib persistor) runs
in `SimEnv`, one simulated client per hospital, each running nvflare_client.py on the exact rows
MedChain's trainers used. FLARE's clients validate the global model they receive before training,
so the accuracy of the model after round r is measured when round r + 1 is dispatched: the job runs
one extra round whose training is not counted. A round's wall time runs from the first client
receiving round r's model to the first client receiving round r + 1's (training, transfer,
aggregation, persisting and the next dispatch, which includes evaluating the model).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import linear_sgd
import numpy as np
import nvflare
from nvflare.app_opt.sklearn.recipes.fedavg import SklearnFedAvgRecipe
from nvflare.recipe import SimEnv, set_per_site_config

HERE = Path(__file__).resolve().parent


def main() -> int:
    study_dir, result_path, workspace = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    config = linear_sgd.load_study(study_dir)
    n, rounds = len(config["sites"]), int(config["rounds"])
    log = workspace / "client-rounds.jsonl"
    workspace.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    recipe = SklearnFedAvgRecipe(
        name="medchain_bench_fedavg",
        min_clients=n,
        num_rounds=rounds + 1,
        model_params={"n_classes": 2, "n_features": config["sites"][0]["data"]["train_x"].shape[1]},
        train_script=str(HERE / "nvflare_client.py"),
    )
    set_per_site_config(
        recipe,
        {
            f"site-{i + 1}": {"train_args": f"--study {study_dir} --site {i} --log {log}"}
            for i in range(n)
        },
    )
    sites = [f"site-{i + 1}" for i in range(n)]
    env = SimEnv(clients=sites, num_threads=n, workspace_root=str(workspace / "sim"))
    started = time.perf_counter()
    run = recipe.execute(env)
    status = run.get_status()
    total = time.perf_counter() - started
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    by_round: dict[int, list[dict[str, float]]] = {}
    for record in records:
        by_round.setdefault(int(record["current_round"]), []).append(record)
    rows = []
    for r in range(1, rounds + 1):
        start, after = by_round.get(r - 1, []), by_round.get(r, [])
        if len(after) != n or not start:
            break
        weights = np.array([a["holdout"] for a in after], dtype=np.float64)
        accuracy = float(np.average([a["accuracy_of_received"] for a in after], weights=weights))
        rows.append(
            {
                "round": r,
                "accuracy": accuracy,
                "seconds": min(a["received"] for a in after) - min(s["received"] for s in start),
            }
        )
    linear_sgd.write_result(
        result_path,
        {
            "framework": "nvflare",
            "version": nvflare.__version__,
            "numpy": np.__version__,
            "status": str(status),
            "result": str(run.get_result()),
            "rounds": rows,
            "total_s": total,
            "outside_rounds_s": total - sum(r["seconds"] for r in rows),
        },
    )
    return 0 if len(rows) == rounds else 1


if __name__ == "__main__":
    raise SystemExit(main())
