//! Validation of built-in kinds (pure; no I/O): what a real server rejects with 422 Invalid.
//!
//! The checks and their messages follow Kubernetes 1.32's `pkg/apis/*/validation` for the
//! mistakes a chart author actually makes: names, labels, required container fields, selectors
//! that do not match their templates, ports, restart policies, and fields that may not change
//! on update. Each [`Cause`] carries the field path and the message body exactly as the server
//! prints them (`spec.template.spec.containers[0].image: Required value`).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::schema::SchemaNode;
use super::Gvk;

/// One reason an object is invalid (a `Status` cause).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, ...
    pub reason: String,
    /// Field path, e.g. `spec.template.metadata.labels`.
    pub field: String,
    pub message: String,
}

/// Validates `new` (and, on update, the change from `old`, e.g. immutable fields).
pub fn validate(gvk: &Gvk, new: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut errs = Errors::default();
    if !new.is_object() {
        errs.invalid("", new, "must be an object");
        return errs.0;
    }
    validate_metadata(gvk, new, &mut errs);
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Pod") => {
            validate_pod_spec(field(new, "spec"), "spec", &[], &mut errs);
            if let Some(old) = old {
                validate_pod_update(new, old, &mut errs);
            }
        }
        ("", "Service") => validate_service(new, old, &mut errs),
        ("", "ConfigMap") => validate_config_data(gvk, new, old, &mut errs),
        ("", "Secret") => validate_config_data(gvk, new, old, &mut errs),
        ("", "PersistentVolumeClaim") => validate_pvc(new, old, &mut errs),
        ("apps", "Deployment") => validate_workload(gvk, new, old, &mut errs),
        ("apps", "ReplicaSet") => validate_workload(gvk, new, old, &mut errs),
        ("apps", "StatefulSet") => validate_workload(gvk, new, old, &mut errs),
        ("apps", "DaemonSet") => validate_workload(gvk, new, old, &mut errs),
        ("batch", "Job") => validate_job(new, old, &mut errs),
        ("batch", "CronJob") => validate_cron_job(new, &mut errs),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => validate_rules(new, &mut errs),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            validate_binding(new, old, &mut errs)
        }
        ("networking.k8s.io", "Ingress") => validate_ingress(new, &mut errs),
        ("policy", "PodDisruptionBudget") => validate_pdb(new, &mut errs),
        ("autoscaling", "HorizontalPodAutoscaler") => validate_hpa(new, &mut errs),
        _ => {}
    }
    errs.0
}

/// Paths of fields the kind's schema does not know (for `fieldValidation=Strict|Warn`), as the
/// server names them in `unknown field "spec.template.spec.containers[0].bogus"`.
pub fn unknown_fields(gvk: &Gvk, object: &Value) -> Vec<String> {
    let root = SchemaNode::for_kind(gvk);
    let mut out = Vec::new();
    if root.is_known() {
        collect_unknown(object, root, "", &mut out);
    }
    out
}

