"""`make k8s-validate`: the real overlays pass, and every deliberately broken fixture is rejected.

Each file in tests/fixtures/k8s/broken/ names the message it must produce in `# expect:` lines.
Manifests are validated together with tests/fixtures/k8s/support.yaml (ServiceAccount and
NetworkPolicies), unless they say `# alone`; Dockerfiles (`*.Dockerfile`) on their own. The
good fixtures pass under the same conditions, so each broken one fails for its own defect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medchain.devtools import k8s_validate
from medchain.devtools.k8s_validate import Tools

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"
BROKEN = sorted((FIXTURES / "broken").iterdir())


@pytest.fixture(scope="module")
def tools() -> Tools:
    try:
        return k8s_validate.ensure_tools()
    except k8s_validate.ToolError as exc:
        pytest.fail(f"cannot get kustomize, the validator or the OpenAPI documents: {exc}")


def _expectations(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("# expect:")]


def _validate(tools: Tools, path: Path) -> tuple[int, str]:
    if path.name.endswith("Dockerfile"):
        return k8s_validate.validate_dockerfiles(tools, [path])
    alone = any(line.startswith("# alone") for line in path.read_text().splitlines())
    files = [path] if alone else [FIXTURES / "support.yaml", path]
    return k8s_validate.validate_manifests(tools, files, path.name)


def test_every_broken_fixture_names_its_message() -> None:
    assert len(BROKEN) >= 10
    for path in BROKEN:
        assert _expectations(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_fixture_is_rejected_with_a_clear_message(tools: Tools, path: Path) -> None:
    code, output = _validate(tools, path)
    assert code == 1, output
    for expected in _expectations(path):
        assert expected in output, f"{path.name}: {expected!r} not in:\n{output}"
    assert "FAIL " in output


@pytest.mark.parametrize("name", ["deployment.yaml", "python.Dockerfile"])
def test_good_fixture_passes(tools: Tools, name: str) -> None:
    code, output = _validate(tools, FIXTURES / "good" / name)
    assert code == 0, output
    assert "ok: no problems found" in output


def test_every_overlay_builds_and_validates(tools: Tools) -> None:
    names = [p.name for p in k8s_validate.overlays()]
    assert {"h1", "h2", "h3", "orderer", "template"} <= set(names)
    for overlay in k8s_validate.overlays():
        code, rendered = k8s_validate.build_overlay(tools, overlay)
        assert code == 0, rendered
        assert "kind: Secret\n" not in rendered


def test_make_target_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert k8s_validate.main(["k8s_validate"]) == 0
    out = capsys.readouterr().out
    assert "5 overlays" in out
    assert "FAIL" not in out


def test_aggregator_is_only_where_the_coordinator_is(tools: Tools) -> None:
    rendered = {p.name: k8s_validate.build_overlay(tools, p)[1] for p in k8s_validate.overlays()}
    assert "\n  name: aggregator\n" in rendered["h1"]
    assert "\n  name: aggregator\n" not in rendered["h2"]
    assert "hyperledger/fabric-peer:2.5." in rendered["h2"]
    assert "hyperledger/fabric-orderer:2.5." in rendered["orderer"]


def test_peer_builder_scripts_equal_the_local_networks() -> None:
    assert k8s_validate.builder_copies_match() == []
