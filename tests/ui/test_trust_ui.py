"""The trust pages in a real browser: an admin signs in, registers a certificate through the
form, sees it listed as active, revokes it with the row's button (confirming the dialog), and
the revocation is in the audit log under their name."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import KEYS, Deployment
from tests.security.certs import certificate_pem
from tests.ui.conftest import deployed_aside, sync_api

Page = sync_api.Page
CODE = "3301960301"


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    keys = {**KEYS, "admin": (["2924"], ["admin"])}
    with deployed_aside(tmp_path_factory.mktemp("trust-ui"), keys) as deployment:
        yield deployment


def test_an_admin_registers_and_revokes_a_certificate(trusted: Deployment, page: Page) -> None:
    d = trusted
    page.goto(d.server.url + "/review/certificates")
    page.wait_for_url(re.compile(r"/review/login$"))
    page.fill("input[name=key]", d.keys["admin"])
    page.click("form[action='/review/login'] button[type=submit]")
    # An admin without the operator role starts on the certificates, sees no queue links.
    page.wait_for_url(re.compile(r"/review/certificates$"))
    assert page.locator("#nav-keys").count() == 1
    assert page.locator("header a[href='/review/dashboard']").count() == 0

    form = page.locator("#add-certificate")
    form.locator("input[name=code]").fill(CODE)
    form.locator("input[name=name]").fill("浏览器登记")
    form.locator("textarea[name=pem]").fill(certificate_pem(0x0A0B, name="UI Sender").decode())
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/review/certificates\?added=0a0b$"))
    row = page.locator(f"#certificates tr[data-serial='0a0b'][data-code='{CODE}']")
    assert "浏览器登记" in row.inner_text() and "CN=UI Sender" in row.inner_text()
    assert row.locator(".state").get_attribute("data-state") == "active"

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.revoke").click()
    page.wait_for_url(re.compile(r"/review/certificates\?revoked=0a0b$"))
    row = page.locator(f"#certificates tr[data-serial='0a0b'][data-code='{CODE}']")
    assert row.locator(".state").get_attribute("data-state") == "revoked"
    assert row.locator("button.revoke").count() == 0
    [listed] = d.client.get(
        "/v1/admin/certificates", params={"code": CODE}, headers=d.headers("admin")
    ).json()["certificates"]
    assert listed["revokedAt"] is not None

    page.click("#nav-audit")
    page.wait_for_url(re.compile(r"/review/audit$"))
    assert page.locator("#chain").get_attribute("data-ok") == "true"
    newest = page.locator("#audit-log tbody tr").first.inner_text()
    assert "certificate.revoke" in newest and "admin" in newest
