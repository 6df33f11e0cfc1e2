"""The CEB message types Sandan accepts, and what each one carries.

A message root (``CEB311Message``) holds 1..100 documents (``Order``); each document has a head
element with the business fields and, for orders, inventories and returns, repeated line
elements.

Four kinds make up a bundle (``BUNDLE_KINDS``); cancels and returns (SPEC §10) name a bundle
by its invtNo and are never one of its documents, nor are the movement documents (arrivals,
master bills, departures), which name bundles by waybill number, bill number or invtNo; a
summary (CEB701) names many by invtNo.
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
    # physical movement (SPEC §10): 入库明细单 / 运抵单, 清单总分单, 离境单
    ARRIVAL = "arrival"
    MASTER_BILL = "masterbill"
    DEPARTURE = "departure"


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
MUST_BE_SIGNED = frozenset(
    {"CEB621Message", "CEB623Message", "CEB625Message", "CEB603Message", "CEB711Message"}
)

_SENDS_ORDERS = frozenset({Role.PLATFORM})
_SENDS_INVENTORIES = frozenset({Role.PLATFORM, Role.AGENT})
# The supervised site's operator (a carrier running it, or the warehouse) reports arrivals.
_SENDS_ARRIVALS = frozenset({Role.LOGISTICS, Role.WAREHOUSE})

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
        # 入库明细单: one Delivery a message, 1..n lines, by the supervised site's operator.
        MessageType(
            "CEB711Message",
            Kind.ARRIVAL,
            Direction.IMPORT,
            "import",
            "Delivery",
            "DeliveryHead",
            "DeliveryList",
            "CEB712Message",
            "DeliveryReturn",
            _SENDS_ARRIVALS,
            ("operatorCode",),
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
        # 运抵单: 0..n lines; none means every consignment of the head's billNo.
        MessageType(
            "CEB507Message",
            Kind.ARRIVAL,
            Direction.EXPORT,
            "export",
            "Arrival",
            "ArrivalHead",
            "ArrivalList",
            "CEB508Message",
            "ArrivalReturn",
            _SENDS_ARRIVALS,
            ("operatorCode",),
        ),
        # 清单总分单: the declaration agent ties export lists to one bill of lading.
        MessageType(
            "CEB607Message",
            Kind.MASTER_BILL,
            Direction.EXPORT,
            "export",
            "WayBill",
            "WayBillHead",
            "WayBillList",
            "CEB608Message",
            "WayBillReturn",
            _SENDS_INVENTORIES,
            ("agentCode",),
        ),
        # 离境单: by the carrier, closing (结关) the released lists its lines name.
        MessageType(
            "CEB509Message",
            Kind.DEPARTURE,
            Direction.EXPORT,
            "export",
            "Departure",
            "DepartureHead",
            "DepartureList",
            "CEB510Message",
            "DepartureReturn",
            frozenset({Role.LOGISTICS}),
            ("logisticsCode",),
        ),
    )
}


def message_type_for(root_tag: str) -> MessageType | None:
    """The message type of a root element tag in Clark notation, or None if unsupported."""
    if not root_tag.startswith("{" + CEB_NS + "}"):
        return None
    return MESSAGE_TYPES.get(root_tag[len(CEB_NS) + 2 :])
