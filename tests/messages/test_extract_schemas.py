"""``scripts/extract_schemas.py`` and the ``schemas/`` it generated."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import xmlschema
from lxml import etree

from tests.messages.conftest import REPO_ROOT

SCHEMAS = REPO_ROOT / "schemas"
XS = "{http://www.w3.org/2001/XMLSchema}"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "extract_schemas", REPO_ROOT / "scripts" / "extract_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


script = _load_script()


def declarations(path: Path) -> dict[tuple[str, str], bytes]:
    """Top-level declarations by (kind, name), canonicalised for comparison."""
    root = etree.parse(str(path)).getroot()
    return {
        (etree.QName(child).localname, str(child.get("name"))): etree.tostring(child, method="c14n")
        for child in root
        if isinstance(child.tag, str) and child.get("name")
    }


@pytest.mark.parametrize("side", ["import", "export"])
def test_schemas_compile_offline_with_both_libraries(side: str) -> None:
    path = SCHEMAS / f"{side}.xsd"
    etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))
    # "local" makes xmlschema refuse any remote resource instead of fetching it.
    compiled = xmlschema.XMLSchema(str(path), allow="local")
    assert set(script.SIDES[side]) <= set(compiled.elements)


@pytest.mark.parametrize("side", ["import", "export"])
def test_schemas_keep_only_what_their_roots_need(side: str) -> None:
    root = etree.parse(str(SCHEMAS / f"{side}.xsd")).getroot()
    keep, foreign = script.needed_declarations(root, script.SIDES[side])
    assert foreign == {"http://www.w3.org/2000/09/xmldsig#"}
    declared = {
        (space, name)
        for (kind, name) in declarations(SCHEMAS / f"{side}.xsd")
        for space in [script._TOP_SPACE[kind]]
    }
    assert declared == keep
    assert ("element", "CEB513Message") not in declared  # a sibling Sandan does not handle


def test_header_says_where_the_schema_comes_from() -> None:
    text = (SCHEMAS / "import.xsd").read_text(encoding="utf-8")
    assert "official GACC 2022-05 schema import.xsd" in text[:1200]
    assert "scripts/extract_schemas.py" in text[:1200]
    assert "限定为人民币" in text  # field documentation kept


def test_schemas_are_up_to_date(reference_dir: Path) -> None:
    generated = script.generate(reference_dir)
    assert sorted(generated) == ["export.xsd", "import.xsd", "xmldsig-core-schema.xsd"]
    stale = [
        name for name, content in generated.items() if (SCHEMAS / name).read_bytes() != content
    ]
    assert stale == [], "run: python scripts/extract_schemas.py"


@pytest.mark.parametrize("side", ["import", "export"])
def test_kept_declarations_are_verbatim(reference_dir: Path, side: str) -> None:
    official = declarations(reference_dir / "xsd" / f"{side}.xsd")
    ours = declarations(SCHEMAS / f"{side}.xsd")
    assert ours and all(official[key] == text for key, text in ours.items())


def test_check_mode_reports_stale_output(reference_dir: Path, tmp_path: Path) -> None:
    args = ["--reference-dir", str(reference_dir), "--out", str(tmp_path)]
    assert script.main([*args, "--check"]) == 1
    assert script.main(args) == 0
    assert script.main([*args, "--check"]) == 0
    assert (tmp_path / "xmldsig-core-schema.xsd").read_bytes() == (
        reference_dir / "xsd" / "xmldsig-core-schema.xsd"
    ).read_bytes()


SYNTHETIC = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t"
    xmlns:o="urn:other" targetNamespace="urn:t">
  <xs:import namespace="urn:other" schemaLocation="other.xsd"/>
  <xs:import namespace="urn:unused" schemaLocation="unused.xsd"/>
  <xs:element name="Root" type="t:RootType"/>
  <xs:complexType name="RootType">
    <xs:sequence><xs:element ref="t:Head"/><xs:group ref="t:Tail"/><xs:element ref="o:X"/>
    </xs:sequence>
    <xs:attributeGroup ref="t:Attrs"/>
  </xs:complexType>
  <xs:element name="Head" type="t:Code"/>
  <xs:element name="HeadAlias" substitutionGroup="t:Head" type="t:Code"/>
  <xs:simpleType name="Code"><xs:restriction base="t:Base"/></xs:simpleType>
  <xs:simpleType name="Base"><xs:restriction base="xs:string"/></xs:simpleType>
  <xs:group name="Tail"><xs:sequence><xs:element name="tail" type="xs:int"/></xs:sequence>
  </xs:group>
  <xs:attributeGroup name="Attrs"><xs:attribute name="a" type="t:Base"/></xs:attributeGroup>
  <xs:element name="Unrelated" type="t:Other"/>
  <xs:complexType name="Other"/>
</xs:schema>"""


def test_the_closure_follows_every_kind_of_reference() -> None:
    keep, foreign = script.needed_declarations(etree.fromstring(SYNTHETIC), ["Root"])
    assert keep == {
        ("element", "Root"),
        ("type", "RootType"),
        ("element", "Head"),
        ("element", "HeadAlias"),
        ("type", "Code"),
        ("type", "Base"),
        ("group", "Tail"),
        ("attributeGroup", "Attrs"),
    }
    assert foreign == {"urn:other"}


def test_extraction_drops_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "t.xsd"
    source.write_text(SYNTHETIC)
    text = script.extract(source, ["Root"], "test").decode()
    assert "Unrelated" not in text and 'name="Other"' not in text and "urn:unused" not in text
    assert 'name="HeadAlias"' in text and "urn:other" in text


@pytest.mark.parametrize(
    "schema",
    [
        SYNTHETIC.replace('<xs:element name="Head" type="t:Code"/>', ""),
        SYNTHETIC.replace(
            '<xs:element name="Unrelated"',
            '<xs:include schemaLocation="x.xsd"/><xs:element name="Unrelated"',
        ),
    ],
    ids=["undeclared-reference", "include"],
)
def test_what_the_closure_cannot_follow_is_an_error(schema: str) -> None:
    with pytest.raises(script.SchemaExtractionError):
        script.needed_declarations(etree.fromstring(schema), ["Root"])
