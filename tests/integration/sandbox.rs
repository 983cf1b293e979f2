//! A plugin that loops, hogs memory, traps or floods the host fails its own
//! runs with a clear error; the host and the other plugins go on. Plugins of
//! another world or API version are refused on load, naming what is wrong.

use std::sync::Arc;

use canvas::runtime::{LoadedPlugin, PluginEngine, SandboxLimits};

use crate::support::*;

/// Members with an order a day before the run, so every test plugin has an audience.
fn busy_data() -> Data {
    Data::new()
        .member("M1", 3, "1990-03-14")
        .order("M1", "2025-12-01T12:00:00+08:00")
        .member("M2", 1, "")
        .order("M2", "2025-12-01T12:00:00+08:00")
}

/// Lower limits than the defaults so the test is quick; the Rust strategies fit easily.
const TIGHT: &str = "[sandbox]\nfuel = 300_000_000\nmemory_mib = 64\noutput_kib = 1024\n";

#[test]
fn misbehaving_plugins_fail_their_own_runs_while_the_others_decide() {
    let dir = busy_data().write();
    let plugins = [
        plugin("dormant-recall"),
        plugin("birthday-tiered"),
        test_plugin("forever-loop"),
        test_plugin("memory-hog"),
        test_plugin("trap"),
        test_plugin("flood"),
    ];
    let sim = simulate_with(dir.path(), &plugins, "2026-03-01", "2026-03-02", config(TIGHT));

    assert_eq!(sim.decided("dormant-recall"), [("2026-03-01".into(), "M1".into()), ("2026-03-01".into(), "M2".into())]);
    assert_eq!(sim.decided("birthday-tiered"), [("2026-03-01".into(), "M1".into())]);

    let fuel = sim.errors("forever-loop");
    assert_eq!(fuel.len(), 2, "both daily runs fail: {fuel:?}");
    assert!(fuel[0].contains("plugin forever-loop 0.1.0 ran out of fuel"), "{}", fuel[0]);
    assert!(fuel[0].contains("300000000 units"), "{}", fuel[0]);

    let memory = sim.errors("memory-hog");
    assert!(memory[0].contains("plugin memory-hog 0.1.0 exceeded its memory cap of 64 MiB"), "{}", memory[0]);

    let trap = sim.errors("trap");
    assert!(trap[0].contains("plugin trap 0.1.0 trapped"), "{}", trap[0]);
    assert!(trap[0].contains("deliberate failure on member M1"), "the panic message is kept: {}", trap[0]);

    let flood = sim.errors("flood");
    assert!(flood[0].contains("over the output cap of 1024 KiB"), "{}", flood[0]);

    for bad in ["forever-loop", "memory-hog", "trap", "flood"] {
        let touched = sim.decisions.iter().filter(|d| d["strategy"] == bad && d["status"] != "failed");
        assert_eq!(touched.count(), 0, "{bad} touched nobody");
        // Each member was tried alone, each day, before the run was given up.
        let tried: Vec<(String, String)> = ["2026-03-01", "2026-03-02"]
            .iter()
            .flat_map(|day| ["M1", "M2"].map(|m| (day.to_string(), m.to_string())))
            .collect();
        assert_eq!(sim.decided(bad), tried, "{bad}");
        assert_eq!(sim.result.summary.strategies[bad].failed_runs, 2);
    }
    assert!(sim.result.summary.any_failed());
}

#[test]
fn the_deadline_stops_a_plugin_when_fuel_would_not() {
    let dir = busy_data().write();
    let generous_fuel = "[sandbox]\nfuel = 1_000_000_000_000_000\ndeadline_ms = 200\n";
    let sim =
        simulate_with(dir.path(), &[test_plugin("forever-loop")], "2026-03-01", "2026-03-01", config(generous_fuel));
    let errors = sim.errors("forever-loop");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("exceeded its deadline of 200 ms"), "{}", errors[0]);
}

#[test]
fn clocks_and_randomness_inside_the_sandbox_are_the_run_instant_and_a_fixed_seed() {
    let dir = busy_data().write();
    let sim = simulate_with(dir.path(), &[test_plugin("clock-reader")], "2026-03-01", "2026-03-02", config(""));
    assert_eq!(sim.decisions.len(), 4);
    for d in &sim.decisions {
        assert_eq!(d["variables"]["wall_clock_ms"], d["variables"]["run_at_ms"], "the wall clock is the run instant");
    }
    let hash_of = |day: &str, member: &str| {
        let d = sim.decisions.iter().find(|d| d["date"] == day && d["member_id"] == member).unwrap();
        d["variables"]["hash"].clone()
    };
    assert_eq!(hash_of("2026-03-01", "M1"), hash_of("2026-03-02", "M1"), "randomness repeats run to run");
}

fn engine() -> Arc<PluginEngine> {
    Arc::new(PluginEngine::new(SandboxLimits::default()).unwrap())
}

