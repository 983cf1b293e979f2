//! `canvas:strategy@0.4.0`, the version the host works in: its types are
//! the host's plugin types (re-exported by [`super`]).

wasmtime::component::bindgen!({
    path: "../wit/v0.4.0",
    world: "canvas:strategy/plugin@0.4.0",
});
