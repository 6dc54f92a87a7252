//! `bulletin dkim keygen`: a DKIM key for signing mail, and the DNS record to
//! publish for it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bulletin_mail::dkim::{Algorithm, dns_record, generate};

use crate::global::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DkimCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DkimCommand {
    /// Make a key (written to --out, readable by its owner only) and print
    /// the DNS TXT record to publish and the [smtp] lines to add.
    Keygen {
        /// The selector: the name the record is published under
        /// (SELECTOR._domainkey.DOMAIN); a new one for each new key.
        #[arg(long)]
        selector: String,
        /// The signing domain; by default the domain of [smtp] from.
        #[arg(long)]
        domain: Option<String>,
        /// rsa (2048 bits, verified everywhere) or ed25519 (RFC 8463; sign
        /// with both to use it).
        #[arg(long, value_enum, default_value = "rsa")]
        algorithm: KeyKind,
        /// Where to write the private key.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KeyKind {
    Rsa,
    Ed25519,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let DkimCommand::Keygen {
        selector,
        domain,
        algorithm,
        out,
    } = args.command;
    let domain = match domain {
        Some(d) => d,
        None => {
            let settings = global.settings()?;
            let Some(smtp) = settings.smtp else {
                bail!("give --domain, or set [smtp] from in bulletin.toml to sign for its domain");
            };
            match smtp.from.rsplit_once('@') {
                Some((_, d)) => d.to_owned(),
                None => bail!("[smtp] from {:?} has no domain; give --domain", smtp.from),
            }
        }
    };
    let algorithm = match algorithm {
        KeyKind::Rsa => Algorithm::Rsa,
        KeyKind::Ed25519 => Algorithm::Ed25519,
    };
    let (private, public) = generate(algorithm)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&out).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten)",
            out.display()
        )
    })?;
    file.write_all(private.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;
    // The key is checked the way the mailer will read it.
    bulletin_mail::dkim::Signer::load(&out, &selector, &domain)?;
    let domain = domain.to_ascii_lowercase();
    eprintln!(
        "wrote the private key to {} (keep it secret)",
        out.display()
    );
    eprintln!("publish this DNS record:");
    println!("{}", dns_record(&selector, &domain, algorithm, &public));
    eprintln!("then add to bulletin.toml, under [smtp]:");
    eprintln!(
        "[[smtp.dkim]]\nkey = {:?}\nselector = {selector:?}\ndomain = {domain:?}",
        out.display().to_string()
    );
    Ok(ExitCode::SUCCESS)
}
