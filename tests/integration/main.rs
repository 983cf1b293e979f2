//! The product's integration tests: real plugins through real wasmtime, real
//! sled in temp folders, the real `canvas` binary. One binary, a module per topic.
//!
//! The plugins come from `make test` (target/plugins, target/test-plugins,
//! target/polyglot).

mod audience_edges;
mod base_snapshot;
mod beside_the_service;
mod closed_loop;
mod compaction;
mod console;
mod console_api;
mod dispatch;
mod governance;
mod guides;
mod hardening;
mod import;
mod import_guard;
mod import_json;
mod import_parquet;
mod import_strict;
mod kept_kinds;
mod on_record;
mod operator_rules;
mod plugin_tools;
mod polyglot;
mod rate_limits;
mod reachability;
mod receiver;
mod report;
mod results;
mod sandbox;
mod sdk_scaffold;
mod serve;
mod serve_auth;
mod serve_runs;
mod serve_sessions;
mod service;
mod simulate;
mod strategies;
mod support;
mod triggered;
mod triggered_service;
mod triggers;
