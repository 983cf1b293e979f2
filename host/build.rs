//! Rebuilds the host when a file of the console is added or removed:
//! `include_dir!` tracks the files it embedded, not the folder, so a new
//! page would otherwise be left out of the binary until something else
//! changed.

fn main() {
    println!("cargo:rerun-if-changed=src/serve/console/assets");
}
