"""deploy/compose.yaml, read as compose reads it: the production shape (PostgreSQL, NATS
JetStream, two servers, a relay, the migration first), each secret a variable compose
refuses to run without, and every command one the `sandan` CLI has."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from service.cli import build_parser
from service.config import Settings
from tests.deploy.dockerfile import ROOT

COMPOSE = ROOT / "deploy" / "compose.yaml"
SECRETS = ("POSTGRES_PASSWORD", "SANDAN_PII_KEY", "SANDAN_SESSION_SECRET")
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]+\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # merge keys (<<) resolved
    return loaded


def sandan_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if s.get("image") == "sandan:latest"}


def substituted(value: str, variables: dict[str, str]) -> str:
    return REQUIRED.sub(lambda m: variables[m.group(1)], value)


def test_the_services_are_the_production_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "nats", "migrate", "serve-1", "serve-2", "relay"}
    commands = {name: s["command"] for name, s in sandan_services(compose).items()}
    assert commands == {
        "migrate": ["sandan", "migrate"],
        "serve-1": ["sandan", "serve", "--host", "0.0.0.0", "--port", "8000"],
        "serve-2": ["sandan", "serve", "--host", "0.0.0.0", "--port", "8000"],
        "relay": ["sandan", "relay"],
    }
    parser = build_parser()
    for command in commands.values():
        parser.parse_args(command[1:])  # exits (fails the test) on an unknown command
    ports = [services[n]["ports"] for n in ("serve-1", "serve-2")]
    assert ports == [["8001:8000"], ["8002:8000"]]
    assert "--jetstream" in services["nats"]["command"]
    build = services["serve-1"]["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == (
        ROOT / "Dockerfile"
    )


def test_the_migration_runs_first_and_the_servers_after_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    assert "test" in services["postgres"]["healthcheck"]
    for name in ("serve-1", "serve-2", "relay"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    for name in ("migrate", "relay"):  # no HTTP server for the image's health check
        assert services[name]["healthcheck"] == {"disable": True}


def test_every_process_gets_the_database_the_broker_and_secrets_it_must_be_given(
    compose: dict[str, Any],
) -> None:
    for name, service in sandan_services(compose).items():
        env = service["environment"]
        assert env["SANDAN_ENVIRONMENT"] == "production", name
        given = {"POSTGRES_PASSWORD": "pw", "SANDAN_PII_KEY": "p" * 40}
        given["SANDAN_SESSION_SECRET"] = "s" * 40
        database = urlsplit(substituted(env["SANDAN_DATABASE_URL"], given))
        assert database.scheme == "postgresql+asyncpg" and database.hostname == "postgres"
        assert database.path == "/" + compose["services"]["postgres"]["environment"]["POSTGRES_DB"]
        assert env["SANDAN_NATS_URL"] == "nats://nats:4222"
        for variable in ("SANDAN_PII_KEY", "SANDAN_SESSION_SECRET"):
            # a required variable, never a value written here
            assert REQUIRED.fullmatch(env[variable]), (name, variable)
            assert REQUIRED.fullmatch(env[variable]).group(1) == variable  # type: ignore[union-attr]
        assert REQUIRED.findall(env["SANDAN_DATABASE_URL"]) == ["POSTGRES_PASSWORD"]

        # The environment as compose hands it over: accepted with secrets of one's own,
        # refused with the development ones.
        values = {k.removeprefix("SANDAN_").lower(): substituted(v, given) for k, v in env.items()}
        settings = Settings(**values)
        assert settings.nats_url == "nats://nats:4222" and not settings.is_sqlite
        with pytest.raises(ValidationError, match="built-in development"):
            Settings(**{**values, "pii_key": Settings().pii_key})
    password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert REQUIRED.fullmatch(password).group(1) == "POSTGRES_PASSWORD"  # type: ignore[union-attr]


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["nats"]["volumes"] == ["nats-data:/data"]
    store = services["nats"]["command"]
    assert store[store.index("--store_dir") + 1] == "/data"
    assert set(compose["volumes"]) == {"postgres-data", "nats-data"}


def test_no_secret_is_written_in_the_file() -> None:
    text = COMPOSE.read_text()
    for variable in SECRETS:
        for line in text.splitlines():
            if f"{variable}:" in line and not line.lstrip().startswith("#"):
                assert "${" + variable + ":?" in line, line
