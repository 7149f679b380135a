"""One hospital in NVIDIA FLARE's simulator (Client API), run inside the FLARE venv.

Usage (set by nvflare_fedavg.py per site): nvflare_client.py --study DIR --site I --log FILE

Every task: receive the global model, evaluate it on this hospital's held-out rows (FLARE's
pattern: the received model is validated before local training), train MedChain's logistic
regression from it (linear_sgd.py, same seeds), send it back weighted by the training rows
(NUM_STEPS_CURRENT_ROUND). One JSON line per task goes to FILE with the receive time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import linear_sgd
import numpy as np
import nvflare.client as flare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--study", required=True)
    parser.add_argument("--site", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    config = linear_sgd.load_study(Path(args.study))
    site = config["sites"][args.site]
    data = site["data"]
    n_features = data["train_x"].shape[1]
    flare.init()
    while flare.is_running():
        model = flare.receive()
        received = time.time()
        current = int(model.current_round)
        params = model.params or {}
        if "coef" in params:
            coef = np.asarray(params["coef"], dtype=np.float64).reshape(1, n_features)
            intercept = np.asarray(params["intercept"], dtype=np.float64).reshape(1)
        else:  # round 0: the persistor sends the initial settings, the model starts at zeros
            coef, intercept = linear_sgd.initial(n_features)
        accuracy = linear_sgd.accuracy(coef, intercept, data["holdout_x"], data["holdout_y"])
        coef, intercept = linear_sgd.train(
            coef,
            intercept,
            data["train_x"],
            data["train_y"],
            learning_rate=config["learning_rate"],
            epochs=config["local_epochs"],
            batch_size=config["batch_size"],
            l2=config["l2"],
            rng=linear_sgd.site_rng(config["seed"], current + 1, site["org_number"]),
        )
        flare.send(
            flare.FLModel(
                params={"coef": coef, "intercept": intercept},
                metrics={"accuracy": accuracy},
                meta={"NUM_STEPS_CURRENT_ROUND": int(data["train_x"].shape[0])},
            )
        )
        with open(args.log, "a", encoding="utf-8") as out:
            record = {
                "site": args.site,
                "current_round": current,
                "received": received,
                "sent": time.time(),
                "accuracy_of_received": accuracy,
                "holdout": int(data["holdout_x"].shape[0]),
            }
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
