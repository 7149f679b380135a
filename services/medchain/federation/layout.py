"""Which services run for which hospital, on which ports, with which environment."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from medchain.demo.tables import DEMO_CODE_SYSTEMS

#: Offsets within a hospital's block of ten ports.
INGEST_HTTP, INGEST_GRPC, CONSENT_HTTP, CONSENT_GRPC, TRAINER_GRPC, TRAINER_HTTP = range(6)


class FederationSettings(BaseSettings):
    """`MEDCHAIN_*` settings of the local federation's services."""

    model_config = SettingsConfigDict(env_prefix="MEDCHAIN_", extra="ignore", frozen=True)

    home: Path = Path(".medchain")
    service_base_port: int = Field(default=8000, ge=1024, le=60000)
    service_timeout: float = Field(default=60.0, gt=0, description="seconds to become healthy")


@dataclass(frozen=True)
class ServicePlan:
    """One supervised service process."""

    name: str  # e.g. ingest.h1
    kind: str  # ingest | consent | trainer | aggregator
    hospital: str | None
    module: str
    env: dict[str, str] = field(default_factory=dict)
    http_port: int = 0
    grpc_port: int | None = None
    #: Ingest and consent answer every endpoint, /healthz included, only with a bearer key.
    needs_key: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def health_url(self) -> str:
        return f"{self.url}/healthz"

    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module]


