"""The webhook subscriptions' answers (issue 15)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.api.schemas.common import example

_SUBSCRIPTION: dict[str, Any] = {
    "id": 3,
    "url": "https://wms.example.cn/sandan/manifest",
    "code": "3301980001",
    "state": "active",
    "cursor": 1842,
    "failures": 0,
    "retryAt": None,
    "lastError": None,
    "lastDeliveredAt": "2026-11-11T00:05:12.204311Z",
    "createdAt": "2026-11-10T09:30:00.118402Z",
}
_PAUSED: dict[str, Any] = {
    **_SUBSCRIPTION,
    "id": 4,
    "url": "http://10.8.0.12:8080/hooks/customs",
    "state": "paused",
    "cursor": 1790,
    "failures": 8,
    "retryAt": "2026-11-11T01:04:00.000000Z",
    "lastError": "HTTP 503",
    "lastDeliveredAt": "2026-11-10T22:41:07.551020Z",
}


class Subscription(BaseModel):
    model_config = example(_SUBSCRIPTION)
    id: int
    url: str = Field(description="where the entries are POSTed")
    code: str = Field(description="the warehouse's enterprise code")
    state: Literal["active", "paused"] = Field(description="paused after repeated failures")
    cursor: int = Field(description="the last manifest seq delivered: entries after it are next")
    failures: int = Field(description="failed attempts in a row")
    retryAt: str | None = Field(description="when the next attempt is due after a failure")
    lastError: str | None
    lastDeliveredAt: str | None
    createdAt: str


class CreatedSubscription(Subscription):
    model_config = example(
        {**_SUBSCRIPTION, "secret": "whsec_5xQk0yqkz8Q3h2VwJcW1c7bqj0G2pTt9Jd7hY3f6xkM"}
    )
    secret: str = Field(description="the signing secret, shown this once")


class Subscriptions(BaseModel):
    model_config = example({"webhooks": [_SUBSCRIPTION, _PAUSED]})
    webhooks: list[Subscription]


class Delivery(BaseModel):
    id: int
    at: str
    attempt: int = Field(description="1 for the first try of these entries, then 2, 3...")
    firstSeq: int
    lastSeq: int
    entries: int = Field(description="manifest entries in the POST")
    statusCode: int | None = Field(description="the receiver's HTTP status, if it answered")
    error: str | None
    retryAt: str | None = Field(description="when it is tried again, after a failure")


class Deliveries(BaseModel):
    model_config = example(
        {
            "deliveries": [
                {
                    "id": 57,
                    "at": "2026-11-11T00:05:12.204311Z",
                    "attempt": 2,
                    "firstSeq": 1801,
                    "lastSeq": 1842,
                    "entries": 42,
                    "statusCode": 200,
                    "error": None,
                    "retryAt": None,
                },
                {
                    "id": 56,
                    "at": "2026-11-11T00:04:42.190554Z",
                    "attempt": 1,
                    "firstSeq": 1801,
                    "lastSeq": 1842,
                    "entries": 42,
                    "statusCode": 503,
                    "error": "HTTP 503",
                    "retryAt": "2026-11-11T00:05:12.190554Z",
                },
            ]
        }
    )
    deliveries: list[Delivery] = Field(description="newest first")
