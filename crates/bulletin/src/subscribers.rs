//! `bulletin subscribers`: lists for operators, in and out as CSV.
//!
//! A CSV import is one transaction: any bad row (with its `file:line:column` and
//! the line quoted) and nothing is imported. Columns are found by their header
//! (`email` is required; `name`, `plan` and `status` are optional), so exports of
//! other systems import once their headers say what the columns are.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bulletin_core::staff::normalize_email;
use bulletin_core::subscriber::{Plan, Subscriber, SubscriberStatus, normalize_name};
use bulletin_store::{NewSubscriber, Store, SubscriberPut, SubscriberQuery};

use crate::export::with_output;
use crate::global::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: SubscriberAction,
}

#[derive(Debug, clap::Subcommand)]
enum SubscriberAction {
    /// List subscribers (oldest first).
    List {
        /// pending, active, unsubscribed or bounced.
        #[arg(long, value_parser = parse_status)]
        status: Option<SubscriberStatus>,
        /// free or paid.
        #[arg(long, value_parser = parse_plan)]
        plan: Option<Plan>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Import a CSV file (header line: email[,name][,plan][,status]) in one transaction.
    Import {
        file: std::path::PathBuf,
        /// The status of rows without one: active (you vouch for the list) or
        /// pending (they confirm first). Unsubscribed addresses stay unsubscribed.
        #[arg(long, value_parser = parse_status, default_value = "active")]
        status: SubscriberStatus,
    },
    /// Export every subscriber as CSV.
    Export {
        /// Write here instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<std::path::PathBuf>,
    },
}

fn parse_status(s: &str) -> Result<SubscriberStatus, String> {
    SubscriberStatus::parse(s)
        .ok_or_else(|| format!("{s:?} is not pending, active, unsubscribed or bounced"))
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    Plan::parse(s).ok_or_else(|| format!("{s:?} is not free or paid"))
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    global.with_store(async |store, _| {
        let store = store.as_ref();
        match args.action {
            SubscriberAction::List { status, plan, json } => list(store, status, plan, json).await,
            SubscriberAction::Import { file, status } => import(store, &file, status).await,
            SubscriberAction::Export { output } => export(store, output.as_deref()).await,
        }
    })
}

/// Problems shown before only counting.
const SHOW_ERRORS: usize = 50;
/// Subscribers written per store call.
const BATCH: usize = 1000;

async fn list(
    store: &dyn Store,
    status: Option<SubscriberStatus>,
    plan: Option<Plan>,
    json: bool,
) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut query = SubscriberQuery {
        status,
        plan,
        limit: 1000,
        ..SubscriberQuery::default()
    };
    let mut n = 0u64;
    loop {
        let page = store.subscribers(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = last.id;
        for s in &page {
            if json {
                serde_json::to_writer(&mut out, s)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{:<40} {:<12} {:<5} {}",
                    s.email,
                    s.status.as_str(),
                    s.plan.as_str(),
                    s.name
                )?;
            }
        }
        n += page.len() as u64;
    }
    out.flush()?;
    if !json {
        eprintln!("{n} subscribers");
    }
    Ok(ExitCode::SUCCESS)
}

fn time(t: Option<i64>) -> String {
    t.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

async fn export(store: &dyn Store, output: Option<&Path>) -> Result<ExitCode> {
    let mut all: Vec<Subscriber> = Vec::new();
    let mut query = SubscriberQuery {
        limit: 10_000,
        ..SubscriberQuery::default()
    };
    loop {
        let page = store.subscribers(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = last.id;
        all.extend(page);
    }
    let n = all.len();
    with_output(output, |out| {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "email",
            "name",
            "plan",
            "status",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
        ])?;
        for s in &all {
            w.write_record([
                s.email.as_str(),
                s.name.as_str(),
                s.plan.as_str(),
                s.status.as_str(),
                &time(Some(s.created_at)),
                &time(s.confirmed_at),
                &time(s.unsubscribed_at),
            ])?;
        }
        w.flush()?;
        Ok(())
    })?;
    if output.is_some_and(|p| p.as_os_str() != "-") {
        eprintln!("exported {n} subscribers");
    }
    Ok(ExitCode::SUCCESS)
}

/// The 1-based column (in characters) where field `index` of a CSV `line` starts.
fn field_column(line: &str, index: usize) -> u64 {
    let mut field = 0;
    let mut quoted = false;
    for (at, c) in line.char_indices() {
        if field == index {
            return line[..at].chars().count() as u64 + 1;
        }
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => field += 1,
            _ => {}
        }
    }
    line.chars().count() as u64 + 1
}

