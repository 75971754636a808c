//! Helm's release storage, exactly: one Secret per revision.
//!
//! Secret `sh.helm.release.v1.NAME.vREV` of type `helm.sh/release.v1`, labels `name`,
//! `owner=helm`, `status`, `version` (plus `createdAt` on create, `modifiedAt` on update, and the
//! user's `--labels`), data `release` = base64(gzip(JSON)) with Helm 4's field names and Go's JSON
//! encoding (struct field order, sorted map keys, `<>&` escaped, numbers without `.0`). Helm
//! reads what rudder writes and the other way round.
//!
//! rudder adds annotations (ignored by Helm) on pending revisions: who holds the release's lock
//! and a heartbeat, so that a revision left pending by a killed process can be taken over.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::chart::Chart;

/// Secret type of Helm 3/4 release records.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// Labels Helm reserves on release Secrets; `--labels` may not set them.
pub const SYSTEM_LABELS: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];
/// Annotation naming the process holding a pending revision (`rudder pid 42 on host ci-7`).
pub const LOCK_HOLDER: &str = "rudder.dev/lock-holder";
/// Annotation: when the holder started (RFC 3339).
pub const LOCK_SINCE: &str = "rudder.dev/lock-since";
/// Annotation: the holder's last sign of life (RFC 3339).
pub const LOCK_HEARTBEAT: &str = "rudder.dev/lock-heartbeat";
/// Annotation: seconds without a heartbeat after which the pending revision may be taken over.
pub const LOCK_TIMEOUT: &str = "rudder.dev/lock-timeout-seconds";

/// A release status, as Helm spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    #[default]
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
}

impl Status {
    /// Helm's spelling (`pending-upgrade`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }

    /// Whether an operation is (or was, if its process died) in progress.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }

    /// Whether a revision in this status holds the release's lock: a pending revision, or the
    /// latest one while an uninstall deletes its objects.
    pub fn holds_lock(self) -> bool {
        self.is_pending() || self == Status::Uninstalling
    }

    /// The operation a lock-holding status belongs to, capitalised for descriptions.
    pub fn operation(self) -> &'static str {
        match self {
            Status::PendingInstall => "Install",
            Status::PendingRollback => "Rollback",
            Status::Uninstalling => "Uninstall",
            _ => "Upgrade",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn empty_string_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    Ok(value.filter(|s| !s.is_empty()))
}

/// `info` of a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// RFC 3339 with nanoseconds, as Go writes `time.Time`.
    #[serde(
        default,
        deserialize_with = "empty_string_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_deployed: Option<String>,
    #[serde(
        default,
        deserialize_with = "empty_string_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_deployed: Option<String>,
    #[serde(
        default,
        deserialize_with = "empty_string_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted: Option<String>,
    // Helm 3 wrote `Description`; Helm 4 writes `description`.
    #[serde(
        default,
        alias = "Description",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rollback_revision: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A chart file as stored: name and base64 data (Go `[]byte`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    pub name: String,
    /// Base64 of the file's bytes.
    #[serde(default)]
    pub data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modtime: Option<String>,
}

impl StoredFile {
    /// The file's bytes (empty when the stored base64 is damaged).
    pub fn bytes(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.data)
            .unwrap_or_default()
    }
}

/// Go's zero `time.Time`, which Helm writes for a chart's `schemamodtime` when unset.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn go_zero_time() -> Value {
    Value::String(GO_ZERO_TIME.to_string())
}

/// The top-level chart as Helm stores it (subcharts are not stored; their output is in the
/// manifest). Metadata and lock stay JSON so a Helm-written release survives a rollback intact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredChart {
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub lock: Value,
    #[serde(default)]
    pub templates: Option<Vec<StoredFile>>,
    #[serde(default)]
    pub values: Value,
    /// Base64 of values.schema.json, or null.
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default = "go_zero_time")]
    pub schemamodtime: Value,
    #[serde(default)]
    pub files: Option<Vec<StoredFile>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modtime: Option<String>,
}

