//! The values flags shared by every command that renders a chart (Helm's names and precedence).

use std::path::PathBuf;

/// `--env`, `-f`, and the `--set` family.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValuesArgs {
    /// Environment overlay: values/<ENV>.yaml in the chart.
    #[arg(long, env = "RUDDER_ENV")]
    pub env: Option<String>,
    /// Values file (repeatable; `-` reads stdin). Later files win.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set values on the command line (key1=val1,key2=val2).
    #[arg(long = "set", value_name = "EXPR")]
    pub set: Vec<String>,
    /// Set STRING values on the command line.
    #[arg(long = "set-string", value_name = "EXPR")]
    pub set_string: Vec<String>,
    /// Set values from files (key=path).
    #[arg(long = "set-file", value_name = "EXPR")]
    pub set_file: Vec<String>,
    /// Set JSON values (key=jsonvalue, or a JSON object).
    #[arg(long = "set-json", value_name = "EXPR")]
    pub set_json: Vec<String>,
    /// Set a literal STRING value (the rest of the argument, verbatim).
    #[arg(long = "set-literal", value_name = "EXPR")]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The library's view of these flags.
    pub fn inputs(&self) -> crate::values::ValuesInputs {
        crate::values::ValuesInputs {
            env: self.env.clone(),
            files: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
        }
    }
}
