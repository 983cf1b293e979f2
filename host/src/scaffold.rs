//! `canvas plugin new NAME --lang rust|python|js`: a plugin folder that builds
//! and passes `canvas plugin test` out of the box, with unit tests that run
//! without a component build (`cargo test`, `python3 -m unittest`,
//! `node --test`). The templates live in plugins/templates and are compiled
//! into the binary; Python and JavaScript plugins get their own copy of the
//! SDK and the WIT package, so the folder stands alone. A Rust plugin depends
//! on this repository's plugins/sdk by its absolute path, resolved when the
//! folder is made, so the folder builds wherever it is made.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The language of a new plugin, `--lang`. (clap shows the variants' docs
/// as the values' help.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// A Rust crate on the canvas SDK, built with cargo for wasm32-wasip2.
    Rust,
    /// A Python app, built with componentize-py.
    Python,
    /// A JavaScript module, built with componentize-js.
    Js,
}

/// The WIT package every SDK targets (`API_VERSION` in each), as vendored
/// into Python and JavaScript plugins.
const WIT: &str = include_str!("../../wit/v0.4.0/strategy.wit");
/// Its version, which the README of a new plugin states.
const API_VERSION: &str = "0.4.0";
const README: &str = include_str!("../../plugins/templates/common/README.md");
const FIXTURE: &str = include_str!("../../plugins/templates/common/fixture.json");
const EXPECTED: &str = include_str!("../../plugins/templates/common/expected.json");

/// (path in the new folder, contents, executable)
type Template = (&'static str, &'static str, bool);

const RUST: &[Template] = &[
    ("Cargo.toml", include_str!("../../plugins/templates/rust/Cargo.toml"), false),
    ("src/lib.rs", include_str!("../../plugins/templates/rust/src/lib.rs"), false),
    ("build.sh", include_str!("../../plugins/templates/rust/build.sh"), true),
    (".gitignore", "/target\n*.wasm\n", false),
];

const PYTHON: &[Template] = &[
    ("app.py", include_str!("../../plugins/templates/python/app.py"), false),
    ("test_app.py", include_str!("../../plugins/templates/python/test_app.py"), false),
    ("canvas_component.py", include_str!("../../plugins/sdk-python/canvas_component.py"), false),
    ("canvas_sdk/__init__.py", include_str!("../../plugins/sdk-python/canvas_sdk/__init__.py"), false),
    ("canvas_sdk/audience.py", include_str!("../../plugins/sdk-python/canvas_sdk/audience.py"), false),
    ("canvas_sdk/check.py", include_str!("../../plugins/sdk-python/canvas_sdk/check.py"), false),
    ("canvas_sdk/component.py", include_str!("../../plugins/sdk-python/canvas_sdk/component.py"), false),
    ("canvas_sdk/run.py", include_str!("../../plugins/sdk-python/canvas_sdk/run.py"), false),
    ("canvas_sdk/steps.py", include_str!("../../plugins/sdk-python/canvas_sdk/steps.py"), false),
    ("canvas_sdk/strategy.py", include_str!("../../plugins/sdk-python/canvas_sdk/strategy.py"), false),
    ("canvas_sdk/testing.py", include_str!("../../plugins/sdk-python/canvas_sdk/testing.py"), false),
    ("canvas_sdk/touch.py", include_str!("../../plugins/sdk-python/canvas_sdk/touch.py"), false),
    ("canvas_sdk/types.py", include_str!("../../plugins/sdk-python/canvas_sdk/types.py"), false),
    ("build.sh", include_str!("../../plugins/templates/python/build.sh"), true),
    ("requirements.txt", include_str!("../../plugins/templates/python/requirements.txt"), false),
    ("wit/strategy.wit", WIT, false),
    (".gitignore", "*.wasm\n__pycache__/\n", false),
];

const JS: &[Template] = &[
    ("app.js", include_str!("../../plugins/templates/js/app.js"), false),
    ("app.test.js", include_str!("../../plugins/templates/js/app.test.js"), false),
    ("sdk/canvas-sdk.js", include_str!("../../plugins/sdk-js/canvas-sdk.js"), false),
    ("sdk/canvas-sdk.d.ts", include_str!("../../plugins/sdk-js/canvas-sdk.d.ts"), false),
    ("sdk/audience.js", include_str!("../../plugins/sdk-js/audience.js"), false),
    ("sdk/check.js", include_str!("../../plugins/sdk-js/check.js"), false),
    ("sdk/component.js", include_str!("../../plugins/sdk-js/component.js"), false),
    ("sdk/run.js", include_str!("../../plugins/sdk-js/run.js"), false),
    ("sdk/steps.js", include_str!("../../plugins/sdk-js/steps.js"), false),
    ("sdk/strategy.js", include_str!("../../plugins/sdk-js/strategy.js"), false),
    ("sdk/testing.js", include_str!("../../plugins/sdk-js/testing.js"), false),
    ("sdk/testing.d.ts", include_str!("../../plugins/sdk-js/testing.d.ts"), false),
    ("sdk/touch.js", include_str!("../../plugins/sdk-js/touch.js"), false),
    ("build.sh", include_str!("../../plugins/templates/js/build.sh"), true),
    ("package.json", include_str!("../../plugins/templates/js/package.json"), false),
    ("wit/strategy.wit", WIT, false),
    (".gitignore", "*.wasm\nnode_modules/\n", false),
];

