//! Graceful shutdown: SIGINT/SIGTERM flip a watch channel that every long-running stage
//! (sources, the index writer, the alert loop, the web server) selects on, so that the
//! pipeline drains and commits before the process exits.

use tokio::sync::watch;

/// Resolves when SIGINT or SIGTERM arrives; flips `tx` to true.
pub async fn forward_signals(tx: watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: draining the pipeline and committing");
    let _ = tx.send(true);
}
