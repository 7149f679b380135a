"""`make k8s-validate`: build every overlay with kustomize and validate it offline.

For each directory `k8s/overlays/<name>/` this runs `kustomize build` and hands the output to
MedChain's validator (`k8s/validate`, a Go module), which decodes every object strictly into its
k8s.io/api type, validates it against the Kubernetes OpenAPI v3 schemas, and applies the
deployment policies (pinned images, limits, probes, hardened security context, NetworkPolicies,
no Secrets). The Dockerfiles under `docker/` get the validator's Dockerfile checks, and the CCaaS
builder scripts copied into the peer's ConfigMap must equal `network/builders/ccaas/bin`.
See docs/adr/0006-offline-k8s-validation.md.

Nothing is downloaded from outside the Go module proxy: kustomize is `go install`ed, the OpenAPI
documents are read from the k8s.io/kubernetes module (`go mod download`), and both, with the
built validator, are cached under `$XDG_CACHE_HOME/medchain/tools` (default `~/.cache`).
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "k8s"
OVERLAYS = K8S / "overlays"
VALIDATOR_SOURCE = K8S / "validate"
DOCKERFILES = REPO / "docker"
BUILDER_SOURCE = REPO / "network" / "builders" / "ccaas" / "bin"
BUILDER_COPY = K8S / "base" / "hospital" / "peer" / "builders"

#: Tried in this order; the first that the Go module proxy serves and that builds is kept.
KUSTOMIZE_VERSIONS = ("v5.4.3", "v5.5.0", "v5.6.0", "v5.7.1")
#: The Kubernetes release whose OpenAPI v3 documents the manifests are validated against; keep it
#: at the release of k8s.io/api in k8s/validate/go.mod (v0.37.x <-> v1.37.x).
KUBERNETES_VERSION = "v1.37.2"
OPENAPI_SUBDIR = Path("api") / "openapi-spec" / "v3"


class ToolError(RuntimeError):
    """A tool could not be installed or built; the message says what was tried."""


@dataclass(frozen=True)
class Tools:
    kustomize: Path
    validator: Path
    openapi_dir: Path


def tools_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medchain" / "tools"


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-buildvcs=false")
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def ensure_kustomize() -> Path:
    """The cached kustomize binary, `go install`ing the first version that builds."""
    root = tools_dir() / "kustomize"
    for version in KUSTOMIZE_VERSIONS:
        binary = root / version / "kustomize"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    failures: list[str] = []
    for version in KUSTOMIZE_VERSIONS:
        target = root / version
        target.mkdir(parents=True, exist_ok=True)
        env = _go_env() | {"GOBIN": str(target)}
        module = f"sigs.k8s.io/kustomize/kustomize/v5@{version}"
        print(f"installing kustomize {version} from the Go module proxy", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            code, out = _run(["go", "install", module], Path(tmp), env)
        if code == 0 and (target / "kustomize").is_file():
            return target / "kustomize"
        failures.append(f"{module}: {out.splitlines()[-1] if out else f'exit {code}'}")
    raise ToolError("could not install kustomize:\n  " + "\n  ".join(failures))


def ensure_openapi() -> Path:
    """The OpenAPI v3 directory of k8s.io/kubernetes@KUBERNETES_VERSION in the Go module cache."""
    module = f"k8s.io/kubernetes@{KUBERNETES_VERSION}"
    with tempfile.TemporaryDirectory() as tmp:
        code, out = _run(["go", "mod", "download", "-json", module], Path(tmp), _go_env())
    if code != 0:
        raise ToolError(f"go mod download {module} failed: {out}")
    try:
        info = json.loads(out[out.index("{") :])
    except ValueError as exc:
        raise ToolError(f"go mod download {module}: unexpected output: {out[:500]}") from exc
    openapi = Path(str(info.get("Dir", ""))) / OPENAPI_SUBDIR
    if not (openapi / "api__v1_openapi.json").is_file():
        raise ToolError(f"{module} has no OpenAPI v3 documents at {openapi}")
    return openapi


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(VALIDATOR_SOURCE.iterdir()):
        if path.suffix == ".go" or path.name in {"go.mod", "go.sum"}:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_validator() -> Path:
    """The validator built from k8s/validate, cached by a hash of its sources."""
    binary = tools_dir() / "k8s-validate" / f"medchain-k8s-validate-{_source_hash()}"
    if binary.is_file():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(binary.name + f".{os.getpid()}.tmp")
    print("building the manifest validator (k8s/validate)", file=sys.stderr)
    code, out = _run(["go", "build", "-o", str(partial), "."], VALIDATOR_SOURCE, _go_env())
    if code != 0:
        partial.unlink(missing_ok=True)
        raise ToolError(f"go build in {VALIDATOR_SOURCE} failed:\n{out}")
    partial.replace(binary)
    return binary


def ensure_tools() -> Tools:
    return Tools(ensure_kustomize(), ensure_validator(), ensure_openapi())


def overlays() -> list[Path]:
    """Every overlay: a directory directly under k8s/overlays with a kustomization.yaml."""
    return sorted(p.parent for p in OVERLAYS.glob("*/kustomization.yaml"))


def dockerfiles() -> list[Path]:
    return sorted(DOCKERFILES.glob("*Dockerfile"))


def validate_manifests(tools: Tools, files: list[Path], name: str) -> tuple[int, str]:
    """Run the validator on rendered manifest files forming one deployment unit."""
    cmd = [str(tools.validator), "-openapi", str(tools.openapi_dir), "-name", name]
    return _run([*cmd, *(str(f) for f in files)], REPO)


def validate_dockerfiles(tools: Tools, files: list[Path]) -> tuple[int, str]:
    cmd = [str(tools.validator)]
    for f in files:
        cmd += ["-dockerfile", str(f)]
    return _run(cmd, REPO)


def build_overlay(tools: Tools, overlay: Path) -> tuple[int, str]:
    """`kustomize build` of one overlay: (exit code, rendered YAML or the error)."""
    proc = subprocess.run(
        [str(tools.kustomize), "build", str(overlay)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return proc.returncode, proc.stdout if proc.returncode == 0 else proc.stderr.strip()


def builder_copies_match() -> list[str]:
    """Differences between the peer ConfigMap's builder scripts and the local network's."""
    problems: list[str] = []
    for source in sorted(BUILDER_SOURCE.iterdir()):
        copy = BUILDER_COPY / source.name
        if not copy.is_file():
            problems.append(f"{copy.relative_to(REPO)} is missing (copy of {source.name})")
        elif not filecmp.cmp(source, copy, shallow=False):
            problems.append(
                f"{copy.relative_to(REPO)} differs from {source.relative_to(REPO)}; copy it again"
            )
    return problems


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m medchain.devtools.k8s_validate", file=sys.stderr)
        return 2
    try:
        tools = ensure_tools()
    except ToolError as exc:
        print(f"k8s-validate: {exc}", file=sys.stderr)
        return 1
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for overlay in overlays():
            name = str(overlay.relative_to(REPO))
            code, rendered = build_overlay(tools, overlay)
            if code != 0:
                print(f"FAIL {name}: kustomize build failed:\n{rendered}")
                failed.append(name)
                continue
            out_file = Path(tmp) / f"{overlay.name}.yaml"
            out_file.write_text(rendered)
            code, report = validate_manifests(tools, [out_file], name)
            print(report)
            if code != 0:
                failed.append(name)
    code, report = validate_dockerfiles(tools, dockerfiles())
    print(report)
    if code != 0:
        failed.append("docker/")
    for problem in builder_copies_match():
        print(f"FAIL {problem}")
        failed.append("ccaas builder copy")
    kustomize_version = tools.kustomize.parent.name
    print(
        f"k8s-validate: {len(overlays())} overlays, {len(dockerfiles())} Dockerfiles "
        f"(kustomize {kustomize_version}, Kubernetes OpenAPI {KUBERNETES_VERSION}): "
        + ("ok" if not failed else f"FAILED: {', '.join(failed)}")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
