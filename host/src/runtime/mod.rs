//! Runs strategy plugins: WebAssembly components in a sandbox.
//!
//! - [`api`]: the WIT contract as host types, and which API versions this host supports;
//! - [`engine`]: one wasmtime engine and linker for all plugins, with the epoch ticker;
//! - [`plugin`]: loading a component, checking its world and version, reading its manifest;
//! - [`sandbox`]: the per-call store with fuel, memory cap, deadline and output cap,
//!   and how a blown limit becomes a clear [`PluginError`].

pub mod api;
pub mod engine;
pub mod plugin;
pub mod sandbox;

pub use engine::PluginEngine;
pub use plugin::{LoadedPlugin, Manifest, PluginRejected};
pub use sandbox::{CallStats, PluginError, SandboxLimits};
