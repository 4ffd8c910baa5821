//! `hark serve [--listen ADDR]`: the HTTP API and web UI on the index of a deployment.

use super::{Cli, load_config, usage};
use crate::config::Config;
use crate::index::MentionIndex;
use crate::serve::{AppState, StateHandle, metrics::Metrics};
use clap::Args;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark serve\n  hark serve --listen 0.0.0.0:8080    # set [server] token_env first: the API then needs a bearer token"
)]
pub struct ServeArgs {
    /// Address to listen on (default: [server].listen, else 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// The listen address and the token; a non-loopback address without a token is refused.
pub fn listen_and_token(
    cfg: &Config,
    listen: Option<&str>,
) -> anyhow::Result<(SocketAddr, Option<String>)> {
    let listen = listen
        .map(str::to_string)
        .or_else(|| cfg.server.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let addr: SocketAddr = listen.parse().map_err(|_| {
        usage(format!(
            "--listen: `{listen}` is not an address like 127.0.0.1:8080"
        ))
    })?;
    let token = match &cfg.server.token_env {
        None => None,
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => {
                return Err(usage(format!(
                    "[server].token_env names {var}, which is not set"
                )));
            }
        },
    };
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(usage(format!(
            "refusing to serve on {addr} without a token: anyone on the network could read the data. \
             Set [server].token_env = \"VAR\" in hark.toml and put a long random token in VAR"
        )));
    }
    Ok((addr, token))
}

pub fn run(cli: &Cli, a: &ServeArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let (addr, token) = listen_and_token(&cfg, a.listen.as_deref())?;
    let data = cfg.data_dir();
    std::fs::create_dir_all(&data)?;
    let index = Arc::new(MentionIndex::open_or_create(&data.join("index"))?);
    // Opened per request, never held: see `StateHandle`.
    let state = StateHandle::on_demand(data.join("state.redb"));
    let app = Arc::new(AppState {
        index: index.clone(),
        config: Arc::new(cfg),
        state,
        token,
        metrics: Arc::new(Metrics::default()),
        writes: crate::serve::MentionWrites::Direct,
        users: Default::default(),
        sessions: Default::default(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr()?;
        eprintln!("hark: serving the web UI and API on http://{local}/");
        // Another process (`hark run`) commits to the index: pick its commits up.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let _ = index.reload();
            }
        });
        crate::serve::serve_until_signal(listener, app).await?;
        anyhow::Ok(())
    })
}
