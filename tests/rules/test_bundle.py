"""BundleDocuments: which documents a bundle holds."""

from __future__ import annotations

from service.messages.registry import BUNDLE_KINDS, Kind
from service.rules.bundle import BundleDocuments
from tests.rules.factory import bundle, without


def test_empty_bundle_has_nothing() -> None:
    empty = BundleDocuments()
    assert empty.present() == frozenset()
    assert empty.documents() == ()


def test_present_kinds() -> None:
    docs = without(bundle(), "payment", "inventory")
    assert docs.present() == {Kind.ORDER, Kind.LOGISTICS}
    assert docs.get(Kind.LOGISTICS) is docs.logistics
    assert docs.get(Kind.PAYMENT) is None


def test_documents_in_kind_order() -> None:
    docs = bundle()
    assert [doc.kind for doc in docs.documents()] == list(BUNDLE_KINDS)
    assert docs.present() == frozenset(BUNDLE_KINDS)
