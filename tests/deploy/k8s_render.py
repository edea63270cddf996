"""``kubectl kustomize`` for the subset of kustomize our manifests use, without kubectl.

Supported ``kustomization.yaml`` fields: ``resources`` (files, and directories holding a
kustomization), ``namespace``, ``labels`` (``pairs``; metadata labels only, not selectors),
``images`` (``name`` → ``newName``/``newTag``) and ``patches`` (``path`` to a strategic-merge
patch naming its targets by kind and name). Any other field is refused, so a kustomization
that uses more than this renders as an error here instead of silently differently.

Strategic merge as kustomize does it for what we patch: mappings merge key by key; lists of
mappings keyed by ``name`` (containers, env, ports, volumes, volumeMounts) merge item by item;
other lists are replaced.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


class RenderError(ValueError):
    """The kustomization uses something this renderer does not, or a patch has no target."""


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def strategic_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = strategic_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (isinstance(base, list) and isinstance(patch, list) and base and patch
            and all(isinstance(i, dict) and "name" in i for i in base + patch)):
        by_name = {item["name"]: item for item in base}
        merged = [strategic_merge(by_name[i["name"]], i) if i["name"] in by_name else i for i in patch]
        patched = {i["name"] for i in patch}
        return [i for i in base if i["name"] not in patched] + merged
    return copy.deepcopy(patch)


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    if doc.get("kind") == "CronJob":
        pod = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    return list(pod.get("containers", [])) + list(pod.get("initContainers", []))


def render(directory: Path) -> list[dict[str, Any]]:
    """The resources of the kustomization in ``directory``, as ``kubectl kustomize`` prints them."""
    kfile = directory / "kustomization.yaml"
    k = yaml.safe_load(kfile.read_text())
    unknown = set(k) - SUPPORTED
    if unknown:
        raise RenderError(f"{kfile}: unsupported field(s) {sorted(unknown)}")
    out: list[dict[str, Any]] = []
    for entry in k.get("resources", []):
        path = (directory / entry).resolve()
        out += render(path) if path.is_dir() else documents(path)
    for patch_entry in k.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise RenderError(f"{kfile}: only `path` patches are supported, not {patch_entry}")
        for patch in documents(directory / patch_entry["path"]):
            key = (patch["kind"], patch["metadata"]["name"])
            hits = [i for i, doc in enumerate(out) if (doc["kind"], doc["metadata"]["name"]) == key]
            if not hits:
                raise RenderError(f"{kfile}: patch {patch_entry['path']} targets {key}, which is not rendered")
            for i in hits:
                out[i] = strategic_merge(out[i], patch)
    for label in k.get("labels", []):
        if set(label) - {"pairs"}:
            raise RenderError(f"{kfile}: labels support only `pairs`")
        for doc in out:
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    for image in k.get("images", []):
        for doc in out:
            for container in _containers(doc):
                name, _, _ = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image['newTag']}" if "newTag" in image \
                        else image.get("newName", name)
    if "namespace" in k:
        for doc in out:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = k["namespace"]
    return out
