//! The canvas host: runs brands' lifecycle strategies as sandboxed
//! WebAssembly components over their member data.
//!
//! Data flows through one module per stage:
//!
//! ```text
//! CSV ─ import ─▶ store (sled) ─▶ member_base ─▶ audience ─▶ runtime (wasm) ─▶ governance ─▶ dispatch
//!                                  (as of a run)  (who, facts)  (plugin proposes)  (host decides) (outbox)
//! ```
//!
//! - [`app`]: the composition root — the config made into an engine, strategies,
//!   a runner, a dispatcher; which strategies run at an instant, and running them;
//! - [`model`]: the records (members, orders, events, products, proposals, decisions, runs);
//! - [`calendar`]: the brand's calendar (what day an instant is, when a day's run is);
//! - [`import`]: the CSV contract, all-or-nothing, errors with file:line:column;
//! - [`store`]: the operator's sled store, a file per tree — imported records, decision pages, runs,
//!   the outbox, installed plugins — with the types those trees hold (outbox and plugin entries);
//! - [`member_base`]: the member base in memory, time-indexed, with day indexes;
//! - [`decision_log`]: each strategy's earlier decisions, for audiences and plugin history;
//! - [`audience`]: evaluates a plugin's declarative audience and gathers member facts;
//! - [`runtime`]: wasmtime — loading, checking and sandboxing plugins;
//! - [`registry`]: installed plugins — install, enable, config, upgrade, rollback (kept in the store);
//! - [`scaffold`]: `canvas plugin new` — a plugin folder in Rust, Python or JavaScript from templates;
//! - [`schedule`]: cron schedules in the brand's time zone;
//! - [`strategy`]: a plugin with the operator's settings laid over its defaults;
//! - [`runner`]: a run instant — every strategy due proposes, the governor decides, all is recorded at once;
//! - [`governance`]: arbitration, holdouts, quiet hours, fatigue caps, the WeCom limit, budgets;
//! - [`dispatch`]: delivering the store's outbox — sinks (webhook, JSONL file), retries and dead letters;
//! - [`serve`]: `canvas serve` — the scheduler, continuous dispatch, the admin and ingest API;
//! - [`fixture`]: `canvas plugin test` — one plugin on a hand-written fixture;
//! - [`simulate`]: `canvas simulate`, every scheduled run over a date range, in a scratch store;
//! - [`decision_line`]: a decision as one JSON line, in decisions.jsonl and as the touch dispatch sends;
//! - [`report`]: decisions.jsonl, runs.jsonl and the summary table;
//! - [`backtest`]: conversions after touches vs the holdout group, uplift with its interval, the sales split;
//! - [`referrals`]: group-buy joins per referrer, and how many were new customers;
//! - [`config`]: the operator's TOML config, with every default;
//! - [`printable`]: a plugin's text made safe for a terminal.
//!
//! The seeded generator of realistic data sets behind `canvas gen` is a crate
//! of its own, `canvas_generate` in `host/generate/`: it writes the CSV files
//! `import` reads and uses nothing of this library.
//!
//! The `canvas` binary, in `host/src/bin/canvas/` (one file per command),
//! only parses arguments and prints: what a command does is in this library,
//! put together by [`app`].

pub mod app;
pub mod audience;
pub mod backtest;
pub mod calendar;
pub mod config;
pub mod decision_line;
pub mod decision_log;
pub mod dispatch;
pub mod fixture;
pub mod governance;
pub mod import;
pub mod keyed;
pub mod member_base;
pub mod model;
pub mod parallel;
pub mod printable;
pub mod referrals;
pub mod registry;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod scaffold;
pub mod schedule;
pub mod serve;
pub mod simulate;
pub mod store;
pub mod strategy;
