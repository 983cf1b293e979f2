//! A plugin built against `canvas:strategy@0.9.0`, which this host does not
//! support: it must be refused with the list of supported versions.
// Only a wasm build is a component; natively (cargo test --workspace) this is empty.
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({ path: "wit", world: "plugin" });

struct FuturePlugin;

impl exports::canvas::strategy::strategy::Guest for FuturePlugin {
    fn describe() -> String {
        "from the future".to_string()
    }
}

export!(FuturePlugin);
