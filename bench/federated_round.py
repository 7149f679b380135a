"""The same federated study run by MedChain (every update endorsed on Fabric), Flower and FLARE.

Breast cancer, 3 non-IID hospitals, logistic regression (SGD, rate 0.1, batch 32, 1 local epoch),
FedAvg, 10 rounds (3 in quick mode). MedChain runs first, in-process on a fresh real network
(bench/federated_study.py); the rows each of its trainers used (consented, held-out split,
standardised with the study's pooled standardization) are then written to .npz files, and after
the network is removed Flower 1.42 (Simulation Runtime, Ray backend) and NVIDIA FLARE 2.9
(SklearnFedAvgRecipe in SimEnv) each train the same model with the same seeds on those rows, in
their own virtualenvs (bench/baseline_venvs.py). Equal accuracies per round show it is the same
study; the round times then compare the frameworks.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import baseline_venvs
from bench.fabric_fixture import running_network
from bench.federated_study import StudyRun, run_study, write_study_files

BASELINES_DIR = Path(__file__).resolve().parent / "baselines"
SCRIPTS = {"flower": "flower_fedavg.py", "nvflare": "nvflare_fedavg.py"}
RUN_TIMEOUT_S = 1800


def install_baselines(quick: bool) -> bool:
    """Full mode installs missing baseline venvs; quick mode only uses cached ones, unless
    MEDCHAIN_BENCH_INSTALL_BASELINES=1."""
    return not quick or os.environ.get("MEDCHAIN_BENCH_INSTALL_BASELINES") == "1"


def run_baseline(name: str, study_dir: Path, work: Path, install: bool) -> dict[str, Any]:
    """Run one baseline in its venv; its result JSON, or {"error": exact reason}."""
    venv = baseline_venvs.ensure(name, install=install)
    info: dict[str, Any] = {
        "versions": venv.versions,
        "venv_created_now": venv.created_now,
        "install_s": round(venv.install_seconds, 1),
    }
    if venv.python is None:
        return {**info, "error": venv.error}
    out = work / f"{name}.json"
    command = [str(venv.python), str(BASELINES_DIR / SCRIPTS[name]), str(study_dir), str(out)]
    if name == "nvflare":
        command.append(str(work / "nvflare-workspace"))
    log = work / f"{name}.log"
    started = time.perf_counter()
    try:
        with log.open("w") as sink:
            done = subprocess.run(
                command,
                env=baseline_venvs.isolated_env({"PYTHONPATH": str(BASELINES_DIR)}),
                cwd=work,
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=RUN_TIMEOUT_S,
                check=False,
            )
    except subprocess.TimeoutExpired:
        return {**info, "error": f"{name} did not finish within {RUN_TIMEOUT_S} s"}
    wall = time.perf_counter() - started
    if done.returncode != 0 or not out.exists():
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-12:])
        return {**info, "error": f"{SCRIPTS[name]} exited {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(out.read_text())
    return {**info, **result, "process_wall_s": wall}


def _fmt(value: float | None, digits: int) -> float | str:
    return "n/a" if value is None else round(value, digits)


def _round_value(result: dict[str, Any], number: int, key: str) -> float | None:
    for record in result.get("rounds", []):
        if record["round"] == number:
            return float(record[key])
    return None


def rows_and_notes(
    study: StudyRun, baselines: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    for record in study.rounds:
        number = int(record["round"])
        timings = record.get("timings", {})
        rows.append(
            {
                "round": f"{number}*" if number in study.resumed else number,
                "medchain_accuracy": round(record["metrics"]["accuracy"], 4),
                "flower_accuracy": _fmt(_round_value(baselines["flower"], number, "accuracy"), 4),
                "nvflare_accuracy": _fmt(_round_value(baselines["nvflare"], number, "accuracy"), 4),
                "medchain_round_s": round(timings["total_s"], 3),
                "flower_round_s": _fmt(_round_value(baselines["flower"], number, "seconds"), 3),
                "nvflare_round_s": _fmt(_round_value(baselines["nvflare"], number, "seconds"), 3),
                "medchain_training_s": round(timings["training_s"], 3),
                "medchain_ledger_s": round(timings["ledger_s"], 3),
                "medchain_evaluation_s": round(timings["evaluation_s"], 3),
                "medchain_transfer_other_s": round(timings["transfer_and_other_s"], 3),
            }
        )
    times = {
        "medchain": [float(r["timings"]["total_s"]) for r in study.clean_rounds()],
        **{
            name: [float(r["seconds"]) for r in result.get("rounds", [])]
            for name, result in baselines.items()
        },
    }
    for label, fn in (("median", statistics.median), ("mean", statistics.fmean)):
        summary: dict[str, Any] = {key: "" for key in rows[0]}
        summary["round"] = label
        for name in ("medchain", "flower", "nvflare"):
            summary[f"{name}_round_s"] = round(fn(times[name]), 3) if times[name] else "n/a"
        rows.append(summary)
    notes: list[str] = []
    clean = study.clean_rounds()
    if clean:
        parts = ("training_s", "ledger_s", "evaluation_s", "transfer_and_other_s")
        medians = {p: statistics.median(float(r["timings"][p]) for r in clean) for p in parts}
        split = ", ".join(f"{p.removesuffix('_s')} {v:.3f} s" for p, v in medians.items())
        notes.append(f"MedChain round, median of each part: {split}")
    flower = times["flower"]
    if flower:
        m_med, f_med = statistics.median(times["medchain"]), statistics.median(flower)
        m_mean, f_mean = statistics.fmean(times["medchain"]), statistics.fmean(flower)
        verdict = "met" if m_med <= f_med else "NOT met"
        notes.append(
            f"goal: MedChain's round (ledger included) no slower than Flower's simulated round: "
            f"{verdict} - median {m_med:.3f} s vs {f_med:.3f} s (ratio medchain/flower "
            f"{m_med / f_med:.2f}); mean {m_mean:.3f} s vs {f_mean:.3f} s (ratio "
            f"{m_mean / f_mean:.2f}; Flower's first round includes starting its Ray actors)"
        )
    if times["nvflare"]:
        m_med, n_med = statistics.median(times["medchain"]), statistics.median(times["nvflare"])
        notes.append(
            f"MedChain vs NVIDIA FLARE simulator: median round {m_med:.3f} s vs {n_med:.3f} s "
            f"(ratio medchain/nvflare {m_med / n_med:.2f})"
        )
    for name, result in baselines.items():
        if "error" in result:
            notes.append(f"{name}: not measured - {result['error']}")
            continue
        same = all(
            abs(float(r["accuracy"]) - float(m["metrics"]["accuracy"])) < 1e-9
            for r, m in zip(result["rounds"], study.rounds, strict=False)
        )
        versions = ", ".join(f"{k} {v}" for k, v in result.get("versions", {}).items())
        notes.append(
            f"{name}: {versions}; whole run {result['total_s']:.1f} s of which "
            f"{result['outside_rounds_s']:.1f} s outside the rounds (start-up, shutdown); "
            f"accuracy {'identical to' if same else 'DIFFERS from'} MedChain's in every round"
            + (
                f"; venv installed now in {result['install_s']} s"
                if result.get("venv_created_now")
                else ""
            )
        )
    notes += [f"MedChain recovery: {event}" for event in study.events]
    for number, error in sorted(study.resumed.items()):
        notes.append(
            f"MedChain round {number}* failed once ({error}) and was finished by the aggregator "
            "resuming from the ledger; its time covers only the resumed part and is left out of "
            "the median and mean"
        )
    setup = ", ".join(f"{k} {v:.1f} s" for k, v in study.setup_s.items())
    notes += [
        "MedChain round = open round on the ledger, train at 3 hospitals over gRPC/mTLS (each "
        "commits its update hash and cohort Merkle root, MAJORITY endorsement), accept only "
        "ledger-matching updates, FedAvg, evaluate at 3 hospitals, commit the round on the ledger; "
        "training_s = slowest hospital's training, ledger_s = aggregator ledger calls + slowest "
        "hospital's update commit",
        "Flower round = configure train -> aggregate evaluate (Simulation Runtime, Ray backend, "
        "no ledger); FLARE round = dispatch of round r to dispatch of round r + 1 (simulator, "
        "3 client threads, no ledger); accuracy = the global model on the union of the "
        "hospitals' held-out rows",
        f"MedChain setup (not in the round times): {setup}",
        "MedChain shares the 2 cores with 3 peers, 3 orderers and 3 chaincode servers; the "
        "baselines run after the network is removed",
    ]
    return rows, notes


def run(quick: bool) -> dict[str, Any]:
    rounds = 3 if quick else 10
    with tempfile.TemporaryDirectory(prefix="medchain-bench-round-") as tmp:
        root = Path(tmp)
        with running_network() as network:
            study, _ = run_study(network, root / "medchain", "breast_cancer", rounds)
        study_dir = root / "study"
        write_study_files(study, study_dir)
        install = install_baselines(quick)
        baselines = {name: run_baseline(name, study_dir, root, install) for name in SCRIPTS}
    rows, notes = rows_and_notes(study, baselines)
    return {
        "title": (
            f"Federated round: MedChain (Fabric-endorsed) vs Flower vs NVIDIA FLARE "
            f"(breast cancer, 3 non-IID hospitals, {rounds} rounds)"
        ),
        "rows": rows,
        "notes": notes,
    }
