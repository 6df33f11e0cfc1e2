"""The raw XML kept with each document is the sender's, with personal data masked."""

from __future__ import annotations

import random

from lxml import etree
from sqlalchemy import select

from service.demo.consignments import clean_import, message_of
from service.messages.registry import BUNDLE_KINDS, CEB_NS
from service.store.tables import documents
from tests.engine.conftest import PipelineFactory

PERSONAL = ("buyerIdNumber", "buyerTelephone", "consigneeTelephone", "payerIdNumber")


async def test_stored_xml_masks_every_personal_field(pipelines: PipelineFactory) -> None:
    c = clean_import(random.Random(5), 5)
    async with pipelines() as p:
        for kind in BUNDLE_KINDS:
            result = await p.post(message_of([c], kind), kind)
            assert [d.outcome.status for d in result.documents] == ["accepted"]
        async with p.db.read() as conn:
            rows = (await conn.execute(select(documents.c.kind, documents.c.raw_xml))).all()
    assert {kind for kind, _ in rows} == {k.value for k in BUNDLE_KINDS}
    clear = {
        str(value)
        for part in (c.order, c.payment, c.logistics, c.inventory)
        for name, value in part.items()
        if name in PERSONAL and value
    }
    assert clear, "the consignment carries personal data"
    masked_seen = 0
    for _, xml in rows:
        for value in clear:
            assert value not in xml
        root = etree.fromstring(xml.encode())
        for name in PERSONAL:
            for node in root.iter(f"{{{CEB_NS}}}{name}"):
                assert node.text and "*" in node.text, (name, node.text)
                masked_seen += 1
    assert masked_seen >= len(clear)
