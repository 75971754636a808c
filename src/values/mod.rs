//! Values: layering (chart → `values/<env>.yaml` → `-f` → `--set*`), Helm's `strvals` parser,
//! coalescing, and `values.schema.json` checks.

use std::path::PathBuf;

use serde_json::Value;

use crate::chart::Chart;

/// The user's values inputs, as given on the command line (already split per flag).
#[derive(Debug, Clone, Default)]
pub struct ValuesInputs {
    /// `--env NAME`: the chart's `values/NAME.yaml` overlay.
    pub env: Option<String>,
    /// `-f/--values FILE` in order; `-` is stdin.
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub set_literal: Vec<String>,
}

/// The result of composing values for a chart.
#[derive(Debug, Clone)]
pub struct Composed {
    /// The final values templates see: chart defaults (subcharts' under their key) coalesced with
    /// the env overlay, files and `--set*` flags.
    pub values: Value,
    /// Only what the user supplied (env overlay, files, flags): Helm's release `config`.
    pub user_supplied: Value,
    /// The chart with disabled subcharts (condition/tags) removed.
    pub chart: Chart,
    /// Warnings for stderr (e.g. a numeric `--set` for an image tag).
    pub warnings: Vec<String>,
}

/// Values that could not be composed.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// Placeholder until value composition lands.
    #[error("value composition is not implemented yet")]
    NotImplemented,
}

/// Composes the values for `chart` from the user's inputs, in Helm's precedence, and checks
/// them against `values.schema.json`.
pub fn compose(_chart: &Chart, _inputs: &ValuesInputs) -> Result<Composed, ValuesError> {
    Err(ValuesError::NotImplemented)
}
