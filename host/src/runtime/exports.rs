//! A strategy component's three exported functions, found once per
//! component and called with its API version's types.
//!
//! The host does not instantiate a `bindgen!` world per version (Zed's way):
//! versions differ only in what `audience-for` may ask for and what `decide`
//! is told of a member, so it looks the functions up by name under the
//! versioned interface, checks their types against that version's, converts
//! an older audience to the current one and lowers the older member and
//! context shapes (see `api::v0_1`, `api::v0_2`, `api::v0_3`). Looking them up by index once, at load,
//! keeps each call to a typed-function fetch.

use wasmtime::component::{Component, ComponentExportIndex, Instance};
use wasmtime::Store;

use super::api::v0_2::MemberBefore0_3;
use super::api::v0_3::RunContextBefore0_4;
use super::api::{self, ApiVersion};
use super::sandbox::SandboxState;

/// Where a component's three functions are, found once per component, and
/// how to call them for its API version.
pub(crate) struct StrategyExports {
    version: ApiVersion,
    describe: ComponentExportIndex,
    audience_for: ComponentExportIndex,
    decide: ComponentExportIndex,
}

type Describe = wasmtime::component::TypedFunc<(), (api::Manifest,)>;
type AudienceFor<A> = wasmtime::component::TypedFunc<(String,), (Result<A, String>,)>;
type Decide<'a, C, M> = wasmtime::component::TypedFunc<(&'a C, &'a [M]), (Result<Vec<api::Touch>, String>,)>;
/// What 0.1.0 and 0.2.0 plugins decide over.
type DecideBefore0_3<'a> = Decide<'a, RunContextBefore0_4<'a>, MemberBefore0_3<'a>>;

impl StrategyExports {
    pub fn find(component: &Component, version: ApiVersion) -> Result<Self, String> {
        let interface = format!("{}@{}", api::STRATEGY_INTERFACE, version.as_str());
        let missing = |what: &str| format!("does not implement the strategy world: it has no {what}");
        let strategy =
            component.get_export_index(None, &interface).ok_or_else(|| missing(&format!("`{interface}`")))?;
        let function = |name: &str| {
            component
                .get_export_index(Some(&strategy), name)
                .ok_or_else(|| missing(&format!("function `{name}` in `{interface}`")))
        };
        Ok(StrategyExports {
            version,
            describe: function("describe")?,
            audience_for: function("audience-for")?,
            decide: function("decide")?,
        })
    }

    /// Checks every function's types against its version's, naming what differs.
    pub fn check_signatures(&self, store: &mut Store<SandboxState>, instance: &Instance) -> wasmtime::Result<()> {
        let _: Describe = instance.get_typed_func(&mut *store, self.describe)?;
        match self.version {
            ApiVersion::V0_1 => {
                let _: AudienceFor<api::v0_1::Audience> = instance.get_typed_func(&mut *store, self.audience_for)?;
                let _: DecideBefore0_3<'_> = instance.get_typed_func(&mut *store, self.decide)?;
            }
            ApiVersion::V0_2 => {
                let _: AudienceFor<api::v0_2::Audience> = instance.get_typed_func(&mut *store, self.audience_for)?;
                let _: DecideBefore0_3<'_> = instance.get_typed_func(&mut *store, self.decide)?;
            }
            ApiVersion::V0_3 => {
                let _: AudienceFor<api::v0_3::Audience> = instance.get_typed_func(&mut *store, self.audience_for)?;
                let _: Decide<'_, RunContextBefore0_4<'_>, api::Member> =
                    instance.get_typed_func(&mut *store, self.decide)?;
            }
            ApiVersion::V0_4 => {
                let _: AudienceFor<api::Audience> = instance.get_typed_func(&mut *store, self.audience_for)?;
                let _: Decide<'_, api::RunContext, api::Member> = instance.get_typed_func(&mut *store, self.decide)?;
            }
        }
        Ok(())
    }

    pub fn describe(&self, store: &mut Store<SandboxState>, instance: &Instance) -> wasmtime::Result<api::Manifest> {
        let describe: Describe = instance.get_typed_func(&mut *store, self.describe)?;
        Ok(describe.call(store, ())?.0)
    }

    pub fn audience_for(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        config: String,
    ) -> wasmtime::Result<Result<api::Audience, String>> {
        Ok(match self.version {
            ApiVersion::V0_1 => {
                let audience_for: AudienceFor<api::v0_1::Audience> =
                    instance.get_typed_func(&mut *store, self.audience_for)?;
                audience_for.call(store, (config,))?.0.map(api::Audience::from)
            }
            ApiVersion::V0_2 => {
                let audience_for: AudienceFor<api::v0_2::Audience> =
                    instance.get_typed_func(&mut *store, self.audience_for)?;
                audience_for.call(store, (config,))?.0.map(api::Audience::from)
            }
            ApiVersion::V0_3 => {
                let audience_for: AudienceFor<api::v0_3::Audience> =
                    instance.get_typed_func(&mut *store, self.audience_for)?;
                audience_for.call(store, (config,))?.0.map(api::Audience::from)
            }
            ApiVersion::V0_4 => {
                let audience_for: AudienceFor<api::Audience> =
                    instance.get_typed_func(&mut *store, self.audience_for)?;
                audience_for.call(store, (config,))?.0
            }
        })
    }

    pub fn decide(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        context: &api::RunContext,
        members: &[api::Member],
    ) -> wasmtime::Result<Result<Vec<api::Touch>, String>> {
        Ok(match self.version {
            ApiVersion::V0_1 | ApiVersion::V0_2 => {
                let context = RunContextBefore0_4::from(context);
                let members: Vec<MemberBefore0_3<'_>> = members.iter().map(MemberBefore0_3::from).collect();
                let decide: DecideBefore0_3<'_> = instance.get_typed_func(&mut *store, self.decide)?;
                decide.call(store, (&context, &members))?.0
            }
            ApiVersion::V0_3 => {
                let context = RunContextBefore0_4::from(context);
                let decide: Decide<'_, RunContextBefore0_4<'_>, api::Member> =
                    instance.get_typed_func(&mut *store, self.decide)?;
                decide.call(store, (&context, members))?.0
            }
            ApiVersion::V0_4 => {
                let decide: Decide<'_, api::RunContext, api::Member> =
                    instance.get_typed_func(&mut *store, self.decide)?;
                decide.call(store, (context, members))?.0
            }
        })
    }
}
