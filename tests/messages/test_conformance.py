"""Our ``schemas/`` accept exactly what the official GACC schemas accept (SPEC §9).

Differential: every official sample of a supported message type, and a few thousand seeded
mutations of them, must get the same verdict from our schema as from the official one, both
compiled by lxml. To show the comparison has teeth, deliberately weakened copies of our schema
must each be caught by some mutant.
"""

from __future__ import annotations

from collections import Counter
from copy import deepcopy
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from service.messages.schema import SchemaChecker
from tests.messages.catalogue import catalogue
from tests.messages.conftest import REPO_ROOT
from tests.messages.facets import official_facets
from tests.messages.mutations import Mutant, mutants
from tests.messages.samples import ALL_TYPES, BROKEN_SAMPLES, SAMPLES, repaired, sample

SEED = 20240301
# ~33 per base message, as many as when there were 12 bases for 400
RANDOM_MUTANTS = 600
SIDES = ("import", "export")


@cache
def _bases(reference_dir: Path, side: str) -> list[tuple[str, etree._Element]]:
    bases = []
    for stem in SAMPLES[side]:
        root = sample(reference_dir, side, stem)
        bases.append((stem, root))
        if stem in BROKEN_SAMPLES:
            bases.append((f"{stem}-repaired", repaired(root)))
    return bases


@cache
def _random_mutants(reference_dir: Path, side: str) -> list[Mutant]:
    lookup = official_facets(reference_dir / "xsd" / f"{side}.xsd")
    return mutants(_bases(reference_dir, side), RANDOM_MUTANTS, SEED, lookup)


@cache
def _catalogue(reference_dir: Path, side: str) -> list[Mutant]:
    lookup = official_facets(reference_dir / "xsd" / f"{side}.xsd")
    return [m for name, base in _bases(reference_dir, side) for m in catalogue(name, base, lookup)]


def _disagreements(
    group: list[Mutant], judge: etree.XMLSchema, candidate: etree.XMLSchema
) -> list[str]:
    return [m.name for m in group if judge.validate(m.root) != candidate.validate(m.root)]


@pytest.mark.parametrize(("side", "stem"), [(s, stem) for s in SIDES for stem in SAMPLES[s]])
def test_official_samples_get_the_official_verdict(
    reference_dir: Path,
    official_schemas: dict[str, etree.XMLSchema],
    our_schemas: dict[str, etree.XMLSchema],
    side: str,
    stem: str,
) -> None:
    root = sample(reference_dir, side, stem)
    official = official_schemas[side].validate(root)
    assert our_schemas[side].validate(root) == official
    # Pin what the reference says, so a changed reference folder is noticed.
    assert official == (stem not in BROKEN_SAMPLES)
    if stem in BROKEN_SAMPLES:
        assert official_schemas[side].validate(repaired(root))
        assert our_schemas[side].validate(repaired(root))


@pytest.mark.parametrize("side", SIDES)
def test_random_mutants_get_the_official_verdict(
    reference_dir: Path,
    official_schemas: dict[str, etree.XMLSchema],
    our_schemas: dict[str, etree.XMLSchema],
    side: str,
) -> None:
    group = _random_mutants(reference_dir, side)
    assert len(group) >= 200
    assert _disagreements(group, official_schemas[side], our_schemas[side]) == []
    verdicts = Counter(official_schemas[side].validate(m.root) for m in group)
    assert verdicts[True] >= 50 and verdicts[False] >= 50, verdicts


@pytest.mark.parametrize("side", SIDES)
def test_catalogue_mutants_get_the_official_verdict(
    reference_dir: Path,
    official_schemas: dict[str, etree.XMLSchema],
    our_schemas: dict[str, etree.XMLSchema],
    side: str,
) -> None:
    group = _catalogue(reference_dir, side)
    assert len(group) >= 1000
    assert _disagreements(group, official_schemas[side], our_schemas[side]) == []
    verdicts = Counter(official_schemas[side].validate(m.root) for m in group)
    assert verdicts[True] >= 200 and verdicts[False] >= 200, verdicts


