"""Head values the schema's types admit but the standard gives no meaning (SPEC §5.1).

The official schemas type ``appType`` and ``appTime`` as short strings, so ``9`` and
``20261399999999`` pass them; yet stale-change ordering is decided on ``appTime`` and the
document's fate on ``appType``. Both are refused as ``SCHEMA_INVALID``, with the path named,
like any other schema error.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from service.messages.explain import SchemaError
from service.messages.registry import CEB_NS, MessageType

# 1 new (新增), 2 change (变更), 3 delete (删除)
APP_TYPES = frozenset({"1", "2", "3"})


def is_real_time(text: str) -> bool:
    """``text`` is a real time written ``YYYYMMDDhhmmss``."""
    if len(text) != 14 or not text.isdigit():
        return False
    try:
        datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
        )
    except ValueError:
        return False
    return True


def head_value_errors(
    message_type: MessageType, document: etree._Element, index: int
) -> list[SchemaError]:
    """The meaningless head values of a schema-valid document (the ``index``-th, 0-based)."""
    head = (
        document if message_type.head is None else document.find(f"{{{CEB_NS}}}{message_type.head}")
    )
    if head is None:  # the schema requires it; nothing to add to what it said
        return []
    where = f"/{message_type.root}/{message_type.document}[{index + 1}]"
    if message_type.head is not None:
        where += f"/{message_type.head}"
    errors: list[SchemaError] = []
    app_type = (head.findtext(f"{{{CEB_NS}}}appType") or "").strip()
    if app_type not in APP_TYPES:
        errors.append(
            SchemaError(
                f"{where}/appType",
                f"appType {app_type!r} is not one of 1 (new), 2 (change), 3 (delete)",
            )
        )
    app_time = (head.findtext(f"{{{CEB_NS}}}appTime") or "").strip()
    if not is_real_time(app_time):
        errors.append(
            SchemaError(
                f"{where}/appTime",
                f"appTime {app_time!r} is not a real time written YYYYMMDDhhmmss",
            )
        )
    return errors
