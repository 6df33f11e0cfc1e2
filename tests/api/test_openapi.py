"""The OpenAPI document: valid OpenAPI 3.1, and every route documented — its success answer
with a schema and an example, its problems, the bearer scheme where it takes a key. A route
added without ``service.api.openapi.answers`` (or an equivalent) fails here, naming it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from openapi_spec_validator import validate

from service.app import create_app
from service.config import Settings
from service.engine.review_export import COLUMNS
from service.messages.registry import MESSAGE_TYPES
from service.messages.schema import schema_checker
from tests.api.openapi_support import document, json_schema, operations

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}


def test_the_document_is_valid_openapi() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def _examples(media: dict[str, Any], doc: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    if "examples" in media:
        return [e["value"] for e in media["examples"].values()]
    ref = media.get("schema", {}).get("$ref", "")
    component = doc["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return list(component.get("examples", []))


def test_every_route_documents_its_answers() -> None:
    doc = document()
    missing: list[str] = []
    for method, path, operation in operations():
        responses = operation["responses"]
        ok = [s for s in responses if s.startswith("2")]
        if not ok:
            missing.append(f"{method} {path}: no success answer")
        for status, response in responses.items():
            content = response.get("content", {})
            if not content and status != "204":  # No Content has none to document
                missing.append(f"{method} {path} {status}: no content")
            for media_type, media in content.items():
                schema = media.get("schema", {})
                if not schema or schema == {"type": "object", "additionalProperties": True}:
                    missing.append(f"{method} {path} {status} {media_type}: no schema")
                if status.startswith("2") and not _examples(media, doc):
                    missing.append(f"{method} {path} {status} {media_type}: no example")
    assert missing == [], "\n".join(missing)


def test_json_examples_match_their_schemas() -> None:
    doc = document()
    checked = 0
    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json")
            if media is None:
                continue
            schema = json_schema(method, path, int(status))
            for example in _examples(media, doc):
                jsonschema.Draft202012Validator(schema).validate(example)
                checked += 1
    assert checked > 40


def test_keyed_routes_carry_the_bearer_scheme() -> None:
    doc = document()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`sandan keys create`, or POST /v1/admin/keys)",
    }
    for method, path, operation in operations():
        if (method, path) in PUBLIC:
            assert "security" not in operation, path
            assert "401" not in operation["responses"], path
        else:
            assert operation.get("security") == [{"bearer": []}], f"{method} {path}"
            assert "401" in operation["responses"], f"{method} {path}"


def test_errors_are_documented_as_the_problem_body() -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            if status.startswith("4") or (status == "503" and path != "/readyz"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == problem, f"{method} {path} {status}: {schema}"


def test_ingest_documents_an_xml_body_per_message_type_and_both_answers() -> None:
    operation = document()["paths"]["/v1/messages"]["post"]
    body = operation["requestBody"]["content"]["application/xml"]
    assert set(body["examples"]) == set(MESSAGE_TYPES)
    checker = schema_checker()
    for name, example in body["examples"].items():
        message = etree.fromstring(example["value"].encode())
        assert etree.QName(message).localname == name
        # each example is valid against Sandan's (the official) schema for its type
        assert checker.check(MESSAGE_TYPES[name], message).valid, name
    answers = operation["responses"]["200"]["content"]
    assert set(answers) == {"application/json", "application/xml"}
    receipts = {MESSAGE_TYPES[n].receipt_root for n in MESSAGE_TYPES}
    assert set(answers["application/xml"]["examples"]) == receipts
    for name, example in answers["application/xml"]["examples"].items():
        receipt = etree.fromstring(example["value"].encode())
        assert etree.QName(receipt).localname == name


@pytest.fixture(scope="module")
def client() -> TestClient:
    # no lifespan: the docs pages and the document need no database
    return TestClient(create_app(Settings()))


def test_docs_pages_load_their_scripts_from_sandan_itself(client: TestClient) -> None:
    for page, assets in (
        ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
        ("/redoc", ("redoc.standalone.js",)),
    ):
        html = client.get(page).text
        tree = etree.HTML(html)
        urls = tree.xpath("//script/@src | //link/@href")
        assert urls, page
        for url in urls:
            assert url.startswith(("/docs/assets/", "data:")), f"{page} loads {url}"
        for asset in assets:
            answer = client.get(f"/docs/assets/{asset}")
            assert answer.status_code == 200 and len(answer.content) > 10_000, asset
    assert client.get("/openapi.json").json() == document()


def test_the_summary_and_the_csv_document_their_text_answers() -> None:
    paths = document()["paths"]
    xml = paths["/v1/summaries/{sum_no}"]["get"]["responses"]["200"]["content"]
    assert set(xml) == {"application/json", "application/xml"}
    summary = etree.fromstring(xml["application/xml"]["example"].encode())
    assert etree.QName(summary).localname == "CEB792Message"
    configured = Settings().reference_dir
    root = Path(__file__).resolve().parents[2]
    xsd = (configured if configured.is_absolute() else root / configured) / "xsd" / "export.xsd"
    if xsd.is_file():  # the official schema, when the GACC reference folder is there
        official = etree.XMLSchema(etree.parse(str(xsd)))
        assert official.validate(summary), official.error_log
    # the example's sumNo and invtNos are the JSON example's
    json_example = xml["application/json"]["example"]
    c = "{http://www.chinaport.gov.cn/ceb}"
    assert summary.findtext(f".//{c}sumNo") == json_example["sumNo"]
    assert [e.text for e in summary.iter(f"{c}invtNo")] == json_example["inventories"]
    csv_answer = paths["/v1/review/exceptions.csv"]["get"]["responses"]["200"]["content"]
    header, row = list(csv.reader(io.StringIO(csv_answer["text/csv"]["example"])))
    assert tuple(header) == COLUMNS and len(row) == len(COLUMNS)
