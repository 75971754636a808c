//! `values.schema.json` checks after composing, for the chart and each enabled subchart (whose
//! schema sees the values below its key), reporting every violation at once.
//!
//! The draft comes from the schema's `$schema` (draft-07 and 2020-12 both work; none means
//! 2020-12). Violations read as `.image.tag: expected string, got integer`, paths from the top
//! of the release's values so that subchart violations point at the key a user would edit.

use serde_json::{Map, Value};

use crate::chart::Chart;

/// A schema that could not be compiled, or values that violate schemas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("{chart}: values.schema.json is not a valid JSON Schema: {message}")]
    InvalidSchema { chart: String, message: String },
    #[error("values don't meet the schema:\n{}", violations.iter().map(|v| format!("  {v}")).collect::<Vec<_>>().join("\n"))]
    Violations { violations: Vec<String> },
}

/// Checks `values` against the chart's schema and, recursively, each subchart's.
pub fn validate(chart: &Chart, values: &Map<String, Value>) -> Result<(), SchemaError> {
    validate_value(chart, &Value::Object(values.clone()), None)
}

/// Validators compiled ahead of time (see [`compile_all`]), found again by their schema.
pub struct Compiled<'c> {
    entries: Vec<(&'c Value, Result<jsonschema::Validator, String>)>,
}

impl Compiled<'_> {
    fn find(&self, schema: &Value) -> Option<&Result<jsonschema::Validator, String>> {
        self.entries
            .iter()
            .find(|(s, _)| *s == schema)
            .map(|(_, compiled)| compiled)
    }
}

/// Whether `chart` or any subchart has a `values.schema.json`.
pub fn has_schema(chart: &Chart) -> bool {
    chart.schema.is_some() || chart.dependencies.iter().any(has_schema)
}

/// Compiles the schema of `chart` and of every subchart, so that compiling (the costly part)
/// can run while values are still being composed.
pub fn compile_all(chart: &Chart) -> Compiled<'_> {
    fn walk<'c>(chart: &'c Chart, out: &mut Compiled<'c>) {
        if let Some(schema) = &chart.schema {
            out.entries.push((schema, compile(schema)));
        }
        for sub in &chart.dependencies {
            walk(sub, out);
        }
    }
    let mut out = Compiled {
        entries: Vec::new(),
    };
    walk(chart, &mut out);
    out
}

fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| e.to_string())
}

/// [`validate`] for values already held as a JSON object (no copy of them is made), with
/// validators from [`compile_all`] when there are some.
pub fn validate_value(
    chart: &Chart,
    values: &Value,
    compiled: Option<&Compiled<'_>>,
) -> Result<(), SchemaError> {
    let mut violations = Vec::new();
    collect(chart, values, "", compiled, &mut violations)?;
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Violations { violations })
    }
}

fn collect(
    chart: &Chart,
    values: &Value,
    prefix: &str,
    compiled: Option<&Compiled<'_>>,
    out: &mut Vec<String>,
) -> Result<(), SchemaError> {
    if let Some(schema) = &chart.schema {
        let here;
        let validator = match compiled.and_then(|c| c.find(schema)) {
            Some(found) => found,
            None => {
                here = compile(schema);
                &here
            }
        };
        let validator = validator
            .as_ref()
            .map_err(|message| SchemaError::InvalidSchema {
                chart: chart.name().to_string(),
                message: message.clone(),
            })?;
        for error in validator.iter_errors(values) {
            let path = format!("{prefix}{}", dotted(&error.instance_path().to_string()));
            let path = if path.is_empty() {
                ".".to_string()
            } else {
                path
            };
            out.push(format!("{path}: {}", describe(&error)));
        }
    }
    for sub in &chart.dependencies {
        let sub_prefix = format!("{prefix}.{}", sub.name());
        match values.get(sub.name()) {
            None | Some(Value::Null) => {}
            Some(sub_values @ Value::Object(_)) => {
                collect(sub, sub_values, &sub_prefix, compiled, out)?
            }
            Some(other) => out.push(format!(
                "{sub_prefix}: expected object (the values of subchart {}), got {}",
                sub.name(),
                json_type(other)
            )),
        }
    }
    Ok(())
}

/// `/image/tag` (a JSON pointer) as `.image.tag`.
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|part| format!(".{}", part.replace("~1", "/").replace("~0", "~")))
        .collect()
}

