"""deploy/k8s/: rendered like ``kubectl kustomize`` (tests/deploy/k8s_render.py), validated
against the Kubernetes API schemas kubernetes-validate ships, then checked for what a schema
cannot see (docs/ARCHITECTURE.md §14)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from contracts.keys import ALL_QUEUES
from jobs.worker_settings import stop_grace_seconds
from tests.deploy.k8s_render import RenderError, render
from tests.deploy.service_env import DIRECTORIES, role, settings_problems

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"  # the oldest version the manifests must run on
SECRET_EXAMPLE = K8S / "base" / "secret.example.yaml"
ADAPTER_RULES = K8S / "adapter" / "prometheus-adapter-rules.yaml"
WORKLOADS = ("Deployment", "StatefulSet", "Job")
IMAGE_UID = {"prosaas/python": 10001, "prosaas/baileys": 1000}
PORTS = {"api": 5000, "calls": 5050, "baileys": 3300}
HTTP_PROBES = {  # role: (readiness path, liveness path)
    # not /readyz: 503 while the database is ahead of the code, i.e. during every migrating rollout
    "api": ("/api/health", "/api/health"),
    "calls": ("/health", None),
    "baileys": ("/health", "/health"),
}
RENDERS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}


def rendered(name: str) -> list[dict[str, Any]]:
    return render(RENDERS[name])


def secret() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(SECRET_EXAMPLE.read_text())
    return doc


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def container_env(container: dict[str, Any], docs: list[dict[str, Any]], sec: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The environment a container gets, and the references that resolve to nothing."""
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    secrets = {sec["metadata"]["name"]: sec.get("stringData", {})}
    env: dict[str, str] = {}
    missing: list[str] = []
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref, pool = source["configMapRef"]["name"], configmaps
        else:
            ref, pool = source["secretRef"]["name"], secrets
        if ref not in pool:
            missing.append(f"envFrom {ref} does not exist")
        env.update({k: str(v) for k, v in pool.get(ref, {}).items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        (kind, ref), = item["valueFrom"].items()
        pool = configmaps if kind == "configMapKeyRef" else secrets
        value = pool.get(ref["name"], {}).get(ref["key"])
        if value is None:
            missing.append(f"{item['name']} from {ref['name']}.{ref['key']} does not exist")
        else:
            env[item["name"]] = str(value)
    return env, missing


def probe_port(probe: dict[str, Any]) -> Any:
    for kind in ("httpGet", "tcpSocket", "grpc"):
        if kind in probe:
            return probe[kind]["port"]
    return None


def k8s_problems(docs: list[dict[str, Any]], sec: dict[str, Any]) -> list[str]:
    """Everything wrong with a render that the API schemas do not catch."""
    out: list[str] = []
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    envs: dict[str, dict[str, str]] = {}
    for doc in workloads:
        name, spec = doc["metadata"]["name"], pod_spec(doc)
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            where = f"{name}/{container['name']}"
            env, missing = container_env(container, docs, sec)
            out += [f"{where}: {m}" for m in missing]
            kind = role(container.get("command", []))
            if kind is None:
                out.append(f"{where}: command {container.get('command')} is no ProSaaS service")
                continue
            if container["command"][-1] == "--check":
                continue  # the init container's wait for migrations
            envs[name] = env
            out += settings_problems(where, kind, env)
            mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
            for var in DIRECTORIES[kind]:
                if env.get(var) and not any(env[var] == m or env[var].startswith(m + "/") for m in mounts):
                    out.append(f"{where}: {var}={env[var]} is not on a volume")
            image = container["image"].rsplit(":", 1)[0]
            uid = next((u for i, u in IMAGE_UID.items() if image.endswith(i)), None)
            context = spec.get("securityContext", {})
            if not context.get("runAsNonRoot") or context.get("runAsUser") != uid:
                out.append(f"{where}: must run as non-root uid {uid}, the image's user")
            ports = {p["containerPort"] for p in container.get("ports", [])}
            if kind in PORTS:
                setting = {"api": "API_PORT", "calls": "CALLS_PORT", "baileys": "BAILEYS_PORT"}[kind]
                if int(env.get(setting, PORTS[kind])) != PORTS[kind] or ports != {PORTS[kind]}:
                    out.append(f"{where}: listens on {env.get(setting, PORTS[kind])}, exposes {sorted(ports)}, expected {PORTS[kind]}")
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(probe_name)
                port = probe_port(probe) if probe else None
                if port is not None and port not in ports:
                    out.append(f"{where}: {probe_name} on port {port}, not a container port {sorted(ports)}")
            if kind in HTTP_PROBES:
                ready, live = HTTP_PROBES[kind]
                if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != ready:
                    out.append(f"{where}: readiness must follow GET {ready}")
                if live and container.get("livenessProbe", {}).get("httpGet", {}).get("path") != live:
                    out.append(f"{where}: liveness must follow GET {live}")
            grace = spec.get("terminationGracePeriodSeconds", 30)
            if kind == "calls":
                pre = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
                pre_stop = int(pre[1]) if pre[:1] == ["sleep"] else 0
                if grace <= pre_stop + float(env["DRAIN_TIMEOUT_SECONDS"]):
                    out.append(f"{where}: terminationGracePeriodSeconds {grace} <= preStop {pre_stop} + DRAIN_TIMEOUT_SECONDS {env['DRAIN_TIMEOUT_SECONDS']}")
            if kind == "worker" and grace < stop_grace_seconds():
                out.append(f"{where}: terminationGracePeriodSeconds {grace} < the longest job + backstop ({stop_grace_seconds()})")
            if kind == "baileys" and grace <= int(env.get("WA_DRAIN_SECONDS", "10")):
                out.append(f"{where}: terminationGracePeriodSeconds {grace} <= WA_DRAIN_SECONDS")
            if kind in ("api", "calls", "worker", "scheduler"):
                waits = [c for c in spec.get("initContainers", []) if c.get("command") == ["python", "-m", "api.migrate", "--check"]]
                if not waits:
                    out.append(f"{where}: does not wait for the migrations (init container api.migrate --check)")
    labels = {d["metadata"]["name"]: d["spec"]["template"]["metadata"].get("labels", {}) for d in workloads}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}

    def selected(selector: dict[str, str]) -> list[str]:
        return [n for n, lab in labels.items() if selector and all(lab.get(k) == v for k, v in selector.items())]

    for name, svc in services.items():
        targets = selected(svc["spec"]["selector"])
        if not targets:
            out.append(f"Service {name}: selects no workload")
        for target in targets:
            doc = next(d for d in workloads if d["metadata"]["name"] == target)
            ports = {p["containerPort"] for c in pod_spec(doc)["containers"] for p in c.get("ports", [])}
            for port in svc["spec"]["ports"]:
                if port["targetPort"] not in ports:
                    out.append(f"Service {name}: targetPort {port['targetPort']} is not a port of {target}")
                if svc["spec"].get("clusterIP") == "None" and port["port"] != port["targetPort"]:
                    out.append(f"Service {name}: headless, so port {port['port']} must be the targetPort")
    for name, env in envs.items():
        urls = {k: v for k, v in env.items() if k == "API_URL" or re.fullmatch(r"BAILEYS_SHARD_\d+_URL", k)}
        for var, url in urls.items():
            parts = urlsplit(url)
            svc = services.get(parts.hostname or "")
            if svc is None:
                out.append(f"{name}: {var} names {parts.hostname}, which is no Service")
                continue
            if parts.port not in {p["port"] for p in svc["spec"]["ports"]}:
                out.append(f"{name}: {var} port {parts.port} is not a port of Service {parts.hostname}")
            shard = re.fullmatch(r"BAILEYS_SHARD_(\d+)_URL", var)
            if shard:
                ids = {envs.get(t, {}).get("BAILEYS_SHARD_ID") for t in selected(svc["spec"]["selector"])}
                if ids != {shard[1]}:
                    out.append(f"{name}: {var} reaches shard(s) {ids}, not {shard[1]}")
        if "BAILEYS_NUM_SHARDS" in env and name.startswith("prosaas-"):
            for n in range(1, int(env["BAILEYS_NUM_SHARDS"]) + 1):
                if f"BAILEYS_SHARD_{n}_URL" not in env:
                    out.append(f"{name}: BAILEYS_SHARD_{n}_URL is not set (the default is a compose name)")
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] == "StatefulSet":
            mounts = {m["mountPath"]: m["name"] for c in pod_spec(doc)["containers"] for m in c.get("volumeMounts", [])}
            claims = {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])}
            if doc["spec"].get("replicas") != 1:
                out.append(f"StatefulSet {name}: one gateway process per auth-state volume: replicas must be 1")
            if mounts.get(envs.get(name, {}).get("BAILEYS_DATA_DIR", "")) not in claims:
                out.append(f"StatefulSet {name}: BAILEYS_DATA_DIR is not on its volumeClaimTemplate")
        if doc["kind"] == "PodDisruptionBudget" and not selected(doc["spec"]["selector"]["matchLabels"]):
            out.append(f"PodDisruptionBudget {name}: selects no workload")
        if doc["kind"] in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = doc["spec"]["scaleTargetRef"]["name"]
            scaled = [d for d in workloads if d["metadata"]["name"] == target]
            if any("replicas" in d["spec"] for d in scaled):
                out.append(f"{doc['kind']} {name}: {target} sets replicas, which every apply would reset")
        if doc["kind"] == "HorizontalPodAutoscaler":
            if doc["spec"]["scaleTargetRef"]["name"] not in labels:
                out.append(f"HorizontalPodAutoscaler {name}: scales nothing")
            adapter = yaml.safe_load(ADAPTER_RULES.read_text())
            served = {rule["name"]["as"] for rule in adapter["external"]}
            for metric in doc["spec"]["metrics"]:
                if metric["type"] == "External" and metric["external"]["metric"]["name"] not in served:
                    out.append(f"HorizontalPodAutoscaler {name}: no adapter rule serves {metric['external']['metric']['name']}")
        if doc["kind"] == "ScaledObject":
            target = doc["spec"]["scaleTargetRef"]["name"]
            env = envs.get(target)
            if env is None:
                out.append(f"ScaledObject {name}: scales {target}, which does not exist")
                continue
            redis = urlsplit(env["REDIS_URL"])
            listened = set(env.get("RQ_QUEUES", ",".join(ALL_QUEUES)).split(","))
            for trigger in doc["spec"]["triggers"]:
                meta = trigger["metadata"]
                queue = meta["listName"].removeprefix("rq:queue:")
                if trigger["type"] != "redis" or queue not in listened:
                    out.append(f"ScaledObject {name}: {meta['listName']} is not a queue {target} takes")
                address = env.get(meta.get("addressFromEnv", ""), meta.get("address"))
                if address != f"{redis.hostname}:{redis.port or 6379}":
                    out.append(f"ScaledObject {name}: address {address} is not REDIS_URL's {redis.hostname}:{redis.port}")
                if meta.get("databaseIndex", "0") != (redis.path.strip("/") or "0"):
                    out.append(f"ScaledObject {name}: databaseIndex {meta.get('databaseIndex')} is not REDIS_URL's")
    return out


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_manifests_match_the_kubernetes_api_schemas(name: str) -> None:
    errors = []
    for doc in rendered(name) + [secret()]:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: kubernetes-validate has no schema for it; k8s_problems checks it
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']} {doc['metadata']['name']}: {exc.message}")
    assert errors == []


