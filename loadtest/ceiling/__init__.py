"""The parse-and-validate-only ceiling: Sandan's own ingest path with nothing stored.

Whatever the real service does beyond this ceiling (group commit, bundle matching, decisions,
the manifest) is what a benchmark's ratio to the ceiling prices.
"""

from loadtest.ceiling.app import AcceptAll, create_ceiling_app

__all__ = ["AcceptAll", "create_ceiling_app"]
