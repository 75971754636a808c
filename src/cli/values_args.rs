//! The values flags shared by every command that renders a chart (Helm's names and precedence).

use std::path::PathBuf;

/// `--env`, `-f`, the `--set` family, and `--enable-dns`.
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
    /// Let templates resolve host names with `getHostByName` (off: it returns "").
    #[arg(long)]
    pub enable_dns: bool,
}

impl ValuesArgs {
    /// The flags as [`rudder::values::ValuesInputs`], each flag's occurrences in command-line
    /// order (their relative precedence is applied by [`rudder::values::compose`]).
    ///
    /// Every command that renders a chart reads its values here, so this is also where
    /// `--enable-dns` takes effect (for the whole process, as for one `helm` run).
    pub fn inputs(&self) -> rudder::values::ValuesInputs {
        rudder::render::gotmpl::funcs::network::enable_dns_lookups(self.enable_dns);
        rudder::values::ValuesInputs {
            env: self.env.clone().filter(|e| !e.is_empty()),
            files: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        values: ValuesArgs,
    }

    #[test]
    fn turns_flags_into_inputs_in_order() {
        let cli = Cli::try_parse_from([
            "rudder",
            "--env",
            "prod",
            "-f",
            "a.yaml",
            "--values",
            "-",
            "--set",
            "a=1",
            "--set",
            "b=2",
            "--set-string",
            "c=3",
            "--set-json",
            "d=4",
            "--set-file",
            "e=f.txt",
            "--set-literal",
            "g=h,i",
        ])
        .unwrap();
        let inputs = cli.values.inputs();
        assert_eq!(inputs.env.as_deref(), Some("prod"));
        assert_eq!(inputs.files, [PathBuf::from("a.yaml"), PathBuf::from("-")]);
        assert_eq!(inputs.set, ["a=1", "b=2"]);
        assert_eq!(inputs.set_string, ["c=3"]);
        assert_eq!(inputs.set_json, ["d=4"]);
        assert_eq!(inputs.set_file, ["e=f.txt"]);
        assert_eq!(inputs.set_literal, ["g=h,i"]);
    }
}