fn collect_unknown(value: &Value, schema: SchemaNode, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let properties = schema
                .schema()
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let known = properties.is_some_and(|p| p.contains_key(key));
                if !known && schema.is_closed() {
                    out.push(child_path);
                    continue;
                }
                let child_schema = schema.field(key);
                if child_schema.is_known() {
                    collect_unknown(child, child_schema, &child_path, out);
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.items();
            if item_schema.is_known() {
                for (i, item) in items.iter().enumerate() {
                    collect_unknown(item, item_schema, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Removes the fields [`unknown_fields`] names, as a real server's decoder drops them under
/// `fieldValidation=Ignore|Warn` (they are never stored).
pub fn drop_unknown_fields(gvk: &Gvk, object: &mut Value) {
    let root = SchemaNode::for_kind(gvk);
    if root.is_known() {
        drop_unknown(object, root);
    }
}

fn drop_unknown(value: &mut Value, schema: SchemaNode) {
    match value {
        Value::Object(map) => {
            let properties = schema
                .schema()
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            if schema.is_closed() {
                map.retain(|key, _| properties.is_some_and(|p| p.contains_key(key)));
            }
            for (key, child) in map.iter_mut() {
                let child_schema = schema.field(key);
                if child_schema.is_known() {
                    drop_unknown(child, child_schema);
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.items();
            if item_schema.is_known() {
                items
                    .iter_mut()
                    .for_each(|item| drop_unknown(item, item_schema));
            }
        }
        _ => {}
    }
}

/// The server's Status message for a 422: `Deployment.apps "web" is invalid: <causes>`.
pub fn invalid_message(gvk: &Gvk, name: &str, causes: &[Cause]) -> String {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| {
            if c.field.is_empty() {
                c.message.clone()
            } else {
                format!("{}: {}", c.field, c.message)
            }
        })
        .collect();
    let summary = match parts.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", parts.join(", ")),
    };
    let kind = if gvk.group.is_empty() {
        gvk.kind.clone()
    } else {
        format!("{}.{}", gvk.kind, gvk.group)
    };
    format!("{kind} \"{name}\" is invalid: {summary}")
}

#[derive(Default)]
struct Errors(Vec<Cause>);

/// How the server prints a value in `Invalid value: ...`.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

impl Errors {
    fn push(&mut self, reason: &str, field: &str, message: String) {
        self.0.push(Cause {
            reason: reason.into(),
            field: field.into(),
            message,
        });
    }
    fn required(&mut self, field: &str, detail: &str) {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        self.push("FieldValueRequired", field, message);
    }
    fn invalid(&mut self, field: &str, value: &Value, detail: &str) {
        self.push(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {}: {detail}", show(value)),
        );
    }
    fn not_supported(&mut self, field: &str, value: &Value, supported: &[&str]) {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        self.push(
            "FieldValueNotSupported",
            field,
            format!(
                "Unsupported value: {}: supported values: {}",
                show(value),
                list.join(", ")
            ),
        );
    }
    fn forbidden(&mut self, field: &str, detail: &str) {
        self.push("FieldValueForbidden", field, format!("Forbidden: {detail}"));
    }
    fn duplicate(&mut self, field: &str, value: &Value) {
        self.push(
            "FieldValueDuplicate",
            field,
            format!("Duplicate value: {}", show(value)),
        );
    }
    fn not_found(&mut self, field: &str, value: &Value) {
        self.push(
            "FieldValueNotFound",
            field,
            format!("Not found: {}", show(value)),
        );
    }
    fn too_long(&mut self, field: &str, max: usize) {
        self.push(
            "FieldValueTooLong",
            field,
            format!("Too long: may not be more than {max} bytes"),
        );
    }
}

fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    value.get(key).unwrap_or(&NULL)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn int(value: &Value) -> Option<i64> {
    value.as_i64()
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("validation patterns are constant and valid"))
}

const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035_LABEL: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED_NAME: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const CONFIG_KEY: &str = "[-._a-zA-Z0-9]+";

fn full(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// One of apimachinery's name rules: a length limit and a pattern, with its wording.
struct NameRule {
    max: usize,
    pattern: &'static str,
    /// What a matching value looks like, as apimachinery says it before naming the regex.
    shape: &'static str,
    compiled: OnceLock<Regex>,
}

impl NameRule {
    const fn new(max: usize, pattern: &'static str, shape: &'static str) -> NameRule {
        NameRule {
            max,
            pattern,
            shape,
            compiled: OnceLock::new(),
        }
    }

    /// Problems with `value` under this rule; empty when valid.
    fn errors(&'static self, value: &str) -> Vec<String> {
        let mut out = Vec::new();
        if value.len() > self.max {
            out.push(format!("must be no more than {} characters", self.max));
        }
        if !regex(&self.compiled, &full(self.pattern)).is_match(value) {
            out.push(format!(
                "{} regex used for validation is '{}')",
                self.shape, self.pattern
            ));
        }
        out
    }
}

static DNS1123_LABEL_RULE: NameRule = NameRule::new(
    63,
    DNS1123_LABEL,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc',",
);
static DNS1123_SUBDOMAIN_RULE: NameRule = NameRule::new(
    253,
    DNS1123_SUBDOMAIN,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com',",
);
static DNS1035_LABEL_RULE: NameRule = NameRule::new(
    63,
    DNS1035_LABEL,
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123',",
);
static QUALIFIED_NAME_RULE: NameRule = NameRule::new(
    63,
    QUALIFIED_NAME,
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc',",
);
static LABEL_VALUE_RULE: NameRule = NameRule::new(
    63,
    LABEL_VALUE,
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345',",
);

/// Problems with a DNS-1123 label (`my-name`); empty when valid.
pub fn dns1123_label_errors(value: &str) -> Vec<String> {
    DNS1123_LABEL_RULE.errors(value)
}

/// Problems with a DNS-1123 subdomain (`example.com`); empty when valid.
pub fn dns1123_subdomain_errors(value: &str) -> Vec<String> {
    DNS1123_SUBDOMAIN_RULE.errors(value)
}

fn dns1035_label_errors(value: &str) -> Vec<String> {
    DNS1035_LABEL_RULE.errors(value)
}

/// Path segment names (RBAC): anything but `.`, `..`, or names with `/` or `%`.
fn path_segment_errors(value: &str) -> Vec<String> {
    if value == "." || value == ".." {
        return vec![format!("may not be '{value}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|c| value.contains(*c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// Problems with a label or annotation key (`prefix/name`).
fn qualified_name_errors(key: &str) -> Vec<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let mut out = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            out.push("prefix part must be non-empty".to_string());
        } else {
            out.extend(
                dns1123_subdomain_errors(prefix)
                    .into_iter()
                    .map(|e| format!("prefix part {e}")),
            );
        }
    }
    if name.is_empty() {
        out.push("name part must be non-empty".to_string());
    } else {
        out.extend(
            QUALIFIED_NAME_RULE
                .errors(name)
                .into_iter()
                .map(|e| format!("name part {e}")),
        );
    }
    out
}

fn label_value_errors(value: &str) -> Vec<String> {
    LABEL_VALUE_RULE.errors(value)
}

fn validate_labels(labels: &Value, path: &str, errs: &mut Errors) {
    let Some(map) = labels.as_object() else {
        return;
    };
    for (key, value) in map {
        for e in qualified_name_errors(key) {
            errs.invalid(path, &Value::String(key.clone()), &e);
        }
        match value {
            Value::String(v) => {
                for e in label_value_errors(v) {
                    errs.invalid(path, value, &e);
                }
            }
            Value::Null => {}
            other => errs.invalid(path, other, "label values must be strings"),
        }
    }
}

fn validate_metadata(gvk: &Gvk, object: &Value, errs: &mut Errors) {
    let meta = field(object, "metadata");
    let name = text(meta, "name");
    if name.is_empty() {
        errs.required("metadata.name", "name or generateName is required");
    } else {
        let problems = match (gvk.group.as_str(), gvk.kind.as_str()) {
            ("", "Namespace") => dns1123_label_errors(name),
            ("", "Service") => dns1035_label_errors(name),
            ("rbac.authorization.k8s.io", _) => path_segment_errors(name),
            _ => dns1123_subdomain_errors(name),
        };
        for e in problems {
            errs.invalid("metadata.name", &Value::String(name.into()), &e);
        }
    }
    validate_labels(field(meta, "labels"), "metadata.labels", errs);
    if let Some(annotations) = field(meta, "annotations").as_object() {
        let mut total = 0;
        for (key, value) in annotations {
            for e in qualified_name_errors(key) {
                errs.invalid("metadata.annotations", &Value::String(key.clone()), &e);
            }
            total += key.len() + value.as_str().map_or(0, str::len);
        }
        if total > 256 * 1024 {
            errs.too_long("metadata.annotations", 256 * 1024);
        }
    }
}

/// `claims`: volume names a StatefulSet's volumeClaimTemplates provide to the pod.
fn validate_pod_spec(spec: &Value, path: &str, claims: &[&str], errs: &mut Errors) {
    if !spec.is_object() {
        errs.required(path, "");
        return;
    }
    let volumes: BTreeSet<&str> = list(field(spec, "volumes"))
        .iter()
        .map(|v| text(v, "name"))
        .chain(claims.iter().copied())
        .collect();
    for (i, volume) in list(field(spec, "volumes")).iter().enumerate() {
        let vpath = format!("{path}.volumes[{i}].name");
        let name = text(volume, "name");
        if name.is_empty() {
            errs.required(&vpath, "");
        } else {
            for e in dns1123_label_errors(name) {
                errs.invalid(&vpath, &Value::String(name.into()), &e);
            }
        }
    }
    let mut seen_volume = BTreeSet::new();
    for (i, volume) in list(field(spec, "volumes")).iter().enumerate() {
        let name = text(volume, "name");
        if !name.is_empty() && !seen_volume.insert(name) {
            errs.duplicate(
                &format!("{path}.volumes[{i}].name"),
                &Value::String(name.into()),
            );
        }
    }
    let containers = list(field(spec, "containers"));
    if containers.is_empty() {
        errs.required(&format!("{path}.containers"), "");
    }
    let mut names = BTreeSet::new();
    for (list_name, items) in [
        ("initContainers", list(field(spec, "initContainers"))),
        ("containers", containers),
    ] {
        for (i, container) in items.iter().enumerate() {
            let cpath = format!("{path}.{list_name}[{i}]");
            let name = text(container, "name");
            if name.is_empty() {
                errs.required(&format!("{cpath}.name"), "");
            } else {
                for e in dns1123_label_errors(name) {
                    errs.invalid(&format!("{cpath}.name"), &Value::String(name.into()), &e);
                }
                if !names.insert(name.to_string()) {
                    errs.duplicate(&format!("{cpath}.name"), &Value::String(name.into()));
                }
            }
            validate_container(container, &cpath, &volumes, errs);
        }
    }
    let restart = field(spec, "restartPolicy");
    if let Some(policy) = restart.as_str() {
        if !["Always", "OnFailure", "Never"].contains(&policy) {
            errs.not_supported(
                &format!("{path}.restartPolicy"),
                restart,
                &["Always", "OnFailure", "Never"],
            );
        }
    }
    let dns = field(spec, "dnsPolicy");
    if let Some(policy) = dns.as_str() {
        let supported = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
        if !supported.contains(&policy) {
            errs.not_supported(&format!("{path}.dnsPolicy"), dns, &supported);
        }
    }
    if let Some(grace) = int(field(spec, "terminationGracePeriodSeconds")) {
        if grace < 0 {
            errs.invalid(
                &format!("{path}.terminationGracePeriodSeconds"),
                &Value::from(grace),
                "must be greater than or equal to 0",
            );
        }
    }
}

fn validate_container(container: &Value, path: &str, volumes: &BTreeSet<&str>, errs: &mut Errors) {
    if text(container, "image").trim().is_empty() {
        errs.required(&format!("{path}.image"), "");
    }
    let pull = field(container, "imagePullPolicy");
    if let Some(policy) = pull.as_str() {
        if !["Always", "IfNotPresent", "Never"].contains(&policy) {
            errs.not_supported(
                &format!("{path}.imagePullPolicy"),
                pull,
                &["Always", "IfNotPresent", "Never"],
            );
        }
    }
    let mut port_names = BTreeSet::new();
    for (i, port) in list(field(container, "ports")).iter().enumerate() {
        let ppath = format!("{path}.ports[{i}]");
        match int(field(port, "containerPort")) {
            None => errs.required(&format!("{ppath}.containerPort"), ""),
            Some(p) if !(1..=65535).contains(&p) => errs.invalid(
                &format!("{ppath}.containerPort"),
                &Value::from(p),
                "must be between 1 and 65535, inclusive",
            ),
            _ => {}
        }
        if let Some(host) = int(field(port, "hostPort")) {
            if host != 0 && !(1..=65535).contains(&host) {
                errs.invalid(
                    &format!("{ppath}.hostPort"),
                    &Value::from(host),
                    "must be between 1 and 65535, inclusive",
                );
            }
        }
        validate_protocol(field(port, "protocol"), &format!("{ppath}.protocol"), errs);
        let name = text(port, "name");
        if !name.is_empty() {
            validate_port_name(name, &format!("{ppath}.name"), errs);
            if !port_names.insert(name) {
                errs.duplicate(&format!("{ppath}.name"), &Value::String(name.into()));
            }
        }
    }
    for (i, env) in list(field(container, "env")).iter().enumerate() {
        if text(env, "name").is_empty() {
            errs.required(&format!("{path}.env[{i}].name"), "");
        }
    }
    for (i, mount) in list(field(container, "volumeMounts")).iter().enumerate() {
        let mpath = format!("{path}.volumeMounts[{i}]");
        let name = text(mount, "name");
        if name.is_empty() {
            errs.required(&format!("{mpath}.name"), "");
        } else if !volumes.contains(name) {
            errs.not_found(&format!("{mpath}.name"), &Value::String(name.into()));
        }
        if text(mount, "mountPath").is_empty() {
            errs.required(&format!("{mpath}.mountPath"), "");
        }
    }
}

fn validate_protocol(protocol: &Value, path: &str, errs: &mut Errors) {
    if let Some(p) = protocol.as_str() {
        if !["SCTP", "TCP", "UDP"].contains(&p) {
            errs.not_supported(path, protocol, &["SCTP", "TCP", "UDP"]);
        }
    }
}

/// IANA service names: at most 15 characters, lower case letters, digits and '-', at least one
/// letter, no leading, trailing or double '-'.
fn validate_port_name(name: &str, path: &str, errs: &mut Errors) {
    let value = Value::String(name.into());
    if name.len() > 15 {
        errs.invalid(path, &value, "must be no more than 15 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.invalid(
            path,
            &value,
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        );
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        errs.invalid(path, &value, "must contain at least one letter (a-z)");
    }
    if name.contains("--") {
        errs.invalid(path, &value, "must not contain consecutive hyphens");
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.invalid(path, &value, "must not begin or end with a hyphen");
    }
}

fn validate_pod_update(new: &Value, old: &Value, errs: &mut Errors) {
    // Only images (and a few scheduling fields) may change in a running Pod's spec.
    let strip = |pod: &Value| {
        let mut spec = field(pod, "spec").clone();
        for list_name in ["containers", "initContainers"] {
            if let Some(items) = spec.get_mut(list_name).and_then(Value::as_array_mut) {
                for c in items {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("image");
                    }
                }
            }
        }
        if let Some(m) = spec.as_object_mut() {
            for key in [
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
            ] {
                m.remove(key);
            }
        }
        spec
    };
    if strip(new) != strip(old) {
        errs.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)");
    }
}

fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let labels = labels.as_object();
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(match_labels) = field(selector, "matchLabels").as_object() {
        for (k, v) in match_labels {
            if get(k) != v.as_str() {
                return false;
            }
        }
    }
    for expr in list(field(selector, "matchExpressions")) {
        let key = text(expr, "key");
        let values: Vec<&str> = list(field(expr, "values"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let ok = match text(expr, "operator") {
            "In" => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(key).is_some(),
            "DoesNotExist" => get(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn selector_is_empty(selector: &Value) -> bool {
    field(selector, "matchLabels")
        .as_object()
        .is_none_or(Map::is_empty)
        && list(field(selector, "matchExpressions")).is_empty()
}

fn validate_selector_syntax(selector: &Value, path: &str, errs: &mut Errors) {
    validate_labels(
        field(selector, "matchLabels"),
        &format!("{path}.matchLabels"),
        errs,
    );
    for (i, expr) in list(field(selector, "matchExpressions")).iter().enumerate() {
        let epath = format!("{path}.matchExpressions[{i}]");
        let op = field(expr, "operator");
        let values = list(field(expr, "values"));
        match op.as_str() {
            Some("In" | "NotIn") if values.is_empty() => errs.required(
                &format!("{epath}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            ),
            Some("Exists" | "DoesNotExist") if !values.is_empty() => errs.forbidden(
                &format!("{epath}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
            Some("In" | "NotIn" | "Exists" | "DoesNotExist") => {}
            _ => errs.invalid(
                &format!("{epath}.operator"),
                op,
                "not a valid selector operator",
            ),
        }
    }
}

fn non_negative(value: &Value, path: &str, errs: &mut Errors) {
    if let Some(n) = int(value) {
        if n < 0 {
            errs.invalid(path, &Value::from(n), "must be greater than or equal to 0");
        }
    }
}

/// Deployment, ReplicaSet, StatefulSet, DaemonSet.
fn validate_workload(gvk: &Gvk, new: &Value, old: Option<&Value>, errs: &mut Errors) {
    let spec = field(new, "spec");
    non_negative(field(spec, "replicas"), "spec.replicas", errs);
    non_negative(
        field(spec, "revisionHistoryLimit"),
        "spec.revisionHistoryLimit",
        errs,
    );
    non_negative(field(spec, "minReadySeconds"), "spec.minReadySeconds", errs);
    let selector = field(spec, "selector");
    let template = field(spec, "template");
    if !selector.is_object() {
        errs.required("spec.selector", "");
    } else {
        validate_selector_syntax(selector, "spec.selector", errs);
        if selector_is_empty(selector) {
            errs.invalid(
                "spec.selector",
                selector,
                &format!("empty selector is invalid for {}", gvk.kind.to_lowercase()),
            );
        } else {
            let labels = field(field(template, "metadata"), "labels");
            if !selector_matches(selector, labels) {
                errs.invalid(
                    "spec.template.metadata.labels",
                    labels,
                    "`selector` does not match template `labels`",
                );
            }
        }
    }
    if !template.is_object() {
        errs.required("spec.template", "");
    } else {
        validate_labels(
            field(field(template, "metadata"), "labels"),
            "spec.template.metadata.labels",
            errs,
        );
        let pod_spec = field(template, "spec");
        let claims: Vec<&str> = list(field(spec, "volumeClaimTemplates"))
            .iter()
            .map(|c| text(field(c, "metadata"), "name"))
            .collect();
        validate_pod_spec(pod_spec, "spec.template.spec", &claims, errs);
        let restart = field(pod_spec, "restartPolicy");
        if restart.as_str().is_some_and(|p| p != "Always") {
            errs.not_supported("spec.template.spec.restartPolicy", restart, &["Always"]);
        }
    }
    if gvk.kind == "Deployment" {
        validate_deployment_strategy(spec, errs);
    }
    if gvk.kind == "StatefulSet" {
        let policy = field(spec, "podManagementPolicy");
        if policy
            .as_str()
            .is_some_and(|p| p != "OrderedReady" && p != "Parallel")
        {
            errs.not_supported(
                "spec.podManagementPolicy",
                policy,
                &["OrderedReady", "Parallel"],
            );
        }
    }
    let Some(old) = old else {
        return;
    };
    let old_spec = field(old, "spec");
    let old_selector = field(old_spec, "selector");
    if old_selector.is_object() && selector != old_selector {
        errs.invalid("spec.selector", selector, "field is immutable");
    }
    if gvk.kind == "StatefulSet" {
        let strip = |spec: &Value| {
            let mut spec = spec.clone();
            if let Some(m) = spec.as_object_mut() {
                for key in [
                    "replicas",
                    "ordinals",
                    "template",
                    "updateStrategy",
                    "persistentVolumeClaimRetentionPolicy",
                    "minReadySeconds",
                ] {
                    m.remove(key);
                }
            }
            spec
        };
        if strip(spec) != strip(old_spec) {
            errs.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
        }
    }
}

fn percent_or_int_is_zero(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.trim_end_matches('%').parse::<f64>() == Ok(0.0),
        _ => false,
    }
}

fn validate_deployment_strategy(spec: &Value, errs: &mut Errors) {
    let strategy = field(spec, "strategy");
    let kind = field(strategy, "type");
    match kind.as_str() {
        Some("Recreate") => {
            if field(strategy, "rollingUpdate").is_object() {
                errs.forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
        }
        Some("RollingUpdate") | None => {
            let rolling = field(strategy, "rollingUpdate");
            if rolling.is_object()
                && percent_or_int_is_zero(field(rolling, "maxSurge"))
                && percent_or_int_is_zero(field(rolling, "maxUnavailable"))
            {
                errs.invalid(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    field(rolling, "maxUnavailable"),
                    "may not be 0 when `maxSurge` is 0",
                );
            }
        }
        Some(_) => errs.not_supported("spec.strategy.type", kind, &["Recreate", "RollingUpdate"]),
    }
    if let (Some(deadline), minimum) = (
        int(field(spec, "progressDeadlineSeconds")),
        int(field(spec, "minReadySeconds")).unwrap_or(0),
    ) {
        if deadline <= minimum {
            errs.invalid(
                "spec.progressDeadlineSeconds",
                &Value::from(deadline),
                "must be greater than minReadySeconds",
            );
        }
    }
}

fn validate_job_template(template: &Value, path: &str, errs: &mut Errors) {
    let pod_spec = field(template, "spec");
    validate_pod_spec(pod_spec, &format!("{path}.spec"), &[], errs);
    let restart = field(pod_spec, "restartPolicy");
    match restart.as_str() {
        Some("OnFailure" | "Never") => {}
        Some("Always") | None => errs.required(
            &format!("{path}.spec.restartPolicy"),
            "valid values: \"OnFailure\", \"Never\"",
        ),
        Some(_) => errs.not_supported(
            &format!("{path}.spec.restartPolicy"),
            restart,
            &["OnFailure", "Never"],
        ),
    }
}

fn validate_job(new: &Value, old: Option<&Value>, errs: &mut Errors) {
    let spec = field(new, "spec");
    for key in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
    ] {
        non_negative(field(spec, key), &format!("spec.{key}"), errs);
    }
    let template = field(spec, "template");
    if !template.is_object() {
        errs.required("spec.template", "");
    } else {
        validate_job_template(template, "spec.template", errs);
        let selector = field(spec, "selector");
        if selector.is_object()
            && !selector_matches(selector, field(field(template, "metadata"), "labels"))
        {
            errs.invalid(
                "spec.template.metadata.labels",
                field(field(template, "metadata"), "labels"),
                "`selector` does not match template `labels`",
            );
        }
    }
    let Some(old) = old else {
        return;
    };
    let old_spec = field(old, "spec");
    if field(old_spec, "selector").is_object()
        && field(spec, "selector") != field(old_spec, "selector")
    {
        errs.invalid(
            "spec.selector",
            field(spec, "selector"),
            "field is immutable",
        );
    }
    if field(spec, "template") != field(old_spec, "template") {
        errs.invalid(
            "spec.template",
            field(spec, "template"),
            "field is immutable",
        );
    }
    if field(spec, "completionMode") != field(old_spec, "completionMode") {
        errs.invalid(
            "spec.completionMode",
            field(spec, "completionMode"),
            "field is immutable",
        );
    }
}

fn validate_cron_job(new: &Value, errs: &mut Errors) {
    let spec = field(new, "spec");
    let schedule = text(spec, "schedule");
    if schedule.is_empty() {
        errs.required("spec.schedule", "");
    } else if !schedule.starts_with('@') && schedule.split_whitespace().count() != 5 {
        errs.invalid(
            "spec.schedule",
            field(spec, "schedule"),
            &format!(
                "expected exactly 5 fields, found {}: {schedule}",
                schedule.split_whitespace().count()
            ),
        );
    }
    let policy = field(spec, "concurrencyPolicy");
    if policy
        .as_str()
        .is_some_and(|p| !["Allow", "Forbid", "Replace"].contains(&p))
    {
        errs.not_supported(
            "spec.concurrencyPolicy",
            policy,
            &["Allow", "Forbid", "Replace"],
        );
    }
    let template = field(field(field(spec, "jobTemplate"), "spec"), "template");
    if !template.is_object() {
        errs.required("spec.jobTemplate.spec.template", "");
    } else {
        validate_job_template(template, "spec.jobTemplate.spec.template", errs);
    }
}

fn validate_service(new: &Value, old: Option<&Value>, errs: &mut Errors) {
    let spec = field(new, "spec");
    let kind = field(spec, "type");
    let type_name = kind.as_str().unwrap_or("ClusterIP");
    let supported = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !supported.contains(&type_name) {
        errs.not_supported("spec.type", kind, &supported);
    }
    let ports = list(field(spec, "ports"));
    let headless = text(spec, "clusterIP") == "None";
    if type_name == "ExternalName" {
        if text(spec, "externalName").is_empty() {
            errs.required("spec.externalName", "");
        }
    } else if ports.is_empty() && !headless {
        errs.required("spec.ports", "");
    }
    let mut names = BTreeSet::new();
    let mut seen_ports = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let ppath = format!("spec.ports[{i}]");
        let name = text(port, "name");
        if ports.len() > 1 && name.is_empty() {
            errs.required(&format!("{ppath}.name"), "");
        }
        if !name.is_empty() {
            for e in dns1123_label_errors(name) {
                errs.invalid(&format!("{ppath}.name"), &Value::String(name.into()), &e);
            }
            if !names.insert(name) {
                errs.duplicate(&format!("{ppath}.name"), &Value::String(name.into()));
            }
        }
        match int(field(port, "port")) {
            None => errs.required(&format!("{ppath}.port"), ""),
            Some(p) if !(1..=65535).contains(&p) => errs.invalid(
                &format!("{ppath}.port"),
                &Value::from(p),
                "must be between 1 and 65535, inclusive",
            ),
            Some(p) => {
                if !seen_ports.insert((p, text(port, "protocol").to_string())) {
                    errs.duplicate(
                        &format!("spec.ports[{i}]"),
                        &serde_json::json!({"port": p, "protocol": text(port, "protocol")}),
                    );
                }
            }
        }
        validate_protocol(field(port, "protocol"), &format!("{ppath}.protocol"), errs);
        match field(port, "targetPort") {
            Value::Number(n) => {
                let t = n.as_i64().unwrap_or(0);
                if !(1..=65535).contains(&t) {
                    errs.invalid(
                        &format!("{ppath}.targetPort"),
                        &Value::from(t),
                        "must be between 1 and 65535, inclusive",
                    );
                }
            }
            Value::String(s) => validate_port_name(s, &format!("{ppath}.targetPort"), errs),
            _ => {}
        }
        if let Some(node_port) = int(field(port, "nodePort")) {
            if type_name == "ClusterIP" && node_port != 0 {
                errs.forbidden(
                    &format!("{ppath}.nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                );
            } else if node_port != 0 && !(30000..=32767).contains(&node_port) {
                errs.invalid(
                    &format!("{ppath}.nodePort"),
                    &Value::from(node_port),
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                );
            }
        }
    }
    validate_labels(field(spec, "selector"), "spec.selector", errs);
    let Some(old) = old else {
        return;
    };
    let old_spec = field(old, "spec");
    let old_ip = text(old_spec, "clusterIP");
    let new_ip = text(spec, "clusterIP");
    // Switching to ExternalName releases the address; otherwise it is fixed once allocated.
    if !old_ip.is_empty() && !new_ip.is_empty() && old_ip != new_ip && type_name != "ExternalName" {
        errs.invalid(
            "spec.clusterIPs[0]",
            field(spec, "clusterIPs"),
            "may not change once set",
        );
    }
}

/// Carries the fields the registry allocated (cluster IPs, IP families, node ports) from the
/// live Service into an update that omits them, as the real registry does before validating.
pub fn carry_allocated_fields(gvk: &Gvk, old: &Value, new: &mut Value) {
    if !gvk.group.is_empty() || gvk.kind != "Service" {
        return;
    }
    let old_spec = field(old, "spec");
    let new_type = new
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if new_type == "ExternalName" {
        return;
    }
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for key in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        let missing = spec.get(key).is_none_or(|v| v.is_null() || v == "");
        if missing {
            if let Some(value) = old_spec.get(key) {
                spec.insert(key.into(), value.clone());
            }
        }
    }
    if matches!(new_type.as_str(), "NodePort" | "LoadBalancer") {
        let old_ports = list(field(old_spec, "ports"));
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for port in ports {
                let unset = port.get("nodePort").is_none_or(|p| p.is_null() || p == 0);
                if !unset {
                    continue;
                }
                let same = old_ports.iter().find(|o| {
                    o.get("port") == port.get("port")
                        && text(o, "protocol")
                            == port
                                .get("protocol")
                                .and_then(Value::as_str)
                                .unwrap_or("TCP")
                });
                if let (Some(node_port), Some(map)) = (
                    same.and_then(|o| o.get("nodePort")).cloned(),
                    port.as_object_mut(),
                ) {
                    map.insert("nodePort".into(), node_port);
                }
            }
        }
    }
}

fn validate_config_data(gvk: &Gvk, new: &Value, old: Option<&Value>, errs: &mut Errors) {
    static KEY: OnceLock<Regex> = OnceLock::new();
    let mut keys = BTreeSet::new();
    let mut size = 0usize;
    let second = if gvk.kind == "Secret" {
        "stringData"
    } else {
        "binaryData"
    };
    for section in ["data", second] {
        for (key, value) in field(new, section).as_object().into_iter().flatten() {
            let path = format!("{section}[{key}]");
            if key.len() > 253 {
                errs.invalid(
                    &path,
                    &Value::String(key.clone()),
                    "must be no more than 253 characters",
                );
            }
            if !regex(&KEY, &full(CONFIG_KEY)).is_match(key) {
                errs.invalid(&path, &Value::String(key.clone()), &format!("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '{CONFIG_KEY}')"));
            }
            if gvk.kind == "ConfigMap" && !keys.insert(key.clone()) {
                errs.invalid(
                    &path,
                    &Value::String(key.clone()),
                    "duplicate of key present in data",
                );
            }
            size += value.as_str().map_or(0, str::len);
        }
    }
    let limit = 1024 * 1024;
    if size > limit {
        let what = if gvk.kind == "Secret" { "data" } else { "" };
        errs.push(
            "FieldValueTooLong",
            what,
            format!("Too long: must have at most {limit} bytes"),
        );
    }
    if gvk.kind == "Secret" {
        validate_secret_type(new, errs);
    }
    let Some(old) = old else {
        return;
    };
    if gvk.kind == "Secret" && text(new, "type") != text(old, "type") {
        errs.invalid("type", field(new, "type"), "field is immutable");
    }
    if field(old, "immutable") == &Value::Bool(true) {
        if field(new, "immutable") != &Value::Bool(true) {
            errs.forbidden("immutable", "field is immutable when `immutable` is set");
        }
        let sections: &[&str] = if gvk.kind == "Secret" {
            &["data"]
        } else {
            &["data", "binaryData"]
        };
        for section in sections {
            if field(new, section) != field(old, section) {
                errs.forbidden(section, "field is immutable when `immutable` is set");
            }
        }
    }
}

fn validate_secret_type(secret: &Value, errs: &mut Errors) {
    let data = field(secret, "data");
    let has = |key: &str| data.get(key).is_some();
    match text(secret, "type") {
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    errs.required(&format!("data[{key}]"), "");
                }
            }
        }
        "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => {
            errs.required("data[.dockerconfigjson]", "");
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.required("data[username]", "");
        }
        "kubernetes.io/ssh-auth" if !has("ssh-privatekey") => {
            errs.required("data[ssh-privatekey]", "");
        }
        _ => {}
    }
}

fn validate_pvc(new: &Value, old: Option<&Value>, errs: &mut Errors) {
    let spec = field(new, "spec");
    if list(field(spec, "accessModes")).is_empty() {
        errs.required("spec.accessModes", "at least 1 access mode is required");
    }
    let supported = [
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOnce",
        "ReadWriteOncePod",
    ];
    for (i, mode) in list(field(spec, "accessModes")).iter().enumerate() {
        if mode.as_str().is_none_or(|m| !supported.contains(&m)) {
            errs.not_supported(&format!("spec.accessModes[{i}]"), mode, &supported);
        }
    }
    if spec.pointer("/resources/requests/storage").is_none()
        && field(spec, "dataSourceRef").is_null()
    {
        errs.required("spec.resources[storage]", "");
    }
    let Some(old) = old else {
        return;
    };
    let strip = |spec: &Value| {
        let mut spec = spec.clone();
        if let Some(m) = spec.as_object_mut() {
            m.remove("volumeAttributesClassName");
            if let Some(resources) = m.get_mut("resources").and_then(Value::as_object_mut) {
                resources.remove("requests");
            }
            // The binder fills volumeName on bind; that is not a user change.
            m.remove("volumeName");
        }
        spec
    };
    if strip(spec) != strip(field(old, "spec")) {
        errs.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
    }
}

fn validate_rules(new: &Value, errs: &mut Errors) {
    for (i, rule) in list(field(new, "rules")).iter().enumerate() {
        if list(field(rule, "verbs")).is_empty() {
            errs.required(
                &format!("rules[{i}].verbs"),
                "verbs must contain at least one value",
            );
        }
        let non_resource = !list(field(rule, "nonResourceURLs")).is_empty();
        if !non_resource && list(field(rule, "apiGroups")).is_empty() {
            errs.required(
                &format!("rules[{i}].apiGroups"),
                "resource rules must supply at least one api group",
            );
        }
    }
}

fn validate_binding(new: &Value, old: Option<&Value>, errs: &mut Errors) {
    let role_ref = field(new, "roleRef");
    let kind = field(role_ref, "kind");
    match kind.as_str() {
        Some("Role" | "ClusterRole") => {}
        None | Some("") => errs.required("roleRef.kind", ""),
        Some(_) => errs.not_supported("roleRef.kind", kind, &["ClusterRole", "Role"]),
    }
    if text(role_ref, "name").is_empty() {
        errs.required("roleRef.name", "");
    }
    for (i, subject) in list(field(new, "subjects")).iter().enumerate() {
        if text(subject, "name").is_empty() {
            errs.required(&format!("subjects[{i}].name"), "");
        }
        let kind = field(subject, "kind");
        if kind
            .as_str()
            .is_none_or(|k| !["Group", "ServiceAccount", "User"].contains(&k))
        {
            errs.not_supported(
                &format!("subjects[{i}].kind"),
                kind,
                &["ServiceAccount", "User", "Group"],
            );
        }
    }
    if let Some(old) = old {
        if field(old, "roleRef") != role_ref {
            errs.invalid("roleRef", role_ref, "cannot change roleRef");
        }
    }
}

fn validate_ingress(new: &Value, errs: &mut Errors) {
    let spec = field(new, "spec");
    for (i, rule) in list(field(spec, "rules")).iter().enumerate() {
        for (j, path) in list(field(field(rule, "http"), "paths")).iter().enumerate() {
            let ppath = format!("spec.rules[{i}].http.paths[{j}]");
            let path_type = field(path, "pathType");
            match path_type.as_str() {
                None => errs.required(&format!("{ppath}.pathType"), "pathType must be specified"),
                Some("Exact" | "Prefix" | "ImplementationSpecific") => {}
                Some(_) => errs.not_supported(
                    &format!("{ppath}.pathType"),
                    path_type,
                    &["Exact", "ImplementationSpecific", "Prefix"],
                ),
            }
            let p = text(path, "path");
            if path_type.as_str() != Some("ImplementationSpecific") && !p.starts_with('/') {
                errs.invalid(
                    &format!("{ppath}.path"),
                    field(path, "path"),
                    "must be an absolute path",
                );
            }
            if !field(path, "backend").is_object() {
                errs.required(&format!("{ppath}.backend"), "");
            }
        }
    }
}

fn validate_pdb(new: &Value, errs: &mut Errors) {
    let spec = field(new, "spec");
    if !field(spec, "minAvailable").is_null() && !field(spec, "maxUnavailable").is_null() {
        errs.invalid(
            "spec",
            spec,
            "minAvailable and maxUnavailable cannot be both set",
        );
    }
}

fn validate_hpa(new: &Value, errs: &mut Errors) {
    let spec = field(new, "spec");
    let target = field(spec, "scaleTargetRef");
    if text(target, "kind").is_empty() {
        errs.required("spec.scaleTargetRef.kind", "");
    }
    if text(target, "name").is_empty() {
        errs.required("spec.scaleTargetRef.name", "");
    }
    let max = int(field(spec, "maxReplicas"));
    match max {
        None => errs.required("spec.maxReplicas", ""),
        Some(m) if m < 1 => errs.invalid(
            "spec.maxReplicas",
            &Value::from(m),
            "must be greater than or equal to 1",
        ),
        _ => {}
    }
    if let (Some(min), Some(max)) = (int(field(spec, "minReplicas")), max) {
        if min > max {
            errs.invalid(
                "spec.maxReplicas",
                &Value::from(max),
                "must be greater than or equal to `minReplicas`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gvk(group: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
        }
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    }

    fn lines(causes: &[Cause]) -> Vec<String> {
        causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect()
    }

    #[test]
    fn a_valid_deployment_passes() {
        assert_eq!(
            validate(&gvk("apps", "Deployment"), &deployment(), None),
            vec![]
        );
    }

    #[test]
    fn selector_must_match_template_labels() {
        let mut d = deployment();
        d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
        let causes = validate(&gvk("apps", "Deployment"), &d, None);
        assert_eq!(
            lines(&causes),
            vec!["spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"]
        );
        assert_eq!(causes[0].reason, "FieldValueInvalid");
        assert_eq!(
            invalid_message(&gvk("apps", "Deployment"), "web", &causes),
            "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn containers_need_names_and_images() {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"] = json!([{"image": "x"}, {"name": "b"}]);
        assert_eq!(
            lines(&validate(&gvk("apps", "Deployment"), &d, None)),
            vec![
                "spec.template.spec.containers[0].name: Required value",
                "spec.template.spec.containers[1].image: Required value",
            ]
        );
        d["spec"]["template"]["spec"]["containers"] = json!([]);
        assert_eq!(
            lines(&validate(&gvk("apps", "Deployment"), &d, None)),
            vec!["spec.template.spec.containers: Required value"]
        );
    }

    #[test]
    fn deployment_selector_is_immutable_and_replicas_non_negative() {
        let old = deployment();
        let mut new = deployment();
        new["spec"]["selector"] = json!({"matchLabels": {"app": "web", "tier": "x"}});
        new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("x");
        new["spec"]["replicas"] = json!(-1);
        assert_eq!(
            lines(&validate(&gvk("apps", "Deployment"), &new, Some(&old))),
            vec![
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: field is immutable",
            ]
        );
    }

    #[test]
    fn names_follow_dns_rules() {
        let mut d = deployment();
        d["metadata"]["name"] = json!("Web_1");
        let causes = validate(&gvk("apps", "Deployment"), &d, None);
        assert_eq!(causes.len(), 1);
        assert!(causes[0]
            .message
            .starts_with("Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain"));
        let svc = json!({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}});
        let causes = validate(&gvk("", "Service"), &svc, None);
        assert!(causes[0].message.contains("DNS-1035 label"), "{causes:?}");
        let ns = json!({"metadata": {"name": "a.b"}});
        assert!(validate(&gvk("", "Namespace"), &ns, None)[0]
            .message
            .contains("RFC 1123 label"));
        let role = json!({"metadata": {"name": "system:controller"}, "rules": []});
        assert_eq!(
            validate(
                &gvk("rbac.authorization.k8s.io", "ClusterRole"),
                &role,
                None
            ),
            vec![]
        );
    }

    #[test]
    fn service_ports() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"ports": [
            {"name": "http", "port": 0}, {"port": 70000, "protocol": "tcp"}]}});
        assert_eq!(
            lines(&validate(&gvk("", "Service"), &svc, None)),
            vec![
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].name: Required value",
                "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[1].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ]
        );
        let no_ports = json!({"metadata": {"name": "web"}, "spec": {}});
        assert_eq!(
            lines(&validate(&gvk("", "Service"), &no_ports, None)),
            vec!["spec.ports: Required value"]
        );
        let no_port_number =
            json!({"metadata": {"name": "web"}, "spec": {"ports": [{"name": "x"}]}});
        assert_eq!(
            lines(&validate(&gvk("", "Service"), &no_port_number, None)),
            vec!["spec.ports[0].port: Required value"]
        );
    }

    #[test]
    fn service_cluster_ip_is_fixed_once_set() {
        let old = json!({"metadata": {"name": "web"}, "spec": {"clusterIP": "10.96.0.5",
            "clusterIPs": ["10.96.0.5"], "ports": [{"port": 80, "protocol": "TCP"}], "type": "NodePort"}});
        old.pointer("/spec/ports/0").expect("port");
        let mut old = old;
        old["spec"]["ports"][0]["nodePort"] = json!(30080);
        let mut new = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort",
            "ports": [{"port": 80, "protocol": "TCP"}]}});
        carry_allocated_fields(&gvk("", "Service"), &old, &mut new);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.5");
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(validate(&gvk("", "Service"), &new, Some(&old)), vec![]);
        new["spec"]["clusterIP"] = json!("10.96.0.9");
        new["spec"]["clusterIPs"] = json!(["10.96.0.9"]);
        assert_eq!(
            lines(&validate(&gvk("", "Service"), &new, Some(&old))),
            vec!["spec.clusterIPs[0]: Invalid value: [\"10.96.0.9\"]: may not change once set"]
        );
    }

    #[test]
    fn job_rules() {
        let job = json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {
            "containers": [{"name": "pi", "image": "perl"}]}}}});
        assert_eq!(
            lines(&validate(&gvk("batch", "Job"), &job, None)),
            vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
        );
        let mut ok = job.clone();
        ok["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(validate(&gvk("batch", "Job"), &ok, None), vec![]);
        let mut changed = ok.clone();
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:2");
        assert_eq!(
            validate(&gvk("batch", "Job"), &changed, Some(&ok))[0].field,
            "spec.template"
        );
    }

    #[test]
    fn immutable_config_data_and_pvc_spec() {
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let mut new = old.clone();
        new["data"]["a"] = json!("2");
        assert_eq!(
            lines(&validate(&gvk("", "ConfigMap"), &new, Some(&old))),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );
        let bad_key = json!({"metadata": {"name": "c"}, "data": {"a/b": "1"}});
        assert!(validate(&gvk("", "ConfigMap"), &bad_key, None)[0]
            .message
            .contains("a valid config key"));
        let pvc = json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"}});
        assert_eq!(
            validate(&gvk("", "PersistentVolumeClaim"), &pvc, None),
            vec![]
        );
        let mut bigger = pvc.clone();
        bigger["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert_eq!(
            validate(&gvk("", "PersistentVolumeClaim"), &bigger, Some(&pvc)),
            vec![]
        );
        let mut modes = pvc.clone();
        modes["spec"]["accessModes"] = json!(["ReadWriteMany"]);
        assert_eq!(
            validate(&gvk("", "PersistentVolumeClaim"), &modes, Some(&pvc))[0].field,
            "spec"
        );
    }

    #[test]
    fn stateful_set_spec_is_mostly_immutable() {
        let old = json!({"metadata": {"name": "db"}, "spec": {"serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}});
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(3);
        let sts = gvk("apps", "StatefulSet");
        assert_eq!(validate(&sts, &scaled, Some(&old)), vec![]);
        let mut with_claim = old.clone();
        with_claim["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] =
            json!([{"name": "data", "mountPath": "/data"}]);
        with_claim["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "data"}}]);
        assert_eq!(validate(&sts, &with_claim, None), vec![]);
        let mut renamed = old.clone();
        renamed["spec"]["serviceName"] = json!("other");
        assert_eq!(
            validate(&sts, &renamed, Some(&old))[0].reason,
            "FieldValueForbidden"
        );
    }

    #[test]
    fn unknown_fields_are_named_like_strict_decoding() {
        let mut d = deployment();
        d["spec"]["replica"] = json!(2);
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = json!("Always");
        d["metadata"]["labels"] = json!({"anything": "goes"});
        assert_eq!(
            unknown_fields(&gvk("apps", "Deployment"), &d),
            vec![
                "spec.replica",
                "spec.template.spec.containers[0].imagePullPolice"
            ]
        );
        assert!(unknown_fields(&gvk("apps", "Deployment"), &deployment()).is_empty());
        let mut dropped = d.clone();
        drop_unknown_fields(&gvk("apps", "Deployment"), &mut dropped);
        let mut expected = d.clone();
        expected["spec"]
            .as_object_mut()
            .map(|m| m.remove("replica"));
        expected["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .map(|m| m.remove("imagePullPolice"));
        assert_eq!(dropped, expected);
        let cr = json!({"spec": {"whatever": 1}});
        assert!(unknown_fields(&gvk("example.com", "Widget"), &cr).is_empty());
    }
}

#[cfg(test)]
mod name_rule_tests {
    use super::*;

    #[test]
    fn name_rules_word_their_problems_as_apimachinery_does() {
        assert!(dns1123_label_errors("web-1").is_empty());
        assert_eq!(
            dns1123_label_errors(&"a".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert_eq!(
            dns1123_subdomain_errors("Web"),
            vec!["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()]
        );
        assert_eq!(
            dns1035_label_errors("1abc"),
            vec!["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string()]
        );
        assert_eq!(
            qualified_name_errors("example.com/-x"),
            vec!["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_string()]
        );
        assert!(label_value_errors("").is_empty());
        assert_eq!(label_value_errors("x-").len(), 1);
    }
}
