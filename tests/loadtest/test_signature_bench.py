"""``python -m loadtest.signature_bench``: the cost of verifying a signature, per message."""

from __future__ import annotations

import re
import sys

import pytest

from loadtest import signature_bench


def test_it_prints_each_part_for_rsa_and_sm2_with_the_conditions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["signature_bench", "--iterations", "3", "--rounds", "2"]
    monkeypatch.setattr(sys, "argv", argv)
    signature_bench.main()
    out = capsys.readouterr().out
    assert re.search(r"^conditions: cpu .+libcrypto \(SM2/SM3\) OpenSSL 3\.", out, re.M), out
    figures = re.findall(
        r"^(RSA-2048|SM2) .*: c14n \+ digest (\d+) µs, signature value (\d+) µs, "
        r"total (\d+) µs per message$",
        out,
        re.M,
    )
    assert [name for name, *_ in figures] == ["RSA-2048", "SM2"], out
    for _, digest, value, total in figures:
        # figures, not a race between them: each part measured, none compared (noisy box)
        assert int(digest) > 0 and int(value) > 0 and int(total) > 0


def test_the_typical_message_is_an_unsigned_inventory_with_a_few_items() -> None:
    message = signature_bench.typical_message()
    assert b"<ceb:CEB621Message" in message and b"Signature" not in message
    assert message.count(b"<ceb:Inventory>") == 1
    assert 1 <= message.count(b"<ceb:InventoryList>") <= 10
