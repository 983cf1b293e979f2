//! The canvas host: runs brands' lifecycle strategies as sandboxed
//! WebAssembly components over their member data.
//!
//! Data flows through one module per stage, in this order:
//!
//! ```text
//! CSV ─ import ─▶ store ─▶ member_base ─▶ audience ─▶ runtime ─────────────▶ governance ─▶ runner records ─▶ dispatch ─▶ report
//!       (all or   (sled,    (as of the     (who, and    (wasm sandbox: the    (the host     (decision pages,  (outbox,     (decisions.jsonl,
//!        nothing)  a file    run instant)   their facts)  plugin proposes,     decides)      outbox entries)   sinks)       summary, HTML)
//!                  per tree)                              contract checked)
//! ```
//!
//! One composition root drives it: [`app`] turns the config into the engine,
//! the strategies, a runner and a dispatcher, decides which strategies run at
//! an instant ([`app::Selection`]) and runs them. `canvas run`, `serve`,
//! `simulate`, `plugin test` and the benchmark all start there.
//!
//! - [`app`]: the composition root (above), with the one check of what an
//!   operator may ask to run (`app::ask`) and of the strategy ids the config names;
//! - [`model`]: the records (members, orders, events, products, guides, proposals, decisions, runs);
//! - [`calendar`]: the brand's calendar (what day an instant is, when a day's run is, a run's clock);
//! - [`import`]: the CSV/JSON contract, all-or-nothing, errors with file:line:column;
//! - [`store`]: the operator's sled store, a file per tree — imported records, decision pages, runs,
//!   the outbox, installed plugins — with the types those trees hold (outbox and plugin entries);
//! - [`member_base`]: the member base in memory, time-indexed, with day indexes (`build.rs` makes it),
//!   and whether a channel reaches a member as of an instant (`reachability.rs`);
//! - [`contact`]: changes in reachability as they come in — the operator's do-not-contact mark (an
//!   event of the member's), and queued touches they make undeliverable taken back;
//! - [`decision_log`]: each strategy's earlier decisions, for audiences and plugin history;
//! - [`audience`]: evaluates a plugin's declarative audience (index ranges, conditions) and gathers member
//!   facts, and puts an audience in words (English and Chinese) for the operator console;
//! - [`runtime`]: wasmtime — loading, sandboxing and calling plugins, one module per WIT version, and the
//!   guest contract: audience limits, touch checks, proposals with their keys and coupon ids;
//! - [`strategy`]: a plugin with the operator's settings laid over its defaults;
//! - [`registry`]: installed plugins — install, enable, config, upgrade, rollback (kept in the store);
//! - [`schedule`]: cron schedules in the brand's time zone (empty: only on triggers);
//! - [`triggers`]: event triggers — which strategies an event fires, when, and what calls a firing off;
//! - [`runner`]: a run instant — each strategy due proposes (`propose.rs`, batches isolated by
//!   `isolate.rs`), the governor decides, all is recorded at once (or, for a preview, nothing is);
//!   a triggered instant (`fire.rs`) the same way, one member per call;
//! - [`governance`]: arbitration, holdouts, reachability and fallback channels, guides (who takes
//!   a staff task, how many a day), quiet hours, fatigue caps, the WeCom limit, budgets —
//!   typed outcomes and reasons, worded only when a decision is made;
//! - [`dispatch`]: delivering the store's outbox — sinks (webhook, JSONL file), each channel at its
//!   rate (429s honoured), retries and dead letters, the backlog per channel;
//! - [`decision_line`]: a decision as one JSON line, in decisions.jsonl and as the touch dispatch sends;
//! - [`report`]: runs.jsonl, the summary table and the HTML report;
//! - [`results`]: live results over the store — conversion against the holdout, uplift, revenue
//!   counted once (last touch wins), cost and ROI, harm, staff tasks done, the sales split;
//! - [`uplift`]: touched vs holdout conversion, the difference with its 95% interval — for touches
//!   really sent; a simulation's never were, so it reports [`outlook`] instead — and `[report]`;
//! - [`outlook`]: what a simulation's strategies would have done — baseline conversion of the members
//!   they selected, benefit cost with group-buy discounts, the break-even lift; each order counted once;
//! - [`referrals`]: group-buy joins per referrer, and how many were new customers;
//! - [`serve`]: `canvas serve` — the scheduler, continuous dispatch, the admin and ingest API;
//! - [`world`]: the closed loop — a seeded synthetic population behind the webhook sink that orders
//!   after the touches it receives (a planted lift) and deletes the brand when over-touched, driving
//!   `serve` day after day, to prove the live [`results`] recover what was planted;
//! - [`simulate`]: `canvas simulate`, every scheduled run over a date range, in a scratch store, no sinks;
//! - [`fixture`]: `canvas plugin test` — one plugin on a hand-written fixture, and its outcome;
//! - [`scaffold`]: `canvas plugin new` — a plugin folder in Rust, Python or JavaScript from templates;
//! - [`config`]: the operator's TOML config, with every default; each section's type is its subsystem's;
//! - [`keyed`], [`parallel`], [`printable`]: small shared helpers — maps keyed by ids held
//!   elsewhere, work spread over threads in input order, a plugin's text made safe for a terminal.
//!
//! The seeded generator of realistic data sets behind `canvas gen` is a crate
//! of its own, `canvas_generate` in `host/generate/`: it writes the CSV files
//! `import` reads and uses nothing of this library.
//!
//! The `canvas` binary, in `host/src/bin/canvas/` (one file per command),
//! only parses arguments and prints: what a command does is in this library,
//! put together by [`app`].

#![warn(missing_docs)]

pub mod app;
pub mod audience;
pub mod calendar;
pub mod config;
pub mod contact;
pub mod decision_line;
pub mod decision_log;
pub mod decision_view;
pub mod dispatch;
pub mod fixture;
pub mod governance;
pub mod import;
pub mod keyed;
pub mod member_base;
pub mod model;
pub mod outlook;
pub mod parallel;
pub mod printable;
pub mod referrals;
pub mod registry;
pub mod report;
pub mod results;
pub mod runner;
pub mod runtime;
pub mod scaffold;
pub mod schedule;
pub mod serve;
pub mod simulate;
pub mod store;
pub mod strategy;
pub mod triggers;
pub mod uplift;
pub mod world;
