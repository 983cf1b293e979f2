//! `canvas serve`: the service — every enabled strategy on its schedule,
//! missed runs caught up, the outbox delivered continuously, the admin API —
//! until SIGTERM or Ctrl-C, which give the run in flight its grace and flush
//! the outbox. Prints where it listens and how the admin API is guarded;
//! logs runs and operators' changes on stderr, as text or JSON (`logs`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use canvas::app::App;
use canvas::config::CanvasConfig;
use canvas::serve;
use canvas::serve::settings::LogFormat;
use canvas::store::Store;
use tracing_subscriber::filter::LevelFilter;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default: `[serve] listen`, 127.0.0.1:8720).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Serve the admin API without a token (loopback addresses only; for local development).
    #[arg(long)]
    no_token: bool,
    /// How to log on stderr (default: `[serve] log_format`, text); the level is `CANVAS_LOG` (default info).
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
}

pub fn execute(args: Args, mut config: CanvasConfig) -> anyhow::Result<ExitCode> {
    // The store in use is where the generated token goes.
    config.store = args.store.unwrap_or(config.store.clone());
    config.serve.allow_no_token |= args.no_token;
    crate::logs::init(args.log_format.unwrap_or(config.serve.log_format), LevelFilter::INFO);
    let store = Arc::new(Store::open_existing(&config.store)?);
    let listen = args.listen.unwrap_or(config.serve.listen.clone());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let service = serve::start(App::new(config)?, store, Arc::new(serve::SystemClock), listener).await?;
        println!("canvas serve: listening on http://{} (Ctrl-C or SIGTERM to stop)", service.addr);
        match &service.auth {
            serve::Auth::Configured(_) => {}
            serve::Auth::File { path, .. } => println!(
                "canvas serve: no token configured: the admin API's token is in {} (readable by you only)",
                path.display()
            ),
            serve::Auth::Open => {
                println!("canvas serve: --no-token: the admin API is open to anyone on this machine")
            }
        }
        service.run_until(termination()).await?;
        println!("canvas serve: stopped; the outbox is flushed");
        Ok::<_, anyhow::Error>(())
    })?;
    // A run the service stopped waiting for must not hold the
    // process: it is not recorded, and caught up at the next start.
    runtime.shutdown_background();
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or Ctrl-C.
async fn termination() {
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
