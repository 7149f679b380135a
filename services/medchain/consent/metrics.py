"""Prometheus gauges of the outbox and the permission cache, read when `/metrics` is scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from medchain.common.db import transaction
from medchain.consent.service import ConsentService
from medchain.consent.tables import ChangeRow


class ConsentCollector(Collector):
    """Outbox backlog by state, what it committed, and how fresh the cache is."""

    def __init__(self, service: ConsentService) -> None:
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        backlog = GaugeMetricFamily(
            "medchain_consent_outbox_changes", "Changes not yet final, by state.", labels=["state"]
        )
        with transaction(self.service.sessions) as session:
            rows = session.execute(
                select(ChangeRow.state, func.count())
                .where(ChangeRow.state.in_(["pending", "submitting", "in_doubt"]))
                .group_by(ChangeRow.state)
            ).all()
        counts = {state: 0 for state in ("pending", "submitting", "in_doubt")}
        counts.update({str(state): int(n) for state, n in rows})
        for state, n in counts.items():
            backlog.add_metric([state], n)
        yield backlog
        totals = self.service.outbox.totals
        done = CounterMetricFamily(
            "medchain_consent_changes", "Changes made final by this process.", labels=["outcome"]
        )
        for outcome in ("committed", "rejected"):
            done.add_metric([outcome], totals[outcome])
        yield done
        yield CounterMetricFamily(
            "medchain_consent_ledger_transactions",
            "Ledger transactions that committed changes.",
            value=totals["transactions"],
        )
        yield CounterMetricFamily(
            "medchain_consent_ledger_failures",
            "Jobs that failed on the ledger (and were retried or left in doubt).",
            value=totals["failures"],
        )
        yield GaugeMetricFamily(
            "medchain_consent_cache_block_height",
            "Blocks below this height are reflected in the permission cache.",
            value=self.service.cache.height,
        )
        yield GaugeMetricFamily(
            "medchain_consent_cache_keys",
            "Consent keys in the cache.",
            value=len(self.service.cache),
        )
