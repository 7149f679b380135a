"""View models: charts, rounds, participants, privacy, lineage and the audit, from a fake ledger."""

from __future__ import annotations

import pytest

from medchain.aggregator.errors import ModelNotFoundError, StudyNotFoundError
from medchain.dashboard.service import (
    GLOBAL_SERIES,
    DashboardService,
    endorsement_policy,
    metric_chart,
    pick_metric,
)
from tests.unit.dashboard.conftest import ORGS, STUDY_ID, World, spec


def test_study_page_has_one_chart_point_per_committed_round_for_global_and_each_site(
    world: World, dashboard: DashboardService
) -> None:
    world.add_study(spec(rounds=3), committed=2)
    page = dashboard.study(STUDY_ID)
    assert [c.metric for c in page.charts] == ["accuracy", "log_loss"]
    accuracy = page.charts[0]
    assert accuracy.rounds == [1, 2]
    assert [s.name for s in accuracy.series] == [GLOBAL_SERIES, *ORGS]
    assert all(len(s.values) == 2 for s in accuracy.series)
    assert accuracy.series[0].values == pytest.approx([0.77, 0.82])
    assert page.study.rounds_done == 2
    assert page.study.rounds_total == 3
    assert page.live


def test_rounds_carry_ledger_transactions_blocks_and_endorsers(
    world: World, dashboard: DashboardService
) -> None:
    world.add_study(spec(), committed=2)
    rounds = dashboard.study(STUDY_ID).rounds
    assert [r.round for r in rounds] == [1, 2]
    assert rounds[0].tx_id == "01" * 32
    assert rounds[0].block == 15
    assert rounds[0].endorsers == ("h1MSP", "h2MSP")
    assert [u.org for u in rounds[1].updates] == list(ORGS)
    assert rounds[1].updates[0].block == 20


def test_endorsers_are_none_without_a_ledger_reader_and_the_policy_is_labelled(
    world: World,
) -> None:
    world.add_study(spec(), committed=1)
    page = DashboardService(world.service).study(STUDY_ID)
    assert page.rounds[0].endorsers is None
    assert page.endorsement_policy == "MAJORITY of the channel's hospital organisations"
    assert endorsement_policy(list(ORGS)) == "MAJORITY of h1MSP, h2MSP, h3MSP"


def test_participants_and_privacy_budget(world: World, dashboard: DashboardService) -> None:
    world.add_study(spec(privacy=True), committed=2)
    page = dashboard.study(STUDY_ID)
    h2 = next(p for p in page.participants if p.org == "h2MSP")
    assert h2.joined is True
    assert h2.rounds_included == 2
    assert h2.last_sample_count == 60
    assert h2.last_cohort_size == 65
    assert h2.evaluation_samples == 20
    assert page.privacy.enabled
    assert page.privacy.spent == pytest.approx(1.0)  # the ledger's figure
    assert page.privacy.percent == pytest.approx(12.5)


def test_completed_study_is_not_live(world: World, dashboard: DashboardService) -> None:
    world.add_study(spec(rounds=2), committed=2, status="completed")
    page = dashboard.study(STUDY_ID)
    assert not page.live
    assert dashboard.progress(STUDY_ID).finished


def test_unknown_study_raises_not_found(dashboard: DashboardService) -> None:
    with pytest.raises(StudyNotFoundError):
        dashboard.study("nope")
    with pytest.raises(StudyNotFoundError):
        dashboard.progress("nope")


def test_metric_choice_follows_the_task() -> None:
    regression = [{"status": "committed", "round": 1, "metrics": {"rmse": 2.0, "r2": 0.4}}]
    assert pick_metric(("accuracy", "r2"), regression) == "r2"
    assert pick_metric(("log_loss", "rmse"), regression) == "rmse"
    assert pick_metric(("accuracy",), []) is None
    chart = metric_chart("r2", [*regression, {"status": "open", "round": 2}], ["h1MSP"])
    assert chart.rounds == [1]
    assert [s.name for s in chart.series] == [GLOBAL_SERIES]  # no site reported r2


def test_model_page_shows_the_lineage_newest_first(
    world: World, dashboard: DashboardService
) -> None:
    hashes = world.add_study(spec(), committed=3)
    page = dashboard.model(hashes[-1])
    assert page.study_id == STUDY_ID
    assert page.stored
    assert [s.round for s in page.lineage] == [3, 2, 1]
    assert page.lineage[-1].parent_model_hash == hashes[0] == page.initial_model_hash


def test_unknown_model_is_not_found(dashboard: DashboardService) -> None:
    with pytest.raises(ModelNotFoundError):
        dashboard.model("d" * 64)
    with pytest.raises(ModelNotFoundError):
        dashboard.model("not-a-hash")


def test_verify_passes_then_fails_once_a_stored_model_is_altered(
    world: World, dashboard: DashboardService
) -> None:
    hashes = world.add_study(spec(), committed=2)
    audit = dashboard.verify(hashes[-1])
    assert audit.ok, audit.failed_checks
    assert sorted(audit.rounds) == [1, 2]
    world.models.path(hashes[2]).write_bytes(world.models.raw(hashes[1]))
    tampered = dashboard.verify(hashes[-1])
    assert not tampered.ok
    assert {c.name for c in tampered.failed_checks} == {
        "round 2 model intact",
        "round 2 aggregation recomputed",
    }


def test_verify_fails_when_an_earlier_model_was_altered(
    world: World, dashboard: DashboardService
) -> None:
    hashes = world.add_study(spec(), committed=2)
    world.models.path(hashes[1]).write_bytes(world.models.raw(hashes[2]))
    tampered = dashboard.verify(hashes[-1])
    assert not tampered.ok
    # The audit records the altered earlier model as failed checks; it does not stop at it.
    failed = {c.name: c.detail for c in tampered.failed_checks}
    assert hashes[1] in failed["round 1 model intact"]
    assert "round 2 aggregation recomputed" in failed
    assert tampered.error == ""


def test_verify_reports_unreadable_artifacts_as_a_failure(
    world: World, dashboard: DashboardService
) -> None:
    hashes = world.add_study(spec(), committed=1)
    world.models.path(hashes[1]).write_bytes(b"\xff\xfe not a tensor set")
    audit = dashboard.verify(hashes[-1])
    assert not audit.ok
    assert any("not a parameter set" in c.detail for c in audit.failed_checks)


def test_network_page_from_the_probe_and_without_one(
    world: World, dashboard: DashboardService
) -> None:
    page = dashboard.network_page()
    assert page.available
    assert not page.healthy
    assert [n.height for n in page.nodes] == [None, 17, None]
    assert page.ledger_height == 42
    bare = DashboardService(world.service).network_page()
    assert not bare.available
    assert "MEDCHAIN_HOME" in bare.reason