def test_schema_validation_fails_on_a_broken_manifest() -> None:
    doc = copy.deepcopy(named(rendered("production"), "Deployment", "prosaas-calls"))
    doc["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "long"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_manifests_have_no_semantic_problem(name: str) -> None:
    assert k8s_problems(rendered(name), secret()) == []


def test_production_overlay_sets_namespace_images_replicas_and_address() -> None:
    docs = rendered("production")
    assert {d["metadata"].get("namespace") for d in docs} == {"prosaas"}
    calls = named(docs, "Deployment", "prosaas-calls")
    assert "replicas" not in calls["spec"]  # the HPA's
    assert named(docs, "Deployment", "prosaas-api")["spec"]["replicas"] == 3
    container = pod_spec(calls)["containers"][0]
    assert container["image"] == "registry.example.com/prosaas/python:0.1.0"
    assert container["resources"]["requests"]["cpu"] == "2"
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "10"]  # kept by the patch
    assert named(docs, "ConfigMap", "prosaas-config")["data"]["PUBLIC_BASE_URL"] == "https://app.prosaas.example.com"
    assert named(docs, "HorizontalPodAutoscaler", "prosaas-calls")["spec"]["minReplicas"] == 3
    for doc in docs:
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "prosaas"


def test_every_gateway_shard_is_a_stateful_set_with_its_own_volume() -> None:
    docs = rendered("production")
    sets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "StatefulSet"}
    assert sorted(sets) == ["baileys", "baileys-2"]
    ids = sorted(e["value"] for d in sets.values() for e in pod_spec(d)["containers"][0]["env"] if e["name"] == "BAILEYS_SHARD_ID")
    assert ids == ["1", "2"]


