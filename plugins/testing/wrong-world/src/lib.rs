//! A valid component that is not a canvas strategy: the host must refuse it
//! on load, naming what it exports instead.
// Only a wasm build is a component; natively (cargo test --workspace) this is empty.
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({ path: "wit", world: "greeter" });

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello, {name}")
    }
}

export!(Greeter);
