//! `canvas plugin test`: one plugin, one hand-written fixture (members, their
//! orders, events and earlier decisions, and a run instant), run exactly as a
//! real run would run it — the plugin's audience evaluated by the host, the
//! facts gathered, `decide` called in the sandbox, its touches checked — but
//! without governance: the outcome is what the plugin proposes.
//!
//! The fixture's records have the fields of the CSV contract (and of the
//! ingest API), so an author copies rows from real data. See docs/plugins.md.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::app::App;
use crate::audience;
use crate::calendar::RunClock;
use crate::calendar::{date_of_day, parse_instant, BrandCalendar, DEFAULT_TIMEZONE};
use crate::decision_log::DecisionLog;
use crate::import::{parse_json, RecordKind};
use crate::member_base::MemberBase;
use crate::model::{ActionKind, Benefit, BenefitKind, DataSet, Decision, DecisionStatus, Proposal};
use crate::report::lines::yuan;
use crate::runtime::proposals::{proposals_from, Proposals};
use crate::runtime::{api, CallStats, LoadedPlugin, SandboxLimits};
use crate::strategy::Strategy;
use crate::strategy::StrategySettings;

/// A fixture file as written by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The run instant, RFC 3339 with offset.
    pub run_at: String,
    /// The brand's time zone (default Asia/Shanghai).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Config keys laid over the plugin's default config.
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default)]
    pub members: Vec<Value>,
    #[serde(default)]
    pub orders: Vec<Value>,
    #[serde(default)]
    pub events: Vec<Value>,
    #[serde(default)]
    pub products: Vec<Value>,
    /// This strategy's earlier decisions for the members.
    #[serde(default)]
    pub history: Vec<PastTouch>,
}

/// An earlier decision of the strategy under test, as a fixture states it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastTouch {
    pub member_id: String,
    pub step: String,
    pub run_at: String,
    #[serde(default = "dispatched")]
    pub status: DecisionStatus,
    #[serde(default = "message")]
    pub action: ActionKind,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub benefit: Option<BenefitSpec>,
}

fn dispatched() -> DecisionStatus {
    DecisionStatus::Dispatched
}

fn message() -> ActionKind {
    ActionKind::Message
}

/// A benefit with its value in yuan, as in decisions.jsonl.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitSpec {
    pub kind: BenefitKind,
    #[serde(default)]
    pub value: f64,
    #[serde(default)]
    pub gift: Option<String>,
}

impl Fixture {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// What the plugin made of the fixture.
#[derive(Debug, Serialize)]
pub struct TestOutcome {
    pub plugin: String,
    pub api_version: String,
    pub run_at: String,
    pub config: Value,
    /// Ids of the fixture's members the plugin's audience selected, in id order.
    pub audience: Vec<String>,
    pub members: usize,
    pub touches: Vec<TouchLine>,
    /// Touches the host refused (they would be `failed` decisions in a run).
    pub refused: Vec<RefusedTouch>,
    pub calls: Calls,
    pub limits: SandboxLimits,
}

#[derive(Debug, Serialize)]
pub struct Calls {
    pub audience_for: CallLine,
    /// None when the audience was empty and `decide` was not called.
    pub decide: Option<CallLine>,
}

#[derive(Debug, Serialize)]
pub struct CallLine {
    pub fuel_used: u64,
    pub peak_memory_bytes: u64,
    pub duration_ms: f64,
}

impl From<CallStats> for CallLine {
    fn from(s: CallStats) -> Self {
        CallLine {
            fuel_used: s.fuel_used,
            peak_memory_bytes: s.peak_memory_bytes,
            duration_ms: s.duration.as_secs_f64() * 1000.0,
        }
    }
}

/// A touch that broke the contract, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RefusedTouch {
    pub member_id: String,
    pub step: String,
    pub reason: String,
}

/// One proposed touch, with the fields of a decisions.jsonl line that the
/// plugin decides (money in yuan).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TouchLine {
    pub member_id: String,
    pub step: String,
    pub action: ActionKind,
    pub channel: String,
    pub template: String,
    pub variables: BTreeMap<String, String>,
    pub benefit: Option<BenefitSpec>,
    pub guide_id: Option<String>,
    pub group_buy: Option<Value>,
}

