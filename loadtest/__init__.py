"""Sandan's traffic generator and benchmark (issue 6).

    python -m loadtest run      traffic against a running service, JSON report + PNG plot
    python -m loadtest bench    ceiling, baseline and the real service, same traffic, one run
    python -m loadtest soak     hold a rate at zero and at N pending bundles, watch memory
    python -m loadtest ceiling  serve the parse-and-validate-only endpoint on its own

Modules, one job each: ``traffic`` (what is sent), ``driver`` (sending it), ``follower``
(watching the manifest), ``report`` and ``plot`` (what came of it), ``servers`` (starting
processes on fresh databases), ``machine`` (the conditions), ``seed`` (bulk pending bundles),
``bench`` and ``soak`` (the orchestrations), ``ceiling`` (the no-store endpoint).
"""
