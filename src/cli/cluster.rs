//! `hark cluster status`.

use super::{Cli, load_config, usage};
use crate::cluster::{Bus, status};
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Args, Debug)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// The live workers, who holds which source, and each stage's lag and redeliveries.
    #[command(
        after_help = "Examples:\n  hark cluster status                 # a table on a terminal, JSON when piped\n  hark cluster status --format json | jq '.streams[].consumers'"
    )]
    Status {
        /// `table` or `json`. Default: table on a terminal, json when piped.
        #[arg(long, value_enum)]
        format: Option<super::run::SummaryFormat>,
    },
}

pub fn run(cli: &Cli, a: &ClusterArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let Some(cluster) = cfg.cluster.clone() else {
        return Err(usage(
            "no [cluster] section in the config: `hark cluster` needs nats_url".to_string(),
        ));
    };
    match &a.command {
        ClusterCommand::Status { format } => {
            let tokio = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let s = tokio.block_on(async {
                let bus = Bus::connect(&cluster, "hark-cluster-status").await?;
                anyhow::Ok(status::status(&bus).await?)
            })?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let table = format.map_or_else(super::human::stdout_is_terminal, |f| {
                f == super::run::SummaryFormat::Table
            });
            if table {
                status::write_table(&mut out, &s)?;
            } else {
                serde_json::to_writer(&mut out, &s)?;
                writeln!(out)?;
            }
            Ok(())
        }
    }
}
