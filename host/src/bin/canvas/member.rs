//! `canvas member do-not-contact ID [--clear]`: the operator's mark that no
//! touch reaches a member on any channel, set or cleared now, recorded as an
//! event of the member's and in the audit log — on the store, or through the
//! service holding it (`reach`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use canvas::config::CanvasConfig;
use canvas::contact;
use canvas::model::now_millis;
use canvas::store::AuditEntry;

use crate::common::cli_actor;
use crate::reach::{store_or_service, Reach};

#[derive(Subcommand)]
pub enum Command {
    /// Mark a member do-not-contact (every channel), or clear the mark.
    DoNotContact {
        /// The member's id.
        id: String,
        /// Clear the mark instead.
        #[arg(long)]
        clear: bool,
        /// Why, kept with the mark.
        #[arg(long, default_value = "")]
        reason: String,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
}

pub fn execute(command: Command, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let Command::DoNotContact { id, clear, reason, store } = command;
    let on = !clear;
    match store_or_service(&store.unwrap_or(config.store.clone()), config)? {
        Reach::Store(store) => {
            let (actor, now) = (cli_actor(), now_millis());
            contact::mark(&store, &id, on, now, &actor, &reason)?;
            let after = json!({ "do_not_contact": on, "reason": reason });
            store.record_audit(&AuditEntry::new(now, &actor, "do-not-contact", &id, serde_json::Value::Null, after))?;
        }
        Reach::Service(service) => {
            let path = format!("/api/v1/members/{id}/do-not-contact");
            let body = json!({ "reason": reason });
            match on {
                true => service.post(&path, Some(&body))?,
                false => service.delete(&path, &body)?,
            };
        }
    }
    match on {
        true => println!("{id}: do not contact, from now on every channel"),
        false => println!("{id}: the do-not-contact mark is cleared"),
    }
    Ok(ExitCode::SUCCESS)
}