impl From<&Proposal> for TouchLine {
    fn from(d: &Proposal) -> Self {
        TouchLine {
            member_id: d.member_id.clone(),
            step: d.step.clone(),
            action: d.action,
            channel: d.channel.clone(),
            template: d.template.clone(),
            variables: d.variables.iter().cloned().collect(),
            benefit: d.benefit.as_ref().map(|b| BenefitSpec {
                kind: b.kind,
                value: yuan(b.value),
                gift: b.gift.clone(),
            }),
            guide_id: d.guide_id.clone(),
            group_buy: d
                .group_buy
                .as_ref()
                .map(|g| serde_json::json!({ "sku": g.sku, "group_size": g.group_size, "price": yuan(g.price) })),
        }
    }
}

/// Runs the plugin file `plugin` on `fixture`, in `app`'s engine and sandbox
/// limits. Its config keys are the fixture's own, then the canvas config's
/// for its id, then `keys`, each laid over the one before; the rest of the
/// canvas config's settings for it (its schedule among them) do not apply.
/// A fixture the host cannot read is an `Err` naming the record; so is a
/// plugin that fails (trap, limit, error, invalid touch).
pub fn run_fixture(
    app: &App,
    plugin: &Path,
    fixture: Fixture,
    keys: &Map<String, Value>,
) -> anyhow::Result<TestOutcome> {
    let plugin = LoadedPlugin::load(&app.engine, plugin)?;
    let calendar = BrandCalendar::named(fixture.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE))
        .map_err(|e| anyhow::anyhow!("timezone: {e}"))?;
    let at = parse_instant(&fixture.run_at).map_err(|e| anyhow::anyhow!("run_at: {e}"))?;
    let data = data_set(&fixture)?;
    let members = data.members.len();
    let base = MemberBase::build(calendar, data);
    let decisions = history(&base, plugin.id(), &fixture.history)?;
    let log = DecisionLog::load(&base, &decisions);

    let mut config = fixture.config.clone();
    config.extend(app.settings(plugin.id()).config);
    config.extend(keys.clone());
    let settings = StrategySettings { config, ..StrategySettings::default() };
    let strategy = Strategy::new(plugin, &settings)?;
    let plugin = &strategy.plugin;
    let clock = RunClock::new(&base.calendar, at);
    let log = log.strategy(plugin.id());

    let (wanted, audience_stats) = plugin.audience_with_stats(&strategy.config)?;
    let selected = audience::select(&base, log, &wanted, clock);
    let facts: Vec<api::Member> =
        selected.iter().map(|&m| audience::member_facts(&base, log, m, &wanted, clock)).collect();
    let context = api::RunContext {
        run_at: clock.at,
        today: clock.today,
        date: date_of_day(clock.today).into(),
        timezone: base.calendar.tz().name().to_string(),
        config: strategy.config.to_string(),
        launches: audience::launches(&base, &wanted, clock),
    };
    let (proposals, decide_stats) = if facts.is_empty() {
        (Proposals::default(), None)
    } else {
        let (touches, stats) = plugin.decide(&context, &facts)?;
        let period = strategy.schedule.period_of(&base.calendar, clock.at);
        (proposals_from(plugin, clock, &period, &facts, touches)?, Some(stats))
    };
    let refused = proposals.failed.iter().map(|d| RefusedTouch {
        member_id: d.member_id.clone(),
        step: d.step.clone(),
        reason: d.reason.clone().unwrap_or_default(),
    });
    Ok(TestOutcome {
        plugin: plugin.label(),
        api_version: plugin.manifest.api_version.clone(),
        run_at: base.calendar.format(at),
        config: strategy.config.clone(),
        audience: selected.iter().map(|&m| base.member(m).member.id.clone()).collect(),
        members,
        touches: proposals.proposed.iter().map(TouchLine::from).collect(),
        refused: refused.collect(),
        calls: Calls { audience_for: audience_stats.into(), decide: decide_stats.map(CallLine::from) },
        limits: app.config.sandbox.clone(),
    })
}

