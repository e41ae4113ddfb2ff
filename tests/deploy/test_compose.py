"""docker-compose.yml: structure, wiring, safety, and `docker compose config` when the
docker CLI with its compose plugin is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.manifests import (
    COMPOSE_FILE,
    ROOT,
    SERVICES,
    compose,
    compose_services,
    known_env_names,
    settings_classes,
    stack_processes,
)

pytestmark = pytest.mark.unit

DATASTORES = {"mongo", "redis"}
APP_PROCESSES = {p.name: p for p in stack_processes()}
SECRETS_FROM_ENV = ("INTERNAL_TOKEN", "GATEWAY_SESSION_SECRET", "VENDOR_WEBHOOK_SECRET")


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping (KEY: value)"
    return {str(k): str(v) for k, v in env.items()}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def test_every_process_of_the_stack_runs_as_its_own_container() -> None:
    services = compose_services()
    missing = sorted(set(APP_PROCESSES) - set(services))
    assert not missing, f"processes of scripts/stack.py without a compose service: {missing}"
    for name, proc in APP_PROCESSES.items():
        service = services[name]
        assert command_of(service) == list(proc.command), name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert service["build"]["args"]["SERVICE"] == proc.service, name
        assert f"/{proc.service}:" in service["image"], f"{name} runs the {proc.service} image"


def test_compose_runs_nothing_but_the_stack_the_datastores_and_nginx() -> None:
    extra = set(compose_services()) - set(APP_PROCESSES) - DATASTORES - {"nginx"}
    assert not extra, f"unexpected compose services: {sorted(extra)}"


def test_only_nginx_publishes_ports() -> None:
    publishing = sorted(name for name, s in compose_services().items() if s.get("ports"))
    assert publishing == ["nginx"]
    published = [str(p).rsplit(":", 1)[-1] for p in compose_services()["nginx"]["ports"]]
    assert sorted(published) == ["443", "80"]


def test_every_container_has_a_health_check() -> None:
    for name, service in compose_services().items():
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name


def test_worker_health_checks_ask_their_own_metrics_port() -> None:
    for name, proc in APP_PROCESSES.items():
        if not proc.is_worker:
            continue
        env = env_of(compose_services()[name])
        ports = {k: v for k, v in env.items() if k.endswith("METRICS_PORT")}
        assert len(ports) == 1, f"{name} sets exactly one metrics port variable: {ports}"
        port = next(iter(ports.values()))
        assert env["HEALTHCHECK_URL"] == f"http://127.0.0.1:{port}/metrics", name


def test_workers_run_at_least_two_replicas() -> None:
    for name, proc in APP_PROCESSES.items():
        if proc.is_worker:
            assert compose_services()[name]["deploy"]["replicas"] >= 2, name


def test_every_dependency_waits_for_a_healthy_container() -> None:
    services = compose_services()
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must use conditions"
        for target, rule in depends.items():
            assert rule == {"condition": "service_healthy"}, f"{name} -> {target}"
            assert services[target].get("healthcheck"), f"{name} waits on {target}"
    for name, proc in APP_PROCESSES.items():
        if proc.service != "vendor_sim":
            assert set(services[name]["depends_on"]) >= DATASTORES, name
    assert set(services["nginx"]["depends_on"]) == {"gateway"}


def test_mongo_is_a_replica_set_of_one_initiated_by_its_health_check() -> None:
    mongo = compose_services()["mongo"]
    assert mongo["image"].startswith("mongo:7")
    command = command_of(mongo)
    assert command[command.index("--replSet") + 1] == "rs0"
    probe = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in probe and "mongo:27017" in probe and "isWritablePrimary" in probe
    uri = compose()["x-common-env"]["MONGODB_URI"]
    assert "mongo:27017" in uri and "replicaSet=rs0" in uri


def test_redis_persists_with_an_append_only_file_and_never_evicts() -> None:
    redis = compose_services()["redis"]
    assert redis["image"].startswith("redis:7")
    command = command_of(redis)
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(v.endswith(":/data") for v in redis["volumes"]), "AOF must live on a volume"


def test_dev_login_is_never_enabled_and_the_gateway_forces_it_off() -> None:
    truthy = {"1", "true", "yes", "on"}
    for name, service in compose_services().items():
        value = env_of(service).get("AUTH_DEV_LOGIN", "false")
        assert value.lower() not in truthy, name
    # environment beats env_file: a .env with AUTH_DEV_LOGIN=true changes nothing
    assert env_of(compose_services()["gateway"])["AUTH_DEV_LOGIN"] == "false"
    assert "AUTH_DEV_LOGIN=true" not in COMPOSE_FILE.read_text().replace(" ", "")


def test_app_containers_run_in_production_with_required_secrets() -> None:
    for name in APP_PROCESSES:
        service = compose_services()[name]
        env = env_of(service)
        assert env["ENVIRONMENT"] == "production", name
        assert service["env_file"] == ".env", name
        for secret in ("INTERNAL_TOKEN", "VENDOR_WEBHOOK_SECRET"):
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), (name, secret)
    session = env_of(compose_services()["gateway"])["GATEWAY_SESSION_SECRET"]
    assert re.fullmatch(r"\$\{GATEWAY_SESSION_SECRET:\?[^}]+\}", session)


def test_app_containers_are_hardened() -> None:
    for name in APP_PROCESSES:
        service = compose_services()[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_internal_urls_name_a_compose_service_and_its_port() -> None:
    services = compose_services()
    ports = {p.name: p.port for p in APP_PROCESSES.values() if p.port}
    seen = 0
    for name in APP_PROCESSES:
        for key, value in env_of(services[name]).items():
            if not value.startswith("http://") or key == "HEALTHCHECK_URL":
                continue
            url = urlsplit(value)
            assert url.hostname in ports, f"{name}: {key}={value} names no API container"
            assert url.port == ports[url.hostname], f"{name}: {key}={value}"
            seen += 1
    gateway_env = env_of(services["gateway"])
    for upstream in ("INGEST", "CAMPAIGN", "DELIVERY", "AI"):
        assert f"GATEWAY_{upstream}_URL" in gateway_env
    for name in ("delivery", "send-worker"):
        env = env_of(services[name])
        assert env["DELIVERY_VENDOR_URL"] == "http://vendor_sim:8004"
        assert env["DELIVERY_RECEIPT_CALLBACK_URL"] == (
            "http://gateway:8000/api/deliveries/receipts"
        )
    assert seen >= 8


def test_every_variable_compose_sets_is_read_by_some_service() -> None:
    unknown = {
        (name, key)
        for name in APP_PROCESSES
        for key in env_of(compose_services()[name])
        if key.upper() not in known_env_names()
    }
    assert not unknown, f"variables no settings class reads (typo?): {sorted(unknown)}"


def test_service_settings_accept_the_compose_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each service's settings validate in production with compose's env and real secrets."""
    for name, proc in APP_PROCESSES.items():
        env = env_of(compose_services()[name])
        for key, value in env.items():
            resolved = f"{key.lower()}-from-dotenv" if value.startswith("${") else value
            monkeypatch.setenv(key, resolved)
        settings = settings_classes()[proc.service](_env_file=None)  # type: ignore[call-arg]
        assert settings.environment == "production", name
        assert settings.internal_token == "internal_token-from-dotenv", name
        for key in env:
            monkeypatch.delenv(key)


