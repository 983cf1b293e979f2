//! `canvas plugin`: the plugin lifecycle in the store — install (checked,
//! pinned by SHA-256, compiled), list, show, enable, disable, config,
//! rollback — each printing what it did; and `new`, which scaffolds a plugin
//! folder. `plugin test` is `plugin_test.rs`'s.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use canvas::app::App;
use canvas::config::CanvasConfig;
use canvas::printable::{printable, printable_line};
use canvas::scaffold::Language;
use canvas::strategy::merge_config;
use serde_json::{Map, Value};

use crate::lifecycle::Plugins;
use crate::plugin_test;
use crate::reach::store_or_service;

#[derive(Subcommand)]
pub enum Command {
    /// Check, pin (SHA-256) and compile plugin files; a new version of an installed id becomes active.
    Install {
        #[arg(required = true, value_name = "FILE.wasm")]
        files: Vec<PathBuf>,
    },
    /// The installed plugins.
    List,
    /// A plugin's manifest, default and current config, versions.
    Show {
        id: String,
    },
    /// Let a plugin run on its schedule.
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    /// Change a plugin's config keys (checked by the plugin; used from the next run).
    Config {
        id: String,
        /// KEY=VALUE, the value as JSON (a bare word is a string); KEY may be
        /// a path (`levels.1.value=30`), set at the leaf. Repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Remove a key or path (back to the default). Repeatable.
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        /// Replace all keys with this JSON object.
        #[arg(long, value_name = "JSON", conflicts_with_all = ["set", "unset"])]
        replace: Option<String>,
    },
    /// Make the previously active version active again.
    Rollback {
        id: String,
    },
    /// Run one plugin file on a hand-written fixture and show its touches, fuel, memory and time.
    /// `--config FILE.json` lays config keys over the plugin's defaults (a `.toml` file is a canvas config).
    Test(plugin_test::Args),
    /// Scaffold a new strategy plugin that builds and passes `canvas plugin test` out of the box.
    New {
        /// The plugin id, lowercase with dashes, e.g. `vip-winback`; also the folder's name.
        name: String,
        #[arg(long, value_enum)]
        lang: Language,
        /// The folder to create the plugin folder in.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
}

/// `canvas plugin new`: the folder and how many files it has.
pub fn scaffold(dir: &Path, name: &str, lang: Language) -> anyhow::Result<ExitCode> {
    let created = canvas::scaffold::create(dir, name, lang)?;
    println!(
        "created {} ({} files); next: see {}/README.md",
        created.dir.display(),
        created.files,
        created.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Sets `path` (`a.b.c`) in `keys` at the leaf, making the objects on the
/// way; an object value is merged key by key into the object there, so
/// `--set levels.1.value=30` or `--set 'levels={"1":…}'` keep the other levels.
fn set_at(keys: &mut Map<String, Value>, path: &str, value: Value) -> anyhow::Result<()> {
    let (parents, leaf) = match path.rsplit_once('.') {
        Some((parents, leaf)) => (parents.split('.').collect::<Vec<_>>(), leaf),
        None => (Vec::new(), path),
    };
    let mut at = keys;
    for (depth, part) in parents.iter().enumerate() {
        let slot = at.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
        at = match slot {
            Value::Object(map) => map,
            other => anyhow::bail!("`{}` is {other}, not an object", parents[..=depth].join(".")),
        };
    }
    let merged = match (at.remove(leaf), value) {
        (Some(Value::Object(there)), Value::Object(new)) => merge_config(&Value::Object(there), &new),
        (_, value) => value,
    };
    at.insert(leaf.to_string(), merged);
    Ok(())
}

/// Removes `path` (`a.b.c`) from `keys`, if it is there.
fn unset_at(keys: &mut Map<String, Value>, path: &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let leaf = parts.pop().unwrap_or(path);
    let mut at = keys;
    for part in parts {
        match at.get_mut(part) {
            Some(Value::Object(map)) => at = map,
            _ => return,
        }
    }
    at.remove(leaf);
}

/// The lifecycle commands, on the store at `store` (default: the config's),
/// or through the service that holds it.
pub fn execute(command: Command, store: Option<PathBuf>, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let reach = store_or_service(&store.unwrap_or(config.store.clone()), &config)?;
    let plugins = Plugins::new(reach, || App::new(config))?;
    match command {
        Command::Install { files } => {
            for file in files {
                let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let installed = plugins.install(&file.display().to_string(), bytes)?;
                let replaced = installed.replaced.map(|v| format!(", replacing {v}")).unwrap_or_default();
                println!(
                    "installed {} {} (sha256 {}){replaced}",
                    installed.id,
                    printable_line(&installed.version),
                    &installed.sha256[..16]
                );
            }
            println!("installed plugins start disabled: `canvas plugin enable ID`");
        }
        Command::List => {
            println!("{:<24} {:<9} {:<10} {:<18} {:<16} versions", "id", "version", "enabled", "schedule", "sha256");
            for p in plugins.list()? {
                let enabled = match (p["enabled"].as_bool(), p["off"].as_str()) {
                    (Some(true), _) => "yes",
                    (_, Some(off)) if off.contains("canvas.toml") => "off (toml)",
                    _ => "no",
                };
                println!(
                    "{:<24} {:<9} {enabled:<10} {:<18} {:<16} {}",
                    text(&p["id"]),
                    printable_line(&text(&p["version"])),
                    text(&p["schedule"]),
                    text(&p["sha256"]).get(..16).unwrap_or_default(),
                    p["versions"].as_u64().unwrap_or(0)
                );
            }
        }
        Command::Show { id } => {
            let shown = plugins.show(&id)?;
            let p = &shown["plugin"];
            println!(
                "{} {} — {}",
                text(&p["id"]),
                printable_line(&text(&p["version"])),
                printable_line(&text(&p["name"]))
            );
            println!("{}", printable(&text(&shown["description"])));
            match p["off"].as_str() {
                None => println!("enabled:   yes"),
                Some(why) => println!("enabled:   no — {why}"),
            }
            println!("schedule:  {}", text(&p["schedule"]));
            println!("api:       canvas:strategy@{}", text(&p["api_version"]));
            println!("sha256:    {}", text(&p["sha256"]));
            println!("default config:   {}", shown["default_config"]);
            println!("operator config:  {}", shown["config"]);
            println!("effective config: {}", shown["effective_config"]);
            println!("versions:");
            for version in shown["versions"].as_array().into_iter().flatten() {
                let sha256 = text(&version["sha256"]);
                let active = if sha256 == text(&shown["active"]) { " (active)" } else { "" };
                println!(
                    "  {} sha256 {}{active}",
                    printable_line(&text(&version["version"])),
                    sha256.get(..16).unwrap_or_default()
                );
            }
        }
        Command::Enable { id } => match plugins.set_enabled(&id, true)?["off"].as_str() {
            None => println!("{id} enabled"),
            Some(why) => println!("{id} enabled in the store, but it does not run: {why}"),
        },
        Command::Disable { id } => {
            plugins.set_enabled(&id, false)?;
            println!("{id} disabled");
        }
        Command::Config { id, set, unset, replace } => {
            let mut keys = match replace {
                Some(json) => match serde_json::from_str(&json)? {
                    serde_json::Value::Object(map) => map,
                    _ => anyhow::bail!("--replace takes a JSON object"),
                },
                None => plugins.config(&id)?,
            };
            for pair in set {
                let (key, value) = pair.split_once('=').with_context(|| format!("--set `{pair}`: use KEY=VALUE"))?;
                let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.into()));
                set_at(&mut keys, key, value).with_context(|| format!("--set `{pair}`"))?;
            }
            for key in unset {
                unset_at(&mut keys, &key);
            }
            let effective = plugins.set_config(&id, keys)?;
            println!("{id}: effective config from the next run: {effective}");
        }
        Command::Rollback { id } => {
            let summary = plugins.rollback(&id)?;
            println!("{id}: {} is active again", text(&summary["version"]));
        }
        Command::Test(_) | Command::New { .. } => unreachable!("handled before the store is opened"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A JSON string's text (anything else as JSON).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
