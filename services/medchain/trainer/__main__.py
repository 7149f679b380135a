"""`python -m medchain.trainer`: serve one hospital's trainer (gRPC) and its health endpoint."""

from __future__ import annotations

from medchain.trainer.app import serve
from medchain.trainer.settings import get_trainer_settings

if __name__ == "__main__":
    serve(get_trainer_settings())
