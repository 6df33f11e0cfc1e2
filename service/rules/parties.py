"""Party rules: the same buyer, payer, consignee, platform and carrier on every document.

All of these compare declared values across documents, so they are exact (text after
stripping surrounding whitespace). ID and phone numbers are ``Pii``: they compare by keyed
digest and a finding shows only their masked form.
"""

from __future__ import annotations

from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import Code, finding
from service.rules.compare import mismatches, pair, same
from service.rules.findings import Comparison, Finding
from service.rules.regime import RegimeView

# buyerIdType 1 is the resident ID card (身份证), the only type GB 11643 governs.
ID_CARD = "1"


def payment_reference(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    # The order may leave payCode / payTransactionId out (the platform may not know them yet);
    # only what it names must match.
    order, payment = docs.order, docs.payment
    if order is None or payment is None:
        return None
    named = tuple(
        name for name in ("payCode", "payTransactionId") if not same(getattr(order, name), None)
    )
    bad = mismatches("payment", payment, "order", order, named)
    return finding(Code.PAYMENT_REFERENCE, bad) if bad else None


def payer_is_buyer(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    # Import only: the payer of a retail import must be the buyer the limits are counted for.
    order, payment = docs.order, docs.payment
    if order is None or payment is None or payment.direction is not Direction.IMPORT:
        return None
    bad: list[Comparison] = []
    if not same(payment.payerIdNumber, order.buyerIdNumber):
        bad.append(
            pair(
                "payment",
                "payerIdNumber",
                payment.payerIdNumber,
                "order",
                "buyerIdNumber",
                order.buyerIdNumber,
            )
        )
    if not same(payment.payerName, order.buyerName):
        bad.append(
            pair(
                "payment",
                "payerName",
                payment.payerName,
                "order",
                "buyerName",
                order.buyerName,
            )
        )
    return finding(Code.PAYER_IS_BUYER, bad) if bad else None


def buyer_id_invalid(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    # The verdict was taken on the clear number at intake (Pii.id_check); None means no verdict
    # was recorded, which is not evidence of a bad number.
    order = docs.order
    if order is None or order.buyerIdNumber is None:
        return None
    if not same(order.buyerIdType, ID_CARD) or order.buyerIdNumber.id_check is not False:
        return None
    return finding(
        Code.BUYER_ID_INVALID,
        [
            pair(
                "order",
                "buyerIdNumber",
                order.buyerIdNumber,
                "order",
                "buyerIdType",
                order.buyerIdType,
            )
        ],
    )


def consignee_mismatch(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order, waybill = docs.order, docs.logistics
    if order is None or waybill is None or order.direction is not Direction.IMPORT:
        return None
    bad = mismatches(
        "logistics",
        waybill,
        "order",
        order,
        ("consignee", "consigneeTelephone", "consigneeAddress"),
    )
    return finding(Code.CONSIGNEE_MISMATCH, bad) if bad else None


def inventory_parties(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    # Export documents carry no buyer: both sides are empty there and agree.
    order, inventory = docs.order, docs.inventory
    if order is None or inventory is None:
        return None
    bad = mismatches(
        "inventory",
        inventory,
        "order",
        order,
        ("ebpCode", "ebcCode", "buyerName", "buyerIdNumber"),
    )
    return finding(Code.INVENTORY_PARTIES, bad) if bad else None


def inventory_logistics(
    docs: BundleDocuments, ctx: RuleContext, view: RegimeView
) -> Finding | None:
    inventory, waybill = docs.inventory, docs.logistics
    if inventory is None or waybill is None:
        return None
    # An import waybill also names its order: a waybill attached through the inventory's
    # logistics key must be for the same order, or the inventory points at someone else's parcel.
    names_order = ("orderNo",) if waybill.orderNo is not None else ()
    bad = mismatches(
        "inventory", inventory, "logistics", waybill, ("logisticsCode", "logisticsNo", *names_order)
    )
    return finding(Code.INVENTORY_LOGISTICS, bad) if bad else None
