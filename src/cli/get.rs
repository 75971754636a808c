//! `rudder get all|hooks|manifest|metadata|notes|values NAME`.

use serde_json::Value;

use super::release_args::{self, OutputFormat};
use super::{CliResult, GlobalArgs};
use rudder::release::rendering::merge_values;
use rudder::release::storage::Release;

/// Which release to read.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// Release name.
    pub name: String,
    /// Revision (default: the newest).
    #[arg(long, default_value_t = 0)]
    pub revision: u64,
}

/// Subcommands of `rudder get`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Everything about a revision: values, hooks, manifest and notes.
    All(Target),
    /// The hooks of a revision.
    Hooks(Target),
    /// The manifest of a revision.
    Manifest(Target),
    /// Chart, version and status of a revision.
    Metadata(MetadataArgs),
    /// The notes of a revision.
    Notes(Target),
    /// The values of a revision.
    Values(ValuesArgs),
}

impl Command {
    /// The release this command reads.
    pub fn target(&self) -> &Target {
        match self {
            Command::All(t) | Command::Hooks(t) | Command::Manifest(t) | Command::Notes(t) => t,
            Command::Metadata(a) => &a.target,
            Command::Values(a) => &a.target,
        }
    }
}

/// `get metadata` flags.
#[derive(Debug, clap::Args)]
pub struct MetadataArgs {
    #[command(flatten)]
    pub target: Target,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `get values` flags.
#[derive(Debug, clap::Args)]
pub struct ValuesArgs {
    #[command(flatten)]
    pub target: Target,
    /// All computed values, not only the user-supplied ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn fetch(target: &Target, global: &GlobalArgs) -> miette::Result<Release> {
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    release_args::fetch_revision(&runtime, &cluster, &target.name, target.revision)
}

fn computed_values(release: &Release) -> Value {
    let mut values = release
        .chart
        .as_ref()
        .map(|c| c.values.clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Default::default()));
    merge_values(&mut values, &release.config_value());
    values
}

fn print_hooks(release: &Release) {
    for h in &release.hooks {
        println!("---\n# Source: {}\n{}", h.path, h.manifest);
    }
}

/// Runs `rudder get`.
pub fn run(command: Command, global: &GlobalArgs) -> CliResult {
    match command {
        Command::All(target) => {
            let release = fetch(&target, global)?;
            release_args::print_release(&release, OutputFormat::Table, true, false)?;
            println!("USER-SUPPLIED VALUES:");
            print!("{}", rudder::yaml::to_string(&release.config_value()));
            println!();
            println!("COMPUTED VALUES:");
            print!("{}", rudder::yaml::to_string(&computed_values(&release)));
            println!();
            println!("HOOKS:");
            print_hooks(&release);
            println!("MANIFEST:\n{}", release.manifest);
            let notes = release
                .info
                .as_ref()
                .map(|i| i.notes.trim().to_string())
                .unwrap_or_default();
            if !notes.is_empty() {
                println!("NOTES:\n{notes}");
            }
        }
        Command::Hooks(target) => print_hooks(&fetch(&target, global)?),
        Command::Manifest(target) => {
            let release = fetch(&target, global)?;
            println!("{}", release.manifest);
        }
        Command::Notes(target) => {
            let release = fetch(&target, global)?;
            let notes = release
                .info
                .as_ref()
                .map(|i| i.notes.clone())
                .unwrap_or_default();
            println!("NOTES:\n{notes}");
        }
        Command::Metadata(args) => {
            let release = fetch(&args.target, global)?;
            let chart = release.chart.as_ref();
            let info = release.info.clone().unwrap_or_default();
            let metadata = serde_json::json!({
                "name": release.name,
                "chart": chart.map(|c| c.name()).unwrap_or_default(),
                "version": chart.map(|c| c.version()).unwrap_or_default(),
                "appVersion": chart.map(|c| c.app_version()).unwrap_or_default(),
                "namespace": release.namespace,
                "revision": release.version,
                "status": info.status.as_str(),
                "deployedAt": info.last_deployed.clone().unwrap_or_default(),
                "applyMethod": release.apply_method,
            });
            if args.output != OutputFormat::Table {
                release_args::print_structured(&metadata, args.output)?;
            } else {
                println!("NAME: {}", release.name);
                println!("CHART: {}", metadata["chart"].as_str().unwrap_or_default());
                println!(
                    "VERSION: {}",
                    metadata["version"].as_str().unwrap_or_default()
                );
                println!(
                    "APP_VERSION: {}",
                    metadata["appVersion"].as_str().unwrap_or_default()
                );
                println!("NAMESPACE: {}", release.namespace);
                println!("REVISION: {}", release.version);
                println!("STATUS: {}", info.status);
                println!("DEPLOYED_AT: {}", info.last_deployed.unwrap_or_default());
                println!("APPLY_METHOD: {}", release.apply_method);
            }
        }
        Command::Values(args) => {
            let release = fetch(&args.target, global)?;
            let values = if args.all {
                computed_values(&release)
            } else {
                release.config_value()
            };
            match args.output {
                OutputFormat::Table => {
                    println!(
                        "{}",
                        if args.all {
                            "COMPUTED VALUES:"
                        } else {
                            "USER-SUPPLIED VALUES:"
                        }
                    );
                    print!("{}", rudder::yaml::to_string(&values));
                }
                other => release_args::print_structured(&values, other)?,
            }
        }
    }
    Ok(0)
}