def test_workers_scale_on_every_queue() -> None:
    scaled = named(rendered("production"), "ScaledObject", "prosaas-worker")
    assert sorted(t["metadata"]["listName"] for t in scaled["spec"]["triggers"]) == sorted(f"rq:queue:{q}" for q in ALL_QUEUES)


def test_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(RenderError, match="configMapGenerator"):
        render(tmp_path)
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches:\n  - path: p.yaml\n")
    (tmp_path / "p.yaml").write_text("kind: Deployment\nmetadata:\n  name: nope\n")
    with pytest.raises(RenderError, match="not rendered"):
        render(tmp_path)


# The semantic checks must be able to fail: each breaks the real render once.

def broken(change: Any) -> list[str]:
    docs = copy.deepcopy(rendered("production"))
    sec = secret()
    change(docs, sec)
    return k8s_problems(docs, sec)


def test_checks_catch_a_calls_grace_period_shorter_than_the_drain() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        pod_spec(named(docs, "Deployment", "prosaas-calls"))["terminationGracePeriodSeconds"] = 300
    assert any("terminationGracePeriodSeconds 300 <= preStop 10" in p for p in broken(change))


def test_checks_catch_a_probe_on_the_wrong_port_or_path() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        container = pod_spec(named(docs, "Deployment", "prosaas-calls"))["containers"][0]
        container["readinessProbe"]["httpGet"] = {"path": "/", "port": 5000}
    found = broken(change)
    assert "prosaas-calls/calls: readinessProbe on port 5000, not a container port [5050]" in found
    assert "prosaas-calls/calls: readiness must follow GET /health" in found


