#!/usr/bin/env python3
"""Generate the sandbox's checked-in schema table from the `kubernetes_validate` package.

Run with the test venv:  .venv/bin/python scripts/gen-sandbox-schemas.py [--kube-version 1.32]

`kubernetes_validate` ships the OpenAPI definitions of Kubernetes 1.25-1.37 as JSON Schema
(`$defs`), keeping the `x-kubernetes-*` extensions (list types, list-map keys, patch strategies and
merge keys, group-version-kind). This script keeps only the definitions reachable from the kinds
`rudder sandbox` serves, drops descriptions, and normalises the JSON Schema spellings back to the
OpenAPI v3 ones a Kubernetes API server publishes (`type: [object, null]` -> `type: object`,
`#/$defs/X` -> `#/components/schemas/X`). The output is deterministic (sorted keys), so
regenerating without a version change yields no diff.

The resource table below (plural names, scope, short names) is API surface, not schema: the
schemas do not carry it.
"""

import argparse
import json
import os
import sys

import kubernetes_validate

# (group, version, kind, plural, namespaced, subresources)
KINDS = [
    ("", "v1", "Namespace", "namespaces", False, ["status"]),
    ("", "v1", "ConfigMap", "configmaps", True, []),
    ("", "v1", "Secret", "secrets", True, []),
    ("", "v1", "Service", "services", True, ["status"]),
    ("", "v1", "ServiceAccount", "serviceaccounts", True, []),
    ("", "v1", "Pod", "pods", True, ["status"]),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ["status"]),
    ("", "v1", "PersistentVolume", "persistentvolumes", False, ["status"]),
    ("", "v1", "Endpoints", "endpoints", True, []),
    ("", "v1", "Event", "events", True, []),
    ("", "v1", "LimitRange", "limitranges", True, []),
    ("", "v1", "ResourceQuota", "resourcequotas", True, ["status"]),
    ("apps", "v1", "Deployment", "deployments", True, ["status", "scale"]),
    ("apps", "v1", "StatefulSet", "statefulsets", True, ["status", "scale"]),
    ("apps", "v1", "DaemonSet", "daemonsets", True, ["status"]),
    ("apps", "v1", "ReplicaSet", "replicasets", True, ["status", "scale"]),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", True, []),
    ("batch", "v1", "Job", "jobs", True, ["status"]),
    ("batch", "v1", "CronJob", "cronjobs", True, ["status"]),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", True, ["status"]),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False, []),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, []),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", True, []),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, []),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, []),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, []),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["status"]),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ["status"]),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, []),
    ("coordination.k8s.io", "v1", "Lease", "leases", True, []),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ["status"],
    ),
]

# Meta types every group-version document references (errors, deletes, watches, lists).
META = [
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "io.k8s.api.autoscaling.v1.Scale",
]

SCHEMA_REF = "#/$defs/"
OUT_REF = "#/components/schemas/"


def normalise(schema, in_kind_props=False):
    """Return the OpenAPI v3 spelling of one JSON Schema node, without descriptions."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "description":
            continue
        if key == "$ref":
            out["$ref"] = OUT_REF + value[len(SCHEMA_REF):]
        elif key == "type":
            types = [t for t in (value if isinstance(value, list) else [value]) if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
        elif key == "properties":
            out["properties"] = {
                name: normalise(prop)
                for name, prop in value.items()
            }
            if in_kind_props:
                # The strict schemas pin apiVersion/kind with an enum; a server's document does not.
                for name in ("apiVersion", "kind"):
                    out["properties"].get(name, {}).pop("enum", None)
        elif key in ("items", "additionalProperties"):
            out[key] = normalise(value) if isinstance(value, dict) else value
        elif key == "oneOf":
            continue
        else:
            out[key] = value
    if "oneOf" in schema:
        # IntOrString and Quantity: the server publishes them as strings with a format.
        kinds = sorted(t for alt in schema["oneOf"] for t in alt.get("type", []) if t != "null")
        out["type"] = "string"
        out["format"] = "int-or-string" if "integer" in kinds else "quantity"
        if "integer" in kinds:
            out["x-kubernetes-int-or-string"] = True
    return out


def refs(schema):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value[len(SCHEMA_REF):]
            else:
                yield from refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from refs(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube-version", default="1.32")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    root = os.path.join(
        os.path.dirname(kubernetes_validate.__file__),
        "kubernetes-json-schema",
        f"v{args.kube_version}.0-local-strict",
    )
    with open(os.path.join(root, "_definitions.json")) as f:
        defs = json.load(f)["$defs"]

    by_gvk = {}
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            by_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name

    kinds = []
    wanted = list(META)
    for group, version, kind, plural, namespaced, subresources in KINDS:
        name = by_gvk.get((group, version, kind))
        list_name = by_gvk.get((group, version, kind + "List"))
        if name is None or list_name is None:
            sys.exit(f"{group}/{version} {kind}: not in kubernetes_validate {args.kube_version}")
        kinds.append(
            {
                "group": group,
                "version": version,
                "kind": kind,
                "plural": plural,
                "namespaced": namespaced,
                "subresources": subresources,
                "schema": name,
                "listSchema": list_name,
            }
        )
        wanted += [name, list_name]

    keep = {}
    while wanted:
        name = wanted.pop()
        if name in keep:
            continue
        if name not in defs:
            sys.exit(f"dangling reference {name}")
        keep[name] = defs[name]
        wanted.extend(refs(defs[name]))

    definitions = {
        name: normalise(schema, in_kind_props="x-kubernetes-group-version-kind" in schema)
        for name, schema in keep.items()
    }
    table = {
        "kubernetesVersion": f"v{args.kube_version}.0",
        "source": f"kubernetes_validate {kubernetes_validate.__version__ if hasattr(kubernetes_validate, '__version__') else ''}".strip(),
        "kinds": kinds,
        "definitions": definitions,
    }
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "src",
        "sandbox",
        "schemas",
        f"k8s-v{args.kube_version}.json",
    )
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(table, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(out)}: {len(kinds)} kinds, {len(definitions)} definitions")


if __name__ == "__main__":
    main()
