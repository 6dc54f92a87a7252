//! `bulletin check`: lint bulletin text. Exit 1 when any file has errors.

use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use bulletin_text::{Diagnostic, Reader};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Needs no store and no settings.
pub fn run(args: &Args) -> Result<ExitCode> {
    Ok(lint(&args.files))
}

fn lint(files: &[PathBuf]) -> ExitCode {
    let mut any_errors = false;
    for path in files {
        let name = path.display().to_string();
        let (input, shown): (Box<dyn std::io::Read>, String) = if path.as_os_str() == "-" {
            (Box::new(std::io::stdin()), "<stdin>".to_owned())
        } else {
            match File::open(path) {
                Ok(f) => (Box::new(f), name.clone()),
                Err(e) => {
                    eprintln!("{name}: error: cannot open: {e}");
                    any_errors = true;
                    continue;
                }
            }
        };
        let input = match bulletin_text::utf8_input(input) {
            Ok(input) => input,
            Err(e) => {
                println!("{shown}: error: cannot read: {e}");
                any_errors = true;
                continue;
            }
        };
        let mut reader = Reader::new(input);
        let (mut stories, mut errors, mut warnings) = (0u64, 0u64, 0u64);
        let print = |d: &Diagnostic| println!("{}", d.display(&shown));
        for item in &mut reader {
            match item {
                Ok(parsed) => {
                    stories += 1;
                    for w in &parsed.warnings {
                        warnings += 1;
                        print(w);
                    }
                }
                Err(e) => {
                    errors += 1;
                    print(&e);
                }
            }
        }
        for w in reader.finish() {
            warnings += 1;
            print(&w);
        }
        any_errors |= errors > 0;
        println!("{shown}: {stories} stories, {errors} errors, {warnings} warnings");
    }
    if any_errors {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
