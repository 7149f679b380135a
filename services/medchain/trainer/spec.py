"""What model a study trains: kind, shape and local-training hyper-parameters."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ModelKind = Literal["logistic_regression", "linear_regression", "mlp_classifier", "mlp_regressor"]
CLASSIFIERS: frozenset[str] = frozenset({"logistic_regression", "mlp_classifier"})


class ModelSpec(BaseModel):
    """A model's architecture and how each hospital trains it locally, as a study defines it.

    The local objective is mean data loss + l2/2 ‖weights‖² (intercepts and biases unpenalised)
    + proximal_mu/2 ‖θ - θ_global‖² (FedProx), minimised by mini-batch SGD at a constant rate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ModelKind
    n_features: int = Field(gt=0)
    classes: tuple[int, ...] = ()
    hidden_units: int = Field(default=16, gt=0)
    learning_rate: float = Field(default=0.1, gt=0.0, allow_inf_nan=False)
    local_epochs: int = Field(default=1, gt=0)
    batch_size: int = Field(default=32, gt=0)
    l2: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    seed: int = 0

    @model_validator(mode="after")
    def _classes_fit_the_kind(self) -> Self:
        if self.is_classifier:
            if len(self.classes) < 2 or list(self.classes) != sorted(set(self.classes)):
                raise ValueError("a classifier needs two or more distinct classes, sorted")
        elif self.classes:
            raise ValueError(f"a {self.kind} model takes no classes")
        return self

    @property
    def is_classifier(self) -> bool:
        return self.kind in CLASSIFIERS

    @property
    def n_outputs(self) -> int:
        """Output units: one for regression and binary classification, one per class otherwise."""
        return len(self.classes) if len(self.classes) > 2 else 1
