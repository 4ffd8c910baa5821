//! `hark demo`.

use super::Cli;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark demo\n  hark demo --serve              # then open http://127.0.0.1:8080"
)]
pub struct DemoArgs {
    /// Keep the demo deployment (config, queries, data) in DIR instead of a temporary
    /// directory that is removed at the end.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Keep the web UI and API running on the demo's index at ADDR (e.g. 127.0.0.1:8080)
    /// until Ctrl-C.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
    pub serve: Option<String>,
}

pub fn run(cli: &Cli, a: &DemoArgs) -> anyhow::Result<()> {
    let tmp;
    let dir = match &a.keep {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new().prefix("hark-demo-").tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    tokio.block_on(crate::demo::run_demo(&dir, &mut out))?;

    // The sample's reputation report, kept after the demo's own files are removed.
    let report_path = match &a.keep {
        Some(d) => d.join("report.html"),
        None => std::env::temp_dir().join("hark-demo-report.html"),
    };
    let data_dir = dir.join("data");
    let index = crate::index::MentionIndex::open_existing(&data_dir.join("index"))?;
    let state = crate::state::StateStore::open(&data_dir.join("state.redb")).ok();
    let now = chrono::Utc::now();
    let data = crate::report::data::build(
        &index,
        state.as_ref(),
        &crate::report::data::ReportRequest {
            query: "brightwave".into(),
            since: now - chrono::Duration::days(14),
            until: now + chrono::Duration::minutes(1),
            compare: vec!["nimbus".into()],
            title: Some("Brightwave: reputation, last 14 days (demo)".into()),
            brand_name: Some("hark demo".into()),
            logo: None,
            query_terms: vec![vec!["brightwave".into()]],
            locale: Default::default(),
            display_names: [("brightwave", "Brightwave"), ("nimbus", "Nimbus Mobile")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        },
    )?;
    std::fs::write(&report_path, crate::report::html::render_html(&data))?;
    writeln!(out, "\nReputation report (HTML): {}", report_path.display())?;
    drop(state);

    if let Some(listen) = &a.serve {
        let config = crate::config::Config::load(&dir.join("hark.toml"))?;
        let (addr, token) = super::serve::listen_and_token(&config, Some(listen))?;
        let app = std::sync::Arc::new(crate::serve::AppState {
            index: std::sync::Arc::new(index),
            config: std::sync::Arc::new(config),
            state: crate::serve::StateHandle::on_demand(data_dir.join("state.redb")),
            token,
            metrics: Default::default(),
            writes: crate::serve::MentionWrites::Direct,
            users: Default::default(),
            sessions: Default::default(),
        });
        out.flush()?;
        tokio.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
            let local = listener.local_addr()?;
            eprintln!("hark: serving the demo's web UI and API on http://{local}/ (Ctrl-C stops)");
            crate::serve::serve_until_signal(listener, app).await?;
            anyhow::Ok(())
        })?;
    }
    if a.serve.is_none() {
        writeln!(
            out,
            "\nSee it in the dashboard: hark demo --serve   (then open http://127.0.0.1:8080)"
        )?;
    }
    if cli.verbose == 0 && !cli.quiet {
        writeln!(
            out,
            "Logs of this run: {}",
            super::demo_log_path().display()
        )?;
    }
    match &a.keep {
        Some(d) => writeln!(
            out,
            "\nExplore it: hark --config {} search '\"brightwave fiber\" AND down' --sort reach",
            d.join("hark.toml").display()
        )?,
        None => writeln!(
            out,
            "\n(temporary deployment removed; `hark demo --keep DIR` keeps it to explore)"
        )?,
    }
    Ok(())
}
