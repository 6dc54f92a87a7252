//! `bulletin user`: staff accounts for operators.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bulletin_core::staff::{Role, check_password, hash_password, normalize_email};
use bulletin_store::{Store, StoreError};
use clap::Subcommand;

use crate::global::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: UserAction,
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Add an account; the password is read from standard input (typed unechoed on a terminal).
    Add {
        email: String,
        /// admin, editor or contributor.
        #[arg(long)]
        role: String,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop an account from signing in (what it did stays attributed).
    Disable { email: String },
    /// Let a disabled account sign in again.
    Enable { email: String },
    /// Set a new password, read from standard input.
    ResetPassword { email: String },
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    global.with_store(async |store, _| {
        let store = store.as_ref();
        match args.action {
            UserAction::Add { email, role } => add(store, &email, &role).await,
            UserAction::List { json } => list(store, json).await,
            UserAction::Disable { email } => set_disabled(store, &email, true).await,
            UserAction::Enable { email } => set_disabled(store, &email, false).await,
            UserAction::ResetPassword { email } => reset_password(store, &email).await,
        }
    })
}

/// A password: typed without echo on a terminal, else the first line of stdin.
/// Never logged, never in an argument (where `ps` would show it).
fn read_password(email: &str) -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {email}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    check_password(&password, email).context("password refused")?;
    Ok(password)
}

/// Hashes off the async threads (argon2id is deliberately slow).
async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no random salt: {e}"))?;
        Ok(hash_password(&password, &salt)?)
    })
    .await?
}

async fn add(store: &dyn Store, email: &str, role: &str) -> Result<ExitCode> {
    let email = normalize_email(email)?;
    let Some(role) = Role::parse(role) else {
        bail!("unknown role {role:?}: use admin, editor or contributor");
    };
    let password = read_password(&email)?;
    match store
        .create_user(&email, role, &hash(password).await?)
        .await
    {
        Ok(user) => {
            eprintln!("added {} ({})", user.email, user.role);
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::Duplicate { .. }) => {
            bail!("{email} already has an account (bulletin user reset-password {email})")
        }
        Err(e) => Err(e.into()),
    }
}

async fn list(store: &dyn Store, json: bool) -> Result<ExitCode> {
    let users = store.users().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&users)?);
    } else {
        for u in &users {
            let state = if u.disabled { "disabled" } else { "active" };
            println!(
                "{:<40} {:<12} {:<9} since {}",
                u.email, u.role, state, u.created_at
            );
        }
        eprintln!(
            "{} {}",
            users.len(),
            if users.len() == 1 {
                "account"
            } else {
                "accounts"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_disabled(store: &dyn Store, email: &str, disabled: bool) -> Result<ExitCode> {
    let email = normalize_email(email)?;
    if disabled && is_last_active_admin(store, &email).await? {
        bail!("{email} is the last active admin; add another admin first");
    }
    if !store.set_user_disabled(&email, disabled).await? {
        bail!("no account {email}");
    }
    eprintln!("{email} {}", if disabled { "disabled" } else { "enabled" });
    Ok(ExitCode::SUCCESS)
}

async fn is_last_active_admin(store: &dyn Store, email: &str) -> Result<bool> {
    let users = store.users().await?;
    let active_admins: Vec<&str> = users
        .iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .map(|u| u.email.as_str())
        .collect();
    Ok(active_admins == [email])
}

async fn reset_password(store: &dyn Store, email: &str) -> Result<ExitCode> {
    let email = normalize_email(email)?;
    if store.user_credentials(&email).await?.is_none() {
        bail!("no account {email}");
    }
    let password = read_password(&email)?;
    store
        .set_password_hash(&email, &hash(password).await?)
        .await?;
    eprintln!("password of {email} changed");
    Ok(ExitCode::SUCCESS)
}
