//! The `audit` tree: what operators changed, when, and who — an install,
//! enabling or disabling, a config change, a rollback, a run asked for, a
//! run's touches cancelled, dead letters re-driven — with the state before
//! and after. `GET /api/v1/audit` and `canvas audit` read it.
//!
//! Key: the instant made sortable and a generated id (so entries read in
//! time order); value: the entry as JSON, whose `before` and `after` are
//! whatever the change touched.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::Store;
use crate::model::Millis;

/// One change an operator made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: Millis,
    /// Who: an API token's name (`admin`, `[serve.tokens.<name>]`), or
    /// `cli:<user>` for a command run on the machine.
    pub actor: String,
    /// What: `install`, `enable`, `disable`, `config`, `rollback`, `run`, `cancel`, `redrive`.
    pub action: String,
    /// On what: a plugin or strategy id (or `dead-letters`).
    pub target: String,
    /// The state the change replaced (null when there was none).
    pub before: serde_json::Value,
    /// The state it left.
    pub after: serde_json::Value,
}

impl AuditEntry {
    /// A change `actor` made to `target` at `at`, from `before` to `after`.
    pub fn new(
        at: Millis,
        actor: &str,
        action: &str,
        target: &str,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry { at, actor: actor.into(), action: action.into(), target: target.into(), before, after }
    }
}

impl Store {
    /// Records an operator's change (and logs it, so the service log tells the same story).
    pub fn record_audit(&self, entry: &AuditEntry) -> anyhow::Result<()> {
        let mut key = ((entry.at as u64) ^ (1 << 63)).to_be_bytes().to_vec();
        key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        self.audit.insert(key, serde_json::to_vec(entry)?).context("recording an audit entry")?;
        self.audit.flush().context("recording an audit entry")?;
        tracing::info!(
            actor = %entry.actor,
            action = %entry.action,
            target = %entry.target,
            before = %entry.before,
            after = %entry.after,
            "operator change"
        );
        Ok(())
    }

    /// The last `limit` changes, newest first.
    pub fn audit(&self, limit: usize) -> anyhow::Result<Vec<AuditEntry>> {
        let newest = self.audit.iter().values().rev().take(limit);
        newest.map(|v| serde_json::from_slice(&v?).context("an audit entry that does not read")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_come_back_newest_first_with_who_and_what() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.record_audit(&AuditEntry::new(1, "admin", "enable", "a", json!(false), json!(true))).unwrap();
        store.record_audit(&AuditEntry::new(2, "ops", "config", "b", json!({}), json!({ "x": 1 }))).unwrap();
        let read = store.audit(10).unwrap();
        assert_eq!(read.iter().map(|e| (e.at, e.actor.as_str())).collect::<Vec<_>>(), [(2, "ops"), (1, "admin")]);
        assert_eq!(read[0].after, json!({ "x": 1 }));
        assert_eq!(store.audit(1).unwrap().len(), 1);
    }
}