/// The fixture's records, read with the CSV contract's rules and errors.
fn data_set(fixture: &Fixture) -> anyhow::Result<DataSet> {
    let mut data = DataSet::default();
    let sections = [
        (RecordKind::Members, &fixture.members),
        (RecordKind::Orders, &fixture.orders),
        (RecordKind::Events, &fixture.events),
        (RecordKind::Products, &fixture.products),
    ];
    for (kind, records) in sections {
        let body = serde_json::to_string(records).expect("JSON values serialize");
        let parsed = parse_json(kind, &body).map_err(|refused| {
            let errors: Vec<String> = refused.errors.iter().map(|e| format!("  {e}")).collect();
            anyhow::anyhow!("the fixture's `{}` are refused:\n{}", kind.name(), errors.join("\n"))
        })?;
        data.members.extend(parsed.data.members);
        data.orders.extend(parsed.data.orders);
        data.events.extend(parsed.data.events);
        data.products.extend(parsed.data.products);
    }
    Ok(data)
}

fn history(base: &MemberBase, strategy: &str, past: &[PastTouch]) -> anyhow::Result<Vec<Decision>> {
    past.iter()
        .enumerate()
        .map(|(i, p)| {
            let which = format!("history[{i}] (member `{}`, step `{}`)", p.member_id, p.step);
            if base.index_of(&p.member_id).is_none() {
                anyhow::bail!("{which}: no such member in the fixture");
            }
            let run_at = parse_instant(&p.run_at).map_err(|e| anyhow::anyhow!("{which}: run_at: {e}"))?;
            let benefit = p.benefit.as_ref().map(|b| Benefit {
                kind: b.kind,
                value: (b.value * 100.0).round() as i64,
                gift: b.gift.clone(),
            });
            Ok(Decision {
                key: format!("{strategy}/{}/fixture-{i}/{}", p.step, p.member_id),
                strategy: strategy.to_string(),
                plugin_version: String::new(),
                run_at,
                day: base.calendar.day_of(run_at),
                member_id: p.member_id.clone(),
                step: p.step.clone(),
                action: p.action,
                channel: p.channel.clone(),
                template: p.template.clone(),
                variables: p.variables.clone().into_iter().collect(),
                benefit,
                coupon_id: None,
                guide_id: None,
                group_buy: None,
                status: p.status,
                reason: None,
                send_at: None,
            })
        })
        .collect()
}

/// The expected touches: a JSON list of touches, or an object with `touches`
/// (what `canvas plugin test --format json` prints). Each expected touch is
/// matched to the actual one of its (member_id, step); only the fields it
/// names are compared, so an expectation can be as loose as `{member_id, step}`.
pub fn read_expectation(path: &Path) -> anyhow::Result<Vec<Map<String, Value>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(mut o) => match o.remove("touches") {
            Some(Value::Array(list)) => list,
            _ => anyhow::bail!("{}: expected a list of touches or an object with `touches`", path.display()),
        },
        _ => anyhow::bail!("{}: expected a list of touches or an object with `touches`", path.display()),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(o)
                if o.get("member_id").is_some_and(Value::is_string) && o.get("step").is_some_and(Value::is_string) =>
            {
                Ok(o)
            }
            _ => anyhow::bail!("{}: touch {} needs at least `member_id` and `step` strings", path.display(), i + 1),
        })
        .collect()
}