fn refusal(path: &std::path::Path) -> String {
    match LoadedPlugin::load(&engine(), path) {
        Ok(plugin) => panic!("{} was loaded as {}", path.display(), plugin.label()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_plugin_built_against_another_api_version_is_refused_before_it_runs() {
    let message = refusal(&test_plugin("future-api"));
    assert!(message.contains("future-api.wasm"), "{message}");
    assert!(message.contains("built against canvas:strategy@0.9.0"), "{message}");
    assert!(
        message.contains(
            "supported: canvas:strategy@0.4.0, canvas:strategy@0.3.0, canvas:strategy@0.2.0, canvas:strategy@0.1.0"
        ),
        "{message}"
    );
}

#[test]
fn a_component_of_another_world_is_refused_naming_what_it_exports() {
    let message = refusal(&test_plugin("wrong-world"));
    assert!(message.contains("wrong-world.wasm"), "{message}");
    assert!(message.contains("not a canvas strategy plugin (it exports: greet)"), "{message}");
}

#[test]
fn files_that_are_not_components_are_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    assert!(refusal(&core).contains("is a core WebAssembly module, not a component"));
    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "hello").unwrap();
    assert!(refusal(&text).contains("is not a WebAssembly file"));
}

#[test]
fn a_refused_plugin_does_not_stop_the_simulation_of_the_others() {
    let dir = busy_data().write();
    let plugins = [plugin("dormant-recall"), test_plugin("future-api"), test_plugin("wrong-world")];
    let sim = simulate_with(dir.path(), &plugins, "2026-03-01", "2026-03-01", config(""));
    assert_eq!(sim.decided("dormant-recall").len(), 2);
    assert_eq!(sim.result.refused.len(), 2, "{:?}", sim.result.refused);
}

#[test]
fn the_manifest_is_read_and_checked_on_load() {
    let plugin = LoadedPlugin::load(&engine(), &plugin("birthday-tiered")).unwrap();
    let m = &plugin.manifest;
    assert_eq!((m.id.as_str(), m.api_version.as_str()), ("birthday-tiered", "0.4.0"));
    assert_eq!(m.schedule.expression(), "0 10 1 * *");
    assert_eq!(m.default_config["levels"]["4"]["gift"], "birthday gift box");
    let recall = LoadedPlugin::load(&engine(), &crate::support::plugin("dormant-recall")).unwrap();
    assert_eq!(recall.manifest.schedule.expression(), "0 10 * * *", "daily at 10:00 by default");
}

#[test]
fn a_plugins_audience_follows_its_config_though_the_host_keeps_the_last_answer() {
    let plugin = LoadedPlugin::load(&engine(), &plugin("dormant-recall")).unwrap();
    let after = |days: u32| serde_json::json!({ "after_days": days });
    let asked = |days: u32| plugin.audience_with_stats(&after(days)).unwrap().0;
    let (ninety, sixty) = (plugin.audience(&after(90)).unwrap(), plugin.audience(&after(60)).unwrap());
    assert_eq!(format!("{ninety:?}"), format!("{:?}", asked(90)));
    assert_eq!(format!("{sixty:?}"), format!("{:?}", asked(60)), "a new config is asked anew");
    assert_ne!(format!("{ninety:?}"), format!("{sixty:?}"));
    assert_eq!(format!("{:?}", plugin.audience(&after(90)).unwrap()), format!("{ninety:?}"), "and back again");
    let refused = plugin.audience(&serde_json::json!({ "after_dayz": 90 })).expect_err("an unknown key");
    assert!(refused.to_string().contains("after_dayz"), "{refused}");
}

#[test]
fn a_config_the_plugin_rejects_is_an_error_naming_the_key() {
    let (dir, out) = (busy_data().write(), tempfile::TempDir::new().unwrap());
    let plugins = plugin_dir(&[plugin("dormant-recall")]);
    let options = canvas::simulate::SimulateOptions {
        data: dir.path().to_path_buf(),
        from: date("2026-03-01"),
        to: date("2026-03-01"),
        out: out.path().to_path_buf(),
        plugins: plugins.path().to_path_buf(),
        strategies: None,
        config: config("[strategies.dormant-recall]\nconfig = { after_day = 60 }"),
    };
    let error = canvas::simulate::simulate(&options, &mut |_, _| {}).err().expect("nothing to simulate");
    let message = format!("{error:#}");
    assert!(message.contains("strategies.dormant-recall.config is rejected by the plugin"), "{message}");
    assert!(message.contains("unknown field `after_day`"), "{message}");
}

#[test]
fn an_installed_plugin_loads_from_its_compiled_artifact() {
    let engine = engine();
    let wasm = std::fs::read(plugin("dormant-recall")).unwrap();
    let compiled = engine.precompile(&wasm).unwrap();
    let (loaded, from_artifact) = LoadedPlugin::from_compiled(&engine, "dormant-recall", &wasm, &compiled).unwrap();
    assert!(from_artifact, "no second compilation");
    assert_eq!(loaded.id(), "dormant-recall");
    let (_, from_artifact) = LoadedPlugin::from_compiled(&engine, "dormant-recall", &wasm, b"not an artifact").unwrap();
    assert!(!from_artifact, "a stale or foreign artifact falls back to compiling the wasm");
}
