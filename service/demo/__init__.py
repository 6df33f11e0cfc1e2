"""Realistic consignments as customs XML: for `sandan demo`, the end-to-end tests and the load
generator. Nothing here is used by the service itself."""
