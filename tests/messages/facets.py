"""Facets of the official schema for a leaf of a message, and the values where verdicts flip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

CEB = "http://www.chinaport.gov.cn/ceb"
DS = "http://www.w3.org/2000/09/xmldsig#"

FacetLookup = Callable[[etree._Element], dict[str, Any]]


def official_facets(xsd: Path) -> FacetLookup:
    """Facets (maxLength, totalDigits, ..., and ``fixed``) of a leaf, read from ``xsd``."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(xsd), allow="local")
    prefixes = {CEB: "ceb", DS: "ds"}
    cache: dict[str, dict[str, Any]] = {}

    def lookup(leaf: etree._Element) -> dict[str, Any]:
        steps = [leaf, *leaf.iterancestors()]
        if any(etree.QName(e).namespace not in prefixes for e in steps):
            return {}
        names = [etree.QName(e) for e in reversed(steps)]
        path = "/" + "/".join(f"{prefixes[str(q.namespace)]}:{q.localname}" for q in names)
        if path not in cache:
            decl: Any = schema.find(path, namespaces={v: k for k, v in prefixes.items()})
            found: dict[str, Any] = {}
            if decl is not None and decl.type.is_simple():
                found = {
                    str(k).rpartition("}")[2]: getattr(f, "value", None)
                    for k, f in decl.type.facets.items()
                    if k
                }
                if decl.fixed is not None:
                    found["fixed"] = decl.fixed
            cache[path] = found
        return cache[path]

    return lookup


def boundary_values(facets: dict[str, Any]) -> list[str]:
    """Values at and just past each facet of a leaf: the verdict flips between them."""
    values: list[str] = []
    for facet, limit in facets.items():
        if facet == "maxLength":
            values += ["X" * limit, "X" * (limit + 1)]
        elif facet == "minLength" and limit:
            values += ["X" * limit, "X" * (limit - 1)]
        elif facet == "length":
            values += ["X" * limit, "X" * (limit - 1), "X" * (limit + 1)]
        elif facet == "totalDigits":
            values += ["1" * limit, "1" * (limit + 1), "-" + "1" * limit]
        elif facet == "fractionDigits":
            values += ["1." + "1" * limit, "1." + "1" * (limit + 1), "1." + "1" * limit + "0"]
        elif facet in ("maxInclusive", "minInclusive"):
            step = 1 if facet == "maxInclusive" else -1
            values += [str(limit), str(limit + step)]
        elif facet == "fixed":
            values += [str(limit), "0" * len(str(limit)), f" {limit} "]
    return values
