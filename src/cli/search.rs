//! `rudder search repo`: search the cached indexes of the configured repositories.

use super::repo::{format_table, OutputFormat};
use super::{CliResult, GlobalArgs};
use rudder::repo::config::RepositoryFile;
use rudder::repo::index::IndexFile;
use rudder::repo::version::{parse_version, Constraint};
use rudder::repo::Dirs;

/// Subcommands of `rudder search`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Search the configured repositories for charts whose name, description or keywords match.
    Repo(RepoArgs),
}

/// Arguments of `rudder search repo`.
#[derive(Debug, clap::Args)]
pub struct RepoArgs {
    /// Word to search for (case-insensitive); all charts when omitted.
    pub keyword: Option<String>,
    /// Show every matching version, not only the newest.
    #[arg(short = 'l', long)]
    pub versions: bool,
    /// Only versions satisfying this constraint (`^1.2`, `>=1 <2`).
    #[arg(long)]
    pub version: Option<String>,
    /// Include pre-release versions (same as --version '>0.0.0-0').
    #[arg(long)]
    pub devel: bool,
    /// Cut columns to this width.
    #[arg(long, default_value_t = 50)]
    pub max_col_width: usize,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Runs `rudder search`.
pub fn run(command: Command, _global: &GlobalArgs) -> CliResult {
    match command {
        Command::Repo(args) => search_repo(args),
    }
}

fn search_repo(args: RepoArgs) -> CliResult {
    let dirs = Dirs::from_env();
    let file = RepositoryFile::load(&dirs.repositories_file())?;
    if file.repositories.is_empty() {
        return Err(miette::miette!(
            "no repositories configured (add one with `rudder repo add NAME URL`)"
        ));
    }
    let constraint_text = match (&args.version, args.devel) {
        (Some(v), _) => v.clone(),
        (None, true) => ">0.0.0-0".to_string(),
        (None, false) => String::new(),
    };
    let constraint = Constraint::parse(&constraint_text)?;
    let word = args.keyword.as_deref().unwrap_or_default().to_lowercase();
    let mut rows = Vec::new();
    for repo in &file.repositories {
        let path = dirs.index_cache_file(&repo.name);
        let index = match IndexFile::load(&path) {
            Ok(i) => i,
            Err(e) => {
                eprintln!(
                    "warning: repository {:?} has no usable cached index ({e}); run `rudder repo update`",
                    repo.name
                );
                continue;
            }
        };
        for (name, versions) in &index.entries {
            let full = format!("{}/{name}", repo.name);
            let mut matched = 0;
            for v in versions {
                let text = format!(
                    "{full} {} {}",
                    v.metadata.description,
                    v.metadata.keywords.join(" ")
                )
                .to_lowercase();
                if !word.is_empty() && !text.contains(&word) {
                    continue;
                }
                let ok = parse_version(&v.metadata.version).is_some_and(|p| constraint.matches(&p));
                if !ok {
                    continue;
                }
                rows.push((full.clone(), v.clone()));
                matched += 1;
                if !args.versions && matched == 1 {
                    break;
                }
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    match args.output {
        OutputFormat::Table => {
            if rows.is_empty() {
                println!("No results found");
                return Ok(0);
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(name, v)| {
                    vec![
                        name.clone(),
                        v.metadata.version.clone(),
                        v.metadata.app_version.clone(),
                        v.metadata.description.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                format_table(
                    &["NAME", "CHART VERSION", "APP VERSION", "DESCRIPTION"],
                    &table,
                    args.max_col_width
                )
            );
        }
        OutputFormat::Json | OutputFormat::Yaml => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(name, v)| {
                    serde_json::json!({
                        "name": name,
                        "version": v.metadata.version,
                        "app_version": v.metadata.app_version,
                        "description": v.metadata.description,
                    })
                })
                .collect();
            let value = serde_json::Value::Array(list);
            if args.output == OutputFormat::Json {
                println!("{value}");
            } else {
                print!("{}", rudder::yaml::to_string(&value));
            }
        }
    }
    Ok(0)
}
