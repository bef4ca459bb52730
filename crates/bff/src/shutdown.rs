//! The shutdown signal: SIGINT (Ctrl-C) or SIGTERM (containers, systemd).
//! Passed to [`crate::serve`], it stops accepting while requests in flight
//! finish.

use std::future::Future;

/// Installs the SIGINT and SIGTERM handlers now, and resolves on the first of
/// either. Call it before announcing that the server listens: a signal that
/// arrives before the handlers exist would kill the process with the default
/// action instead of shutting down gracefully. If a handler cannot be
/// installed, that signal is logged and ignored rather than stopping the
/// server. Needs a tokio runtime.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |stream: std::io::Result<tokio::signal::unix::Signal>,
                        name: &'static str| async move {
                match stream {
                    Ok(mut stream) => {
                        stream.recv().await;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                () = wait(interrupt, "SIGINT") => {}
                () = wait(terminate, "SIGTERM") => {}
            }
        }
        #[cfg(not(unix))]
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
