//! Where the library's log events go: stderr, as text for people or one
//! JSON object per line for log collectors. `CANVAS_LOG` (error, warn,
//! info, debug, trace, off) sets the level; the service logs at info, other
//! commands only warnings, since they print what they did themselves.

use canvas::serve::settings::LogFormat;
use tracing_subscriber::filter::LevelFilter;

/// Sends log events to stderr in `format`, at `CANVAS_LOG`'s level or `default`.
pub fn init(format: LogFormat, default: LevelFilter) {
    let level = std::env::var("CANVAS_LOG").ok().and_then(|l| l.parse::<LevelFilter>().ok()).unwrap_or(default);
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_ansi(false);
    // A second init (never done here) would fail; the first one stands.
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().try_init(),
    };
}