/// Differences between expected and actual touches, one readable line each;
/// empty when they match.
pub fn diff(expected: &[Map<String, Value>], actual: &[TouchLine]) -> Vec<String> {
    let key = |o: &Map<String, Value>| {
        (o["member_id"].as_str().unwrap_or_default().to_string(), o["step"].as_str().unwrap_or_default().to_string())
    };
    let actual: BTreeMap<(String, String), Map<String, Value>> = actual
        .iter()
        .map(|t| match serde_json::to_value(t).expect("touches serialize") {
            Value::Object(o) => (key(&o), o),
            _ => unreachable!("a touch is an object"),
        })
        .collect();
    let mut lines = Vec::new();
    let mut matched = Vec::new();
    for want in expected {
        let k = key(want);
        let who = format!("{} / {}", k.0, k.1);
        let Some(got) = actual.get(&k) else {
            lines.push(format!("- missing: no touch for member {} at step {}", k.0, k.1));
            continue;
        };
        matched.push(k.clone());
        for (field, want_value) in want {
            let got_value = got.get(field).unwrap_or(&Value::Null);
            if !same(want_value, got_value) {
                lines.push(format!("~ {who}: `{field}` expected {want_value}, got {got_value}"));
            }
        }
    }
    for (k, got) in &actual {
        if !matched.contains(k) {
            lines.push(format!("+ unexpected: {}", Value::Object(got.clone())));
        }
    }
    lines
}

/// JSON equality where numbers compare by value (20 equals 20.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The outcome for people: the audience, each touch on a line, and how much
/// of each sandbox limit the calls used.
pub fn render(o: &TestOutcome) -> String {
    use crate::printable::printable_line;
    use crate::report::format::{count, percent};
    use std::fmt::Write;

    let mut out = String::new();
    let _ = writeln!(out, "plugin    {} (API {})", o.plugin, o.api_version);
    let _ = writeln!(out, "run at    {}", o.run_at);
    let _ = writeln!(out, "config    {}", o.config);
    let who = if o.audience.is_empty() { String::new() } else { format!(": {}", o.audience.join(", ")) };
    let _ = writeln!(out, "audience  {} of {} members{who}", o.audience.len(), o.members);
    let _ = writeln!(out, "touches   {}", o.touches.len());
    for t in &o.touches {
        let mut line = format!("  {}  {}  {:?}  {}/{}", t.member_id, t.step, t.action, t.channel, t.template);
        if let Some(b) = &t.benefit {
            let gift = b.gift.as_deref().map(|g| format!(" + {g}")).unwrap_or_default();
            let _ = write!(line, "  {:?} {:.2} yuan{gift}", b.kind, b.value);
        }
        if let Some(guide) = &t.guide_id {
            let _ = write!(line, "  guide {guide}");
        }
        if let Some(group) = &t.group_buy {
            let _ = write!(line, "  group buy {group}");
        }
        for (k, v) in &t.variables {
            let _ = write!(line, "  {k}={}", printable_line(v));
        }
        let _ = writeln!(out, "{line}");
    }
    if !o.refused.is_empty() {
        let _ = writeln!(out, "refused   {} (a run records each as a `failed` decision)", o.refused.len());
        for r in &o.refused {
            let _ = writeln!(out, "  {}  {}  {}", r.member_id, r.step, r.reason);
        }
    }
    let l = &o.limits;
    let mib = |bytes: u64| bytes as f64 / (1u64 << 20) as f64;
    let _ = writeln!(
        out,
        "sandbox   call          fuel used (of {})          peak memory (of {} MiB)   time (of {} ms)",
        count(l.fuel),
        l.memory_mib,
        count(l.deadline_ms)
    );
    let mut call = |name: &str, c: &CallLine| {
        let _ = writeln!(
            out,
            "          {name:<13} {:>14} {:>7}   {:>9.1} MiB {:>7}     {:>8.1} ms {:>7}",
            count(c.fuel_used),
            percent(c.fuel_used as f64 / l.fuel.max(1) as f64),
            mib(c.peak_memory_bytes),
            percent(c.peak_memory_bytes as f64 / (l.memory_mib.max(1) << 20) as f64),
            c.duration_ms,
            percent(c.duration_ms / l.deadline_ms.max(1) as f64),
        );
    };
    call("audience-for", &o.calls.audience_for);
    match &o.calls.decide {
        Some(decide) => call("decide", decide),
        None => {
            let _ = writeln!(out, "          decide        not called: nobody in the audience");
        }
    }
    out
}
