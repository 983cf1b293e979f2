//! The WASI a plugin gets: its standard library imports WASI, so the host
//! links it — granting nothing and blocking on nothing.
//!
//! - no files (no preopens), no network, no environment, stdin closed;
//! - clocks read the run instant and stand still; a timer (Rust's
//!   `thread::sleep`, Python's `time.sleep`) is ready at once, because the
//!   epoch deadline interrupts WebAssembly only, never a host call, and a
//!   pure function has nothing to wait for;
//! - stdout and stderr keep the last [`LOG_CAPACITY`] bytes (a panic's
//!   message comes last) and discard the rest: a plugin that prints too
//!   much loses its words, not its call;
//! - randomness is a fixed seed.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamError};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiView};

/// What a plugin may write to stdout and to stderr per call; the rest is cut.
pub const LOG_CAPACITY: usize = 16 * 1024;

/// Links WASI into `linker`: wasmtime's, with the monotonic clock replaced
/// by [`FrozenMonotonicClock`] so no host call can wait.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let linked = monotonic_clock::add_to_linker::<T, FrozenMonotonicClock>(linker, |state| FrozenMonotonicClockView {
        table: state.ctx().table,
    });
    linker.allow_shadowing(false);
    linked
}

/// A WASI context that grants nothing; its clocks read `at_millis`.
pub(crate) fn context(at_millis: i64, stdout: PluginLog, stderr: PluginLog) -> WasiCtx {
    WasiCtx::builder()
        .stdout(stdout)
        .stderr(stderr)
        .wall_clock(FrozenClock { at_millis })
        .monotonic_clock(FrozenClock { at_millis })
        .secure_random(wasmtime_wasi::Deterministic::new(FIXED_RANDOM.to_vec()))
        .insecure_random(wasmtime_wasi::Deterministic::new(FIXED_RANDOM.to_vec()))
        .insecure_random_seed(0x5eed)
        .build()
}

/// Fixed bytes for any randomness a guest's runtime asks for (Python seeds its
/// hashing with it), so a plugin's output depends on its input only.
const FIXED_RANDOM: &[u8] = b"canvas plugins are pure functions";

/// The only clock a plugin sees: the run instant, standing still.
struct FrozenClock {
    at_millis: i64,
}

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.at_millis.max(0) as u64)
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// `wasi:clocks/monotonic-clock` where time stands still: `now` is 0 and
/// every timer is ready at once (wasmtime's would sleep the thread, out of
/// reach of the deadline).
struct FrozenMonotonicClock;

impl HasData for FrozenMonotonicClock {
    type Data<'a> = FrozenMonotonicClockView<'a>;
}

struct FrozenMonotonicClockView<'a> {
    table: &'a mut ResourceTable,
}

impl monotonic_clock::Host for FrozenMonotonicClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(0)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1_000_000)
    }

    fn subscribe_instant(&mut self, _when: monotonic_clock::Instant) -> wasmtime::Result<Resource<DynPollable>> {
        ready_now(self.table)
    }

    fn subscribe_duration(&mut self, _wait: monotonic_clock::Duration) -> wasmtime::Result<Resource<DynPollable>> {
        ready_now(self.table)
    }
}

/// A pollable that is ready when asked.
struct ReadyNow;

#[wasmtime_wasi::async_trait]
impl Pollable for ReadyNow {
    async fn ready(&mut self) {}
}

fn ready_now(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
    let timer = table.push(ReadyNow)?;
    wasmtime_wasi::p2::subscribe(table, timer)
}

/// A plugin's stdout or stderr: keeps the last [`LOG_CAPACITY`] bytes,
/// counts and discards what came before, and is always ready for more.
#[derive(Clone, Default)]
pub(crate) struct PluginLog {
    kept: Arc<Mutex<LogBuffer>>,
}

#[derive(Default)]
struct LogBuffer {
    bytes: Vec<u8>,
    cut: u64,
}

/// What a write may hand over at once; any amount is taken.
const WRITE_PERMIT: usize = 64 * 1024;

impl PluginLog {
    /// The last bytes written, and how many bytes before them were cut.
    pub(crate) fn contents(&self) -> (Vec<u8>, u64) {
        let kept = self.kept.lock().expect("the log lock is never poisoned");
        let start = kept.bytes.len().saturating_sub(LOG_CAPACITY);
        (kept.bytes[start..].to_vec(), kept.cut.saturating_add(start as u64))
    }

    fn keep(&self, bytes: &[u8]) {
        let mut kept = self.kept.lock().expect("the log lock is never poisoned");
        let skipped = bytes.len().saturating_sub(LOG_CAPACITY);
        let bytes = &bytes[skipped..];
        kept.cut = kept.cut.saturating_add(skipped as u64);
        // Up to twice the capacity is held, so the front is dropped once per
        // capacity written rather than at every write.
        if kept.bytes.len() + bytes.len() > 2 * LOG_CAPACITY {
            let drop = kept.bytes.len() - LOG_CAPACITY.saturating_sub(bytes.len());
            kept.bytes.drain(..drop);
            kept.cut = kept.cut.saturating_add(drop as u64);
        }
        kept.bytes.extend_from_slice(bytes);
    }
}

impl OutputStream for PluginLog {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.keep(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for PluginLog {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for PluginLog {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.keep(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for PluginLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PluginLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clocks_a_plugin_reads_stand_at_the_run_instant() {
        let run = FrozenClock { at_millis: 1_773_108_000_123 };
        assert_eq!(HostWallClock::now(&run), Duration::from_millis(1_773_108_000_123));
        assert_eq!(HostWallClock::resolution(&run), Duration::from_millis(1));
        assert_eq!((HostMonotonicClock::now(&run), HostMonotonicClock::resolution(&run)), (0, 1_000_000));
        // `audience-for` and `describe` run at instant 0; nothing before 1970
        // wraps around to a far future.
        assert_eq!(HostWallClock::now(&FrozenClock { at_millis: -1 }), Duration::ZERO);
        let mut table = ResourceTable::new();
        let mut view = FrozenMonotonicClockView { table: &mut table };
        assert_eq!(monotonic_clock::Host::now(&mut view).unwrap(), 0);
    }

    #[test]
    fn a_log_keeps_its_last_bytes_and_counts_what_it_cut() {
        let mut log = PluginLog::default();
        for _ in 0..5 {
            log.write(bytes::Bytes::from(vec![b'a'; LOG_CAPACITY - 2])).unwrap();
        }
        log.write(bytes::Bytes::from_static(b"bcdef")).unwrap();
        assert_eq!(log.check_write().unwrap(), WRITE_PERMIT, "always ready for more");
        let (kept, cut) = log.contents();
        assert_eq!(kept.len(), LOG_CAPACITY);
        assert!(kept.ends_with(b"aabcdef"));
        assert_eq!(cut as usize, 5 * (LOG_CAPACITY - 2) + 5 - LOG_CAPACITY);
        let huge = PluginLog::default();
        huge.keep(&vec![b'z'; 3 * LOG_CAPACITY]);
        assert_eq!(huge.contents().1 as usize, 2 * LOG_CAPACITY);
    }
}