/// The plugin folder [`create`] made.
pub struct Created {
    /// The new folder, `parent/name`.
    pub dir: PathBuf,
    /// How many files it wrote there.
    pub files: usize,
}

/// Creates `parent/name` with a plugin of id `name`. Refuses an id the host
/// would refuse, and a folder that already exists.
pub fn create(parent: &Path, name: &str, language: Language) -> anyhow::Result<Created> {
    let id_ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-');
    if !id_ok {
        anyhow::bail!("`{name}` cannot be a plugin id: use 1–64 of a-z, 0-9 and -, starting with a letter");
    }
    let dir = parent.join(name);
    if dir.exists() {
        anyhow::bail!("{} already exists; choose another name or folder", dir.display());
    }
    let sdk = sdk_path();
    let (templates, language_name, build, unit) = match language {
        Language::Rust => (
            RUST,
            "Rust",
            "sh build.sh        # cargo build --release --target wasm32-wasip2, then copies the .wasm here",
            "cargo test         # natively: canvas_sdk::testing builds members and runs",
        ),
        Language::Python => (
            PYTHON,
            "Python",
            "pip install -r requirements.txt   # componentize-py, pinned\nsh build.sh                       # componentize-py componentize canvas_component",
            "python3 -m unittest               # test_app.py, with canvas_sdk.testing",
        ),
        Language::Js => (
            JS,
            "JavaScript",
            "npm install        # componentize-js, pinned\nsh build.sh        # componentize-js app.js -d http -d fetch-event",
            "node --test        # app.test.js, with sdk/testing.js",
        ),
    };
    let sdk_note = match language {
        // The path is absolute, so the folder builds wherever it is made; it
        // needs this checkout to stay where it is.
        Language::Rust => format!(
            "\n\nIt depends on the canvas Rust SDK by path, `{}` (the plugins/sdk of the canvas checkout \
             that made it): keep that checkout, or point `canvas-sdk` in Cargo.toml at another copy of \
             plugins/sdk on the same API version.",
            sdk.display()
        ),
        Language::Python => "\n\nThe SDK is copied in (`canvas_sdk/`): plain Python but for \
             `canvas_sdk/component.py`, the adapter to the types componentize-py generates."
            .to_string(),
        Language::Js => "\n\nThe SDK is copied in (`sdk/`): plain ES modules that Node runs as is, typed in \
             `sdk/canvas-sdk.d.ts`."
            .to_string(),
    };
    let mut files: Vec<(String, String, bool)> =
        templates.iter().map(|(p, text, exec)| (p.to_string(), text.to_string(), *exec)).collect();
    files.push(("fixture.json".into(), FIXTURE.into(), false));
    files.push(("expected.json".into(), EXPECTED.into(), false));
    let listing: String = files.iter().map(|(p, _, _)| format!("- `{p}`\n")).collect();
    files.push((
        "README.md".into(),
        README
            .replace("__LANG__", language_name)
            .replace("__API__", API_VERSION)
            .replace("__SDK__", &sdk_note)
            .replace("__UNIT__", unit)
            .replace("__BUILD__", build)
            .replace("__FILES__", &listing),
        false,
    ));

    let title = title_of(name);
    let template = name.replace('-', "_");
    for (path, text, executable) in &files {
        let text = text
            .replace("__ID__", name)
            .replace("__NAME__", &title)
            .replace("__CRATE__", &template)
            .replace("__TEMPLATE__", &template)
            .replace("__SDK_PATH__", &sdk.display().to_string());
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("a file in the folder"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&target, text).with_context(|| format!("cannot write {}", target.display()))?;
        if *executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(Created { dir, files: files.len() })
}

/// The Rust SDK of the repository this binary was built from.
fn sdk_path() -> PathBuf {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
    sdk.canonicalize().unwrap_or(sdk)
}

/// `vip-winback` → "Vip winback".
fn title_of(id: &str) -> String {
    let words = id.replace('-', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
