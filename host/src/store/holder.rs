//! Who holds the store. sled lets one process open it; when that process is
//! the service, it leaves its address in `serve.json` in the store's folder,
//! so a command refused the store can reach the service's API instead
//! (`canvas plugin list` beside `canvas serve`). The lock, not the file,
//! says whether the store is held: a file left by a service that crashed is
//! never read, since its store then opens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::Store;

/// The file the service leaves its address in, in the store's folder.
pub const SERVICE_FILE: &str = "serve.json";

/// The service that holds a store: where its API listens, and its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAddress {
    /// The address to reach it on (loopback when it listens on every address).
    pub addr: SocketAddr,
    /// The service's process id.
    pub pid: u32,
}

/// The store was refused because another process has it open; `service`
/// when that process is `canvas serve` and said where it listens.
#[derive(Debug, thiserror::Error)]
#[error("the store at {} is in use by {}", path.display(), held_by(service))]
pub struct StoreInUse {
    /// The store's folder.
    pub path: PathBuf,
    /// The service holding it, when it said where it listens.
    pub service: Option<ServiceAddress>,
}

fn held_by(service: &Option<ServiceAddress>) -> String {
    match service {
        Some(s) => format!(
            "the canvas service at http://{} (pid {}); this command needs the store to itself: stop the \
             service first, or ask its admin API",
            s.addr, s.pid
        ),
        None => "another canvas process".into(),
    }
}

impl Store {
    /// Leaves where the service holding this store listens, for the commands
    /// that then reach it instead of the store.
    pub fn announce_service(&self, addr: SocketAddr) -> anyhow::Result<()> {
        let addr = match addr.ip().is_unspecified() {
            // Listening on every address: this machine reaches it on loopback.
            true if addr.is_ipv4() => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port()),
            true => SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), addr.port()),
            false => addr,
        };
        let path = self.path.join(SERVICE_FILE);
        let json = serde_json::to_vec(&ServiceAddress { addr, pid: std::process::id() })?;
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Takes the service's address back as it stops.
    pub fn withdraw_service(&self) {
        let _ = std::fs::remove_file(self.path.join(SERVICE_FILE));
    }
}

/// The service's address left in the store at `path`, if any can be read.
pub(super) fn service_holding(path: &Path) -> Option<ServiceAddress> {
    let bytes = std::fs::read(path.join(SERVICE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
