#!/usr/bin/env python3
"""Generate the sandbox's protobuf field table from the `k8s-pb` crate's prost types.

Run:  python3 scripts/gen-sandbox-protobuf.py [PATH-TO-k8s-pb-SRC]

Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) carry field numbers, not
names. The `k8s-pb` crate (in Cargo.toml) is generated from Kubernetes' .proto files; this script
reads its `#[prost(...)]` attributes and writes, for every message reachable from the kinds the
sandbox serves, `tag -> [json name, type]`. JSON names come from the sandbox's OpenAPI schema
table (crates/rudder-sandbox/src/schemas/k8s-v1.32.json), matched case- and underscore-insensitively to the
prost field names. The output is deterministic (sorted keys).

Types: "string", "bytes", "bool", "int32", "int64", "double", "float", "message:NAME";
a leading "repeated " for lists; "map:K:V" for maps (V may be "message:NAME").
"""

import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCHEMAS = os.path.join(ROOT, "crates/rudder-sandbox/src/schemas/k8s-v1.32.json")
OUT = os.path.join(ROOT, "crates/rudder-sandbox/src/schemas/protobuf-fields.json")

# Module path prefix in k8s-pb -> OpenAPI definition prefix.
PREFIXES = [
    ("apiextensions_apiserver::pkg::apis::apiextensions::v1", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"),
    ("apimachinery::", "io.k8s.apimachinery."),
    ("api::", "io.k8s.api."),
]

# Messages the server converts by hand (their JSON form is not an object of fields).
SPECIAL = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Duration",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
}

EXTRA_ROOTS = ["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]


def definition_name(module, struct):
    for rust, openapi in PREFIXES:
        if module.startswith(rust):
            return (openapi + module[len(rust):]).replace("::", ".") + "." + struct
    return None


def resolve_type(module, rust_type):
    """`super::super::X::Y::Z` relative to `module` -> definition name."""
    parts = module.split("::")
    segs = rust_type.split("::")
    while segs and segs[0] == "super":
        parts = parts[:-1]
        segs = segs[1:]
    full = parts + segs
    return definition_name("::".join(full[:-1]), full[-1])


ATTR = re.compile(
    r'#\[prost\((?P<kind>[a-z0-9_]+)(?: = "(?P<kv>[^"]*)")?(?:, (?P<label>optional|repeated))?, tag = "(?P<tag>\d+)"\)\]'
)
FIELD_NAME = re.compile(r"pub ((?:r#)?[a-z0-9_]+):(.*)")


def fields_of(body):
    """(attribute match, field name, full Rust type) for each field of a struct body."""
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        attr = ATTR.search(lines[i])
        if not attr:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith("pub "):
            j += 1
        if j >= len(lines):
            break
        m = FIELD_NAME.search(lines[j])
        if not m:
            i = j + 1
            continue
        rust_type = m.group(2)
        k = j
        while (
            not rust_type.rstrip().endswith(",") or rust_type.count("<") > rust_type.count(">")
        ) and k + 1 < len(lines):
            k += 1
            rust_type += " " + lines[k].strip()
        yield attr, m.group(1), " ".join(rust_type.split())
        i = k + 1


GENERIC = {"Option", "Vec", "String", "BTreeMap", "Box"}


def last_type(rust_type):
    """The message type inside `Option<...>`, `Vec<...>` or a map's value position."""
    paths = re.findall(r"((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Z][A-Za-z0-9_]*)", rust_type)
    paths = [p for p in paths if p.split("::")[-1] not in GENERIC]
    if not paths:
        raise SystemExit("no message type in %r" % rust_type)
    return paths[-1].lstrip(":")


def parse(src):
    messages = {}
    for path in glob.glob(os.path.join(src, "**/mod.rs"), recursive=True):
        rel = os.path.relpath(os.path.dirname(path), src)
        module = rel.replace(os.sep, "::")
        text = open(path).read()
        for m in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", text, re.S):
            struct, body = m.group(1), m.group(2)
            name = definition_name(module, struct)
            if not name:
                continue
            fields = []
            for f, field_name, rust_type in fields_of(body):
                kind, kv, label = f.group("kind"), f.group("kv"), f.group("label")
                if kind == "message":
                    ty = "message:" + resolve_type(module, last_type(rust_type))
                elif kind == "btree_map":
                    k, v = [x.strip() for x in kv.split(",")]
                    if v == "message":
                        v = "message:" + resolve_type(module, last_type(rust_type))
                    ty = "map:%s:%s" % (k, v)
                else:
                    ty = kind
                if label == "repeated":
                    ty = "repeated " + ty
                fields.append((int(f.group("tag")), field_name.replace("r#", ""), ty))
            messages[name] = fields
    return messages


def norm(s):
    return s.replace("_", "").replace("-", "").replace("$", "").lower()


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else sorted(
        glob.glob(os.path.expanduser("~/.cargo/registry/src/*/k8s-pb-0.9.0/src"))
    )[-1]
    parsed = parse(src)
    definitions = json.load(open(SCHEMAS))["definitions"]
    # prost renames acronyms (JSONSchemaProps -> JsonSchemaProps, IPBlock -> IpBlock): match
    # message names to definitions case-insensitively.
    by_lower = {d.lower(): d for d in definitions}
    messages = {}
    renamed = {}
    for name, fields in parsed.items():
        real = by_lower.get(name.lower(), name)
        renamed[name] = real
        messages[real] = fields
    for real, fields in messages.items():
        messages[real] = [
            (tag, rust, re.sub(r"message:([\w.\-]+)", lambda m: "message:" + renamed.get(m.group(1), m.group(1)), ty))
            for tag, rust, ty in fields
        ]
    roots = [n for n, d in definitions.items() if d.get("x-kubernetes-group-version-kind")]
    roots = [r for r in roots if not r.endswith("List")] + EXTRA_ROOTS
    out = {}
    # (message, properties to name its fields by): an inline struct takes its parent's.
    queue = [(r, None) for r in roots]
    while queue:
        name, inherited = queue.pop()
        if name in out or name in SPECIAL or name not in messages:
            continue
        props = definitions.get(name, {}).get("properties") or inherited or {}
        by_norm = {norm(p): p for p in props}
        table = {}
        for tag, rust, ty in messages[name]:
            json_name = by_norm.get(norm(rust))
            target = ty.split("message:")[-1] if "message:" in ty else None
            inline = False
            if json_name is None and target and props and target not in definitions:
                # A Go struct embedded inline in JSON (Volume.volumeSource,
                # IngressRule.ingressRuleValue, Probe.handler): "" means "merge into the parent".
                json_name, inline = "", True
            elif json_name is None and target and props and not definitions.get(target, {}).get("properties"):
                json_name, inline = "", True
            elif json_name is None and target in definitions and norm(rust) in ("localobjectreference",):
                json_name, inline = "", True
            elif json_name is None:
                # Not in the 1.32 schema (a newer field): keep a camelCase guess.
                head, *rest = rust.split("_")
                json_name = head + "".join(w[:1].upper() + w[1:] for w in rest)
                print("guessed: %s.%s -> %s" % (name, rust, json_name))
            table[str(tag)] = [json_name, ty]
            if target:
                queue.append((target, props if inline else None))
        out[name] = table
    with open(OUT, "w") as f:
        json.dump(out, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print("wrote %d messages to %s" % (len(out), OUT))


if __name__ == "__main__":
    main()
