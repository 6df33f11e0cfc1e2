"""The operators' review UI at /review (SPEC §6.4): server-rendered pages over the same engine
and store functions as the review API."""
