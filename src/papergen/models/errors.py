"""The errors papergen.models raises: one class per problem the user has with a model's input.

Every message is one line that names the model (the function called) and the
covariate or argument at fault, and says what to do; the same facts are kept
as attributes (``model``, ``covariate``) for the plan layer to reword.
"""
from __future__ import annotations

from papergen.errors import AnalysisError


class ModelError(AnalysisError):
    """Root of the model errors: a model or test cannot give a trustworthy number from this input."""

    def __init__(self, model: str, covariate: str | None, message: str):
        self.model, self.covariate = model, covariate
        super().__init__(f"{model}: {message}")


class InvalidInputError(ModelError):
    """Wrong shape or type: lengths differ, a column is not numeric, a time is negative or infinite."""


class MissingValuesError(ModelError):
    """Some rows have a missing value; they are never dropped silently."""

    def __init__(self, model: str, covariate: str, rows: int, message: str):
        self.rows = rows
        super().__init__(model, covariate, message)


class NotBinaryError(ModelError):
    """An event indicator or outcome has values other than 0/1 (or False/True)."""


class ConstantCovariateError(ModelError):
    """A covariate (or the values tested) takes one value only, so its effect cannot be estimated."""


class CollinearCovariatesError(ModelError):
    """A covariate is a linear combination of the covariates before it (R would report its coefficient as NA)."""


class NoEventsError(ModelError):
    """There are no events (or, for a logistic outcome, only one outcome value)."""


class NotConvergedError(ModelError):
    """The fitting algorithm reached its iteration limit without converging."""


class InfiniteEstimateError(ModelError):
    """Monotone likelihood: a Cox coefficient runs off to infinity (R warns 'coefficient may be infinite')."""


class SeparationError(ModelError):
    """Perfect or quasi-perfect separation in a logistic model: the odds ratio is infinite."""


class EmptyGroupError(ModelError):
    """A group, sample, or table row/column has no observations."""


class TooFewGroupsError(ModelError):
    """A comparison needs at least two groups."""


class TooFewObservationsError(ModelError):
    """A sample is too small for the test (e.g. a Welch t-test needs two values per group)."""
