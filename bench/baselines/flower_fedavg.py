"""The benchmark study as Flower FedAvg in Flower's Simulation Runtime (runs in the Flower venv).

Usage: python flower_fedavg.py STUDY_DIR RESULT.json

STUDY_DIR is written by bench/federated_round.py: config.json and one .npz per hospital with the
exact (standardised) training and held-out rows MedChain's trainers used. Each simulated SuperNode
(partition-id i) is hospital i; its ClientApp trains MedChain's logistic regression (linear_sgd.py,
same seeds) and evaluates the new global model on its held-out rows. The server runs Flower's own
`flwr.serverapp.strategy.FedAvg` (weighted by "num-examples"). A round's wall time runs from the
strategy configuring the round's training to it aggregating the round's evaluation replies, so it
covers training, transfer, aggregation and evaluation, like MedChain's round (which also commits
to the ledger). No ledger here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import flwr
import linear_sgd
import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg
from flwr.simulation import run_simulation


def make_client_app(study_dir: str) -> ClientApp:
    app = ClientApp()
    cache: dict[str, Any] = {}

    def study() -> dict[str, Any]:
        if "study" not in cache:
            cache["study"] = linear_sgd.load_study(Path(study_dir))
        return cache["study"]

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        config = study()
        site = config["sites"][int(context.node_config["partition-id"])]
        data = site["data"]
        coef, intercept = msg.content["arrays"].to_numpy_ndarrays()
        round_number = int(msg.content["config"]["server-round"])
        coef, intercept = linear_sgd.train(
            coef,
            intercept,
            data["train_x"],
            data["train_y"],
            learning_rate=config["learning_rate"],
            epochs=config["local_epochs"],
            batch_size=config["batch_size"],
            l2=config["l2"],
            rng=linear_sgd.site_rng(config["seed"], round_number, site["org_number"]),
        )
        content = RecordDict(
            {
                "arrays": ArrayRecord([coef, intercept]),
                "metrics": MetricRecord({"num-examples": int(data["train_x"].shape[0])}),
            }
        )
        return Message(content=content, reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        config = study()
        data = config["sites"][int(context.node_config["partition-id"])]["data"]
        coef, intercept = msg.content["arrays"].to_numpy_ndarrays()
        metrics = {
            "accuracy": linear_sgd.accuracy(coef, intercept, data["holdout_x"], data["holdout_y"]),
            "num-examples": int(data["holdout_x"].shape[0]),
        }
        return Message(content=RecordDict({"metrics": MetricRecord(metrics)}), reply_to=msg)

    return app


class TimedFedAvg(FedAvg):
    """Flower's FedAvg, noting when each round starts and ends and its aggregated accuracy."""

    def __init__(self, log: list[dict[str, float]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log = log
        self.started: dict[int, float] = {}

    def configure_train(self, server_round: int, *args: Any, **kwargs: Any) -> Any:
        self.started[server_round] = time.perf_counter()
        return super().configure_train(server_round, *args, **kwargs)

    def aggregate_evaluate(self, server_round: int, replies: Any) -> Any:
        metrics = super().aggregate_evaluate(server_round, replies)
        ended = time.perf_counter()
        self.log.append(
            {
                "round": server_round,
                "accuracy": float(metrics["accuracy"]) if metrics else float("nan"),
                "seconds": ended - self.started[server_round],
            }
        )
        return metrics


def make_server_app(study_dir: str, log: list[dict[str, float]]) -> ServerApp:
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        config = linear_sgd.load_study(Path(study_dir))
        n = len(config["sites"])
        n_features = config["sites"][0]["data"]["train_x"].shape[1]
        strategy = TimedFedAvg(
            log,
            fraction_train=1.0,
            fraction_evaluate=1.0,
            min_train_nodes=n,
            min_evaluate_nodes=n,
            min_available_nodes=n,
        )
        strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord(list(linear_sgd.initial(n_features))),
            num_rounds=int(config["rounds"]),
            train_config=ConfigRecord({}),
        )

    return app


def main() -> int:
    study_dir, result_path = sys.argv[1], Path(sys.argv[2])
    config = linear_sgd.load_study(Path(study_dir))
    n = len(config["sites"])
    log: list[dict[str, float]] = []
    started = time.perf_counter()
    run_simulation(
        server_app=make_server_app(study_dir, log),
        client_app=make_client_app(study_dir),
        num_supernodes=n,
        backend_name="ray",
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
    )
    total = time.perf_counter() - started
    linear_sgd.write_result(
        result_path,
        {
            "framework": "flower",
            "version": flwr.__version__,
            "numpy": np.__version__,
            "rounds": log,
            "total_s": total,
            "outside_rounds_s": total - sum(r["seconds"] for r in log),
        },
    )
    return 0 if len(log) == int(config["rounds"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
