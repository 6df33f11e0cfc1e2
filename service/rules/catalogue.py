"""The rule catalogue: every code Sandan reports, its severity, stage and texts (SPEC §5).

Codes are stable: they are stored with bundles, published in manifest entries and matched by
warehouses and operators, so a code is never renamed or reused. The texts are fixed sentences
in customs wording (订单 / 支付单 / 运单 / 清单, 实际支付金额, 代扣税款 ...): the specifics of a
case (which field, which values) travel in the finding's comparisons, not in the sentence, so
the texts need no formatting and read the same in the UI, the API and a CEB receipt.

The order of ``RULES`` is the catalogue order: intake codes first, then the collision rules in
the order of SPEC §5.2. Findings are sorted by it, so a bundle always lists them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from service.messages.registry import Kind
from service.rules.codes import Code as Code
from service.rules.codes import RuleSpec as RuleSpec
from service.rules.codes import Stage as Stage
from service.rules.findings import Comparison, Finding, Severity

_E = Severity.ERROR
_W = Severity.WARNING
_IN = Stage.INTAKE
_CO = Stage.COLLISION

_SPECS = (
    # --- intake (SPEC §5.1): every one rejects the document ------------------------------
    RuleSpec(
        Code.XML_MALFORMED,
        _E,
        _IN,
        "报文不是格式正确的 XML，或未使用 UTF-8 编码",
        "The message is not well-formed XML or is not UTF-8 encoded",
    ),
    RuleSpec(
        Code.XML_FORBIDDEN,
        _E,
        _IN,
        "报文含有 DTD、实体声明、外部引用或 XInclude，拒绝处理",
        "The message contains a DTD, entity declarations, external references or XInclude"
        " and is refused",
    ),
    RuleSpec(Code.MESSAGE_TYPE_UNKNOWN, _E, _IN, "不支持的报文类型", "Unsupported message type"),
    RuleSpec(
        Code.SCHEMA_INVALID,
        _E,
        _IN,
        "报文未通过报文格式（XSD）校验",
        "The document does not conform to the message schema",
    ),
    RuleSpec(
        Code.SIGNATURE_INVALID, _E, _IN, "报文加签验签失败", "The message signature does not verify"
    ),
    RuleSpec(
        Code.SENDER_MISMATCH,
        _E,
        _IN,
        "传输企业或单证中的企业代码与申报主体不符",
        "The sender or an enterprise code in the document is not one the caller may act for",
    ),
    RuleSpec(
        Code.DUPLICATE,
        _E,
        _IN,
        "重复申报：该单证已接收，返回原回执",
        "Duplicate document: it was already received and the earlier answer stands",
    ),
    RuleSpec(
        Code.GUID_CONFLICT,
        _E,
        _IN,
        "报文编号（guid）已被使用，且单证内容不同",
        "The guid was already used for a document with different content",
    ),
    RuleSpec(
        Code.STALE,
        _E,
        _IN,
        "变更申报的申报时间不晚于已接收的单证，不予处理",
        "Change ignored: its appTime is not later than the stored version",
    ),
    RuleSpec(
        Code.ALREADY_DECIDED,
        _E,
        _IN,
        "该票货物已放行，不能再变更或删除",
        "The consignment is already released and can no longer be changed or deleted",
    ),
    # --- after the decision (SPEC §10) --------------------------------------------------
    RuleSpec(
        Code.LIFECYCLE_UNKNOWN,
        _E,
        _IN,
        "未找到对应的清单（清单编号或运单编号不存在）",
        "No consignment has that invtNo (or waybill number)",
    ),
    RuleSpec(
        Code.LIFECYCLE_KEY_MISMATCH,
        _E,
        _IN,
        "申请单的订单、运单或企业信息与清单编号对应的清单不一致",
        "The document's order, waybill or enterprise codes disagree with the inventory its "
        "invtNo names",
    ),
    RuleSpec(
        Code.CANCEL_TOO_LATE,
        _E,
        _IN,
        "清单状态不允许撤销",
        "The consignment can no longer be cancelled in its state",
    ),
    RuleSpec(
        Code.BUNDLE_CANCELLED,
        _E,
        _IN,
        "该票清单已撤销，不再接受相关单证",
        "The consignment was cancelled: no further document is taken for it",
    ),
    RuleSpec(
        Code.RETURN_NOT_RELEASED,
        _E,
        _IN,
        "清单未放行，不能申请退货",
        "A return needs a released (or departed) consignment",
    ),
    RuleSpec(
        Code.RETURN_TOO_LATE,
        _E,
        _IN,
        "已超过退货申请期限",
        "The return is applied for after the return window",
    ),
    RuleSpec(
        Code.RETURN_EXCEEDS,
        _E,
        _IN,
        "退货商品项号不存在或退货数量超过清单申报数量",
        "A return line names a gnum the inventory lacks, or returns more than was released",
    ),
    RuleSpec(
        Code.SUMMARY_NOT_RELEASED,
        _E,
        _IN,
        "清单未放行或未结关，不能汇总申报",
        "A summary line names an inventory that is neither released nor closed",
    ),
    RuleSpec(
        Code.SUMMARY_DUPLICATE,
        _E,
        _IN,
        "清单已在其他汇总申请中汇总",
        "The inventory is already in another accepted summary",
    ),
    RuleSpec(
        Code.SUMMARY_PARTY,
        _E,
        _IN,
        "清单的电商企业与汇总申请不一致，或不是零售出口清单（9610、1210）",
        "The inventory is not the summary's ebc's, or not an export retail list (9610 / 1210)",
    ),
    # --- collision (SPEC §5.2) ----------------------------------------------------------
    RuleSpec(
        Code.ORDER_PAID_FORMULA,
        _E,
        _CO,
        "订单实际支付金额不等于商品价格＋运杂费－非现金抵扣金额＋代扣税款",
        "Order acturalPaid does not equal goodsValue + freight − discount + taxTotal",
    ),
    RuleSpec(
        Code.ORDER_LINE_TOTAL,
        _E,
        _CO,
        "订单商品总价不等于数量×单价",
        "Order line totalPrice does not equal qty × price",
    ),
    RuleSpec(
        Code.ORDER_GOODS_VALUE,
        _E,
        _CO,
        "订单商品价格与各项商品总价之和不一致",
        "Order goodsValue does not equal the sum of the line totals",
    ),
    RuleSpec(
        Code.PAYMENT_AMOUNT,
        _E,
        _CO,
        "支付金额与订单实际支付金额不一致",
        "Payment amountPaid differs from the order's acturalPaid",
    ),
    RuleSpec(
        Code.PAYMENT_REFERENCE,
        _E,
        _CO,
        "支付单的支付企业代码或支付交易编号与订单不一致",
        "The payment's payCode or payTransactionId differs from the order",
    ),
    RuleSpec(
        Code.PAYER_IS_BUYER,
        _E,
        _CO,
        "支付人与订购人不一致",
        "The payer is not the buyer named on the order",
    ),
    RuleSpec(
        Code.BUYER_ID_INVALID,
        _E,
        _CO,
        "订购人身份证件号码校验不通过",
        "The buyer's ID card number fails the GB 11643 check digit",
    ),
    RuleSpec(
        Code.CONSIGNEE_MISMATCH,
        _E,
        _CO,
        "运单收货人信息与订单不一致",
        "The waybill's consignee details differ from the order",
    ),
    RuleSpec(
        Code.INVENTORY_PARTIES,
        _E,
        _CO,
        "清单的电商平台、电商企业或订购人信息与订单不一致",
        "The inventory's platform, e-commerce enterprise or buyer differs from the order",
    ),
    RuleSpec(
        Code.INVENTORY_LOGISTICS,
        _E,
        _CO,
        "清单的物流企业代码、物流运单编号或订单编号与运单不一致",
        "The inventory's logisticsCode, logisticsNo or orderNo differs from the waybill",
    ),
    RuleSpec(
        Code.INVENTORY_ITEMS,
        _E,
        _CO,
        "清单商品信息与订单商品信息不一致",
        "The inventory lines do not match the order lines",
    ),
    RuleSpec(
        Code.SINGLE_LIMIT,
        _E,
        _CO,
        "订单交易金额超过跨境电商零售进口单次交易限值",
        "The transaction value exceeds the single-transaction limit for cross-border"
        " retail imports",
    ),
    RuleSpec(
        Code.ANNUAL_LIMIT,
        _E,
        _CO,
        "订购人本年度累计交易金额超过跨境电商零售进口年度交易限值",
        "The buyer's transactions this year would exceed the annual limit for"
        " cross-border retail imports",
    ),
    RuleSpec(
        Code.TAX_TOTAL,
        _W,
        _CO,
        "订单代扣税款与按清单计算的跨境电商综合税不一致",
        "Order taxTotal differs from the comprehensive tax computed from the inventory",
    ),
    RuleSpec(
        Code.REGIME_MISMATCH,
        _E,
        _CO,
        "申报的监管方式与单证反映的业务类型不符",
        "The declared customs regime contradicts the documents",
    ),
    RuleSpec(
        Code.REGIME_FIELDS,
        _E,
        _CO,
        "清单缺少该监管方式必填的项目，或项目填写不符合要求",
        "The inventory lacks fields its customs regime requires, or fills them wrongly",
    ),
    RuleSpec(
        Code.EXPORT_RECEIPT_AMOUNT,
        _W,
        _CO,
        "收款金额与订单商品价格加运杂费不一致",
        "Receipt charge differs from the order's goodsValue + freight",
    ),
    RuleSpec(
        Code.MISSING_ORDER,
        _E,
        _CO,
        "超过时限仍未收到电子订单",
        "The deadline passed without the order",
    ),
    RuleSpec(
        Code.MISSING_PAYMENT,
        _E,
        _CO,
        "超过时限仍未收到支付单（收款单）",
        "The deadline passed without the payment (or receipt)",
    ),
    RuleSpec(
        Code.MISSING_LOGISTICS,
        _E,
        _CO,
        "超过时限仍未收到物流运单",
        "The deadline passed without the waybill",
    ),
    RuleSpec(
        Code.MISSING_INVENTORY,
        _E,
        _CO,
        "超过时限仍未收到申报清单",
        "The deadline passed without the declaration list (inventory)",
    ),
    RuleSpec(
        Code.MISSING_ARRIVAL,
        _E,
        _CO,
        "超过时限仍未收到入库明细单（运抵单）",
        "The deadline passed without the arrival report (delivery or arrival)",
    ),
)

RULES: Mapping[str, RuleSpec] = MappingProxyType({spec.code.value: spec for spec in _SPECS})

# Position of each code in the catalogue: the sort key that makes findings deterministic.
CATALOGUE_ORDER: Mapping[str, int] = MappingProxyType({code: i for i, code in enumerate(RULES)})

MISSING_CODES: Mapping[Kind, Code] = MappingProxyType(
    {
        Kind.ORDER: Code.MISSING_ORDER,
        Kind.PAYMENT: Code.MISSING_PAYMENT,
        Kind.LOGISTICS: Code.MISSING_LOGISTICS,
        Kind.INVENTORY: Code.MISSING_INVENTORY,
        Kind.ARRIVAL: Code.MISSING_ARRIVAL,
    }
)


def finding(code: Code, fields: Iterable[Comparison]) -> Finding:
    """The catalogue's finding for ``code`` over the given comparisons."""
    return RULES[code.value].finding(fields)
