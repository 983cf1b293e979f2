//! Runs strategy plugins: WebAssembly components in a sandbox.
//!
//! - [`api`]: the WIT contract as host types, and which API versions this host supports;
//! - [`engine`]: one wasmtime engine and linker for all plugins, with the epoch ticker;
//! - [`plugin`]: loading a component, checking its world and version, reading its manifest;
//! - [`sandbox`]: the per-call store with fuel, memory cap, deadline and output cap,
//!   and how a blown limit becomes a clear [`PluginError`];
//! - `wasi`: the WASI a plugin's standard library imports — granting nothing,
//!   waiting for nothing;
//! - [`contract`]: what a plugin may ask for (its audience) and hand back
//!   (its touches), checked against the limits.

pub mod api;
pub mod contract;
pub mod engine;
mod error;
mod exports;
pub mod limits;
pub mod plugin;
pub mod proposals;
pub mod sandbox;
mod wasi;

pub use engine::PluginEngine;
pub use error::{PluginError, PluginRejected};
pub use limits::SandboxLimits;
pub use plugin::{LoadedPlugin, Manifest};
pub use sandbox::CallStats;
