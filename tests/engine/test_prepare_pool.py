"""Large messages prepared in worker processes: the same answer as in the server process, the
same refusals, and a dead worker costs no message."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import AsyncIterator

import pytest
from lxml import etree

from service.config import Settings
from service.demo.consignments import clean_import, message_of
from service.engine.prepare import Prepared, build_preparer
from service.engine.prepare_pool import PreparePool
from service.errors import Forbidden, MalformedXml
from service.messages.registry import DS_NS, Kind
from tests.engine.conftest import CALLERS
from tests.security.signing import NOW, RSA_SHA256_VARIANT, rsa_signer, sign

PII_KEY = "prepare-pool-test-key-0123456789abcdef"
MAX_BYTES = 10 * 2**20
OFFLOAD_BYTES = Settings().prepare_offload_bytes


def _large_message(kind: Kind, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    consignments = [clean_import(rng, n) for n in range(1, 101)]
    consignments[7].order["buyerIdNumber"] = "not an id"  # one invalid document among them
    body = message_of(consignments, kind)
    assert len(body) > OFFLOAD_BYTES, "large enough to be sent to the pool"
    return body


def _comparable(prepared: Prepared) -> object:
    return (
        prepared.message_type,
        prepared.message_guid,
        [(r.guid, r.kind, r.key, r.outcome, r.receipt_fields) for r in prepared.results],
        prepared.incoming,
    )


@pytest.fixture
async def pool() -> AsyncIterator[PreparePool]:
    pool = PreparePool(1, PII_KEY, MAX_BYTES)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.stop()


async def test_a_worker_prepares_exactly_what_the_server_would(pool: PreparePool) -> None:
    local = build_preparer(PII_KEY, MAX_BYTES)
    for kind in (Kind.ORDER, Kind.INVENTORY):
        body = _large_message(kind)
        remote = await pool.prepare(body, CALLERS[kind])
        assert remote is not None
        assert _comparable(remote) == _comparable(local.prepare(body, CALLERS[kind]))
        statuses = [r.outcome.status for r in remote.results]
        assert len(statuses) == 100 and len(remote.incoming) == statuses.count("accepted")


async def test_refusals_come_back_as_themselves(pool: PreparePool) -> None:
    with pytest.raises(MalformedXml):
        await pool.prepare(b"<CEB311Message>" + b"x" * OFFLOAD_BYTES, CALLERS[Kind.ORDER])
    with pytest.raises(Forbidden):
        # a carrier's key may not send orders
        await pool.prepare(_large_message(Kind.ORDER), CALLERS[Kind.LOGISTICS])


async def test_a_dead_worker_is_replaced_and_its_message_not_lost(pool: PreparePool) -> None:
    body = _large_message(Kind.ORDER)
    caller = CALLERS[Kind.ORDER]
    pids = {p.pid for p in pool._executor._processes.values()}  # type: ignore[union-attr]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    # the message in flight when the pool breaks is handed back to the caller to prepare ...
    assert await pool.prepare(body, caller) is None
    # ... and the next one goes to a new worker
    again = await pool.prepare(body, caller)
    assert again is not None and len(again.results) == 100
    assert {p.pid for p in pool._executor._processes.values()}.isdisjoint(pids)  # type: ignore[union-attr]


async def test_a_worker_verifies_signatures_with_the_certificates_it_is_handed(
    pool: PreparePool,
) -> None:
    root = etree.fromstring(_large_message(Kind.ORDER, seed=5))
    for old in root.findall(f"{{{DS_NS}}}Signature"):
        root.remove(old)
    code = root.findtext("{*}BaseTransfer/{*}copCode")
    assert code is not None
    signer = rsa_signer()
    signed = sign(etree.tostring(root), signer, RSA_SHA256_VARIANT)
    certificates = (signer.registered(code),)
    remote = await pool.prepare(signed, CALLERS[Kind.ORDER], certificates, NOW)
    assert remote is not None
    assert {(i.signature, i.signature_serial) for i in remote.incoming.values()} == {
        ("verified", signer.info.serial)
    }
    tampered = signed.replace(b"<ceb:goodsValue>", b"<ceb:goodsValue>1", 1)
    refused = await pool.prepare(tampered, CALLERS[Kind.ORDER], certificates, NOW)
    assert refused is not None and refused.incoming == {}
    assert {r.outcome.errors[0]["check"] for r in refused.results} == {"digest"}
