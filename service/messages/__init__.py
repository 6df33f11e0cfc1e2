"""The CEB codec: message registry, hardened parsing, schema checks, typed documents, receipts.

No database and no HTTP here: everything takes bytes or lxml elements and returns values.
"""
