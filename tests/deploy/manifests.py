"""Loaders shared by the deployment tests: the compose file, the k8s manifests, the
process table of scripts/stack.py and the environment variables the settings read."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from scripts.stack import DEFAULT_PORTS, StackLayout

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S_BASE = ROOT / "deploy" / "k8s" / "base"
K8S_PRODUCTION = ROOT / "deploy" / "k8s" / "overlays" / "production"
SERVICES = tuple(DEFAULT_PORTS)

# Read by the image itself (deploy/docker-entrypoint.sh, deploy/healthcheck.py), not by
# a settings class.
IMAGE_ENV = frozenset(
    {"SERVICE", "PORT", "HOST", "HEALTHCHECK_URL", "FORWARDED_ALLOW_IPS", "GRACEFUL_SHUTDOWN_S"}
)


@dataclass(frozen=True)
class StackProcess:
    """One process of scripts/stack.py, as a container would run it."""

    name: str  # compose service / k8s Deployment name
    service: str  # services.<service>: which image runs it
    command: tuple[str, ...]  # the image's command: ("api",) or ("worker", *args)
    port: int | None

    @property
    def is_worker(self) -> bool:
        return self.command[0] == "worker"


def stack_processes() -> list[StackProcess]:
    out: list[StackProcess] = []
    for proc in StackLayout(replicas=1).processes():
        argv = list(proc.argv)
        if proc.port is not None:
            factory = argv[argv.index("--factory") + 1]  # services.<svc>.app:create_app
            service = factory.split(".")[1]
            out.append(StackProcess(service, service, ("api",), proc.port))
        else:
            module = argv[argv.index("-m") + 1]  # services.<svc>.worker
            args = tuple(argv[argv.index("-m") + 2 :])
            out.append(StackProcess(proc.name, module.split(".")[1], ("worker", *args), None))
    return out


def k8s_name(name: str) -> str:
    """Kubernetes names allow no underscore: vendor_sim -> vendor-sim."""
    return name.replace("_", "-")


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    assert isinstance(services, dict)
    return services


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(folder: Path) -> dict[str, Any]:
    data = yaml.safe_load((folder / "kustomization.yaml").read_text())
    assert isinstance(data, dict)
    return data


def base_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for resource in kustomization(K8S_BASE)["resources"]:
        docs.extend(load_yaml_docs(K8S_BASE / resource))
    return docs


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _env_names_of(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        if isinstance(field.validation_alias, AliasChoices):
            names.update(str(c).upper() for c in field.validation_alias.choices)
        elif isinstance(field.validation_alias, str):
            names.add(field.validation_alias.upper())
        elif field.alias:
            names.add(field.alias.upper())
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


@cache
def settings_classes() -> dict[str, type[BaseSettings]]:
    """The settings class of every service, by service name."""
    found: dict[str, type[BaseSettings]] = {}
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.settings")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseSettings) and obj.__module__ == module.__name__:
                found[service] = obj
    return found


@cache
def known_env_names() -> frozenset[str]:
    """Every environment variable some service's settings read, plus the image's own."""
    names: set[str] = set(IMAGE_ENV)
    for cls in settings_classes().values():
        names |= _env_names_of(cls)
    return frozenset(names)
