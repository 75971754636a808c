//! The Tera engine for rudder-native charts (`engine: tera`).

use serde_json::Value;

use super::{RenderError, RenderOptions, Rendered};
use crate::chart::Chart;

/// Renders a rudder-native chart.
pub fn render(
    chart: &Chart,
    _values: &Value,
    _options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    Err(RenderError::Other(format!(
        "rendering Tera chart {} is not implemented yet",
        chart.name()
    )))
}
