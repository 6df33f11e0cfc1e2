"""The long-lived objects one process holds, built once in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from service.config import Settings
from service.engine.ingest import Ingestor
from service.engine.intake import IntakeBatcher
from service.engine.prepare_pool import PreparePool
from service.engine.sweeper import Sweeper
from service.queue.manifest import ManifestReader, Notifier
from service.queue.receipts import ReceiptsReader
from service.queue.webhooks import WebhookDeliverer
from service.security.auth import KeyCache
from service.security.certificate_book import CertificateBook
from service.security.key_uses import KeyUseRecorder
from service.store.database import Database


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    batcher: IntakeBatcher
    ingestor: Ingestor
    notifier: Notifier
    manifest: ManifestReader
    # the receipts feed (SPEC §10), read like the manifest
    receipts: ReceiptsReader
    sweeper: Sweeper
    # POSTs warehouses' manifest entries to their webhooks
    webhooks: WebhookDeliverer
    keys: KeyCache
    # when keys were last used, written behind the requests
    key_uses: KeyUseRecorder
    # the registered signing certificates, refreshed within seconds (SPEC §11)
    certificates: CertificateBook
    # worker processes preparing large messages (None: prepared in this process)
    prepare_pool: PreparePool | None = None
