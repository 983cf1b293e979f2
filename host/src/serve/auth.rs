//! The admin API's token: never served open by accident.
//!
//! In order: `CANVAS_TOKEN` or `[serve] token` when set; else, on a loopback
//! address, the token in the token file (`[serve] token_file`, by default
//! `serve-token` in the store), generated there on first start (32 random
//! bytes, hex, mode 0600) — the operator is told where it is, never what it
//! is; else nothing, only when the operator says so (`[serve] allow_no_token`
//! or `canvas serve --no-token`) and only on a loopback address. A
//! non-loopback address always needs a configured token.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::Rng;

use super::settings::ServeSettings;

/// The token file's name in the store, unless `[serve] token_file` says otherwise.
pub const TOKEN_FILE: &str = "serve-token";

/// How the admin API is protected. Its `Debug` leaves the token out, so no
/// log line can carry it.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `CANVAS_TOKEN` or `[serve] token`.
    Configured(String),
    /// The token in this file (generated there on first start).
    File {
        /// The token file, readable by the operator only.
        path: PathBuf,
        /// The token read from it (or just generated into it).
        token: String,
    },
    /// No token, as the operator asked, on a loopback address.
    Open,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Configured(_) => f.write_str("Configured(…)"),
            Auth::File { path, .. } => f.debug_struct("File").field("path", path).finish_non_exhaustive(),
            Auth::Open => f.write_str("Open"),
        }
    }
}

impl Auth {
    /// The bearer token requests must carry; None when the API is open.
    pub fn token(&self) -> Option<&str> {
        match self {
            Auth::Configured(token) | Auth::File { token, .. } => Some(token),
            Auth::Open => None,
        }
    }

    /// Every token the API takes, with who it names: this one as `admin`,
    /// then `[serve.tokens]`. Empty when the API is open.
    pub(crate) fn accepted(&self, settings: &ServeSettings) -> anyhow::Result<Vec<(String, Caller)>> {
        let Some(admin) = self.token() else { return Ok(Vec::new()) };
        let mut accepted = vec![(admin.to_string(), Caller { name: "admin".into(), read_only: false })];
        for (name, named) in &settings.tokens {
            anyhow::ensure!(!named.token.trim().is_empty(), "[serve.tokens.{name}] token is empty");
            anyhow::ensure!(
                accepted.iter().all(|(token, _)| *token != named.token),
                "[serve.tokens.{name}] token is the same as another token's: each must be its own"
            );
            accepted.push((named.token.clone(), Caller { name: name.clone(), read_only: named.read_only }));
        }
        Ok(accepted)
    }
}

/// Who made a request: the name of the token it carried (`admin` for the
/// main one, `open` on an API without tokens), as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
    /// A read-only token may look, not change.
    pub read_only: bool,
}

/// How the service at `addr` protects its API; `store` is where the token
/// file goes by default.
pub fn resolve(settings: &ServeSettings, store: &Path, addr: SocketAddr) -> anyhow::Result<Auth> {
    let from_env = std::env::var("CANVAS_TOKEN").ok().filter(|t| !t.is_empty());
    if let Some(token) = from_env.or(settings.token.clone()) {
        // An empty token would let `Authorization: Bearer ` in.
        if token.trim().is_empty() {
            anyhow::bail!("[serve] token is empty: set a token, or remove the key to have one generated");
        }
        return Ok(Auth::Configured(token));
    }
    if !addr.ip().is_loopback() && settings.allow_no_token {
        anyhow::bail!(
            "refusing to serve the admin API on {addr} without a token: allow_no_token (--no-token) is only \
             for a loopback address (127.0.0.1, ::1); set [serve] token or CANVAS_TOKEN"
        );
    }
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "refusing to serve the admin API on {addr} without a token: set [serve] token or CANVAS_TOKEN, \
             or listen on 127.0.0.1 (where a token is generated)"
        );
    }
    if settings.allow_no_token {
        return Ok(Auth::Open);
    }
    let path = settings.token_file.clone().unwrap_or_else(|| store.join(TOKEN_FILE));
    let token = read_or_generate(&path)?;
    Ok(Auth::File { path, token })
}

/// The token a command on this machine sends the service holding `store`:
/// `CANVAS_TOKEN`, `[serve] token`, or the token file the service generated
/// (when this user may read it); None when there is none, for an open API.
pub fn client_token(settings: &ServeSettings, store: &Path) -> anyhow::Result<Option<String>> {
    let from_env = std::env::var("CANVAS_TOKEN").ok().filter(|t| !t.is_empty());
    if let Some(token) = from_env.or(settings.token.clone()) {
        return Ok(Some(token));
    }
    let path = settings.token_file.clone().unwrap_or_else(|| store.join(TOKEN_FILE));
    match path.exists() {
        true => read(&path).map(Some),
        false => Ok(None),
    }
}

/// The token in `path`, written there first if the file does not exist.
fn read_or_generate(path: &Path) -> anyhow::Result<String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let token = generate();
    // create_new: never overwrite a token clients already use; the mode is
    // set as the file is created, so it is never readable by others.
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(mut file) => {
            writeln!(file, "{token}")
                .and_then(|_| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(e).with_context(|| format!("cannot create the token file {}", path.display())),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    let mode = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the token file {} may be read by others (mode {:o}): `chmod 600` it, or delete it to have a new token generated",
            path.display(),
            mode & 0o777
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        anyhow::bail!("the token file {} is empty: delete it to have a new token generated", path.display());
    }
    Ok(token.to_string())
}

/// 32 random bytes from the thread's CSPRNG (seeded by the OS), as hex:
/// tokens, and the console's session ids and CSRF tokens.
pub(crate) fn generate() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> ServeSettings {
        toml::from_str(toml).unwrap()
    }

    const LOOPBACK: &str = "127.0.0.1:8720";

    #[test]
    fn a_token_is_generated_once_kept_private_and_reused() {
        let dir = tempfile::TempDir::new().unwrap();
        let first = resolve(&settings(""), dir.path(), LOOPBACK.parse().unwrap()).unwrap();
        let Auth::File { path, token } = &first else { panic!("{first:?}") };
        assert_eq!(path, &dir.path().join(TOKEN_FILE));
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = resolve(&settings(""), dir.path(), LOOPBACK.parse().unwrap()).unwrap();
        assert_eq!(again, first, "a restart keeps the token clients have");
        assert!(!format!("{first:?}").contains(token.as_str()), "Debug leaves the token out: {first:?}");
    }

    #[test]
    fn a_token_file_others_may_read_is_refused_naming_it() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let toml = format!("token_file = {:?}", path.display().to_string());
        let refused = resolve(&settings(&toml), dir.path(), LOOPBACK.parse().unwrap()).unwrap_err().to_string();
        assert!(refused.contains("may be read by others (mode 644)") && refused.contains("token"), "{refused}");
    }

    #[test]
    fn an_empty_configured_token_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let refused = resolve(&settings("token = \"\""), dir.path(), LOOPBACK.parse().unwrap()).unwrap_err();
        assert!(refused.to_string().contains("token is empty"), "{refused}");
    }
}
