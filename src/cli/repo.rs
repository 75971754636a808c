//! `rudder repo add|list|update|remove|index`.

use std::path::PathBuf;

use super::repo_args::TransportArgs;
use super::{CliResult, GlobalArgs};
use rudder::repo::config::{RepositoryEntry, RepositoryFile};
use rudder::repo::index::{index_directory, IndexFile};
use rudder::repo::{repository, Dirs};

/// Subcommands of `rudder repo`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a chart repository (its index is fetched and cached).
    Add(AddArgs),
    /// List the configured chart repositories.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Refresh the cached index of every (or the named) repository.
    #[command(alias = "up")]
    Update(UpdateArgs),
    /// Remove chart repositories.
    #[command(alias = "rm")]
    Remove(RemoveArgs),
    /// Write index.yaml for a folder of packaged charts.
    Index(IndexArgs),
}

/// Arguments of `rudder repo add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Name to refer to the repository by (`NAME/CHART`).
    pub name: String,
    /// Repository URL (the folder holding index.yaml).
    pub url: String,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Bearer token sent with every request to the repository.
    #[arg(long)]
    pub token: Option<String>,
    /// Replace an existing repository of the same name.
    #[arg(long)]
    pub force_update: bool,
}

/// Arguments of `rudder repo list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Output formats of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Yaml,
}

/// Arguments of `rudder repo update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Repositories to update (default: all).
    pub names: Vec<String>,
}

/// Arguments of `rudder repo remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// Repositories to remove.
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// Arguments of `rudder repo index`.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Folder holding the chart archives.
    pub dir: PathBuf,
    /// URL of the repository (chart URLs are relative without it).
    #[arg(long)]
    pub url: Option<String>,
    /// Keep the versions of this existing index that the folder no longer holds.
    #[arg(long)]
    pub merge: Option<PathBuf>,
    /// Also write index.json.
    #[arg(long)]
    pub json: bool,
}

/// Runs `rudder repo`.
pub fn run(command: Command, _global: &GlobalArgs) -> CliResult {
    let dirs = Dirs::from_env();
    match command {
        Command::Add(args) => add(args, &dirs),
        Command::List(args) => list(args, &dirs),
        Command::Update(args) => update(args, &dirs),
        Command::Remove(args) => {
            for name in &args.names {
                repository::remove_repository(name, &dirs)?;
                println!("\"{name}\" has been removed from your repositories");
            }
            Ok(0)
        }
        Command::Index(args) => index(args),
    }
}

fn add(args: AddArgs, dirs: &Dirs) -> CliResult {
    // The name becomes the cache file `NAME-index.yaml`.
    rudder::chart::check_path_component(&args.name)
        .map_err(|e| miette::miette!("invalid repository name: {e}"))?;
    let http = args.transport.http_options()?;
    let path_text = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let entry = RepositoryEntry {
        name: args.name.clone(),
        url: args.url.trim_end_matches('/').to_string(),
        username: http.username.clone().unwrap_or_default(),
        password: http.password.clone().unwrap_or_default(),
        token: args.token.unwrap_or_default(),
        cert_file: path_text(&http.cert_file),
        key_file: path_text(&http.key_file),
        ca_file: path_text(&http.ca_file),
        insecure_skip_tls_verify: http.insecure_skip_tls_verify,
        pass_credentials_all: http.pass_credentials,
        plain_http: http.plain_http,
    };
    super::runtime()?.block_on(repository::add_repository(entry, dirs, args.force_update))?;
    println!("\"{}\" has been added to your repositories", args.name);
    Ok(0)
}

fn list(args: ListArgs, dirs: &Dirs) -> CliResult {
    let file = RepositoryFile::load(&dirs.repositories_file())?;
    let rows: Vec<serde_json::Value> = file
        .repositories
        .iter()
        .map(|r| serde_json::json!({"name": r.name, "url": r.url}))
        .collect();
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::Value::Array(rows)),
        OutputFormat::Yaml => print!(
            "{}",
            rudder::yaml::to_string(&serde_json::Value::Array(rows))
        ),
        OutputFormat::Table => {
            if file.repositories.is_empty() {
                return Err(miette::miette!(
                    "no repositories to show (add one with `rudder repo add NAME URL`)"
                ));
            }
            let table: Vec<Vec<String>> = file
                .repositories
                .iter()
                .map(|r| vec![r.name.clone(), r.url.clone()])
                .collect();
            print!("{}", format_table(&["NAME", "URL"], &table, usize::MAX));
        }
    }
    Ok(0)
}

fn update(args: UpdateArgs, dirs: &Dirs) -> CliResult {
    let file = RepositoryFile::load(&dirs.repositories_file())?;
    if file.repositories.is_empty() {
        return Err(miette::miette!(
            "no repositories found (add one with `rudder repo add NAME URL`)"
        ));
    }
    let mut selected = Vec::new();
    for name in &args.names {
        selected.push(
            file.get(name)
                .cloned()
                .ok_or_else(|| rudder::repo::RepoError::UnknownRepository { name: name.clone() })?,
        );
    }
    if args.names.is_empty() {
        selected = file.repositories.clone();
    }
    eprintln!("Hang tight while we grab the latest from your chart repositories...");
    let runtime = super::runtime()?;
    let mut failed = Vec::new();
    for entry in &selected {
        match runtime.block_on(repository::update_index(entry, dirs)) {
            Ok(index) => {
                for warning in &index.skipped {
                    eprintln!("warning: {}: skipped an entry: {warning}", entry.name);
                }
                println!(
                    "...Successfully got an update from the \"{}\" chart repository",
                    entry.name
                );
            }
            Err(e) => {
                eprintln!(
                    "...Unable to get an update from the \"{}\" chart repository ({}): {e}",
                    entry.name, entry.url
                );
                failed.push(entry.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        return Err(miette::miette!(
            "failed to update the following repositories: {} (their cached indexes were kept)",
            failed.join(", ")
        ));
    }
    println!("Update Complete. ⎈Happy Helming!⎈");
    Ok(0)
}

fn index(args: IndexArgs) -> CliResult {
    if !args.dir.is_dir() {
        return Err(miette::miette!("{} is not a directory", args.dir.display()));
    }
    let mut index = index_directory(&args.dir, args.url.as_deref())?;
    for warning in &index.skipped {
        eprintln!("warning: skipped {warning}");
    }
    if let Some(merge) = &args.merge {
        if merge.exists() {
            let old = IndexFile::load(merge)?;
            index.merge(&old);
        }
    }
    let out = args.dir.join("index.yaml");
    rudder::repo::config::write_atomically(&out, index.to_yaml().as_bytes(), 0o644)?;
    if args.json {
        let json_out = args.dir.join("index.json");
        rudder::repo::config::write_atomically(&json_out, index.to_json().as_bytes(), 0o644)?;
    }
    Ok(0)
}

/// Formats rows as a left-aligned table with two spaces between columns; cells longer than
/// `max_width` are cut with `...`.
pub fn format_table(header: &[&str], rows: &[Vec<String>], max_width: usize) -> String {
    let cut = |s: &str| -> String {
        if s.chars().count() > max_width && max_width > 3 {
            let kept: String = s.chars().take(max_width - 3).collect();
            format!("{kept}...")
        } else {
            s.to_string()
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    };
    push_row(header.to_vec());
    for row in &rows {
        push_row(row.iter().map(String::as_str).collect());
    }
    out
}