impl StoredChart {
    /// Stores a loaded chart the way Helm's `chart.Chart` serialises.
    pub fn from_chart(chart: &Chart) -> StoredChart {
        let b64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
        let file = |f: &crate::chart::ChartFile| StoredFile {
            name: f.name.clone(),
            data: b64(&f.data),
            modtime: None,
        };
        StoredChart {
            metadata: serde_json::to_value(&chart.metadata).unwrap_or(Value::Null),
            lock: chart.lock.clone().unwrap_or(Value::Null),
            templates: Some(chart.templates.iter().map(file).collect()),
            values: match &chart.values {
                Value::Object(_) => chart.values.clone(),
                _ => Value::Object(Map::new()),
            },
            schema: chart
                .schema
                .as_ref()
                .and_then(|s| serde_json::to_vec_pretty(s).ok())
                .map(|bytes| b64(&bytes)),
            schemamodtime: go_zero_time(),
            files: Some(chart.files.iter().map(file).collect()),
            modtime: None,
        }
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata["name"].as_str().unwrap_or_default()
    }

    /// `metadata.version`.
    pub fn version(&self) -> &str {
        self.metadata["version"].as_str().unwrap_or_default()
    }

    /// `metadata.appVersion`.
    pub fn app_version(&self) -> &str {
        self.metadata["appVersion"].as_str().unwrap_or_default()
    }

    /// `NAME-VERSION`, as Helm's tables show the chart.
    pub fn name_version(&self) -> String {
        format!("{}-{}", self.name(), self.version())
    }
}

/// When a hook last ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(
        default,
        deserialize_with = "empty_string_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<String>,
    #[serde(
        default,
        deserialize_with = "empty_string_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<String>,
    /// `Unknown`, `Running`, `Succeeded`, `Failed`, or empty when it never ran.
    #[serde(default)]
    pub phase: String,
}

/// A hook as Helm stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookExecution,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_log_policies: Vec<String>,
}

/// One revision of a release, field for field as Helm 4's `release.Release`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<StoredChart>,
    /// User-supplied values only.
    #[serde(default, skip_serializing_if = "map_is_empty")]
    pub config: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Labels of the storage Secret other than Helm's system labels (`--labels`).
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    /// `ssa` (rudder always applies server-side) or `csa` for Helm 3-style releases.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub apply_method: String,
}

fn map_is_empty(m: &Option<Map<String, Value>>) -> bool {
    m.as_ref().is_none_or(Map::is_empty)
}

impl Release {
    /// `info`, created on first use.
    pub fn info_mut(&mut self) -> &mut Info {
        self.info.get_or_insert_with(Info::default)
    }

    /// The status (unknown without `info`).
    pub fn status(&self) -> Status {
        self.info.as_ref().map(|i| i.status).unwrap_or_default()
    }

    /// Sets status and description, as Helm's `SetStatus`.
    /// The description is stored on one line (see [`one_line`]), as Helm's are: `history`
    /// prints it in a table.
    pub fn set_status(&mut self, status: Status, description: impl Into<String>) {
        let info = self.info_mut();
        info.status = status;
        info.description = one_line(&description.into());
    }

    /// The user-supplied values as a JSON object (empty when none).
    pub fn config_value(&self) -> Value {
        Value::Object(self.config.clone().unwrap_or_default())
    }

    /// Name of the Secret storing this revision.
    pub fn secret_name(&self) -> String {
        secret_name(&self.name, self.version)
    }
}

/// `sh.helm.release.v1.NAME.vREV`.
pub fn secret_name(name: &str, version: u64) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// The current time as Go's `time.Time` marshals it (RFC 3339, trailing zeros of the
/// nanoseconds trimmed, `Z` for UTC).
pub fn now_go() -> String {
    go_time(chrono::Utc::now())
}

/// Formats a UTC time as Go's `time.Time.MarshalJSON` does.
pub fn go_time(t: chrono::DateTime<chrono::Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos == 0 {
        format!("{base}Z")
    } else {
        let digits = format!("{nanos:09}");
        format!("{base}.{}Z", digits.trim_end_matches('0'))
    }
}

/// Parses a stored time (any RFC 3339 offset).
pub fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A release record that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The Secret's payload is not a release.
    #[error("release record {secret} is damaged: {message}")]
    Corrupt { secret: String, message: String },
}

