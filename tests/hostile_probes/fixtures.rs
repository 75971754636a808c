//! Small charts the probes break in one place each.

/// Planted in values (as a password) by every fixture: it must never show in an error.
pub const SECRET: &str = "Pr0be-S3cret-Value-7731";

pub type Files = Vec<(String, Vec<u8>)>;

/// A Go-template chart in folder `c`: a ConfigMap from `.Values.a` plus `extra` templates.
pub fn go_chart(values: &str, extra: &[(&str, &str)]) -> Files {
    let mut files = vec![
        (
            "c/Chart.yaml".to_string(),
            b"apiVersion: v2\nname: c\nversion: 0.1.0\n".to_vec(),
        ),
        ("c/values.yaml".to_string(), values.as_bytes().to_vec()),
        (
            "c/templates/cm.yaml".to_string(),
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  a: {{ .Values.a | quote }}\n".to_vec(),
        ),
    ];
    for (name, text) in extra {
        files.push((format!("c/templates/{name}"), text.as_bytes().to_vec()));
    }
    files
}

/// The default values of the fixtures: a plain value, a list, and a password.
pub fn default_values() -> String {
    format!("a: 1\nlist: [1, 2]\nm: {{k: v}}\npassword: {SECRET}\n")
}

/// A Tera chart in folder `t`, like [`go_chart`].
pub fn tera_chart(values: &str, extra: &[(&str, &str)]) -> Files {
    let mut files = vec![
        (
            "t/Chart.yaml".to_string(),
            b"apiVersion: v2\nname: t\nversion: 0.1.0\nengine: tera\n".to_vec(),
        ),
        ("t/values.yaml".to_string(), values.as_bytes().to_vec()),
        (
            "t/templates/cm.yaml".to_string(),
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}-cm\ndata:\n  a: \"{{ Values.a }}\"\n".to_vec(),
        ),
    ];
    for (name, text) in extra {
        files.push((format!("t/templates/{name}"), text.as_bytes().to_vec()));
    }
    files
}
