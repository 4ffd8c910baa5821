//! `hark user add NAME --role viewer|editor|admin`, `hark user list`, `hark user remove NAME`.

use super::{Cli, load_config, usage};
use crate::state::{StateStore, StateUpdate};
use crate::users::{self, Role, User};
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user (or give one a new token and role); prints their API token once.
    #[command(
        after_help = "Examples:\n  hark user add ann --role editor     # prints {\"name\",\"role\",\"token\"}: hand the token to Ann\n  hark user add board --role viewer\n\nViewers read; editors also triage mentions; admins may do everything. Once a user\nexists, the API needs a token (Authorization: Bearer TOKEN); the UI asks for it once."
    )]
    Add {
        /// The user's name (letters, digits, . _ - @).
        name: String,
        /// viewer (reads), editor (also triages) or admin (everything).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Also read a password for the web UI's log-in from stdin (first line, ≥ 10
        /// characters); stored as an Argon2id hash.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The users and their roles (JSON lines; tokens are never shown again).
    #[command(after_help = "Example:\n  hark user list")]
    List,
    /// Remove a user: their token stops working (within 5 s on a running server).
    #[command(after_help = "Example:\n  hark user remove ann")]
    Remove {
        /// The user's name.
        name: String,
    },
}

pub fn run(cli: &Cli, a: &UserArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let data = cfg.data_dir();
    std::fs::create_dir_all(&data)?;
    let state = StateStore::open(&data.join("state.redb"))
        .map_err(|e| anyhow::anyhow!("{e} (is `hark run` running? stop it to manage users)"))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &a.command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            if !users::valid_name(name) {
                return Err(usage(format!(
                    "`{name}` is not a user name (letters, digits, . _ - @; at most 64)"
                )));
            }
            let role = Role::parse(role)
                .ok_or_else(|| usage(format!("--role: `{role}` is not viewer, editor or admin")))?;
            let password = if *password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let p = line.trim_end_matches(['\n', '\r']).to_string();
                if p.chars().count() < 10 {
                    return Err(usage(
                        "the password must have at least 10 characters".to_string(),
                    ));
                }
                Some(users::hash_password(&p))
            } else {
                None
            };
            let token = users::new_token();
            let user = User {
                name: name.clone(),
                role,
                token_sha256: users::token_digest(&token),
                created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                password_argon2: password,
            };
            state.apply(&[
                StateUpdate::UserPut(user),
                StateUpdate::Audit(serde_json::json!({
                    "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "by": "cli", "action": "user_add", "user": name, "role": role.as_str(),
                })),
            ])?;
            writeln!(
                out,
                "{}",
                serde_json::json!({"name": name, "role": role.as_str(), "token": token})
            )?;
            eprintln!("hark: this token is shown once; hark keeps only its digest");
        }
        UserCommand::List => {
            for u in state.users()? {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"name": u.name, "role": u.role.as_str(), "created": u.created})
                )?;
            }
        }
        UserCommand::Remove { name } => {
            if !state.users()?.iter().any(|u| &u.name == name) {
                return Err(usage(format!("no user named `{name}`")));
            }
            state.apply(&[
                StateUpdate::UserRemove(name.clone()),
                StateUpdate::Audit(serde_json::json!({
                    "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "by": "cli", "action": "user_remove", "user": name,
                })),
            ])?;
            writeln!(out, "{}", serde_json::json!({"removed": name}))?;
        }
    }
    Ok(())
}
