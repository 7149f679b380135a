"""The demo, step by step, through the public APIs exactly as hospitals would call them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from pydantic import SecretStr

from medchain.common.datasets import (
    Dataset,
    IndexArray,
    breast_cancer,
    diabetes,
    lung,
    non_iid_split,
)
from medchain.common.studies import ModelConfig, PrivacyConfig, StrategyConfig, StudySpec
from medchain.demo.baselines import SiteRows, pooled_and_local
from medchain.demo.tables import (
    IDENTIFIER_SYSTEM,
    TableCoding,
    breast_cancer_coding,
    diabetes_coding,
    lung_coding,
    patient_id,
)
from medchain.federation.credentials import hospital_secrets, read_key
from medchain.federation.layout import CONSENT_HTTP, INGEST_HTTP, FederationLayout
from medchain.ingest.pseudonyms import Pseudonymizer
from medchain.trainer.service import is_holdout

Progress = Callable[[str], None]
BUNDLE_PATIENTS = 40
DENY_FRACTION = 0.04
HOLDOUT = 0.2


@dataclass(frozen=True)
class DemoOptions:
    dataset: str = "breast-cancer"
    rounds: int = 5
    dp_epsilon: float | None = None
    seed: int = 7


def load(name: str) -> tuple[Dataset, TableCoding]:
    if name == "breast-cancer":
        data = breast_cancer()
        return data, breast_cancer_coding(data.feature_names)
    if name == "diabetes":
        return diabetes(), diabetes_coding()
    if name == "lung":
        return lung(), lung_coding()
    raise ValueError(f"unknown dataset {name!r}: breast-cancer, diabetes or lung")


def split(data: Dataset, hospitals: int, seed: int) -> list[IndexArray]:
    """Non-IID parts: lung by its real institutions (largest first, to the smallest hospital)."""
    if data.groups is None:
        return non_iid_split(data, hospitals, alpha=0.8, seed=seed, min_size=40)
    groups = {int(g): np.flatnonzero(data.groups == g) for g in np.unique(data.groups)}
    parts: list[list[int]] = [[] for _ in range(hospitals)]
    for _g, rows in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        smallest = min(range(hospitals), key=lambda i: len(parts[i]))
        parts[smallest].extend(int(r) for r in rows)
    return [np.asarray(sorted(p), dtype=np.int64) for p in parts]


def _label(data: Dataset, coding: TableCoding, row: int) -> float:
    target = float(data.targets[row])
    if coding.label_condition:
        return 1.0 if target == coding.label_positive else 0.0
    return target


class DemoRun:
    """One demo run against a running federation."""

    def __init__(self, layout: FederationLayout, options: DemoOptions, progress: Progress) -> None:
        self.layout = layout
        self.options = options
        self.progress = progress
        self.http = httpx.Client(timeout=300.0)
        self.aggregator = f"http://127.0.0.1:{layout.aggregator_port}"

    def _auth(self, hospital: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {read_key(self.layout, hospital)}"}

    def _post(self, url: str, hospital: str | None, **kwargs: Any) -> httpx.Response:
        headers = {**(self._auth(hospital) if hospital else {}), **kwargs.pop("headers", {})}
        response = self.http.post(url, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"POST {url} answered {response.status_code}: {response.text[:2000]}"
            )
        return response

    def ingest(self, data: Dataset, coding: TableCoding, parts: list[IndexArray]) -> None:
        for hospital, rows in zip(self.layout.orgs, parts, strict=True):
            url = f"http://127.0.0.1:{self.layout.port(hospital, INGEST_HTTP)}/fhir"
            for start in range(0, len(rows), BUNDLE_PATIENTS):
                chunk = [int(r) for r in rows[start : start + BUNDLE_PATIENTS]]
                bundle = coding.patient_bundle(data, chunk, hospital)
                self._post(
                    url, hospital, json=bundle, headers={"Content-Type": "application/fhir+json"}
                )
            self.progress(f"{hospital}: {len(rows)} patients posted as FHIR transaction bundles")

    def consents(
        self,
        study_id: str,
        parts: list[IndexArray],
    ) -> dict[str, dict[str, list[int]]]:
        """Permit for most patients, deny for a few, and one revocation per hospital."""
        rng = np.random.default_rng(self.options.seed)
        decided: dict[str, dict[str, list[int]]] = {}
        for hospital, rows in zip(self.layout.orgs, parts, strict=True):
            denied = sorted(int(r) for r in rows if rng.random() < DENY_FRACTION)
            items = [
                {
                    "patient": {"system": IDENTIFIER_SYSTEM, "value": patient_id(hospital, int(r))},
                    "study": study_id,
                    "decision": "deny" if int(r) in denied else "permit",
                    "period": {"start": "2024-01-01"},
                }
                for r in rows
            ]
            base = f"http://127.0.0.1:{self.layout.port(hospital, CONSENT_HTTP)}"
            self._wait_committed(
                self._post(f"{base}/consents", hospital, json={"consents": items}), hospital
            )
            permitted = [int(r) for r in rows if int(r) not in denied]
            revoked = [permitted[0]]
            identifier = f"{IDENTIFIER_SYSTEM}|{patient_id(hospital, revoked[0])}"
            response = self.http.request(
                "DELETE",
                f"{base}/consents/{quote(identifier, safe='')}",
                params={"study": study_id},
                headers=self._auth(hospital),
            )
            if response.status_code >= 400:
                raise RuntimeError(f"revocation answered {response.status_code}: {response.text}")
            self._wait_committed(response, hospital)
            decided[hospital] = {"denied": denied, "revoked": revoked}
            self.progress(
                f"{hospital}: consents recorded on the ledger "
                f"({len(rows) - len(denied)} permit, {len(denied)} deny, 1 revoked)"
            )
        return decided

    def _wait_committed(
        self, response: httpx.Response, hospital: str, timeout: float = 120
    ) -> None:
        """Follow a 202's status URL until the ledger commit is confirmed."""
        if response.status_code != 202:
            return
        status_url = response.headers.get("Location") or response.json()["status_url"]
        url = str(response.url.join(status_url))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            submission = self.http.get(url, headers=self._auth(hospital)).json()
            if submission["state"] == "committed":
                return
            if submission["state"] in {"rejected", "partial"}:
                raise RuntimeError(f"consent changes not all committed: {submission['counts']}")
            time.sleep(0.5)
        raise RuntimeError(f"consent changes not committed within {timeout}s: {url}")

    def baseline_sites(
        self,
        data: Dataset,
        coding: TableCoding,
        parts: list[IndexArray],
        decided: dict[str, dict[str, list[int]]],
        seed: int,
    ) -> list[SiteRows]:
        """Each hospital's consented rows split exactly as its trainer splits them."""
        secrets = hospital_secrets(self.layout)
        sites = []
        for hospital, rows in zip(self.layout.orgs, parts, strict=True):
            pseudonym = Pseudonymizer(SecretStr(secrets[hospital]))
            excluded = set(decided[hospital]["denied"]) | set(decided[hospital]["revoked"])
            train: list[int] = []
            held: list[int] = []
            for row in (int(r) for r in rows if int(r) not in excluded):
                p = pseudonym(IDENTIFIER_SYSTEM, patient_id(hospital, row))
                (held if is_holdout(seed, p, HOLDOUT) else train).append(row)
            columns = [data.feature_names.index(o.source) for o in coding.observations]
            extra = [
                data.feature_names.index(c) for c in (coding.age_source, coding.sex_source) if c
            ]
            picked = np.asarray(columns + extra, dtype=np.intp)
            train_rows = np.asarray(train, dtype=np.intp)
            held_rows = np.asarray(held, dtype=np.intp)
            labels = np.asarray([_label(data, coding, r) for r in range(len(data))])
            sites.append(
                SiteRows(
                    hospital,
                    data.features[np.ix_(train_rows, picked)],
                    labels[train_rows],
                    data.features[np.ix_(held_rows, picked)],
                    labels[held_rows],
                )
            )
        return sites

    def study(self, spec: StudySpec) -> dict[str, Any]:
        """Create the study at the aggregator, run it, and follow its rounds to the end."""
        created = self._post(f"{self.aggregator}/studies", None, json=spec.model_dump(mode="json"))
        self.progress(
            f"study {spec.id} created on the ledger (tx {created.json()['created_tx_id'][:16]}…)"
        )
        self._post(f"{self.aggregator}/studies/{spec.id}/run", None)
        seen = 0
        deadline = time.monotonic() + spec.rounds * spec.round_deadline_s + 300
        while time.monotonic() < deadline:
            state = self.http.get(f"{self.aggregator}/studies/{spec.id}").json()
            rounds = self.http.get(f"{self.aggregator}/studies/{spec.id}/rounds").json()
            for r in rounds[seen:]:
                metric = r.get("metrics", {})
                shown = ", ".join(
                    f"{k} {v:.4f}"
                    for k, v in sorted(metric.items())
                    if k in {"accuracy", "auc", "rmse", "loss", "log_loss"}
                )
                self.progress(
                    f"round {r['round']}: {shown}  tx {r['tx_id'][:16]}… block {r['block']}"
                )
            seen = len(rounds)
            if state["status"] == "completed":
                return {"study": state, "rounds": rounds}
            if state["status"] == "failed":
                raise RuntimeError(f"study failed: {state['error']}")
            time.sleep(1.0)
        raise RuntimeError(f"study {spec.id} did not complete in time")

    def run(self) -> dict[str, Any]:
        data, coding = load(self.options.dataset)
        parts = split(data, len(self.layout.orgs), self.options.seed)
        study_id = f"{self.options.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.ingest(data, coding, parts)
        decided = self.consents(study_id, parts)
        task = "regression" if data.task == "regression" else "binary"
        privacy = PrivacyConfig()
        if self.options.dp_epsilon is not None:
            privacy = PrivacyConfig(
                enabled=True,
                clip_norm=1.0,
                noise_multiplier=1.1,
                epsilon=self.options.dp_epsilon,
                delta=1e-5,
            )
        spec = StudySpec(
            id=study_id,
            title=f"MedChain demo: {self.options.dataset}",
            task=task,
            features=coding.features(),
            model=ModelConfig(
                kind="linear_regression" if task == "regression" else "logistic_regression",
                learning_rate=0.05 if task == "regression" else 0.1,
                local_epochs=2 if task == "regression" else 1,
                batch_size=32,
                l2=0.0,
            ),
            strategy=StrategyConfig(name="fedavg"),
            rounds=self.options.rounds,
            participants=tuple(f"{h}MSP" for h in self.layout.orgs),
            min_participants=max(1, len(self.layout.orgs) - 1),
            privacy=privacy,
            holdout_fraction=HOLDOUT,
            seed=self.options.seed,
        )
        baseline = pooled_and_local(
            "regression" if task == "regression" else "classification",
            self.baseline_sites(data, coding, parts, decided, spec.seed),
        )
        self.progress(
            f"pooled-data baseline {baseline['metric']} {baseline['pooled']:.4f}; "
            f"local-only mean {baseline['local_only_mean']:.4f}"
        )
        outcome = self.study(spec)
        return summarise(spec, outcome, baseline, decided, self.aggregator)