def test_nginx_mounts_its_config_files_from_the_repository() -> None:
    nginx = compose_services()["nginx"]
    mounts = [v.split(":") for v in nginx["volumes"]]
    targets = {target for _, target, *_ in mounts}
    assert {"/etc/nginx/nginx.conf", "/etc/nginx/crm-locations.conf"} <= targets
    for source, _, *mode in mounts:
        assert (ROOT / source).is_file(), source
        assert mode == ["ro"], source
    config = (ROOT / "deploy/nginx/nginx.conf").read_text()
    assert "include /etc/nginx/crm-locations.conf;" in config


def _compose_cli() -> tuple[bool, str]:
    if shutil.which("docker") is None:
        return False, "the docker CLI is not installed"
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`docker compose version` did not answer: {exc}"
    if probe.returncode != 0:
        reason = (probe.stderr or probe.stdout).strip().splitlines()[:1]
        return False, f"the docker compose plugin is not available: {' '.join(reason)}"
    return True, ""


def _project_copy(tmp_path: Path, dotenv: str) -> Path:
    """The compose file with what it references, plus a .env, in a scratch directory."""
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / ".env").write_text(dotenv)
    return tmp_path / "docker-compose.yml"


def _docker_compose_config(compose_file: Path) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if k not in SECRETS_FROM_ENV}
    return subprocess.run(
        ["docker", "compose", "-f", str(compose_file), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env,
    )


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    available, reason = _compose_cli()
    if not available:
        pytest.skip(reason)
    dotenv = "".join(f"{name}=test-{name.lower()}\n" for name in SECRETS_FROM_ENV)
    result = _docker_compose_config(_project_copy(tmp_path, dotenv))
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_run_without_the_internal_token(tmp_path: Path) -> None:
    available, reason = _compose_cli()
    if not available:
        pytest.skip(reason)
    dotenv = "".join(
        f"{name}=test-{name.lower()}\n" for name in SECRETS_FROM_ENV if name != "INTERNAL_TOKEN"
    )
    result = _docker_compose_config(_project_copy(tmp_path, dotenv))
    assert result.returncode != 0
    assert "INTERNAL_TOKEN" in result.stderr


def test_every_service_has_an_image_per_service_name() -> None:
    images = {s["build"]["args"]["SERVICE"] for s in compose_services().values() if "build" in s}
    assert images == set(SERVICES)


# ---- `cp .env.example .env` then compose: env_file values under compose's environment ----


def dotenv_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = re.sub(r"\s+#.*$", "", value).strip()
    return values


def settings_with(monkeypatch: pytest.MonkeyPatch, name: str, dotenv: dict[str, str]) -> object:
    """The settings one container would build: env_file first, compose environment over it."""
    env = dict(dotenv)
    for key, value in env_of(compose_services()[name]).items():
        env[key] = dotenv.get(key, f"set-{key.lower()}") if value.startswith("${") else value
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings_classes()[APP_PROCESSES[name].service](_env_file=None)  # type: ignore[call-arg]


@pytest.mark.skipif(not (ROOT / ".env.example").is_file(), reason="no .env.example")
@pytest.mark.parametrize(
    "name",
    list(APP_PROCESSES),
)
def test_env_example_with_real_secrets_configures_every_container(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    dotenv = dotenv_example()
    for secret in SECRETS_FROM_ENV:
        dotenv[secret] = f"real-{secret.lower()}"
    dotenv["GATEWAY_ALLOWED_EMAIL_DOMAINS"] = "example.com"  # who may sign in
    settings = settings_with(monkeypatch, name, dotenv)
    assert settings.environment == "production"  # type: ignore[attr-defined]
    assert settings.redis_url == "redis://redis:6379/0"  # type: ignore[attr-defined]


@pytest.mark.skipif(not (ROOT / ".env.example").is_file(), reason="no .env.example")
def test_the_gateway_container_refuses_to_start_without_a_sign_in_allowlist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dotenv = dotenv_example()
    for secret in SECRETS_FROM_ENV:
        dotenv[secret] = f"real-{secret.lower()}"
    with pytest.raises(ValueError, match="GATEWAY_ALLOWED_EMAIL_DOMAINS"):
        settings_with(monkeypatch, "gateway", dotenv)


@pytest.mark.skipif(not (ROOT / ".env.example").is_file(), reason="no .env.example")
def test_env_example_left_unchanged_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Copying .env.example without setting secrets must not yield a running system."""
    dotenv = dotenv_example()
    assert dotenv.get("INTERNAL_TOKEN"), ".env.example names INTERNAL_TOKEN"
    with pytest.raises(ValueError, match="INTERNAL_TOKEN"):
        settings_with(monkeypatch, "ingest", dotenv)
