"""Generate the gRPC package `medchain.v1` from `protos/medchain/v1/*.proto`, or check it is fresh.

The generated modules mirror the proto package path, so cross-file imports that protoc writes
(`from medchain.v1 import tensor_pb2`) resolve without rewriting. Nobody edits them by hand.
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROTO_ROOT = REPO / "protos"
PACKAGE_DIR = Path("medchain") / "v1"
OUTPUT_ROOT = REPO / "services"
INIT_TEXT = '"""Generated gRPC code for medchain.v1; regenerate with `make protos`."""\n'


def _generate(out_root: Path) -> list[Path]:
    from grpc_tools import protoc  # type: ignore[import-untyped]  # dev-only dependency

    sources = sorted((PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    if not sources:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PACKAGE_DIR}")
    (out_root / PACKAGE_DIR).mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(s.relative_to(PROTO_ROOT)) for s in sources),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")
    (out_root / PACKAGE_DIR / "__init__.py").write_text(INIT_TEXT)
    return sorted(p.relative_to(out_root) for p in (out_root / PACKAGE_DIR).glob("*.py*"))


def _generated_files(root: Path) -> list[Path]:
    return sorted(
        p.relative_to(root) for p in (root / PACKAGE_DIR).glob("*") if p.suffix in {".py", ".pyi"}
    )


def generate() -> None:
    """Regenerate the package in place, removing modules whose .proto is gone."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = _generate(Path(tmp))
        target = OUTPUT_ROOT / PACKAGE_DIR
        target.mkdir(parents=True, exist_ok=True)
        for stale in set(_generated_files(OUTPUT_ROOT)) - set(fresh):
            (OUTPUT_ROOT / stale).unlink()
        for rel in fresh:
            (OUTPUT_ROOT / rel).write_bytes((Path(tmp) / rel).read_bytes())
    print(f"generated {len(fresh)} files in {OUTPUT_ROOT / PACKAGE_DIR}")


def check() -> int:
    """Exit non-zero when the committed generated code differs from what the protos produce."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = _generate(Path(tmp))
        committed = _generated_files(OUTPUT_ROOT)
        stale = sorted(set(fresh) ^ set(committed))
        stale += [
            rel
            for rel in fresh
            if rel in committed
            and not filecmp.cmp(Path(tmp) / rel, OUTPUT_ROOT / rel, shallow=False)
        ]
    if stale:
        names = ", ".join(str(p) for p in sorted(set(stale)))
        print(f"generated gRPC code is stale ({names}); run `make protos`", file=sys.stderr)
        return 1
    print("generated gRPC code is up to date")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["generate"]:
        generate()
        return 0
    if argv[1:] == ["check"]:
        return check()
    print("usage: python -m medchain.devtools.protos generate|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
