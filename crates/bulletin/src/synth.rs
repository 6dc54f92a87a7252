//! `bulletin gen`: synthetic bulletin text (or a WordPress export) for demos
//! and benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;

use crate::export::with_output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_name = "N")]
    stories: u64,
    /// text: bulletin text; wxr: a WordPress export with N posts.
    #[arg(long, value_enum, default_value = "text")]
    format: GenFormat,
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// Write here instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// Windows line ends.
    #[arg(long)]
    crlf: bool,
    /// Start with a byte order mark.
    #[arg(long)]
    bom: bool,
    /// Start with a `Tag Archives: TAG` header.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GenFormat {
    Text,
    Wxr,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Args {
        stories,
        format,
        seed,
        output,
        crlf,
        bom,
        tag,
    } = args;
    match format {
        GenFormat::Wxr => {
            let counts = with_output(output.as_deref(), |out| {
                Ok(bulletin_import::wxr::synth::generate(
                    stories,
                    seed,
                    &mut &mut *out,
                )?)
            })?;
            if output.is_some() {
                eprintln!("wrote a WordPress export: {counts:?}");
            }
        }
        GenFormat::Text => {
            let options = bulletin_text::synth::GenOptions {
                stories,
                seed,
                crlf,
                bom,
                header_tag: tag,
            };
            let stats = with_output(output.as_deref(), |out| {
                Ok(bulletin_text::synth::generate(&options, out)?)
            })?;
            if output.is_some() {
                eprintln!(
                    "wrote {} stories in {} issues ({} bytes)",
                    stats.stories, stats.issues, stats.bytes
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
