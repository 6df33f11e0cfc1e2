"""Every knob of Sandan, read from the environment (prefix ``SANDAN_``).

Thresholds, deadlines, required sets and the tax table are configuration, not constants:
customs changes them (the 5 000 / 26 000 CNY limits moved in 2019) and bonded zones tune the
rest. Each field says why it exists.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.messages.registry import BUNDLE_KINDS, Kind

DEVELOPMENT_PII_KEY = "sandan-development-pii-key-change-me"
DEVELOPMENT_SESSION_SECRET = "sandan-development-session-secret-change-me"

# Default comprehensive-tax table: HS-code prefix -> (VAT rate, consumption tax rate).
# The longest matching prefix wins; "" is the fallback. Rates are statutory; the 70 % retail
# reduction is applied by the rule, not baked in here.
DEFAULT_TAX_TABLE: dict[str, tuple[Decimal, Decimal]] = {
    "": (Decimal("0.13"), Decimal("0")),
    # cosmetics (high-end make-up, 3304) carry 15 % consumption tax
    "3304": (Decimal("0.13"), Decimal("0.15")),
    # perfume and toilet waters
    "3303": (Decimal("0.13"), Decimal("0.15")),
    # books, newspapers: 9 % VAT
    "4901": (Decimal("0.09"), Decimal("0")),
    # milk powder, infant formula (1901.10) at the reduced rate
    "190110": (Decimal("0.09"), Decimal("0")),
}

# Documents each regime needs before it can be released (SPEC §3). Keys are regime codes as
# declared in inventory tradeMode, prefixed by direction because 9610 and 1210 exist on both.
DEFAULT_REQUIRED_SETS: dict[str, list[str]] = {
    "I9610": ["order", "payment", "logistics", "inventory"],
    "I1210": ["order", "payment", "logistics", "inventory"],
    "I1239": ["order", "payment", "logistics", "inventory"],
    "E9610": ["order", "payment", "logistics", "inventory"],
    "E1210": ["order", "payment", "logistics", "inventory"],
    "E9710": ["order", "logistics", "inventory"],
    "E9810": ["order", "logistics", "inventory"],
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDAN_", extra="ignore")

    # --- runtime shape -------------------------------------------------------------------
    # Where state lives. The embedded default is a SQLite file in the working directory;
    # production points this at PostgreSQL (postgresql+asyncpg://...).
    database_url: str = "sqlite+aiosqlite:///./sandan.db"
    # "development" lets the built-in PII key through; anything else refuses it.
    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes of `sandan serve`, sharing its port (uvicorn workers). Python runs one
    # core per process, so unset means one per core on PostgreSQL; SQLite is the embedded
    # one-process shape (one writer, in-process wake-ups) and refuses more than 1.
    workers: int | None = Field(default=None, ge=1)
    # Logs: one JSON object per line ("json") for collectors, or "text" for a terminal.
    log_format: str = "json"
    log_level: str = "INFO"
    # Which requests get an access log line: "all", or "errors" (status 400 and over, or
    # slower than a second). A JSON line for every request costs about a tenth of a core
    # at a thousand messages a second (measured); /metrics counts every request either way.
    access_log: Literal["all", "errors"] = "all"

    # Python's cyclic garbage collector in a serving process: a young-generation collection
    # after this many new container objects (Python's own default is 700; 0 keeps it). The
    # objects built at start (modules, schemas, the app) are frozen out of every later
    # collection whatever this is. At 700 a server at 100 documents a message spent about a
    # sixth of its time collecting, in ~25 full collections of ~150 ms each per 30 s, every
    # one stalling the event loop and the batch that holds its locks (measured, README).
    gc_threshold: int = Field(default=50_000, ge=0)

    # --- intake --------------------------------------------------------------------------
    # Refuse a message body larger than this before parsing it (413).
    max_message_bytes: int = 10 * 1024 * 1024
    # Group commit: a batch closes at this many documents or after this many milliseconds,
    # whichever comes first; every request waits for its batch's commit before "accepted".
    intake_batch_max_documents: int = 500
    intake_batch_interval_ms: float = 2.0
    # Requests queued ahead of the batcher before ingest answers 503 (back-pressure).
    intake_queue_limit: int = 10_000
    # Batches one process may have in flight at once: while one commits (its round trips
    # and the WAL flush), the next gathers and applies. Measured on a local PostgreSQL, a
    # second batch only waited for the first one's locks (fewer documents per second), so
    # the default is 1.
    intake_batches_in_flight: int = Field(default=1, ge=1)
    # Worker processes that parse, validate and extract large messages (engine/prepare_pool.py)
    # so the server's event loop keeps to HTTP and the batches. Unset: 1 on PostgreSQL with one
    # server process, else 0 (SQLite is one process; several server processes already use every
    # core, so a helper each would only add processes); 0 prepares in the server process.
    prepare_workers: int | None = Field(default=None, ge=0)
    # Messages larger than this are prepared off the event loop (in a worker when there are
    # any, else in a thread); smaller ones in the loop, where a hand-off would cost more.
    prepare_offload_bytes: int = Field(default=32 * 1024, ge=0)

    # --- bundles and decisions -----------------------------------------------------------
    # An incomplete bundle becomes an exception this long after its first document.
    bundle_deadline_seconds: float = 86_400
    # How often the in-process sweeper looks for bundles past their deadline.
    sweep_interval_seconds: float = 30
    # Bundles handled per sweeper transaction.
    sweep_batch_size: int = 200
    # Documents each regime needs, keyed by direction + regime code ("I9610", "E9710", ...);
    # a set may also name "arrival": the release then waits for the 入库 / 运抵 report.
    required_sets: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_REQUIRED_SETS.items()}
    )

    # --- after the decision (SPEC §10) -------------------------------------------------
    # A released import consignment may be cancelled this many days after its release
    # (CANCEL_TOO_LATE after); unset: no limit, only the state decides.
    cancel_window_days: float | None = Field(default=None, gt=0)
    # Returns (退货) are applied for at most this long after the release: import 30 days
    # (GACC 2020 No.45), export 183 (re-imported within 6 months of export).
    return_window_days: float = Field(default=30, gt=0)
    export_return_window_days: float = Field(default=183, gt=0)

    # --- rule thresholds (SPEC §5) -------------------------------------------------------
    single_limit_cny: Decimal = Decimal("5000")
    annual_limit_cny: Decimal = Decimal("26000")
    # Tolerance for computed amounts (formula, line totals, tax); declared-vs-declared
    # comparisons between documents are always exact.
    amount_tolerance: Decimal = Decimal("0.00")
    # Share of the statutory VAT and consumption tax charged on retail imports.
    retail_tax_factor: Decimal = Decimal("0.7")
    # HS prefix -> [vat, consumption]; JSON in the environment.
    tax_table: Annotated[dict[str, tuple[Decimal, Decimal]], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_TAX_TABLE)
    )

    # --- security ------------------------------------------------------------------------
    # Secret for the keyed hash of buyer IDs and phone numbers (annual ledger, comparisons).
    pii_key: str = DEVELOPMENT_PII_KEY
    # Signature verification (SPEC §11): "registered" checks the senders that registered a
    # certificate, "required" every message, "off" none (tests, migration periods).
    signature_policy: Literal["registered", "required", "off"] = "registered"
    # How long a process trusts its copy of the certificates table (SPEC §11: an add or a
    # revoke takes effect everywhere within 5 s). A refresh is one small query when nothing
    # changed.
    certificate_refresh_seconds: float = Field(default=2.0, gt=0, le=5)
    # How long a resolved API key is trusted without asking the database again: the longest a
    # key revoked in another process keeps working here (SPEC §11: within 5 s).
    key_cache_seconds: float = Field(default=5.0, ge=0, le=5)
    # How often each process writes when its keys were last used (one UPDATE per key used):
    # never a write per request.
    key_last_used_flush_seconds: float = Field(default=60.0, gt=0)
    # How long a rotated key keeps working beside its replacement (`sandan keys rotate`).
    key_rotation_grace_hours: float = Field(default=24.0, ge=0)
    # Documents each API key may send a second, with a burst of as many (SPEC §11 limits):
    # over it, ingest answers 429 with Retry-After and stores nothing. Every document of a
    # message counts, rejected ones too. Unset (or "off"): no limit, and no statement for it.
    # PostgreSQL keeps the count (table rate_buckets) so the limit holds across processes;
    # SQLite, served by one process, keeps it in memory.
    rate_limit_documents_per_second: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    # --- review UI (/review) -------------------------------------------------------------
    # Signs the operators' session cookies; the same in every process behind one balancer.
    session_secret: str = DEVELOPMENT_SESSION_SECRET
    # Mark the session cookie Secure (sent over HTTPS only): on wherever TLS terminates in
    # front of Sandan; off by default so the embedded http://127.0.0.1 setup can log in.
    session_cookie_secure: bool = False
    # An operator signs in again after this long.
    session_max_age_seconds: int = Field(default=8 * 3600, gt=0)

    # --- manifest ------------------------------------------------------------------------
    # The bounds and the re-read interval hold for the receipts feed (GET /v1/receipts) too.
    manifest_max_limit: int = 1000
    manifest_max_wait_seconds: float = 60
    # How often a long poll re-reads the outbox when no in-process wake-up arrives (another
    # process may have committed entries).
    manifest_poll_interval_seconds: float = 0.5
    # Warehouse key code -> extra ebpCode / areaCode values it may see. JSON object.
    warehouse_scopes: Annotated[dict[str, list[str]], NoDecode] = Field(default_factory=dict)

    # --- broker (SPEC §8, production) ----------------------------------------------------
    # NATS server(s) the manifest is copied to, e.g. "nats://nats:4222" (comma-separated for a
    # cluster). None: no broker; consumers read the manifest over HTTP only.
    nats_url: str | None = None
    # The JetStream stream holding the copy (subjects "sandan.manifest.>"). Also names the
    # relay's position row, so a new stream is filled from the first entry.
    nats_stream: str = "SANDAN_MANIFEST"
    # The stream's de-duplication window: a relay that crashed after publishing but before
    # saving its position re-sends, and the broker drops what it saw within this window.
    nats_duplicate_window_seconds: float = Field(default=3600, gt=0)
    # Run the relay inside `sandan serve` too (needs nats_url). Safe in every process at once:
    # only the one holding the position row publishes; a separate `sandan relay` also works.
    relay_in_serve: bool = False
    # Entries published per position update: bigger batches mean fewer database round trips
    # but more re-sends after a crash.
    relay_batch: int = Field(default=200, gt=0)
    # How long the relay sleeps when it is caught up; an in-process commit wakes it earlier,
    # so this only bounds the delay for entries committed by other processes.
    relay_idle_seconds: float = Field(default=0.5, gt=0)

    # --- webhooks (POST /v1/webhooks) ---------------------------------------------------
    # A subscription pauses after this many failed attempts in a row (non-2xx or no answer);
    # an operator or its owner resumes it.
    webhook_max_failures: int = Field(default=10, ge=1)
    # Retries back off exponentially: the first this long after the failure (at most 10 s),
    # each next one twice as long, never longer than the cap (at most 5 minutes).
    webhook_retry_first_seconds: float = Field(default=2.0, gt=0, le=10)
    webhook_retry_max_seconds: float = Field(default=300.0, gt=0, le=300)
    # A receiver that has not answered in this long has failed the attempt.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Manifest entries per delivery at most.
    webhook_batch: int = Field(default=100, gt=0, le=1000)
    # How often the deliverer looks for work when no commit of this process (or, on
    # PostgreSQL, of another) wakes it; retries are due at most this late.
    webhook_idle_seconds: float = Field(default=1.0, gt=0)

    # --- reference data for tests and tools ----------------------------------------------
    reference_dir: Path = Path("../shared/reference/gacc-202205")

    @field_validator("required_sets", "warehouse_scopes", mode="before")
    @classmethod
    def _json_mapping(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("rate_limit_documents_per_second", mode="before")
    @classmethod
    def _off_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value

    @field_validator("tax_table", mode="before")
    @classmethod
    def _tax_table(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value)
        return {str(k): (Decimal(str(v[0])), Decimal(str(v[1]))) for k, v in value.items()}

    @field_validator("tax_table", mode="after")
    @classmethod
    def _rates_in_range(
        cls, value: dict[str, tuple[Decimal, Decimal]]
    ) -> dict[str, tuple[Decimal, Decimal]]:
        for prefix, (vat, consumption) in value.items():
            # consumption tax is levied on price / (1 - rate): 1 or more has no meaning
            if not (0 <= vat < 1 and 0 <= consumption < 1):
                raise ValueError(f"tax rates for {prefix!r} must be in [0, 1)")
        return value

    @field_validator("required_sets", mode="after")
    @classmethod
    def _known_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        # the bundle's documents, and its arrival (SPEC §10; not in the defaults)
        kinds = {kind.value for kind in BUNDLE_KINDS} | {Kind.ARRIVAL.value}
        for regime, needed in value.items():
            unknown = set(needed) - kinds
            if unknown:
                raise ValueError(f"required set {regime} names unknown kinds {sorted(unknown)}")
        return value

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        built_in = [
            name
            for name, value, development in (
                ("SANDAN_PII_KEY", self.pii_key, DEVELOPMENT_PII_KEY),
                ("SANDAN_SESSION_SECRET", self.session_secret, DEVELOPMENT_SESSION_SECRET),
            )
            if value == development
        ]
        if built_in:
            one = len(built_in) == 1
            raise ValueError(
                f"{' and '.join(built_in)} {'is' if one else 'are'} still the built-in "
                f"development {'secret' if one else 'secrets'} with SANDAN_ENVIRONMENT="
                f"{self.environment}: set {'it' if one else 'each'} to a long random secret of "
                "your own (the same in every process), or SANDAN_ENVIRONMENT=development to "
                "run with the built-in ones"
            )
        return self

    @model_validator(mode="after")
    def _one_process_on_sqlite(self) -> Settings:
        if self.is_sqlite and self.workers is not None and self.workers > 1:
            raise ValueError(
                f"{self.workers} server processes (SANDAN_WORKERS, --workers) need PostgreSQL: "
                "SQLite is served by one process (one writer, wake-ups in process); use 1"
            )
        return self

    @property
    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        return 1 if self.is_sqlite else max(1, os.cpu_count() or 1)

    @property
    def batches_in_flight(self) -> int:
        # SQLite has one writer: a second batch would only wait for it.
        return 1 if self.is_sqlite else self.intake_batches_in_flight

    @property
    def prepare_worker_count(self) -> int:
        if self.prepare_workers is not None:
            return self.prepare_workers
        return 0 if self.is_sqlite or self.worker_count > 1 else 1

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
