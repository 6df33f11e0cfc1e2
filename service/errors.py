"""Sandan's exceptions: one hierarchy, each class carrying its code and HTTP status.

    SandanError
    ├── MessageRefused            the whole message is refused, nothing is stored
    │   ├── MalformedXml          XML_MALFORMED        400
    │   ├── ForbiddenXml          XML_FORBIDDEN        400
    │   ├── MessageTooLarge       MESSAGE_TOO_LARGE    413
    │   ├── EmptyMessage          SCHEMA_INVALID       400  (no document at all)
    │   ├── UnsupportedMediaType  UNSUPPORTED_MEDIA_TYPE 415
    │   └── UnknownMessageType    MESSAGE_TYPE_UNKNOWN 415
    ├── Unauthenticated           UNAUTHENTICATED      401
    ├── Forbidden                 FORBIDDEN            403
    ├── NotFound                  NOT_FOUND            404
    ├── InvalidRequest            INVALID_REQUEST      422
    │   ├── CertificateInvalid    CERTIFICATE_INVALID  422  (not a certificate Sandan can use)
    │   └── WebhookUrlInvalid     WEBHOOK_URL_INVALID  422  (not an http(s) URL to deliver to)
    ├── VersionConflict           VERSION_CONFLICT     409
    ├── ActionNotAllowed          ACTION_NOT_ALLOWED   409  (an operator action the state refuses)
    ├── CertificateExists         CERTIFICATE_EXISTS   409  (that serial is registered for the code)
    ├── RateLimited               RATE_LIMITED         429  (over the key's documents a second)
    └── ServiceUnavailable        UNAVAILABLE          503
        └── BrokerUnavailable     UNAVAILABLE          503  (service/queue/broker.py: NATS)

Lower-layer errors (lxml, SQLAlchemy, NATS) are mapped to the most specific of these where they
are caught; the API renders every one as ``{"code", "message", ...}``.
"""

from __future__ import annotations

from typing import Any


class SandanError(Exception):
    code = "INTERNAL"
    status = 500

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class MessageRefused(SandanError):
    status = 400


class MalformedXml(MessageRefused):
    code = "XML_MALFORMED"


class ForbiddenXml(MessageRefused):
    code = "XML_FORBIDDEN"


class MessageTooLarge(MessageRefused):
    code = "MESSAGE_TOO_LARGE"
    status = 413


class EmptyMessage(MessageRefused):
    """A message without a single document: there is nothing to answer per document."""

    code = "SCHEMA_INVALID"


class UnsupportedMediaType(MessageRefused):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415


class UnknownMessageType(MessageRefused):
    code = "MESSAGE_TYPE_UNKNOWN"
    status = 415


class Unauthenticated(SandanError):
    code = "UNAUTHENTICATED"
    status = 401


class Forbidden(SandanError):
    code = "FORBIDDEN"
    status = 403


class NotFound(SandanError):
    code = "NOT_FOUND"
    status = 404


class InvalidRequest(SandanError):
    code = "INVALID_REQUEST"
    status = 422


class CertificateInvalid(InvalidRequest):
    code = "CERTIFICATE_INVALID"


class WebhookUrlInvalid(InvalidRequest):
    code = "WEBHOOK_URL_INVALID"


class VersionConflict(SandanError):
    code = "VERSION_CONFLICT"
    status = 409


class ActionNotAllowed(SandanError):
    code = "ACTION_NOT_ALLOWED"
    status = 409


class CertificateExists(SandanError):
    code = "CERTIFICATE_EXISTS"
    status = 409


class RateLimited(SandanError):
    """The key sent more documents than its rate allows (SPEC §11); nothing was stored."""

    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)
        # whole seconds, at least 1: the Retry-After header and the problem's "retryAfter"
        self.retry_after = retry_after


class ServiceUnavailable(SandanError):
    code = "UNAVAILABLE"
    status = 503
