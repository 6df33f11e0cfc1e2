"""HTTP routers only: ingest, bundles, manifest, ops. No SQL and no rules here."""
