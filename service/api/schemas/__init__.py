"""The JSON answers of the API as pydantic models, for the OpenAPI document (/docs).

The routers build their answers as dictionaries (the hot paths with orjson); these models
describe those shapes exactly as SPEC §6 writes them, with an example each, and
``tests/e2e/test_openapi_answers.py`` holds real answers against them so they cannot drift.
"""
