// The version comes from CANVAS_TEST_VERSION at build time, so `make
// test-plugins` can build two versions of one plugin to upgrade between.
fn main() {
    println!("cargo:rerun-if-env-changed=CANVAS_TEST_VERSION");
    let version = std::env::var("CANVAS_TEST_VERSION").unwrap_or_else(|_| "0.1.0".to_string());
    println!("cargo:rustc-env=PLUGIN_VERSION={version}");
}
