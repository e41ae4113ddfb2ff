"""deploy/k8s: kustomize layout, probes, resources, non-root, HPAs, wiring, schemas.

The schema check uses kubernetes-validate (PyPI: bundled Kubernetes JSON schemas, no
cluster needed); the overlay is rendered with `kubectl kustomize` when kubectl is
installed. Either test skips with the reason when its tool is missing; the structure
tests always run.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.manifests import (
    K8S_BASE,
    K8S_PRODUCTION,
    base_docs,
    k8s_name,
    known_env_names,
    kustomization,
    load_yaml_docs,
    of_kind,
    stack_processes,
)

pytestmark = pytest.mark.unit

KUBERNETES_VERSION = "1.30.0"
PROCESSES = {k8s_name(p.name): p for p in stack_processes()}
DOCS = base_docs()
DEPLOYMENTS = of_kind(DOCS, "Deployment")
SERVICES = of_kind(DOCS, "Service")
HPAS = of_kind(DOCS, "HorizontalPodAutoscaler")


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(deployment["spec"]["template"]["spec"]["containers"])


def port_names(container: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container.get("ports", [])}


def test_base_kustomization_lists_every_manifest_and_nothing_missing() -> None:
    listed = set(kustomization(K8S_BASE)["resources"])
    on_disk = {p.name for p in K8S_BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_production_overlay_references_only_files_that_exist() -> None:
    overlay = kustomization(K8S_PRODUCTION)
    local = [r for r in overlay["resources"] if not r.startswith("..")]
    patches = [p["path"] for p in overlay.get("patches", [])]
    for name in local + patches:
        assert (K8S_PRODUCTION / name).is_file(), name
    on_disk = {p.name for p in K8S_PRODUCTION.glob("*.yaml")} - {"kustomization.yaml"}
    assert on_disk == set(local + patches), "every overlay file is used"
    assert "../../base" in overlay["resources"]
    images = {i["name"] for i in overlay["images"]}
    used = {c["image"].split(":")[0] for d in DEPLOYMENTS.values() for c in containers(d)}
    assert images == used, "the overlay pins every image the base uses"


def test_every_process_of_the_stack_has_a_deployment_running_it() -> None:
    assert set(DEPLOYMENTS) == set(PROCESSES)
    for name, proc in PROCESSES.items():
        (container,) = containers(DEPLOYMENTS[name])
        assert container["args"] == list(proc.command), name
        assert container["image"] == f"mini-crm/{proc.service}:latest", name


def test_every_deployment_runs_as_non_root_with_a_read_only_root() -> None:
    for name, deployment in DEPLOYMENTS.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in containers(deployment):
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"


def test_every_container_declares_resource_requests_and_limits() -> None:
    for name, deployment in DEPLOYMENTS.items():
        for container in containers(deployment):
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[bound]), (name, bound)


def test_apis_probe_readyz_for_readiness_and_healthz_for_liveness() -> None:
    for name, proc in PROCESSES.items():
        if proc.is_worker:
            continue
        (container,) = containers(DEPLOYMENTS[name])
        ports = port_names(container)
        assert ports == {"http": proc.port}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_workers_probe_their_metrics_port_which_they_are_told_to_open() -> None:
    for name, proc in PROCESSES.items():
        if not proc.is_worker:
            continue
        (container,) = containers(DEPLOYMENTS[name])
        port = port_names(container)["metrics"]
        env = {e["name"]: e["value"] for e in container["env"]}
        metrics_vars = [k for k in env if k.endswith("METRICS_PORT")]
        assert len(metrics_vars) == 1 and env[metrics_vars[0]] == str(port), name
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] == "metrics", (name, probe)


def test_every_worker_group_has_a_cpu_autoscaler_of_at_least_two_replicas() -> None:
    workers = {n for n, p in PROCESSES.items() if p.is_worker}
    targets = {h["spec"]["scaleTargetRef"]["name"]: h for h in HPAS.values()}
    assert workers <= set(targets)
    for name in workers:
        spec = targets[name]["spec"]
        assert spec["scaleTargetRef"]["kind"] == "Deployment"
        assert 2 <= spec["minReplicas"] < spec["maxReplicas"], name
        (metric,) = spec["metrics"]
        assert metric["resource"]["name"] == "cpu", name
        assert "replicas" not in DEPLOYMENTS[name]["spec"], f"{name}: the HPA owns replicas"


def test_every_api_has_a_service_selecting_its_pods_on_its_port() -> None:
    for name, proc in PROCESSES.items():
        if proc.is_worker:
            continue
        service = SERVICES[name]
        labels = DEPLOYMENTS[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items(), name
        (port,) = service["spec"]["ports"]
        assert port["port"] == proc.port and port["targetPort"] == "http", name


def test_the_ingress_sends_everything_to_the_gateway_unbuffered() -> None:
    (ingress,) = of_kind(DOCS, "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"]["name"] == "gateway"
    assert path["backend"]["service"]["port"]["name"] == "http"
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"


def test_internal_urls_in_the_config_name_a_service_and_its_port() -> None:
    (config,) = of_kind(DOCS, "ConfigMap").values()
    urls = {k: v for k, v in config["data"].items() if str(v).startswith("http://")}
    assert len(urls) >= 6
    for key, value in urls.items():
        url = urlsplit(value)
        assert url.hostname in SERVICES, f"{key}={value}"
        assert url.port == SERVICES[url.hostname]["spec"]["ports"][0]["port"], f"{key}={value}"
    assert config["data"]["ENVIRONMENT"] == "production"
    assert config["data"]["AUTH_DEV_LOGIN"] == "false"


def test_every_variable_in_config_and_secret_is_read_by_some_service() -> None:
    names: set[str] = set(of_kind(DOCS, "ConfigMap")["crm-config"]["data"])
    names |= set(of_kind(DOCS, "Secret")["crm-secrets"]["stringData"])
    for patch in load_yaml_docs(K8S_PRODUCTION / "config-production.yaml"):
        names |= set(patch["data"])
    unknown = sorted(n for n in names if n.upper() not in known_env_names())
    assert not unknown, f"variables no settings class reads (typo?): {unknown}"


def test_the_secret_holds_placeholders_only() -> None:
    secret = of_kind(DOCS, "Secret")["crm-secrets"]["stringData"]
    for key in ("INTERNAL_TOKEN", "GATEWAY_SESSION_SECRET", "VENDOR_WEBHOOK_SECRET"):
        assert secret[key] == "REPLACE_ME", key
    for key, value in secret.items():
        assert value in ("", "REPLACE_ME") or "@" not in value, f"{key} carries credentials"


def _validate(docs: list[dict[str, Any]]) -> list[str]:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed (pip install it)"
    )
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    return errors


def test_base_manifests_match_the_kubernetes_schemas() -> None:
    assert not _validate(DOCS)


def test_overlay_patches_match_the_kubernetes_schemas() -> None:
    docs = [
        d
        for f in K8S_PRODUCTION.glob("*.yaml")
        if f.name != "kustomization.yaml"
        for d in load_yaml_docs(f)
    ]
    assert not _validate(docs)


def test_schema_check_rejects_a_broken_deployment() -> None:
    broken = yaml.safe_load(yaml.safe_dump(DEPLOYMENTS["gateway"]))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["prot"] = 1
    assert _validate([broken])


def _kustomize(folder: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the overlay is not rendered")
    result = subprocess.run(
        [kubectl, "kustomize", folder], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_production_overlay_renders_into_a_namespace_with_pinned_images() -> None:
    docs = _kustomize(str(K8S_PRODUCTION))
    assert not _validate(docs)
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"mini-crm"}
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == set(PROCESSES)
    for name, deployment in deployments.items():
        for container in containers(deployment):
            assert not container["image"].endswith(":latest"), name
    (ingress,) = of_kind(docs, "Ingress").values()
    assert ingress["spec"]["tls"], "production serves TLS"
    secret_names = set(of_kind(docs, "Secret"))
    assert secret_names == {"crm-secrets"}


# -- the redis-cluster overlay: production plus a six-node Redis Cluster ------------
K8S_REDIS_CLUSTER = K8S_PRODUCTION.parent / "redis-cluster"


def test_redis_cluster_overlay_references_only_files_that_exist_and_uses_them_all() -> None:
    overlay = kustomization(K8S_REDIS_CLUSTER)
    local = [r for r in overlay["resources"] if not r.startswith("..")]
    patches = [p["path"] for p in overlay.get("patches", [])]
    for name in local + patches:
        assert (K8S_REDIS_CLUSTER / name).is_file(), name
    on_disk = {p.name for p in K8S_REDIS_CLUSTER.glob("*.yaml")} - {"kustomization.yaml"}
    assert on_disk == set(local + patches), "every overlay file is used"
    assert "../production" in overlay["resources"]


def test_redis_cluster_overlay_files_match_the_kubernetes_schemas() -> None:
    docs = [
        d
        for f in K8S_REDIS_CLUSTER.glob("*.yaml")
        if f.name != "kustomization.yaml"
        for d in load_yaml_docs(f)
    ]
    assert not _validate(docs)


def test_redis_cluster_overlay_runs_six_cluster_nodes_and_joins_them_with_replicas() -> None:
    docs = load_yaml_docs(K8S_REDIS_CLUSTER / "redis-cluster.yaml")
    (sts,) = of_kind(docs, "StatefulSet").values()
    assert sts["spec"]["replicas"] == 6
    conf = of_kind(docs, "ConfigMap")["redis-cluster"]["data"]["redis.conf"]
    assert "cluster-enabled yes" in conf and "appendonly yes" in conf
    service = of_kind(docs, "Service")[sts["spec"]["serviceName"]]
    assert service["spec"]["clusterIP"] == "None", "headless: one DNS name per pod"
    assert {p["port"] for p in service["spec"]["ports"]} == {6379, 16379}
    pod = sts["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "/data" in {m["mountPath"] for m in container["volumeMounts"]}
    (job,) = of_kind(
        load_yaml_docs(K8S_REDIS_CLUSTER / "redis-cluster-create.yaml"), "Job"
    ).values()
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "--cluster create" in script and "--cluster-replicas 1" in script
    assert "for i in 0 1 2 3 4 5" in script, "waits for all six nodes"


def test_redis_cluster_overlay_points_every_service_at_the_cluster_with_partitions() -> None:
    (secret,) = load_yaml_docs(K8S_REDIS_CLUSTER / "secret-cluster.yaml")
    url = secret["stringData"]["REDIS_URL"]
    assert url.startswith("redis+cluster://")
    seeds = urlsplit(url).netloc.split(",")
    assert seeds == [f"redis-cluster-{i}.redis-cluster:6379" for i in range(3)]
    (config,) = load_yaml_docs(K8S_REDIS_CLUSTER / "config-cluster.yaml")
    assert int(config["data"]["STREAM_PARTITIONS"]) > 1
    names = set(config["data"]) | set(secret["stringData"])
    assert {n.upper() for n in names} <= known_env_names()


def test_redis_cluster_overlay_renders_with_the_cluster_in_the_namespace() -> None:
    docs = _kustomize(str(K8S_REDIS_CLUSTER))
    assert not _validate(docs)
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"mini-crm"}
    assert set(of_kind(docs, "Deployment")) == set(PROCESSES)
    assert "redis-cluster" in of_kind(docs, "StatefulSet")
    secret = of_kind(docs, "Secret")["crm-secrets"]["stringData"]
    assert secret["REDIS_URL"].startswith("redis+cluster://redis-cluster-0.")
    assert secret["INTERNAL_TOKEN"] == "REPLACE_ME", "the other secrets stay as they were"
    config = of_kind(docs, "ConfigMap")["crm-config"]["data"]
    assert config["STREAM_PARTITIONS"] == "4" and config["ENVIRONMENT"] == "production"