def summarise(
    spec: StudySpec,
    outcome: dict[str, Any],
    baseline: dict[str, Any],
    decided: dict[str, dict[str, list[int]]],
    aggregator: str,
) -> dict[str, Any]:
    """The demo's documented JSON result."""
    metric = baseline["metric"]
    rounds = [
        {
            "round": r["round"],
            metric: r.get("metrics", {}).get(metric),
            "metrics": r.get("metrics", {}),
            "tx_id": r["tx_id"],
            "block": r["block"],
            "model_hash": r["model_hash"],
            "included": r.get("included", []),
            "privacy_spent": r.get("privacy_spent", 0.0),
            "timings": r.get("timings", {}),
        }
        for r in outcome["rounds"]
    ]
    final = rounds[-1]
    final_metric = final[metric]
    gap = None if final_metric is None else final_metric - baseline["pooled"]
    last = outcome["rounds"][-1]
    return {
        "study_id": spec.id,
        "status": outcome["study"]["status"],
        "dataset_metric": metric,
        "rounds": rounds,
        "final_metric": final_metric,
        "pooled_baseline": baseline["pooled"],
        "gap_to_pooled": gap,
        "local_only": baseline["local_only"],
        "local_only_mean": baseline["local_only_mean"],
        "final_model_hash": final["model_hash"],
        "contributions": {
            org: {
                "samples": u["sample_count"],
                "update_tx_id": u["tx_id"],
                "update_block": u["block_number"],
            }
            for org, u in last.get("updates", {}).items()
        },
        "consents": {
            h: {"denied": len(d["denied"]), "revoked": len(d["revoked"])}
            for h, d in decided.items()
        },
        "privacy_spent": final["privacy_spent"],
        "aggregator_url": aggregator,
        "dashboard_url": f"{aggregator}/",
    }