# (side, text in our schema, weakened replacement): each must be caught by some mutant.
WEAKENINGS = [
    (
        "import",
        '<xs:element ref="ceb:OrderList" maxOccurs="99"/>',
        '<xs:element ref="ceb:OrderList" maxOccurs="100"/>',
    ),
    ("import", '<xs:element name="currency" fixed="142">', '<xs:element name="currency">'),
    (
        "import",
        '<xs:element ref="ds:Signature"/>',
        '<xs:element ref="ds:Signature" minOccurs="0"/>',
    ),
    ("import", 'maxOccurs="5"', 'maxOccurs="6"'),
    ("import", '<xs:maxLength value="60"/>', '<xs:maxLength value="61"/>'),
    ("import", '<xs:length value="36"/>', '<xs:maxLength value="36"/>'),
    (
        "import",
        '<xs:element name="Order" maxOccurs="100">',
        '<xs:element name="Order" maxOccurs="101">',
    ),
    ("import", '<xs:fractionDigits value="5"/>', '<xs:fractionDigits value="6"/>'),
    ("import", '<xs:element name="note" minOccurs="0">', '<xs:element name="note">'),
    (
        "export",
        '<xs:element ref="ceb:OrderList" maxOccurs="100"/>',
        '<xs:element ref="ceb:OrderList" maxOccurs="101"/>',
    ),
    (
        "export",
        '<xs:element ref="ceb:BaseTransfer"/>',
        '<xs:element ref="ceb:BaseTransfer" maxOccurs="2"/>',
    ),
    ("export", '<xs:maxLength value="32"/>', '<xs:maxLength value="33"/>'),
    ("export", '<xs:totalDigits value="19"/>', '<xs:totalDigits value="20"/>'),
    # the lifecycle types (SPEC §10)
    (
        "import",
        '<xs:element ref="ceb:InvtRefundList" maxOccurs="99"/>',
        '<xs:element ref="ceb:InvtRefundList" maxOccurs="100"/>',
    ),
    (
        "import",
        '<xs:element ref="ceb:InvtCancel" maxOccurs="100">',
        '<xs:element ref="ceb:InvtCancel" maxOccurs="101">',
    ),
    (
        "export",
        '<xs:element ref="ceb:InvtRefundList" maxOccurs="100">',
        '<xs:element ref="ceb:InvtRefundList" maxOccurs="101">',
    ),
    (
        "export",
        '<xs:element ref="ceb:RefundReturn" maxOccurs="100"/>',
        '<xs:element ref="ceb:RefundReturn" maxOccurs="101"/>',
    ),
    # InvtRefundList/gnum, the only 4-digit total in the export schema
    ("export", '<xs:totalDigits value="4"/>', '<xs:totalDigits value="5"/>'),
]


@pytest.mark.parametrize(("side", "text", "weaker"), WEAKENINGS)
def test_mutants_catch_a_weakened_schema(
    reference_dir: Path,
    official_schemas: dict[str, etree.XMLSchema],
    side: str,
    text: str,
    weaker: str,
) -> None:
    path = REPO_ROOT / "schemas" / f"{side}.xsd"
    source = path.read_text(encoding="utf-8")
    assert text in source
    weak = etree.XMLSchema(
        etree.fromstring(source.replace(text, weaker).encode(), base_url=str(path))
    )
    group = _random_mutants(reference_dir, side) + _catalogue(reference_dir, side)
    judge = official_schemas[side]
    assert any(judge.validate(m.root) != weak.validate(m.root) for m in group)


@pytest.mark.parametrize("side", SIDES)
def test_checker_verdicts_match_the_official_schema(
    reference_dir: Path,
    official_schemas: dict[str, etree.XMLSchema],
    checker: SchemaChecker,
    side: str,
) -> None:
    """On every business-message mutant: the checker's verdict is the official one, and each
    document it accepts is officially valid in a message of its own."""
    judge = official_schemas[side]
    checked = 0
    for mutant in _random_mutants(reference_dir, side):
        message_type = ALL_TYPES.get(etree.QName(mutant.root).localname)
        if message_type is None:
            continue  # receipts: no documents to attribute
        checked += 1
        result = checker.check(message_type, mutant.root)
        assert result.valid == judge.validate(mutant.root), mutant.name
        for errors in result.errors.values():
            assert errors, mutant.name
            for error in errors:
                assert error.path.startswith(f"/{message_type.root}"), (mutant.name, error)
                assert error.message, mutant.name
        for index, document in enumerate(result.documents):
            if index not in result.errors:
                assert judge.validate(_alone(mutant.root, document)), (mutant.name, index)
    assert checked >= 100


def _alone(root: etree._Element, document: etree._Element) -> etree._Element:
    copy = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
    for child in root:
        if child.tag != document.tag or child is document:
            copy.append(deepcopy(child))
    return copy
