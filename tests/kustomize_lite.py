"""A small kustomize for the tests: renders deploy/k8s/ without the kustomize binary.

It does the part of kustomize v5 that deploy/k8s/ uses, the way kustomize does it:
`resources` (files and kustomization folders), `namespace`, `labels` (`pairs`,
`includeTemplates`), `images`, `replicas` and `patches` (strategic merge by kind and
name, JSON 6902 with a `target`), then kustomize's legacy output order. Any other
field, or a patch it cannot apply exactly, raises `Unsupported`, so a new feature in a
kustomization fails the tests instead of rendering something else. tests/test_k8s.py
compares its output with `kubectl kustomize` wherever kubectl is installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

KUSTOMIZATION_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
}
# Where kustomize's `labels` with includeTemplates puts the labels, besides metadata.
TEMPLATE_LABEL_PATHS = {
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
}
REPLICATED_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"}
# kustomize's legacy order: these kinds first, in this order; then the others by
# group, version and kind; then webhooks.
ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
# Strategic merge: lists merged by key. Lists of other fields are replaced, which is
# Kubernetes' rule for lists without a merge key; lists that Kubernetes merges by a key
# this module does not implement are refused.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
}
UNSUPPORTED_MERGE_LISTS = {
    "ports",
    "envFrom",
    "imagePullSecrets",
    "hostAliases",
    "topologySpreadConstraints",
    "ephemeralContainers",
    "volumeDevices",
    "resourceClaims",
}


class Unsupported(Exception):
    """The kustomization uses something this renderer does not do exactly as kustomize."""


def build(folder: Path) -> list[Resource]:
    """The resources `kustomize build folder` prints, in its order."""
    kustomization = load_kustomization(folder)
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        resources.extend(build(path) if path.is_dir() else load_documents(path))
    for patch in kustomization.get("patches", []):
        apply_patch(resources, folder, patch)
    if "namespace" in kustomization:
        set_namespace(resources, kustomization["namespace"])
    for label_set in kustomization.get("labels", []):
        add_labels(resources, label_set)
    for replica in kustomization.get("replicas", []):
        set_replicas(resources, replica)
    for image in kustomization.get("images", []):
        set_image(resources, image)
    return sorted(resources, key=legacy_order)


def load_kustomization(folder: Path) -> dict[str, Any]:
    path = folder / "kustomization.yaml"
    kustomization: dict[str, Any] = yaml.safe_load(path.read_text())
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    if unknown:
        raise Unsupported(f"{path}: fields {sorted(unknown)}")
    return kustomization


def load_documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def identity(resource: Resource) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


# --- patches -------------------------------------------------------------------------


def apply_patch(resources: list[Resource], folder: Path, entry: dict[str, Any]) -> None:
    unknown = set(entry) - {"path", "target"}
    if unknown or "path" not in entry:
        raise Unsupported(f"patch entry {entry}")
    path = folder / entry["path"]
    target = entry.get("target")
    if target is not None:
        if set(target) - {"kind", "name"}:
            raise Unsupported(f"patch target {target}")
        matches = [r for r in resources if identity(r) == (target["kind"], target["name"])]
        if not matches:
            raise Unsupported(f"{path}: no {target['kind']} {target['name']} to patch")
        content = yaml.safe_load(path.read_text())
        for resource in matches:
            if isinstance(content, list):
                json_patch(resource, content)
            else:
                resource.update(strategic_merge(resource, content))
        return
    for patch in load_documents(path):
        matches = [
            r
            for r in resources
            if identity(r) == identity(patch) and r["apiVersion"] == patch["apiVersion"]
        ]
        if len(matches) != 1:
            raise Unsupported(f"{path}: {len(matches)} resources match {identity(patch)}")
        matches[0].update(strategic_merge(matches[0], patch))


def strategic_merge(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(original)
    for key, value in patch.items():
        if key.startswith("$"):
            raise Unsupported(f"patch directive {key}")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = strategic_merge(merged[key], value)
        elif isinstance(value, list) and key in MERGE_KEYS and key in merged:
            merged[key] = merge_list(merged[key], value, MERGE_KEYS[key])
        elif isinstance(value, list) and key in UNSUPPORTED_MERGE_LISTS:
            raise Unsupported(f"strategic merge of the list {key!r}")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_list(
    original: list[dict[str, Any]], patch: list[dict[str, Any]], key: str
) -> list[dict[str, Any]]:
    merged = copy.deepcopy(original)
    for item in patch:
        same = [i for i, existing in enumerate(merged) if existing.get(key) == item[key]]
        if same:
            merged[same[0]] = strategic_merge(merged[same[0]], item)
        else:
            merged.append(copy.deepcopy(item))
    return merged


def json_patch(resource: Resource, operations: list[dict[str, Any]]) -> None:
    for operation in operations:
        op, pointer = operation["op"], operation["path"]
        *parents, last = [
            part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]
        ]
        node: Any = resource
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if op == "remove":
            del node[int(last) if isinstance(node, list) else last]
        elif op in {"add", "replace"}:
            value = copy.deepcopy(operation["value"])
            if isinstance(node, list):
                if last == "-":
                    node.append(value)
                elif op == "add":
                    node.insert(int(last), value)
                else:
                    node[int(last)] = value
            else:
                if op == "replace" and last not in node:
                    raise Unsupported(f"replace of a missing {pointer}")
                node[last] = value
        else:
            raise Unsupported(f"JSON patch operation {op!r}")


# --- transformers --------------------------------------------------------------------


def set_namespace(resources: list[Resource], namespace: str) -> None:
    for resource in resources:
        if resource["kind"] == "Namespace":
            # kustomize renames the Namespace objects it renders to the namespace.
            resource["metadata"]["name"] = namespace
        elif resource["kind"] not in CLUSTER_SCOPED:
            resource["metadata"]["namespace"] = namespace


def add_labels(resources: list[Resource], label_set: dict[str, Any]) -> None:
    unknown = set(label_set) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown or label_set.get("includeSelectors", False):
        raise Unsupported(f"labels entry {label_set}")
    pairs: dict[str, str] = label_set["pairs"]
    for resource in resources:
        resource["metadata"].setdefault("labels", {}).update(pairs)
        template_path = TEMPLATE_LABEL_PATHS.get(resource["kind"])
        if label_set.get("includeTemplates", False) and template_path is not None:
            node = resource
            for part in template_path:
                node = node[part]
            node.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def set_replicas(resources: list[Resource], replica: dict[str, Any]) -> None:
    matches = [
        r
        for r in resources
        if r["kind"] in REPLICATED_KINDS and r["metadata"]["name"] == replica["name"]
    ]
    if not matches:
        raise Unsupported(f"replicas: nothing named {replica['name']}")
    for resource in matches:
        resource["spec"]["replicas"] = replica["count"]


def split_image(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference; a registry may carry a port."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest


def set_image(resources: list[Resource], image: dict[str, Any]) -> None:
    if set(image) - {"name", "newName", "newTag", "digest"}:
        raise Unsupported(f"images entry {image}")
    for resource in resources:
        for container in containers_of(resource):
            name, tag, digest = split_image(container["image"])
            if name != image["name"]:
                continue
            name = image.get("newName", name)
            # As kustomize: a new tag or digest replaces both the old tag and digest.
            if "newTag" in image or "digest" in image:
                tag, digest = str(image.get("newTag", "")), image.get("digest", "")
            container["image"] = (
                name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
            )


def containers_of(node: Any) -> list[dict[str, Any]]:
    """Every container and init container anywhere in a resource."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"containers", "initContainers"} and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(containers_of(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(containers_of(item))
    return found


def legacy_order(resource: Resource) -> tuple[int, str, str, str]:
    kind = resource["kind"]
    group, _, version = resource["apiVersion"].rpartition("/")
    if kind in ORDER_FIRST:
        rank = ORDER_FIRST.index(kind)
    elif kind in ORDER_LAST:
        rank = len(ORDER_FIRST) + 1 + ORDER_LAST.index(kind)
    else:
        rank = len(ORDER_FIRST)
    gvk = "_".join([group or "~G", version, kind])
    metadata = resource["metadata"]
    return rank, gvk, metadata.get("namespace", ""), metadata["name"]