/// Imports `path` in one transaction. `default_status` applies to rows without
/// a `status` column: the operator vouches for the list (active), or its
/// addresses get a confirmation first (pending).
async fn import(
    store: &dyn Store,
    path: &Path,
    default_status: SubscriberStatus,
) -> Result<ExitCode> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let before = &e.as_bytes()[..at];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            bail!("{name}:{line}: this file is not UTF-8: save it as UTF-8 and import it again");
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lines: Vec<&str> = text.lines().collect();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{name}:1: cannot read the header line"))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = |wanted: &str| headers.iter().position(|h| h == wanted);
    let Some(email_col) = column("email") else {
        bail!(
            "{name}:1:1: error: no `email` column; the header line names the columns \
             (email, and optionally name, plan, status)"
        );
    };
    let (name_col, plan_col, status_col) = (column("name"), column("plan"), column("status"));

    let mut errors: Vec<String> = Vec::new();
    let mut rows: Vec<NewSubscriber> = Vec::new();
    let mut first_line: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("{name}:{line}: error: {e}"));
                continue;
            }
        };
        let line_no = record.position().map_or(0, |p| p.line());
        let raw = lines
            .get(usize::try_from(line_no).unwrap_or(0).saturating_sub(1))
            .copied()
            .unwrap_or("");
        let mut problem = |col: usize, message: String| {
            let column = field_column(raw, col);
            // At most a couple of hundred characters around the column.
            let quote = bulletin_text::Quote::of(raw, column);
            errors.push(format!(
                "{name}:{line_no}:{column}: error: {message}\n  | {}",
                quote.text
            ));
        };
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).map(str::trim);
        let email = match normalize_email(field(Some(email_col)).unwrap_or("")) {
            Ok(email) => email,
            Err(e) => {
                problem(email_col, e.to_string());
                continue;
            }
        };
        let subscriber_name = match normalize_name(field(name_col).unwrap_or("")) {
            Ok(n) => n,
            Err(e) => {
                problem(name_col.unwrap_or(0), e.to_string());
                continue;
            }
        };
        let plan = match field(plan_col).filter(|p| !p.is_empty()) {
            None => Plan::Free,
            Some(p) => match Plan::parse(&p.to_ascii_lowercase()) {
                Some(plan) => plan,
                None => {
                    problem(
                        plan_col.unwrap_or(0),
                        format!("plan {p:?} is not free or paid"),
                    );
                    continue;
                }
            },
        };
        let status = match field(status_col).filter(|s| !s.is_empty()) {
            None => default_status,
            Some(s) => match SubscriberStatus::parse(&s.to_ascii_lowercase()) {
                Some(status) => status,
                None => {
                    problem(
                        status_col.unwrap_or(0),
                        format!("status {s:?} is not pending, active, unsubscribed or bounced"),
                    );
                    continue;
                }
            },
        };
        if let Some(first) = first_line.get(&email) {
            problem(
                email_col,
                format!("{email} is already on line {first}; list each address once"),
            );
            continue;
        }
        first_line.insert(email.clone(), line_no);
        rows.push(NewSubscriber {
            email,
            name: subscriber_name,
            plan,
            status,
        });
    }
    if !errors.is_empty() {
        for e in errors.iter().take(SHOW_ERRORS) {
            eprintln!("{e}");
        }
        if errors.len() > SHOW_ERRORS {
            eprintln!("... and {} more errors", errors.len() - SHOW_ERRORS);
        }
        bail!(
            "{} error{} in {name}; nothing was imported",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
    }
    let now = jiff::Timestamp::now().as_second();
    let mut tx = store.begin_import().await?;
    let (mut added, mut updated, mut unchanged, mut kept_out) = (0, 0, 0, 0);
    for batch in rows.chunks(BATCH) {
        for outcome in tx.put_subscribers(batch.to_vec(), now).await? {
            match outcome {
                SubscriberPut::Added => added += 1,
                SubscriberPut::Updated => updated += 1,
                SubscriberPut::Unchanged => unchanged += 1,
                SubscriberPut::KeptOut => kept_out += 1,
            }
        }
    }
    tx.commit()
        .await
        .context("the import could not be committed; nothing was imported")?;
    eprintln!(
        "imported {} subscribers from {name}: {added} new, {updated} updated, {unchanged} unchanged; \
         {kept_out} kept unsubscribed (an import does not resubscribe anyone)",
        rows.len()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::field_column;

    #[test]
    fn columns_count_quoted_commas() {
        let line = "a@example.org,\"Smith, Jo\",paid";
        assert_eq!(field_column(line, 0), 1);
        assert_eq!(field_column(line, 1), 15);
        assert_eq!(field_column(line, 2), 27);
        assert_eq!(field_column("é,x", 1), 3);
    }
}
