//! Loading a chart from a directory or a `.tgz` archive.

use std::path::{Path, PathBuf};

use super::Chart;

/// A chart that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Placeholder until the loader lands.
    #[error("cannot load chart {path}: the chart loader is not implemented yet")]
    NotImplemented { path: PathBuf },
}

/// Loads a chart (and its subcharts) from a directory or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart, ChartError> {
    Err(ChartError::NotImplemented {
        path: path.to_path_buf(),
    })
}
