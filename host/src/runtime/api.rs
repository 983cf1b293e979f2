//! The WIT package `canvas:strategy` as host types. Released versions are
//! frozen in `wit/v<version>/`; the host names every version it supports here.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "canvas:strategy/plugin@0.1.0",
});

pub use canvas::strategy::types::*;

/// The WIT package every plugin targets.
pub const PACKAGE: &str = "canvas:strategy";
/// The exported interface, without version.
pub const STRATEGY_INTERFACE: &str = "canvas:strategy/strategy";
/// API versions this host can run, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["0.1.0"];
