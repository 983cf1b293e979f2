//! The canvas plugin SDK: a strategy is one `impl Strategy` plus one
//! `register_strategy!` line. wit-bindgen stays in here.
//!
//! Layout:
//! - [`bindings`]: the types of the WIT package `canvas:strategy@0.2.0`, re-exported at the root;
//! - [`Strategy`] and [`Run`]: what an author implements and what a run looks like to them;
//! - `audience`, `touch`, `member`: builders and helpers on the WIT types;
//! - [`FirstThenFollowUp`]: the common `first` then one `followup` step shape;
//! - [`calendar`]: day arithmetic in the brand's calendar (days since 1970-01-01);
//! - [`testing`]: plain-Rust builders to unit-test a strategy natively, no wasm build;
//! - `bump`: the guest's allocator (feature `bump-allocator`, on by default).
//!
//! ```ignore
//! use canvas_sdk::*;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config { after_days: u32 }
//! impl Default for Config { fn default() -> Self { Config { after_days: 90 } } }
//!
//! pub struct DormantRecall;
//! impl Strategy for DormantRecall {
//!     const ID: &'static str = "dormant-recall";
//!     /* NAME, VERSION, DESCRIPTION */
//!     type Config = Config;
//!     fn audience(c: &Config) -> Audience { Audience::when([Condition::LastOrder(exactly(c.after_days))]) }
//!     fn decide(run: &Run<Config>, m: &Member) -> Vec<Touch> { vec![Touch::message(m, "recall", "wecom", "recall")] }
//! }
//! register_strategy!(DormantRecall);
//! ```

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.2.0",
        world: "canvas:strategy/plugin@0.2.0",
        pub_export_macro: true,
        export_macro_name: "export_canvas_plugin",
        default_bindings_module: "canvas_sdk::bindings",
        additional_derives: [PartialEq, Eq],
    });
}

mod audience;
#[cfg(all(target_arch = "wasm32", feature = "bump-allocator"))]
mod bump;
pub mod calendar;
#[doc(hidden)]
pub mod export;
mod member;
mod run;
mod steps;
pub mod testing;
mod touch;

pub use audience::{between, exactly, within};
pub use bindings::canvas::strategy::types::*;
pub use run::{NoConfig, Run, Strategy};
pub use steps::FirstThenFollowUp;
pub use touch::{BenefitSpec, BenefitSpecKind};

/// The version of the WIT package this SDK builds plugins against.
pub const API_VERSION: &str = "0.2.0";

/// The default schedule: every day at 10:00 in the brand's time zone.
pub const DAILY_AT_10: &str = "0 10 * * *";
/// Every hour, on the hour.
pub const HOURLY: &str = "0 * * * *";
/// The first day of every month at 10:00.
pub const MONTHLY_ON_THE_1ST_AT_10: &str = "0 10 1 * *";

/// Makes `$strategy` the plugin's implementation of the WIT world.
/// Write it once, at the bottom of the plugin's `lib.rs`.
#[macro_export]
macro_rules! register_strategy {
    ($strategy:ty) => {
        // Only a wasm build exports the component's functions; a native build
        // (unit tests) uses the strategy directly.
        #[cfg(target_family = "wasm")]
        const _: () = {
            struct CanvasPlugin;
            impl $crate::bindings::exports::canvas::strategy::strategy::Guest for CanvasPlugin {
                fn describe() -> $crate::Manifest {
                    $crate::export::manifest::<$strategy>()
                }
                fn audience_for(config: String) -> Result<$crate::Audience, String> {
                    $crate::export::audience::<$strategy>(&config)
                }
                fn decide(
                    context: $crate::RunContext,
                    members: Vec<$crate::Member>,
                ) -> Result<Vec<$crate::Touch>, String> {
                    $crate::export::decide::<$strategy>(context, members)
                }
            }
    $crate::bindings::export_canvas_plugin!(CanvasPlugin with_types_in $crate::bindings);
        };
    };
}
