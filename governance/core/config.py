"""Service settings from the environment (prefix ``GOVERNANCE_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from governance.core.errors import InputError
from governance.core.executor_config import (
    BUILTIN_EXECUTORS,
    NAME_RULE,
    ExecutorSpec,
    executor_spec,
    spec_for,
)

#: The shortest audit-signing secret accepted in ``GOVERNANCE_CHECKPOINT_KEY`` (bytes).
MIN_SIGNING_SECRET_BYTES = 32



class Settings(BaseSettings):
    """Settings of one service instance.

    All state lives under ``home``: the SQLite database (unless ``database_url`` points
    elsewhere), content-addressed artifacts and plots.
    """

    model_config = SettingsConfigDict(env_prefix="GOVERNANCE_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".governance"))
    database_url: str | None = None
    # Connections each process may hold: processes x (pool size + overflow) must stay
    # below the database server's max_connections; a request that waits longer than the
    # timeout for one is answered 503 with Retry-After.
    db_pool_size: int = Field(default=5, ge=1, le=1000)
    db_pool_max_overflow: int = Field(default=5, ge=0, le=1000)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    environment: Literal["development", "test", "production"] = "development"
    # The installation's Ed25519 audit-signing key (checkpoints, bundles): by default a
    # key generated on first use at <home>/keys/audit-signing.key (0600). Set one of:
    signing_key_file: Path | None = None  # a signer key file (note format), 0600
    checkpoint_key: SecretStr | None = None  # a >= 32-byte secret the key is derived from
    api_key: SecretStr | None = None  # the API key CLI decisions act as (or --key-file)
    audits_dir: Path = Field(default=Path("audits"))
    policies_dir: Path = Field(default=Path("policies"))
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    max_columns: int = Field(default=500, ge=1)  # wider tables are refused before parsing
    max_csv_line_bytes: int = Field(default=1024 * 1024, ge=1)  # longer CSV lines: refused
    openapi_enabled: bool = True  # serve /openapi.json
    docs_enabled: bool | None = None  # serve /docs; None: only in development
    rate_limit_per_minute: int = Field(default=600, ge=0)
    openlineage_url: str | None = None  # Marquez-style endpoint; events also go to a file
    # Where candidates train: a name, never a request field (see core.executor_config).
    executor: str = "local"  # the default executor's name
    executors: dict[str, str] = Field(default_factory=dict)  # name -> address (JSON)
    executor_tls_ca_file: Path | None = None  # CA that signed the scheduler's certificate
    executor_tls_cert_file: Path | None = None  # this server's client certificate
    executor_tls_key_file: Path | None = None  # and its private key
    allow_insecure_executor: bool = False  # plain tcp:// to a non-loopback scheduler
    executor_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    run_lease_seconds: int = Field(default=60, ge=2, le=3600)  # a run's lease; renewed at 1/3
    max_queued_runs_per_requester: int = Field(default=3, ge=1)  # queued + running runs

    @model_validator(mode="after")
    def _refuse_unsafe_keys(self) -> Settings:
        if self.checkpoint_key is not None:
            size = len(self.checkpoint_key.get_secret_value().encode())
            if size < MIN_SIGNING_SECRET_BYTES:
                raise ValueError(
                    f"GOVERNANCE_CHECKPOINT_KEY is {size} bytes; an audit-signing secret needs "
                    f"at least {MIN_SIGNING_SECRET_BYTES} random bytes (or unset it: the "
                    "installation then generates its own key under GOVERNANCE_HOME)")
            if self.signing_key_file is not None:
                raise ValueError("set GOVERNANCE_CHECKPOINT_KEY or GOVERNANCE_SIGNING_KEY_FILE, "
                                 "not both: they name two different audit-signing keys")
        self._check_executors()
        return self

    def _check_executors(self) -> None:
        """Refuse executor settings that are malformed, unknown or silently insecure."""
        for name, address in self.executors.items():
            if not NAME_RULE.match(name) or name in BUILTIN_EXECUTORS:
                raise ValueError(
                    f"GOVERNANCE_EXECUTORS: {name!r} is not a usable executor name (lower-case "
                    "letters, digits, '-' and '_', at most 32 characters; not a built-in name "
                    f"{' or '.join(BUILTIN_EXECUTORS)})")
            try:
                spec = spec_for(name, address)
            except InputError as exc:
                raise ValueError(f"GOVERNANCE_EXECUTORS[{name!r}]: {exc.message}") from None
            self._check_transport(spec)
        try:
            self.executor_spec(self.executor)
        except InputError as exc:
            raise ValueError(f"GOVERNANCE_EXECUTOR: {exc.message}") from None

    def _check_transport(self, spec: ExecutorSpec) -> None:
        if spec.transport == "tls" and not all(
                (self.executor_tls_ca_file, self.executor_tls_cert_file,
                 self.executor_tls_key_file)):
            raise ValueError(
                f"executor {spec.name!r} uses TLS: set GOVERNANCE_EXECUTOR_TLS_CA_FILE, "
                "GOVERNANCE_EXECUTOR_TLS_CERT_FILE and GOVERNANCE_EXECUTOR_TLS_KEY_FILE")
        if spec.insecure and not self.allow_insecure_executor:
            raise ValueError(
                f"executor {spec.name!r} is plain tcp:// to a host that is not loopback, so "
                "training data would travel unencrypted: use tls://, or set "
                "GOVERNANCE_ALLOW_INSECURE_EXECUTOR=true to accept that")

    def executor_spec(self, name: str | None = None) -> ExecutorSpec:
        """The executor configured under ``name`` (default: ``executor``).

        Raises:
            InputError: a name the operator did not configure.
        """
        return executor_spec(self.executor if name is None else name, self.executors)

    @property
    def resolved_signing_key_file(self) -> Path:
        """Where the audit-signing key lives (generated there on first use by default)."""
        return self.signing_key_file or self.home / "keys" / "audit-signing.key"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'governance.db').resolve()}"

    @property
    def serve_docs(self) -> bool:
        """Whether ``/docs`` is served: as set, else in development only (needs the spec)."""
        wanted = self.environment == "development" if self.docs_enabled is None else (
            self.docs_enabled)
        return wanted and self.openapi_enabled

    @property
    def uploads_dir(self) -> Path:
        """Where uploads are staged while they are registered (emptied after each one)."""
        return self.home / "uploads"

    @property
    def artifacts_dir(self) -> Path:
        """Where content-addressed artifacts are written."""
        return self.home / "artifacts"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests clear the cache or override the dependency)."""
    return Settings()
