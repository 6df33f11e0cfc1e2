"""The webhook signature, the sealed secret and the backoff schedule, without a server."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from service.config import Settings
from service.queue.webhooks import backoff
from service.security.webhook_secrets import (
    SecretUnreadable,
    new_secret,
    seal,
    signature,
    unseal,
)


def test_the_signature_is_the_hmac_of_timestamp_dot_body_in_lower_case_hex() -> None:
    body = '{"entries":[{"seq":1,"orderNo":"订单1"}]}'.encode()
    expected = hmac.new(b"whsec_abc", b"1764770000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_abc", "1764770000", body) == "sha256=" + expected
    assert expected == expected.lower()
    assert signature("whsec_abc", "1764770001", body) != signature("whsec_abc", "1764770000", body)


def test_a_sealed_secret_opens_with_its_key_only() -> None:
    secret = new_secret()
    stored = seal(secret, "pii-key-one")
    assert secret not in stored
    assert seal(secret, "pii-key-one") != stored  # a fresh nonce each time
    assert unseal(stored, "pii-key-one") == secret
    with pytest.raises(SecretUnreadable):
        unseal(stored, "pii-key-two")


def test_the_backoff_doubles_from_the_first_retry_up_to_its_cap() -> None:
    defaults = Settings()
    schedule = [backoff(n, defaults) for n in range(1, 12)]
    assert schedule[0] <= 10
    assert schedule[:4] == [2, 4, 8, 16]
    assert max(schedule) == 300 and schedule[-1] == 300
    tuned = Settings(webhook_retry_first_seconds=0.5, webhook_retry_max_seconds=3)
    assert [backoff(n, tuned) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


@pytest.mark.parametrize(
    "field", [{"webhook_retry_first_seconds": 11}, {"webhook_retry_max_seconds": 301}]
)
def test_settings_refuse_a_first_retry_over_10_s_or_a_cap_over_5_minutes(
    field: dict[str, float],
) -> None:
    with pytest.raises(ValueError):
        Settings(**field)
