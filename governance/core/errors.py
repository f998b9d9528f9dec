"""Domain errors and warnings for the governance service.

Every error carries a stable machine ``code`` and a human message that names the
problem and the fix. The API maps these to status codes in one place
(``api/errors.py``); the CLI prints the message and exits 2. Core code never
raises HTTP exceptions.

Hierarchy::

    GovernanceError
    ├── InputError (ValueError)            bad input the caller can fix       -> 400/422
    │   ├── DatasetError                   empty or malformed table, bad values
    │   ├── SchemaError                    schema YAML invalid or does not fit the data
    │   ├── PolicyError                    policy YAML invalid (carries YAML line numbers)
    │   ├── UnknownColumnError             a named column is not in the table
    │   ├── UnknownGeneratorError          no generator registered under that name
    │   ├── InvalidNameError               a name breaks the naming rules
    │   └── PayloadTooLargeError           an upload over a size or shape limit      -> 413
    ├── NotFoundError (LookupError)        no such dataset, run, candidate, release -> 404
    ├── AuthenticationError                missing or unknown API key                -> 401
    ├── PermissionDeniedError              authenticated but not allowed             -> 403
    ├── ConflictError                      state forbids the action (decided, ineligible) -> 409
    ├── ReleaseGoneError                   release revoked                           -> 410
    ├── BudgetExceededError                the run would overspend the privacy budget -> 409
    ├── AccountingError                    a privacy accountant failed for a run     -> 500
    ├── IntegrityError                     audit chain or artifact hash mismatch     -> 5xx
    │   └── PrivacyRecordError             a worker's privacy record fails the server's check
    ├── ArtifactUnavailableError           stored data cannot be served just now     -> 503
    ├── ConfigurationError                 the installation's own setup is unsafe or broken -> 500
    ├── ServiceUnavailableError            no database connection free; retry later  -> 503
    ├── ExecutorUnavailableError           the configured executor cannot be reached -> 503
    └── QuotaExceededError                 too many runs queued for one requester    -> 429

    GovernanceWarning (UserWarning)
    └── UntrustedSignalWarning             a metric ran but its signal cannot be trusted
"""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class of every error the service raises on purpose."""

    code = "governance_error"

    def __init__(self, message: str, *, code: str | None = None,
                 details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: Machine-readable facts beside the message (the API adds them to the error body).
        self.details: dict[str, object] = dict(details or {})
        if code is not None:
            self.code = code


class InputError(GovernanceError, ValueError):
    """Input the caller can fix."""

    code = "invalid_input"


class DatasetError(InputError):
    """A table is empty, malformed, or has values outside its schema."""

    code = "invalid_dataset"


class SchemaError(InputError):
    """A schema is invalid or does not describe the table."""

    code = "invalid_schema"


class PolicyError(InputError):
    """A policy file is invalid; ``problems`` lists every problem found."""

    code = "invalid_policy"

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class UnknownColumnError(InputError):
    """A column named by the caller does not exist."""

    code = "unknown_column"


class UnknownGeneratorError(InputError):
    """No generator is registered under the requested name."""

    code = "unknown_generator"


class InvalidNameError(InputError):
    """A name (of a dataset, a file) breaks a naming rule; the message names the rule."""

    code = "invalid_name"


class PayloadTooLargeError(InputError):
    """An upload is larger than a configured limit (bytes, columns)."""

    code = "payload_too_large"


class NotFoundError(GovernanceError, LookupError):
    """The requested object does not exist."""

    code = "not_found"


class AuthenticationError(GovernanceError):
    """No credentials, or credentials that match no key."""

    code = "unauthenticated"


class PermissionDeniedError(GovernanceError):
    """The caller is known but not allowed to do this."""

    code = "forbidden"


class ConflictError(GovernanceError):
    """The object's state forbids the action."""

    code = "conflict"


class ReleaseGoneError(GovernanceError):
    """The release was revoked."""

    code = "release_revoked"


class BudgetExceededError(ConflictError):
    """Running the requested grid (or charging a spend) would exceed the dataset's budget.

    ``details`` carries ``epsilon_budget``, ``epsilon_left`` and ``epsilon_needed``.
    """

    code = "budget_exceeded"


class AccountingError(GovernanceError):
    """A privacy accountant could not compute the spend of a run."""

    code = "accountant_failed"


class IntegrityError(GovernanceError):
    """Stored data does not match its recorded hash."""

    code = "integrity_error"


class ArtifactUnavailableError(GovernanceError):
    """A stored artifact is missing or fails its hash check, so it cannot be served.

    The data is withheld (never served altered) and the attempt is logged; an operator
    has to restore the artifact.
    """

    code = "artifact_unavailable"


class ConfigurationError(GovernanceError):
    """The installation's own setup is unsafe or broken (a key file others may read).

    An operator has to fix it; callers of the API only learn that the server is
    misconfigured.
    """

    code = "misconfigured"


class ServiceUnavailableError(GovernanceError):
    """The service cannot take the request just now (no database connection was free).

    Nothing was changed; the caller should retry after ``retry_after`` seconds.
    """

    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PrivacyRecordError(IntegrityError):
    """A worker's privacy record does not survive the server's recomputation.

    The candidate fails and nothing is charged: the server never takes a worker's word
    for the epsilon a candidate spent.
    """

    code = "privacy_record_mismatch"


class ExecutorUnavailableError(GovernanceError):
    """The configured executor could not be reached (no connection details are given)."""

    code = "executor_unreachable"


class QuotaExceededError(GovernanceError):
    """A requester already has as many queued or running runs as the server allows."""

    code = "too_many_runs"


class GovernanceWarning(UserWarning):
    """Base class of the project's own warnings."""


class UntrustedSignalWarning(GovernanceWarning):
    """A metric ran but its result cannot be trusted (recorded in the bundle)."""
