#!/bin/sh
# Builds __ID__.wasm for the wasm32-wasip2 target.
set -e
cd "$(dirname "$0")"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/__CRATE__.wasm" __ID__.wasm
