"""Fixtures of the codec tests: the official GACC reference folder and compiled schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from service.config import Settings
from service.messages.schema import SchemaChecker

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tag every test that reads the reference folder, so ``-m "not reference"`` selects the
    ones that run anywhere."""
    for item in items:
        if "reference_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.reference)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The official GACC 2022-05 folder (xsd/, samples/); tests needing it skip without it."""
    configured = Settings().reference_dir
    path = configured if configured.is_absolute() else REPO_ROOT / configured
    path = path.resolve()
    if not (path / "xsd" / "import.xsd").is_file():
        pytest.skip(f"official GACC reference folder not found at {path}: set SANDAN_REFERENCE_DIR")
    return path


@pytest.fixture(scope="session")
def official_schemas(reference_dir: Path) -> dict[str, etree.XMLSchema]:
    """The official import and export schemas, compiled by lxml (the judge of validity)."""
    return {
        side: etree.XMLSchema(etree.parse(str(reference_dir / "xsd" / f"{side}.xsd")))
        for side in ("import", "export")
    }


@pytest.fixture(scope="session")
def our_schemas() -> dict[str, etree.XMLSchema]:
    return {
        side: etree.XMLSchema(etree.parse(str(REPO_ROOT / "schemas" / f"{side}.xsd")))
        for side in ("import", "export")
    }


@pytest.fixture(scope="session")
def checker() -> SchemaChecker:
    return SchemaChecker()
