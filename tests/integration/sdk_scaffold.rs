//! `canvas plugin new` in each language, made in a temp folder outside the
//! repository: the scaffold's README states the API version it builds, and
//! its own unit tests pass natively — `cargo test` (the Rust SDK found by the
//! path written at scaffold time), `python3 -m unittest`, `node --test` —
//! with no component build. (plugin_tools.rs builds the components.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::support::*;

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `canvas plugin new welcome-back --lang LANG` in a fresh temp folder.
fn scaffold(lang: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let made =
        canvas().args(["plugin", "new", "welcome-back", "--lang", lang, "--dir"]).arg(dir.path()).output().unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let folder = dir.path().join("welcome-back");
    let readme = std::fs::read_to_string(folder.join("README.md")).unwrap();
    assert!(readme.contains("`canvas:strategy@0.4.0`"), "{lang}: the README names the API version:\n{readme}");
    (dir, folder)
}

fn run_in(folder: &Path, program: &str, args: &[&str], env: &[(&str, PathBuf)]) -> Output {
    let mut command = Command::new(program);
    command.args(args).current_dir(folder);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn a_new_rust_plugin_depends_on_the_sdk_by_a_path_that_resolves_outside_the_repo_and_its_unit_test_passes() {
    let (_dir, folder) = scaffold("rust");
    let manifest = std::fs::read_to_string(folder.join("Cargo.toml")).unwrap();
    let sdk = repo_root().join("plugins/sdk").canonicalize().unwrap();
    assert!(manifest.contains(&format!("path = \"{}\"", sdk.display())), "{manifest}");
    let readme = std::fs::read_to_string(folder.join("README.md")).unwrap();
    assert!(readme.contains(&sdk.display().to_string()) && readme.contains("cargo test"), "{readme}");
    // Natively, with the workspace's compiled dependencies shared.
    let target = repo_root().join("target/scaffold-native");
    let tested = run_in(&folder, "cargo", &["test", "--release", "--quiet"], &[("CARGO_TARGET_DIR", target)]);
    assert!(tested.status.success(), "cargo test in the scaffold: {}", text(&tested));
    assert!(text(&tested).contains("test result: ok. 1 passed"), "{}", text(&tested));
}

#[test]
fn a_new_python_plugin_unit_tests_in_plain_python_without_componentize_py() {
    let (_dir, folder) = scaffold("python");
    let tested = run_in(&folder, "python3", &["-m", "unittest", "-v"], &[]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(text(&tested).contains("Ran 2 tests"), "{}", text(&tested));
}

#[test]
fn a_new_javascript_plugin_unit_tests_under_plain_node() {
    let (_dir, folder) = scaffold("js");
    let tested = run_in(&folder, "node", &["--test"], &[]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(text(&tested).contains("# pass 2"), "{}", text(&tested));
}
