"""The CEB message types Sandan accepts, and what each one carries.

A message root (``CEB311Message``) holds 1..100 documents (``Order``); each document has a head
element with the business fields and, for orders, inventories and returns, repeated line
elements.

Four kinds make up a bundle (``BUNDLE_KINDS``); cancels and returns (SPEC §10) name a bundle
by its invtNo and are never one of its documents; a summary (CEB701) names many by invtNo.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CEB_NS = "http://www.chinaport.gov.cn/ceb"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"


class Kind(StrEnum):
    ORDER = "order"
    PAYMENT = "payment"
    LOGISTICS = "logistics"
    INVENTORY = "inventory"
    # lifecycle documents (SPEC §10): 撤销申请单 and 退货申请单
    CANCEL = "cancel"
    RETURN = "return"
    # 汇总申请单 (SPEC §10): names released export lists by invtNo, never one bundle's
    SUMMARY = "summary"


# The documents of a bundle, in the order rules and views list them. Iterate this, never
# ``Kind``: the lifecycle kinds are not bundle documents.
BUNDLE_KINDS: tuple[Kind, ...] = (Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY)


class Direction(StrEnum):
    IMPORT = "I"
    EXPORT = "E"


class Role(StrEnum):
    PLATFORM = "platform"
    PAYMENT = "payment"
    LOGISTICS = "logistics"
    AGENT = "agent"
    WAREHOUSE = "warehouse"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class MessageType:
    root: str
    kind: Kind
    direction: Direction
    schema: str
    document: str
    # Element holding the business fields; None when the document element itself does.
    head: str | None
    lines: str | None
    receipt_root: str
    receipt_element: str
    # Roles whose keys may send this message type.
    roles: frozenset[Role]
    # Head fields naming the enterprise that must be one the caller acts for (any of them).
    party_fields: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.root.removesuffix("Message")

    @property
    def must_be_signed(self) -> bool:
        """Types that carry a ``ds:Signature`` whatever the policy (SPEC §11)."""
        return self.root in MUST_BE_SIGNED


# The official schema requires ds:Signature on CEB621, 623, 625 (and 711); Sandan treats the
# export list CEB603 alike. The export cancel and return (CEB605, CEB213) have it optional.
MUST_BE_SIGNED = frozenset({"CEB621Message", "CEB623Message", "CEB625Message", "CEB603Message"})

_SENDS_ORDERS = frozenset({Role.PLATFORM})
_SENDS_INVENTORIES = frozenset({Role.PLATFORM, Role.AGENT})

MESSAGE_TYPES: dict[str, MessageType] = {
    t.root: t
    for t in (
        MessageType(
            "CEB311Message",
            Kind.ORDER,
            Direction.IMPORT,
            "import",
            "Order",
            "OrderHead",
            "OrderList",
            "CEB312Message",
            "OrderReturn",
            _SENDS_ORDERS,
            ("ebpCode", "ebcCode"),
        ),
        MessageType(
            "CEB411Message",
            Kind.PAYMENT,
            Direction.IMPORT,
            "import",
            "Payment",
            "PaymentHead",
            None,
            "CEB412Message",
            "PaymentReturn",
            frozenset({Role.PAYMENT}),
            ("payCode",),
        ),
        MessageType(
            "CEB511Message",
            Kind.LOGISTICS,
            Direction.IMPORT,
            "import",
            "Logistics",
            "LogisticsHead",
            None,
            "CEB512Message",
            "LogisticsReturn",
            frozenset({Role.LOGISTICS}),
            ("logisticsCode",),
        ),
        MessageType(
            "CEB621Message",
            Kind.INVENTORY,
            Direction.IMPORT,
            "import",
            "Inventory",
            "InventoryHead",
            "InventoryList",
            "CEB622Message",
            "InventoryReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
        MessageType(
            "CEB623Message",
            Kind.CANCEL,
            Direction.IMPORT,
            "import",
            "InvtCancel",
            None,
            None,
            "CEB624Message",
            "InvtCancelReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
        MessageType(
            "CEB625Message",
            Kind.RETURN,
            Direction.IMPORT,
            "import",
            "InvtRefund",
            "InvtRefundHead",
            "InvtRefundList",
            "CEB626Message",
            "InvtRefundReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
        MessageType(
            "CEB303Message",
            Kind.ORDER,
            Direction.EXPORT,
            "export",
            "Order",
            "OrderHead",
            "OrderList",
            "CEB304Message",
            "OrderReturn",
            _SENDS_ORDERS,
            ("ebpCode", "ebcCode"),
        ),
        # 收款单: sent by the payment company, or by the ebc that received the money.
        MessageType(
            "CEB403Message",
            Kind.PAYMENT,
            Direction.EXPORT,
            "export",
            "Receipts",
            None,
            None,
            "CEB404Message",
            "ReceiptsReturn",
            frozenset({Role.PAYMENT, Role.PLATFORM}),
            ("payCode", "ebcCode"),
        ),
        MessageType(
            "CEB505Message",
            Kind.LOGISTICS,
            Direction.EXPORT,
            "export",
            "Logistics",
            None,
            None,
            "CEB506Message",
            "LogisticsReturn",
            frozenset({Role.LOGISTICS}),
            ("logisticsCode",),
        ),
        MessageType(
            "CEB603Message",
            Kind.INVENTORY,
            Direction.EXPORT,
            "export",
            "Inventory",
            "InventoryHead",
            "InventoryList",
            "CEB604Message",
            "InventoryReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
        MessageType(
            "CEB605Message",
            Kind.CANCEL,
            Direction.EXPORT,
            "export",
            "InvtCancel",
            None,
            None,
            "CEB606Message",
            "InvtCancelReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
        # The export return's receipt element is RefundReturn, not InvtRefundReturn.
        MessageType(
            "CEB213Message",
            Kind.RETURN,
            Direction.EXPORT,
            "export",
            "InvtRefund",
            "InvtRefundHead",
            "InvtRefundList",
            "CEB214Message",
            "RefundReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
        # 汇总申请单: the ebc's released export lists, summarised into one declaration
        MessageType(
            "CEB701Message",
            Kind.SUMMARY,
            Direction.EXPORT,
            "export",
            "SummaryApply",
            "SummaryApplyHead",
            "SummaryApplyList",
            "CEB702Message",
            "SummaryReturn",
            _SENDS_INVENTORIES,
            ("agentCode", "ebcCode"),
        ),
    )
}


def message_type_for(root_tag: str) -> MessageType | None:
    """The message type of a root element tag in Clark notation, or None if unsupported."""
    if not root_tag.startswith("{" + CEB_NS + "}"):
        return None
    return MESSAGE_TYPES.get(root_tag[len(CEB_NS) + 2 :])
