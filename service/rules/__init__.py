"""Collision rules (三单对碰) as pure functions over a bundle's typed documents.

No I/O, no clock, no settings: the engine passes everything in (``RuleContext``).

    findings.py       Finding, Comparison, Side, Severity: what a rule reports (JSON shape)
    catalogue.py      every code with severity, stage and zh/en texts; catalogue order
    bundle.py         BundleDocuments (the current documents) and RuleContext (the rest)
    regime.py         regime classification and the documents each regime requires
    compare.py        exact decimal context, value display, equality helpers
    idcard.py         GB 11643 ID check digit
    amounts.py        ORDER_PAID_FORMULA, ORDER_LINE_TOTAL, ORDER_GOODS_VALUE,
                      PAYMENT_AMOUNT, EXPORT_RECEIPT_AMOUNT
    parties.py        PAYMENT_REFERENCE, PAYER_IS_BUYER, BUYER_ID_INVALID,
                      CONSIGNEE_MISMATCH, INVENTORY_PARTIES, INVENTORY_LOGISTICS
    items.py          INVENTORY_ITEMS
    limits.py         SINGLE_LIMIT, ANNUAL_LIMIT, transaction_value
    tax.py            comprehensive tax, TAX_TOTAL
    regime_checks.py  REGIME_MISMATCH, REGIME_FIELDS
    evaluate.py       evaluate(): all rules, MISSING_*, outcome
"""