@dataclass(frozen=True)
class FederationLayout:
    """Ports and paths of every service of a federation of `hospitals` hospitals."""

    home: Path
    hospitals: int
    base_port: int

    @property
    def root(self) -> Path:
        return self.home / "federation"

    @property
    def orgs(self) -> list[str]:
        return [f"h{i}" for i in range(1, self.hospitals + 1)]

    def port(self, hospital: str, offset: int) -> int:
        return self.base_port + 10 * int(hospital[1:]) + offset

    def address(self, hospital: str, offset: int) -> str:
        return f"127.0.0.1:{self.port(hospital, offset)}"

    @property
    def aggregator_port(self) -> int:
        return self.base_port

    def secret_file(self, hospital: str) -> Path:
        return self.root / "secrets" / f"{hospital}.secret"

    def key_file(self, hospital: str) -> Path:
        """The plaintext API key of a hospital's IT clients (0600; the services hold its hash)."""
        return self.root / "keys" / f"{hospital}.key"

    def tls_dir(self, hospital: str) -> Path:
        return self.root / "tls" / hospital

    def database_url(self, name: str) -> str:
        return f"sqlite:///{self.home / 'db' / f'{name}.sqlite3'}"

    def profile(self, hospital: str, user: str) -> Path:
        return self.home / "network" / "profiles" / f"{hospital}-{user}.json"

    def base_env(self, secret: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.home)),
            "MEDCHAIN_HOME": str(self.home),
            "MEDCHAIN_ENVIRONMENT": "development",
            "MEDCHAIN_SECRET_KEY": secret,
            "MEDCHAIN_LOG_JSON": "true",
        }

    def plans(
        self, secrets: dict[str, str], tls: dict[str, tuple[Path, Path, Path]]
    ) -> list[ServicePlan]:
        """Every service in start order: per hospital ingest, consent, trainer; then aggregator."""
        plans: list[ServicePlan] = []
        for h in self.orgs:
            base = self.base_env(secrets[h])
            cert, key, cas = tls[h]
            plans.append(
                ServicePlan(
                    f"ingest.{h}",
                    "ingest",
                    h,
                    "medchain.ingest",
                    {
                        **base,
                        "MEDCHAIN_DATABASE_URL": self.database_url(f"{h}-ingest"),
                        "MEDCHAIN_INGEST_HOSPITAL_ID": h,
                        "MEDCHAIN_INGEST_HTTP_PORT": str(self.port(h, INGEST_HTTP)),
                        "MEDCHAIN_INGEST_GRPC_PORT": str(self.port(h, INGEST_GRPC)),
                        "MEDCHAIN_INGEST_LOCAL_CODE_SYSTEMS": json.dumps(DEMO_CODE_SYSTEMS),
                        "MEDCHAIN_INGEST_TLS_CERT": str(cert),
                        "MEDCHAIN_INGEST_TLS_KEY": str(key),
                        "MEDCHAIN_INGEST_TLS_TRUSTED_CAS": str(cas),
                    },
                    self.port(h, INGEST_HTTP),
                    self.port(h, INGEST_GRPC),
                    needs_key=True,
                )
            )
            plans.append(
                ServicePlan(
                    f"consent.{h}",
                    "consent",
                    h,
                    "medchain.consent",
                    {
                        **base,
                        "MEDCHAIN_DATABASE_URL": self.database_url(f"{h}-consent"),
                        "MEDCHAIN_CONSENT_HOSPITAL_ID": h,
                        "MEDCHAIN_CONSENT_HTTP_PORT": str(self.port(h, CONSENT_HTTP)),
                        "MEDCHAIN_CONSENT_GRPC_PORT": str(self.port(h, CONSENT_GRPC)),
                        "MEDCHAIN_CONSENT_LEDGER_PROFILE": str(self.profile(h, "User1")),
                        "MEDCHAIN_CONSENT_TLS_CERT": str(cert),
                        "MEDCHAIN_CONSENT_TLS_KEY": str(key),
                        "MEDCHAIN_CONSENT_TLS_TRUSTED_CAS": str(cas),
                    },
                    self.port(h, CONSENT_HTTP),
                    self.port(h, CONSENT_GRPC),
                    needs_key=True,
                )
            )
            plans.append(
                ServicePlan(
                    f"trainer.{h}",
                    "trainer",
                    h,
                    "medchain.trainer",
                    {
                        **base,
                        "MEDCHAIN_DATABASE_URL": self.database_url(f"{h}-trainer"),
                        "MEDCHAIN_TRAINER_HOSPITAL_ID": h,
                        "MEDCHAIN_TRAINER_GRPC_PORT": str(self.port(h, TRAINER_GRPC)),
                        "MEDCHAIN_TRAINER_HTTP_PORT": str(self.port(h, TRAINER_HTTP)),
                        "MEDCHAIN_TRAINER_INGEST_ADDRESS": self.address(h, INGEST_GRPC),
                        "MEDCHAIN_TRAINER_CONSENT_ADDRESS": self.address(h, CONSENT_GRPC),
                        "MEDCHAIN_TRAINER_LEDGER_PROFILE": str(self.profile(h, "User1")),
                        "MEDCHAIN_TRAINER_TLS_CERT": str(cert),
                        "MEDCHAIN_TRAINER_TLS_KEY": str(key),
                        "MEDCHAIN_TRAINER_TLS_TRUSTED_CAS": str(cas),
                    },
                    self.port(h, TRAINER_HTTP),
                    self.port(h, TRAINER_GRPC),
                )
            )
        coordinator = self.orgs[0]
        cert, key, cas = tls["aggregator"]
        trainers = ",".join(
            f'"{h}MSP": "127.0.0.1:{self.port(h, TRAINER_GRPC)}"' for h in self.orgs
        )
        plans.append(
            ServicePlan(
                "aggregator",
                "aggregator",
                None,
                "medchain.aggregator",
                {
                    **self.base_env(secrets[coordinator]),
                    "MEDCHAIN_DATABASE_URL": self.database_url("aggregator"),
                    "MEDCHAIN_AGGREGATOR_HTTP_PORT": str(self.aggregator_port),
                    "MEDCHAIN_AGGREGATOR_TRAINERS": "{" + trainers + "}",
                    "MEDCHAIN_AGGREGATOR_LEDGER_PROFILE": str(self.profile(coordinator, "User2")),
                    "MEDCHAIN_AGGREGATOR_TLS_CERT": str(cert),
                    "MEDCHAIN_AGGREGATOR_TLS_KEY": str(key),
                    "MEDCHAIN_AGGREGATOR_TLS_TRUSTED_CAS": str(cas),
                },
                self.aggregator_port,
            )
        )
        return plans