/// What rule a value broke, with the schema's numbers and the value's type, length or count —
/// never the value itself, which may be a password (Helm 4 prints `maxLength: got 8, want 3`).
/// Schema-given values (enum options, const) and property names may show; user values never.
fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let instance = error.instance();
    let count = || match instance.as_ref() {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        Value::String(s) => s.chars().count(),
        _ => 0,
    };
    let names = |list: &[String]| {
        list.iter()
            .map(|name| format!("{name:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match error.kind() {
        K::Type {
            kind: TypeKind::Single(expected),
        } => format!("expected {expected}, got {}", json_type(instance.as_ref())),
        K::Type {
            kind: TypeKind::Multiple(expected),
        } => format!(
            "expected one of {}, got {}",
            expected
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            json_type(instance.as_ref())
        ),
        K::AdditionalProperties { unexpected } => {
            format!("additionalProperties: {} not allowed", names(unexpected))
        }
        K::UnevaluatedProperties { unexpected } => {
            format!("unevaluatedProperties: {} not allowed", names(unexpected))
        }
        K::UnevaluatedItems { unexpected } => {
            format!("unevaluatedItems: {} items not allowed", unexpected.len())
        }
        K::FalseSchema => "not allowed here (the schema is `false`)".to_string(),
        K::Required { property } => format!("missing property {property}"),
        K::MaxLength { limit } => format!("maxLength: got {}, want {limit}", count()),
        K::MinLength { limit } => format!("minLength: got {}, want {limit}", count()),
        K::MaxItems { limit } => format!("maxItems: got {}, want {limit}", count()),
        K::MinItems { limit } => format!("minItems: got {}, want {limit}", count()),
        K::MaxProperties { limit } => format!("maxProperties: got {}, want {limit}", count()),
        K::MinProperties { limit } => format!("minProperties: got {}, want {limit}", count()),
        K::AdditionalItems { limit } => format!(
            "additionalItems: want at most {limit} items, got {}",
            count()
        ),
        K::Maximum { limit } => format!("maximum: must be at most {limit}"),
        K::Minimum { limit } => format!("minimum: must be at least {limit}"),
        K::ExclusiveMaximum { limit } => format!("exclusiveMaximum: must be less than {limit}"),
        K::ExclusiveMinimum { limit } => format!("exclusiveMinimum: must be more than {limit}"),
        K::MultipleOf { multiple_of } => format!("multipleOf: must be a multiple of {multiple_of}"),
        K::Enum { options } => format!("enum: must be one of {options}"),
        K::Constant { expected_value } => format!("const: must be {expected_value}"),
        K::Pattern { pattern } => format!("pattern: does not match {pattern:?}"),
        K::Format { format } => format!("format: not a valid {format}"),
        K::UniqueItems => "uniqueItems: items are not unique".to_string(),
        K::Contains => "contains: no item matches".to_string(),
        K::Not { .. } => "not: matches the schema it must not match".to_string(),
        K::AnyOf { context } => {
            format!("anyOf: matches none of the {} alternatives", context.len())
        }
        K::OneOfNotValid { context } => {
            format!("oneOf: matches none of the {} alternatives", context.len())
        }
        K::OneOfMultipleValid { .. } => "oneOf: matches more than one alternative".to_string(),
        K::PropertyNames { error } => format!("propertyNames: {}", describe(error)),
        K::ContentEncoding { content_encoding } => {
            format!("contentEncoding: not valid {content_encoding}")
        }
        K::ContentMediaType { content_media_type } => {
            format!("contentMediaType: not valid {content_media_type}")
        }
        K::FromUtf8 { .. } => "contentEncoding: the decoded bytes are not UTF-8".to_string(),
        other => format!("{}: the value does not meet it", other.keyword()),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chart_with(schema: Value) -> Chart {
        let mut c = Chart::default();
        c.metadata.name = "web".into();
        c.schema = Some(schema);
        c
    }

    #[test]
    fn reports_every_violation_with_its_path() {
        let c = chart_with(json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "required": ["name"],
            "properties": {
                "image": {"type": "object", "properties": {"tag": {"type": "string"}}},
                "replicas": {"type": "integer", "minimum": 1}
            }
        }));
        let values = json!({"image": {"tag": 20261126}, "replicas": 0});
        let err = validate(&c, values.as_object().unwrap()).unwrap_err();
        let SchemaError::Violations { violations } = &err else {
            panic!("{err}")
        };
        assert_eq!(violations.len(), 3, "{violations:?}");
        assert!(violations.contains(&".image.tag: expected string, got integer".to_string()));
        assert!(violations.iter().any(|v| v.starts_with(".replicas: ")));
        assert!(violations
            .iter()
            .any(|v| v.starts_with(".: ") && v.contains("name")));
    }

    #[test]
    fn supports_2020_12_and_subchart_schemas() {
        let mut sub = chart_with(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"port": {"type": "integer"}}
        }));
        sub.metadata.name = "db".into();
        let mut top = Chart::default();
        top.metadata.name = "top".into();
        top.dependencies.push(sub);
        let err = validate(&top, json!({"db": {"port": "x"}}).as_object().unwrap()).unwrap_err();
        assert!(
            err.to_string()
                .contains(".db.port: expected integer, got string"),
            "{err}"
        );
        assert!(validate(&top, json!({"db": {"port": 5}}).as_object().unwrap()).is_ok());
    }

    #[test]
    fn whole_float64_numbers_of_helm_charts_are_integers() {
        let c = chart_with(json!({"properties": {"replicas": {"type": "integer"}}}));
        let values = strvals_float(json!({"replicas": 3}));
        assert!(values["replicas"].is_f64());
        assert!(validate(&c, values.as_object().unwrap()).is_ok());
        let err = validate(
            &c,
            strvals_float(json!({"replicas": 2.5})).as_object().unwrap(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(".replicas: expected integer, got number"),
            "{err}"
        );
    }

    fn strvals_float(v: Value) -> Value {
        crate::values::strvals::to_float64(v)
    }

    #[test]
    fn formats_are_asserted_only_up_to_draft_07_as_in_helm() {
        let with = |draft: Option<&str>| {
            let mut schema = json!({"properties": {"mail": {"type": "string", "format": "email"}}});
            if let Some(d) = draft {
                schema["$schema"] = json!(d);
            }
            let values = json!({"mail": "not-an-email"});
            validate(&chart_with(schema), values.as_object().unwrap()).is_ok()
        };
        assert!(!with(Some("http://json-schema.org/draft-07/schema#")));
        assert!(with(Some("https://json-schema.org/draft/2020-12/schema")));
        assert!(with(None));
    }

    #[test]
    fn precompiled_schemas_give_the_same_verdicts() {
        let mut sub = chart_with(json!({"properties": {"port": {"type": "integer"}}}));
        sub.metadata.name = "db".into();
        let mut broken = chart_with(json!({"type": 5}));
        broken.metadata.name = "broken".into();
        let mut top = chart_with(json!({"required": ["name"]}));
        top.dependencies.push(sub);
        top.dependencies.push(broken);
        let compiled = compile_all(&top);
        for values in [
            json!({"name": "x", "db": {"port": "x"}}),
            json!({"db": {"port": 1}}),
            json!({"name": "x", "db": {"port": 1}}),
            json!({"name": "x", "broken": {}}),
        ] {
            assert_eq!(
                validate_value(&top, &values, Some(&compiled)),
                validate_value(&top, &values, None),
                "{values}"
            );
        }
        let err = validate_value(&top, &json!({"broken": {}}), Some(&compiled)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("broken: values.schema.json is not a valid"),
            "{err}"
        );
    }

    /// Every kind of violation names its rule, and none shows the value (it may be a password).
    #[test]
    fn violations_never_show_the_value() {
        let secret = "SECRET-hunter2";
        let c = chart_with(json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "maxlen": {"type": "string", "maxLength": 3},
                "minlen": {"type": "string", "minLength": 30},
                "pattern": {"type": "string", "pattern": "^[0-9]+$"},
                "enumed": {"enum": ["a", "b"]},
                "constant": {"const": "x"},
                "typed": {"type": "integer"},
                "multi": {"type": ["integer", "boolean"]},
                "mail": {"type": "string", "format": "email"},
                "notted": {"not": {"type": "string"}},
                "any": {"anyOf": [{"type": "integer"}, {"maxLength": 2}]},
                "one": {"oneOf": [{"type": "string"}, {"minLength": 1}]},
                "list": {"type": "array", "maxItems": 1, "uniqueItems": true, "contains": {"const": 1}},
                "obj": {"type": "object", "maxProperties": 0, "propertyNames": {"maxLength": 2}},
                "nothing": false
            }
        }));
        let values = json!({
            "maxlen": secret, "minlen": secret, "pattern": secret, "enumed": secret,
            "constant": secret, "typed": secret, "multi": secret, "mail": secret,
            "notted": secret, "any": secret, "one": secret,
            "list": [secret, secret], "obj": {secret: secret}, "nothing": secret,
            "extra": secret
        });
        let err = validate(&c, values.as_object().unwrap())
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        for rule in [
            ".maxlen: maxLength: got 14, want 3",
            ".minlen: minLength: got 14, want 30",
            ".pattern: pattern: does not match \"^[0-9]+$\"",
            ".enumed: enum: must be one of [\"a\",\"b\"]",
            ".constant: const: must be \"x\"",
            ".typed: expected integer, got string",
            ".multi: expected one of",
            ".mail: format: not a valid email",
            ".notted: not:",
            ".any: anyOf: matches none of the 2 alternatives",
            ".one: oneOf: matches more than one alternative",
            ".list: maxItems: got 2, want 1",
            ".list: uniqueItems",
            ".list: contains",
            ".obj: maxProperties: got 1, want 0",
            ".obj: propertyNames: maxLength: got 14, want 2",
            ".nothing: not allowed here",
            ".: additionalProperties: \"extra\" not allowed",
        ] {
            assert!(err.contains(rule), "{rule:?} missing from:\n{err}");
        }
    }

    #[test]
    fn invalid_schema_is_reported() {
        let c = chart_with(json!({"type": 5}));
        assert!(matches!(
            validate(&c, &Map::new()),
            Err(SchemaError::InvalidSchema { .. })
        ));
    }
}