/// Serialises like Go's `encoding/json`: HTML-sensitive characters escaped and floats that are
/// whole numbers without a fraction, large or tiny ones in Go's exponent form.
struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()> {
        writer.write_all(go_float(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> std::io::Result<()> {
        writer.write_all(go_float(f64::from(value)).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            let escape = match ch {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` does in `encoding/json`.
fn go_float(value: f64) -> String {
    if !value.is_finite() {
        // JSON has no such numbers; Go refuses them. Values from YAML never hold them.
        return "null".to_string();
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go: shortest digits in exponent form; positive exponents have at least two digits
        // (1e+21), negative ones lose strconv's padding zero (encoding/json turns 1e-07 into 1e-7).
        let text = format!("{value:e}");
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        return match exp.strip_prefix('-') {
            Some(digits) => format!("{mantissa}e-{digits}"),
            None if exp.len() < 2 => format!("{mantissa}e+0{exp}"),
            None => format!("{mantissa}e+{exp}"),
        };
    }
    // Rust's Display prints the shortest round-trip digits without an exponent, as Go's 'f'.
    let text = format!("{value}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// Serialises a value to JSON the way Go's `json.Marshal` would.
pub fn to_go_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    // Serialising our own types and JSON values cannot fail (no non-string map keys).
    if value.serialize(&mut ser).is_err() {
        out.clear();
        out.extend_from_slice(b"null");
    }
    out
}

/// Encodes a release as Helm does: base64(gzip(best compression, JSON)).
pub fn encode(release: &Release) -> String {
    let json = to_go_json(release);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(&json);
    let compressed = gz.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(compressed)
}

/// Decodes the payload of a release Secret (the base64 text inside `data.release`). Ungzipped
/// payloads of old Helm versions are read too.
pub fn decode(payload: &[u8], secret: &str) -> Result<Release, StorageError> {
    let corrupt = |message: String| StorageError::Corrupt {
        secret: secret.to_string(),
        message,
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(payload.trim_ascii())
        .map_err(|e| corrupt(format!("not base64: {e}")))?;
    let json = if raw.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| corrupt(format!("not gzip: {e}")))?;
        out
    } else {
        raw
    };
    serde_json::from_slice(&json).map_err(|e| corrupt(format!("not a release: {e}")))
}

/// Who holds a pending revision, from rudder's annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct LockInfo {
    /// `rudder pid 4242 on host ci-7`.
    pub holder: String,
    pub since: String,
    pub heartbeat: String,
    pub timeout_seconds: u64,
}

impl LockInfo {
    /// A lock for this process, starting now.
    pub fn for_this_process(timeout_seconds: u64) -> LockInfo {
        let host = hostname();
        let now = now_go();
        LockInfo {
            holder: format!("rudder pid {} on host {host}", std::process::id()),
            since: now.clone(),
            heartbeat: now,
            timeout_seconds,
        }
    }

    /// Whether the holder is a rudder process on this host that no longer runs: its lock is
    /// abandoned whatever its heartbeat says. `false` when that cannot be known (another host,
    /// no `/proc`, a holder rudder did not write); a reused pid only delays the take-over
    /// until the timeout.
    pub fn holder_has_exited(&self) -> bool {
        let Some((pid, host)) = self
            .holder
            .strip_prefix("rudder pid ")
            .and_then(|rest| rest.split_once(" on host "))
        else {
            return false;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            return false;
        };
        let proc = std::path::Path::new("/proc");
        host == hostname() && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
    }

    fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LOCK_HOLDER.to_string(), self.holder.clone()),
            (LOCK_SINCE.to_string(), self.since.clone()),
            (LOCK_HEARTBEAT.to_string(), self.heartbeat.clone()),
            (LOCK_TIMEOUT.to_string(), self.timeout_seconds.to_string()),
        ])
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Whether the Secret was written on create (`createdAt`) or update (`modifiedAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretWrite {
    Create,
    Update,
}

/// Builds the Secret storing `release` (labels as Helm's driver sets them).
pub fn to_secret(release: &Release, write: SecretWrite, lock: Option<&LockInfo>) -> Secret {
    let mut labels: BTreeMap<String, String> = release
        .labels
        .iter()
        .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unix = chrono::Utc::now().timestamp().to_string();
    match write {
        SecretWrite::Create => labels.insert("createdAt".into(), unix),
        SecretWrite::Update => labels.insert("modifiedAt".into(), unix),
    };
    labels.insert("name".into(), release.name.clone());
    labels.insert("owner".into(), "helm".into());
    labels.insert("status".into(), release.status().as_str().into());
    labels.insert("version".into(), release.version.to_string());
    Secret {
        metadata: ObjectMeta {
            name: Some(release.secret_name()),
            namespace: Some(release.namespace.clone()),
            labels: Some(labels),
            annotations: lock.map(LockInfo::annotations),
            ..Default::default()
        },
        type_: Some(SECRET_TYPE.to_string()),
        data: Some(BTreeMap::from([(
            "release".to_string(),
            ByteString(encode(release).into_bytes()),
        )])),
        ..Default::default()
    }
}

/// Reads the release stored in a Secret; its user labels become `release.labels`.
pub fn from_secret(secret: &Secret) -> Result<Release, StorageError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let payload = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .ok_or_else(|| StorageError::Corrupt {
            secret: name.clone(),
            message: "it has no data.release".into(),
        })?;
    let mut release = decode(&payload.0, &name)?;
    release.labels = secret
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(release)
}

/// The lock annotations of a pending revision's Secret, if rudder wrote it.
pub fn lock_of(secret: &Secret) -> Option<LockInfo> {
    let annotations = secret.metadata.annotations.as_ref()?;
    Some(LockInfo {
        holder: annotations.get(LOCK_HOLDER)?.clone(),
        since: annotations.get(LOCK_SINCE).cloned().unwrap_or_default(),
        heartbeat: annotations.get(LOCK_HEARTBEAT).cloned().unwrap_or_default(),
        timeout_seconds: annotations
            .get(LOCK_TIMEOUT)
            .and_then(|t| t.parse().ok())
            .unwrap_or(300),
    })
}

/// The last sign of life of a pending revision: rudder's heartbeat, else the Secret's
/// `modifiedAt`/`createdAt` label (Helm), else its creation time.
pub fn last_sign_of_life(secret: &Secret) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Some(lock) = lock_of(secret) {
        if let Some(t) = parse_time(&lock.heartbeat) {
            return Some(t);
        }
    }
    let labels = secret.metadata.labels.as_ref();
    for key in ["modifiedAt", "createdAt"] {
        let unix = labels
            .and_then(|l| l.get(key))
            .and_then(|v| v.parse::<i64>().ok());
        if let Some(t) = unix.and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
            return Some(t);
        }
    }
    let created = secret.metadata.creation_timestamp.as_ref()?;
    chrono::DateTime::from_timestamp(created.0.as_second(), 0)
}

/// Sorts revisions oldest first.
pub fn sort_by_revision(releases: &mut [Release]) {
    releases.sort_by_key(|r| r.version);
}

/// The revisions `--history-max` removes before a new one is stored: the oldest, never the last
/// deployed one, leaving `max - 1` (Helm's `removeLeastRecent`). `0` keeps everything.
pub fn revisions_to_prune(history: &[Release], max: usize) -> Vec<u64> {
    if max == 0 || history.len() < max {
        return Vec::new();
    }
    let keep = max - 1;
    let mut sorted: Vec<&Release> = history.iter().collect();
    sorted.sort_by_key(|r| r.version);
    let deployed = sorted
        .iter()
        .rev()
        .find(|r| r.status() == Status::Deployed)
        .map(|r| r.version);
    let mut remove = Vec::new();
    for r in &sorted {
        if sorted.len() - remove.len() <= keep {
            break;
        }
        if Some(r.version) != deployed {
            remove.push(r.version);
        }
    }
    remove
}

/// A multi-line message on one line, nothing dropped: causes (unindented lines) are joined with
/// `": "` as Go's wrapped errors read, the items of an indented list after their heading with
/// `"; "`.
pub fn one_line(text: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    for line in text.lines() {
        let item = line.starts_with(char::is_whitespace);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            let sep = match (item, in_list) {
                (true, true) => "; ",
                _ if out.ends_with(':') => " ",
                _ => ": ",
            };
            out.push_str(sep);
        }
        out.push_str(line);
        in_list = item;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn descriptions_are_kept_whole_on_one_line() {
        assert_eq!(one_line("Install complete"), "Install complete");
        assert_eq!(
            one_line("Upgrade \"web\" failed: 2 object(s) not ready:\n  Deployment/web: ImagePullBackOff\n  Job/x: BackoffLimitExceeded"),
            "Upgrade \"web\" failed: 2 object(s) not ready: Deployment/web: ImagePullBackOff; Job/x: BackoffLimitExceeded"
        );
        assert_eq!(
            one_line("apply failed\nrolled back to revision 1\n"),
            "apply failed: rolled back to revision 1"
        );
        let mut release = Release::default();
        release.set_status(Status::Failed, "a\n  b\n  c");
        assert_eq!(release.info.unwrap().description, "a: b; c");
    }

    fn sample() -> Release {
        Release {
            name: "web".into(),
            namespace: "prod".into(),
            version: 3,
            info: Some(Info {
                first_deployed: Some("2026-01-01T00:00:00Z".into()),
                last_deployed: Some("2026-01-02T03:04:05.123Z".into()),
                description: "Upgrade complete".into(),
                status: Status::Deployed,
                notes: "visit <http://web>".into(),
                ..Default::default()
            }),
            chart: Some(StoredChart {
                metadata: json!({"name": "web", "version": "1.2.0", "apiVersion": "v2"}),
                lock: Value::Null,
                templates: Some(vec![StoredFile {
                    name: "templates/cm.yaml".into(),
                    data: "a2luZDogQ29uZmlnTWFw".into(),
                    modtime: None,
                }]),
                values: json!({"port": 8080}),
                schema: None,
                schemamodtime: go_zero_time(),
                files: None,
                modtime: None,
            }),
            config: Some(
                json!({"replicas": 2, "ratio": 0.5})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
            manifest: "---\n# Source: web/templates/cm.yaml\nkind: ConfigMap\n".into(),
            hooks: vec![Hook {
                name: "migrate".into(),
                kind: "Job".into(),
                path: "web/templates/job.yaml".into(),
                manifest: "kind: Job".into(),
                events: vec!["pre-upgrade".into()],
                last_run: HookExecution {
                    phase: "Succeeded".into(),
                    ..Default::default()
                },
                weight: -5,
                delete_policies: vec!["before-hook-creation".into()],
                output_log_policies: vec![],
            }],
            labels: BTreeMap::new(),
            apply_method: "ssa".into(),
        }
    }

    #[test]
    fn round_trips_through_a_secret() {
        let mut release = sample();
        release.labels.insert("team".into(), "a".into());
        let secret = to_secret(&release, SecretWrite::Create, None);
        assert_eq!(
            secret.metadata.name.as_deref(),
            Some("sh.helm.release.v1.web.v3")
        );
        assert_eq!(secret.type_.as_deref(), Some(SECRET_TYPE));
        let labels = secret.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels["name"], "web");
        assert_eq!(labels["owner"], "helm");
        assert_eq!(labels["status"], "deployed");
        assert_eq!(labels["version"], "3");
        assert_eq!(labels["team"], "a");
        assert!(labels.contains_key("createdAt"));
        assert!(!labels.contains_key("modifiedAt"));
        assert_eq!(from_secret(&secret).unwrap(), release);
    }

    #[test]
    fn writes_helm_4_field_names_in_go_struct_order() {
        let json = String::from_utf8(to_go_json(&sample())).unwrap();
        assert!(
            json.starts_with(r#"{"name":"web","info":{"first_deployed":"#),
            "{json}"
        );
        assert!(json.contains(r#"},"chart":{"metadata":"#), "{json}");
        assert!(
            json.contains(r#"},"config":{"ratio":0.5,"replicas":2},"manifest":"#),
            "{json}"
        );
        assert!(
            json.ends_with(r#"],"version":3,"namespace":"prod","apply_method":"ssa"}"#),
            "{json}"
        );
        assert!(json.contains("\"status\":\"deployed\""));
        assert!(json.contains("\"description\":\"Upgrade complete\""));
        assert!(json.contains("\"last_run\":{\"phase\":\"Succeeded\"}"));
        assert!(json.contains("\"weight\":-5"));
        assert!(json.contains("\"schemamodtime\":\"0001-01-01T00:00:00Z\""));
        assert!(json.contains("\"schema\":null"));
        // Go escapes HTML-sensitive characters.
        assert!(json.contains("visit \\u003chttp://web\\u003e"), "{json}");
    }

    #[test]
    fn numbers_print_like_go() {
        let v = json!({"a": 8080, "b": 8080.0, "c": 0.5, "d": 1e21, "e": 1e-7, "f": -2.5e-3,
                       "g": 123456789.0});
        let text = String::from_utf8(to_go_json(&v)).unwrap();
        assert_eq!(
            text,
            r#"{"a":8080,"b":8080,"c":0.5,"d":1e+21,"e":1e-7,"f":-0.0025,"g":123456789}"#
        );
    }

    #[test]
    fn decodes_helm_written_payloads_with_empty_times_and_capital_description() {
        let helm = json!({"name": "x", "version": 1, "namespace": "default",
            "info": {"first_deployed": "", "last_deployed": "2026-01-01T00:00:00+01:00",
                     "deleted": "", "Description": "Install complete", "status": "deployed"},
            "chart": {"metadata": {"name": "x", "version": "0.1.0"}, "lock": null,
                      "templates": null, "values": null, "schema": null, "files": null},
            "manifest": "m"});
        let payload = encode_json(&helm);
        let release = decode(payload.as_bytes(), "s").unwrap();
        let info = release.info.clone().unwrap();
        assert_eq!(info.first_deployed, None);
        assert_eq!(info.description, "Install complete");
        assert_eq!(release.chart.as_ref().unwrap().name_version(), "x-0.1.0");
        // Ungzipped (legacy) payloads too.
        let plain = base64::engine::general_purpose::STANDARD.encode(helm.to_string());
        assert_eq!(decode(plain.as_bytes(), "s").unwrap().name, "x");
    }

    fn encode_json(v: &Value) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(v.to_string().as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
    }

    #[test]
    fn damaged_payload_names_the_secret() {
        let err = decode(b"!!!", "sh.helm.release.v1.web.v2").unwrap_err();
        assert!(
            err.to_string().contains("sh.helm.release.v1.web.v2"),
            "{err}"
        );
    }

    #[test]
    fn go_time_trims_nanoseconds() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 120_000_000).unwrap();
        assert_eq!(go_time(t), "2023-11-14T22:13:20.12Z");
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(go_time(t), "2023-11-14T22:13:20Z");
    }

    fn rel(version: u64, status: Status) -> Release {
        let mut r = Release {
            name: "web".into(),
            version,
            ..Default::default()
        };
        r.set_status(status, "");
        r
    }

    #[test]
    fn pruning_keeps_max_minus_one_and_never_the_deployed_revision() {
        let history = vec![
            rel(1, Status::Deployed),
            rel(2, Status::Failed),
            rel(3, Status::Failed),
            rel(4, Status::Failed),
        ];
        assert_eq!(revisions_to_prune(&history, 3), vec![2, 3]);
        assert_eq!(revisions_to_prune(&history, 0), Vec::<u64>::new());
        assert_eq!(revisions_to_prune(&history, 10), Vec::<u64>::new());
        let history = vec![rel(1, Status::Superseded), rel(2, Status::Deployed)];
        assert_eq!(revisions_to_prune(&history, 2), vec![1]);
    }

    #[test]
    fn lock_annotations_round_trip_and_heartbeat_is_the_sign_of_life() {
        let lock = LockInfo::for_this_process(60);
        let mut release = sample();
        release.set_status(Status::PendingUpgrade, "Preparing upgrade");
        let secret = to_secret(&release, SecretWrite::Create, Some(&lock));
        assert_eq!(lock_of(&secret), Some(lock.clone()));
        assert_eq!(last_sign_of_life(&secret), parse_time(&lock.heartbeat));
    }
}
