//! The command line: argument parsing and the commands. Library errors become exit codes
//! here: 2 for bad usage or bad config, 1 for anything else.

mod alerts;
mod classify;
mod cluster;
mod delete;
mod demo;
mod human;
mod import;
mod init;
mod mention;
mod model;
pub mod output;
mod report;
mod run;
mod search;
pub(crate) mod serve;
mod user;

use crate::config::{Config, ConfigError};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "hark",
    version,
    about = "Brand-reputation monitoring: collect mentions, score sentiment, search them, alert on negativity spikes"
)]
pub struct Cli {
    /// Main config file.
    #[arg(long, global = true, value_name = "FILE", default_value = "hark.toml")]
    pub config: PathBuf,
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a commented starter hark.toml, queries/ and alerts/ into DIR.
    Init(init::InitArgs),
    /// Run every stage offline on the bundled sample, served from 127.0.0.1.
    Demo(demo::DemoArgs),
    /// Run the pipeline: collect → match → classify → index (→ detect → alert).
    Run(run::RunArgs),
    /// Score texts read from stdin, one per line.
    Classify(classify::ClassifyArgs),
    /// Train the transformer classifier, or evaluate a classifier on labelled data.
    Model(model::ModelArgs),
    /// Search the mention index.
    Search(search::SearchArgs),
    /// Mention counts per sentiment label and reach, in time buckets.
    Stats(search::StatsArgs),
    /// Bulk-load mentions from a JSON-lines or CSV file.
    Import(import::ImportArgs),
    /// Erase mentions (by author, text or age) for good; --dry-run counts them first.
    Delete(delete::DeleteArgs),
    /// Triage mentions (status, tags, irrelevant, corrected sentiment); the audit log.
    Mention(mention::MentionArgs),
    /// Users of the web UI and API, with their roles and tokens.
    User(user::UserArgs),
    /// Alert history, test alerts and backtests.
    Alerts(alerts::AlertsArgs),
    /// HTTP API and web UI.
    Serve(serve::ServeArgs),
    /// A cluster's workers, leases and stream lag (`[cluster]`, `hark run --role`).
    Cluster(cluster::ClusterArgs),
    /// A reputation report (HTML or PDF) for one query and period.
    Report(report::ReportArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  hark completions bash > ~/.local/share/bash-completion/completions/hark\n  hark completions zsh > ~/.zfunc/_hark\n  hark completions fish > ~/.config/fish/completions/hark.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) for `man`.
    #[command(after_help = "Example:\n  hark man > ~/.local/share/man/man1/hark.1 && man hark")]
    Man,
}

/// An error that means "the user asked for something invalid" (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Exit status for an error: 2 for usage and config errors, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<UsageError>().is_some() || e.downcast_ref::<ConfigError>().is_some() {
        2
    } else {
        1
    }
}

/// Loads the config. A missing default `hark.toml` gives the built-in defaults (data in
/// ./data, no sources or queries) when `required` is false; an explicitly named file must
/// exist.
pub fn load_config(cli: &Cli, required: bool) -> anyhow::Result<Config> {
    let explicit = cli.config != Path::new("hark.toml");
    if !cli.config.exists() {
        if explicit || required {
            return Err(ConfigError {
                file: cli.config.clone(),
                position: None,
                message:
                    "config file not found (create one with `hark init`, or pass --config FILE)"
                        .into(),
            }
            .into());
        }
        return Ok(Config::builtin(PathBuf::from("."))?);
    }
    Ok(Config::load(&cli.config)?)
}

pub fn init_logging(cli: &Cli) {
    let default = if cli.quiet {
        "error"
    } else {
        match (cli.verbose, &cli.command) {
            // `run --once` ends with a summary of everything the info lines would say.
            (0, Command::Run(r)) if r.once => "warn",
            (0, Command::Run(_)) | (0, Command::Demo(_)) => "info",
            (0, Command::Model(m)) if matches!(m.command, model::ModelCommand::Train(_)) => "info",
            (0, _) => "warn",
            (1, _) => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{default},tantivy=warn,html5ever=error,selectors=error"
        ))
    });
    // The demo tells a story on stdout; its logs go to a file unless asked for (-v).
    if matches!(cli.command, Command::Demo(_))
        && cli.verbose == 0
        && !cli.quiet
        && let Ok(file) = std::fs::File::create(demo_log_path())
    {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .with_target(false)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Where `hark demo` writes its logs without `-v`.
pub fn demo_log_path() -> PathBuf {
    std::env::temp_dir().join("hark-demo.log")
}

pub fn main_with(cli: Cli) -> anyhow::Result<()> {
    init_logging(&cli);
    match &cli.command {
        Command::Init(a) => init::run(a),
        Command::Demo(a) => demo::run(&cli, a),
        Command::Run(a) => run::run(&cli, a),
        Command::Classify(a) => classify::run(&cli, a),
        Command::Model(a) => model::run(&cli, a),
        Command::Search(a) => search::run_search(&cli, a),
        Command::Stats(a) => search::run_stats(&cli, a),
        Command::Import(a) => import::run(&cli, a),
        Command::Delete(a) => delete::run(&cli, a),
        Command::Mention(a) => mention::run(&cli, a),
        Command::User(a) => user::run(&cli, a),
        Command::Alerts(a) => alerts::run(&cli, a),
        Command::Serve(a) => serve::run(&cli, a),
        Command::Cluster(a) => cluster::run(&cli, a),
        Command::Report(a) => report::run(&cli, a),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "hark", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every command says what it is for, and every command that does
    /// something shows an example.
    #[test]
    fn every_argument_has_help_and_every_command_an_example() {
        let mut missing = Vec::new();
        let mut stack = vec![(String::from("hark"), super::Cli::command())];
        while let Some((path, cmd)) = stack.pop() {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}: no help"));
                }
            }
            let leaf = cmd.get_subcommands().next().is_none();
            if leaf && path != "hark" && !path.ends_with(" help") {
                let after = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                if !after.contains("Example") {
                    missing.push(format!("{path}: no example"));
                }
            }
            for sub in cmd.get_subcommands() {
                stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
