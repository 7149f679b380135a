"""Bring the whole federation up and down: network first, then every service, health-checked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medchain.federation.credentials import api_keys, hospital_secrets, read_key, service_tls
from medchain.federation.layout import FederationLayout, FederationSettings, ServicePlan
from medchain.network import processes
from medchain.network.config import NetworkSettings
from medchain.network.fabric_network import FabricNetwork

Progress = Callable[[str], None]


@dataclass
class ComponentStatus:
    """One row of `medchain status`."""

    name: str
    hospital: str
    kind: str
    url: str
    healthy: bool
    pid: int | None
    height: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class Federation:
    """The network plus ingest, consent and trainer per hospital, and the aggregator."""

    def __init__(
        self,
        hospitals: int | None = None,
        progress: Progress | None = None,
        network_settings: NetworkSettings | None = None,
        settings: FederationSettings | None = None,
    ) -> None:
        self.progress = progress or (lambda _m: None)
        self.network = FabricNetwork(network_settings, hospitals=hospitals, progress=self.progress)
        self.settings = settings or FederationSettings()
        self.layout = FederationLayout(
            home=self.network.layout.home,
            hospitals=self.network.layout.hospitals,
            base_port=self.settings.service_base_port,
        )

    def plans(self) -> list[ServicePlan]:
        return self.layout.plans(
            hospital_secrets(self.layout), service_tls(self.layout, self.network.layout)
        )

    def _health_headers(self, plan: ServicePlan) -> dict[str, str] | None:
        if not (plan.needs_key and plan.hospital):
            return None
        return {"Authorization": f"Bearer {read_key(self.layout, plan.hospital)}"}

    def _spec(self, plan: ServicePlan) -> processes.ProcessSpec:
        return processes.ProcessSpec(
            name=plan.name,
            command=plan.command(),
            env=plan.env,
            cwd=self.layout.home,
            pid_file=self.layout.root / "pids" / f"{plan.name}.pid",
            log_file=self.layout.root / "logs" / f"{plan.name}.log",
            health_url=plan.health_url,
            health_headers=self._health_headers(plan),
        )

    def up(self) -> list[ComponentStatus]:
        """Network first, then services in dependency order, each health-checked."""
        started = time.monotonic()
        self.network.up()
        self.layout.root.mkdir(parents=True, exist_ok=True)
        api_keys(self.layout)
        plans = self.plans()
        specs = [self._spec(p) for p in plans]
        fresh = [
            (p, s) for p, s in zip(plans, specs, strict=True) if not processes.read_pid(s.pid_file)
        ]
        busy: dict[int, str] = {}
        for plan, _spec in fresh:
            busy[plan.http_port] = plan.name
            if plan.grpc_port:
                busy[plan.grpc_port] = plan.name
        processes.check_ports_free(busy)
        # Data services first (trainers call them), the aggregator last (it calls the trainers).
        for wave in (("ingest", "consent"), ("trainer",), ("aggregator",)):
            batch = [(p, s) for p, s in zip(plans, specs, strict=True) if p.kind in wave]
            for plan, spec in batch:
                if not processes.read_pid(spec.pid_file):
                    self.progress(f"starting {plan.name}")
                    processes.start(spec)
            for _plan, spec in batch:
                processes.wait_healthy(spec, self.settings.service_timeout)
        self.progress(f"federation up in {time.monotonic() - started:.1f}s")
        return self.status()

    def down(self) -> list[str]:
        """Stop every service (aggregator first), then the network."""
        stopped = []
        for plan in reversed(self.plans()):
            if processes.stop(self.layout.root / "pids" / f"{plan.name}.pid"):
                stopped.append(plan.name)
        return stopped + self.network.down()

    def status(self) -> list[ComponentStatus]:
        """Every component: hospital, kind, URL, health, pid, and each peer's ledger height."""
        rows = [
            ComponentStatus(
                n.name,
                n.org,
                n.kind,
                n.address,
                n.healthy,
                n.pid,
                n.height,
            )
            for n in self.network.status().nodes
        ]
        for plan in self.plans():
            pid = processes.read_pid(self.layout.root / "pids" / f"{plan.name}.pid")
            healthy = pid is not None and processes.http_ok(
                plan.health_url, headers=self._health_headers(plan)
            )
            rows.append(
                ComponentStatus(plan.name, plan.hospital or "-", plan.kind, plan.url, healthy, pid)
            )
        return rows

    def log_file(self, component: str) -> str:
        for candidate in (
            self.layout.root / "logs" / f"{component}.log",
            self.network.layout.log_file(component),
        ):
            if candidate.exists():
                return str(candidate)
        raise FileNotFoundError(f"no log for {component!r}")