def test_checks_catch_a_missing_variable_or_secret_key() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        del sec["stringData"]["INTERNAL_SECRET"]
        del named(docs, "ConfigMap", "prosaas-config")["data"]["RECORDINGS_DIR"]
    found = broken(change)
    assert "baileys/baileys: INTERNAL_SECRET from prosaas-secrets.INTERNAL_SECRET does not exist" in found
    assert "prosaas-api/api: INTERNAL_SECRET: required when APP_ENV=production" in found
    assert "prosaas-worker/worker: RECORDINGS_DIR is not set (its default only suits a checkout)" in found


def test_checks_catch_a_worker_grace_period_shorter_than_the_longest_job() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        pod_spec(named(docs, "Deployment", "prosaas-worker"))["terminationGracePeriodSeconds"] = 30
    assert any(p.startswith("prosaas-worker/worker: terminationGracePeriodSeconds 30 <") for p in broken(change))


def test_checks_catch_a_shard_url_that_reaches_the_wrong_shard() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        named(docs, "ConfigMap", "prosaas-config")["data"]["BAILEYS_SHARD_2_URL"] = "http://baileys:3300"
    assert "prosaas-api: BAILEYS_SHARD_2_URL reaches shard(s) {'1'}, not 2" in broken(change)


def test_checks_catch_a_queue_scaler_on_the_wrong_redis_or_list() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        sec["stringData"]["REDIS_ADDRESS"] = "elsewhere:6379"
        named(docs, "ScaledObject", "prosaas-worker")["spec"]["triggers"][0]["metadata"]["listName"] = "rq:queue:urgent"
    found = broken(change)
    assert "ScaledObject prosaas-worker: rq:queue:urgent is not a queue prosaas-worker takes" in found
    assert any("address elsewhere:6379 is not REDIS_URL's" in p for p in found)


def test_checks_catch_a_missing_wait_for_migrations() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        pod_spec(named(docs, "Deployment", "prosaas-scheduler"))["initContainers"] = []
    assert "prosaas-scheduler/scheduler: does not wait for the migrations (init container api.migrate --check)" in broken(change)


def test_checks_catch_replicas_on_an_autoscaled_deployment() -> None:
    def change(docs: list[dict[str, Any]], sec: dict[str, Any]) -> None:
        named(docs, "Deployment", "prosaas-calls")["spec"]["replicas"] = 3
        named(docs, "Deployment", "prosaas-worker")["spec"]["replicas"] = 1
    found = broken(change)
    assert "HorizontalPodAutoscaler prosaas-calls: prosaas-calls sets replicas, which every apply would reset" in found
    assert "ScaledObject prosaas-worker: prosaas-worker sets replicas, which every apply would reset" in found
