//! `bulletin bounces import MAILBOX...`: delivery status notifications from
//! an mbox file or a Maildir folder; each hard bounce (`Action: failed`,
//! status 5.x.x) whose VERP address proves it answers a message bulletin sent
//! to that recipient marks the subscriber bounced (the newsletter skips them).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bulletin_core::subscriber::SubscriberStatus;
use bulletin_core::token::bounce_tag_matches;
use bulletin_mail::bounces::{Bounce, parse, read_messages};

use crate::global::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BounceCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BounceCommand {
    /// Read notifications and mark each hard-bounced subscriber.
    Import {
        /// mbox files or Maildir folders.
        #[arg(required = true)]
        mailboxes: Vec<PathBuf>,
        /// Also take notifications without a valid VERP token at their
        /// word (Final-Recipient): only for a mailbox nobody else can write to.
        #[arg(long)]
        unverified: bool,
        /// Report what would be marked; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// What became of the reports read.
#[derive(Debug, Default)]
struct Tally {
    messages: u64,
    reports: u64,
    marked: u64,
    already: u64,
    soft: u64,
    unverified: u64,
    unknown: u64,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let BounceCommand::Import {
        mailboxes,
        unverified,
        dry_run,
    } = args.command;
    global.with_store(async |store, settings| {
        let Some(smtp) = &settings.smtp else {
            bail!("no [smtp] in bulletin.toml: there is no bounce address to read bounces for");
        };
        let local = smtp
            .bounce_address
            .as_deref()
            .and_then(|a| a.split_once('@'))
            .map(|(l, _)| l.to_owned());
        if local.is_none() && !unverified {
            bail!(
                "[smtp] bounce_address is not set, so no message carried a VERP address to prove \
                 its bounce; set it for the next sends, or pass --unverified for a mailbox only \
                 your mail server writes to"
            );
        }
        let secret = crate::send::site_secret(store.as_ref()).await?;
        let now = jiff::Timestamp::now().as_second();
        let mut tally = Tally::default();
        for mailbox in &mailboxes {
            let messages = read_messages(mailbox)
                .with_context(|| format!("cannot read {}", mailbox.display()))?;
            for (source, raw) in messages {
                tally.messages += 1;
                for bounce in parse(&source, &raw, local.as_deref()) {
                    tally.reports += 1;
                    let verdict = judge(&bounce, secret.as_bytes(), unverified);
                    match verdict {
                        Verdict::Soft => tally.soft += 1,
                        Verdict::Unverified => {
                            tally.unverified += 1;
                            eprintln!(
                                "{}: {} {} {}: not marked (no valid VERP token)",
                                bounce.source, bounce.recipient, bounce.action, bounce.status
                            );
                        }
                        Verdict::Hard => {
                            let Some(subscriber) = store.subscriber(&bounce.recipient).await?
                            else {
                                tally.unknown += 1;
                                continue;
                            };
                            if subscriber.status == SubscriberStatus::Bounced {
                                tally.already += 1;
                                continue;
                            }
                            if !dry_run {
                                store
                                    .set_subscriber_status(
                                        &bounce.recipient,
                                        SubscriberStatus::Bounced,
                                        now,
                                    )
                                    .await?;
                            }
                            tally.marked += 1;
                            println!(
                                "{}: {} bounced ({})",
                                bounce.source, bounce.recipient, bounce.status
                            );
                        }
                    }
                }
            }
        }
        let would = if dry_run { "would be marked" } else { "marked" };
        println!(
            "{} messages, {} recipient reports: {} {would} bounced, {} already bounced, {} not \
             subscribers, {} temporary (not marked), {} unverified (not marked)",
            tally.messages,
            tally.reports,
            tally.marked,
            tally.already,
            tally.unknown,
            tally.soft,
            tally.unverified
        );
        Ok(ExitCode::SUCCESS)
    })
}

enum Verdict {
    Hard,
    Soft,
    Unverified,
}

fn judge(bounce: &Bounce, secret: &[u8], unverified: bool) -> Verdict {
    if !bounce.is_hard() {
        return Verdict::Soft;
    }
    match &bounce.verp {
        Some((key, tag)) if bounce_tag_matches(secret, key, &bounce.recipient, tag) => {
            Verdict::Hard
        }
        _ if unverified => Verdict::Hard,
        _ => Verdict::Unverified,
    }
}
