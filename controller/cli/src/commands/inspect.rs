//! `ecs-topology get [KIND] [-o wide|json]` and `ecs-topology describe KIND/NAME`: what a running
//! controller shows on `/status` (and `/plan/KIND/NAME`), in the terminal.
//!
//! Exit codes a script can use:
//! - `get`: 0 when every document listed is Ready, 2 when any is not, 1 when the controller
//!   cannot be asked (or `KIND` is unknown);
//! - `describe`: 0 when the document is Ready, 2 when it is not, 3 when the controller has no
//!   such document, 1 when the controller cannot be asked.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use ecs_topology_core::duration::parse_duration;
use ecs_topology_core::model::Kind;
use serde::Deserialize;
use serde_json::Value;

use super::healthcheck::get_at_most;

/// The largest answer read: `/status` of a hundred thousand documents fits.
const MAX_ANSWER: usize = 512 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct Target {
    /// Where the controller serves `/status` (its metrics address).
    #[arg(
        long,
        env = "ECS_TOPOLOGY_URL",
        default_value = "http://127.0.0.1:9464"
    )]
    url: String,
    /// How long the controller may take to answer: 5s, 1m, ...
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Name, account, region, Ready, Synced, Drifted and the age of the last change.
    Table,
    /// The table with the state and its reason.
    Wide,
    /// The documents as `/status` gives them.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// A kind (`NamespaceShare`, its plural `namespaceshares` or short name `nsshare`, any
    /// case); all kinds when absent.
    kind: Option<String>,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The document: `KIND/NAME` (the kind as `get` takes it).
    document: String,
    #[command(flatten)]
    target: Target,
}

/// One document of `/status`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    key: String,
    kind: String,
    name: String,
    account: String,
    region: String,
    state: String,
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    drifted_fields: Vec<String>,
    #[serde(default)]
    last_error: Option<LastError>,
    #[serde(default)]
    aws: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    reason: String,
    message: String,
    last_transition_time: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct LastError {
    class: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct StatusPage {
    documents: Vec<Entry>,
}

/// A kind as a person types it: its name, plural or short name, in any case.
pub fn kind_named(name: &str) -> Option<Kind> {
    let name = name.to_ascii_lowercase();
    Kind::ALL.into_iter().find(|k| {
        k.as_str().to_ascii_lowercase() == name
            || k.plural() == name
            || k.short_names().contains(&name.as_str())
    })
}

fn fetch(target: &Target, path: &str) -> anyhow::Result<(u16, String)> {
    let url = format!("{}{path}", target.url.trim_end_matches('/'));
    let reply = get_at_most(&url, target.timeout, MAX_ANSWER)
        .with_context(|| format!("cannot ask the controller at {url}"))?;
    Ok((reply.status, reply.body))
}

fn documents(target: &Target) -> anyhow::Result<Vec<Entry>> {
    let (status, body) = fetch(target, "/status")?;
    if status != 200 {
        bail!("the controller answered HTTP {status} for /status");
    }
    let page: StatusPage =
        serde_json::from_str(&body).context("the controller's /status is not what get reads")?;
    Ok(page.documents)
}

fn condition<'a>(entry: &'a Entry, kind: &str) -> Option<&'a Condition> {
    entry.conditions.iter().find(|c| c.kind == kind)
}

/// `True`, `False`, `Unknown`, or `-` when the condition is not set.
fn condition_status(entry: &Entry, kind: &str) -> String {
    condition(entry, kind).map_or_else(|| "-".to_owned(), |c| c.status.clone())
}

/// How long ago the last condition changed: `42s`, `5m`, `3h`, `2d`.
fn age(entry: &Entry, now: u64) -> String {
    let Some(last) = entry
        .conditions
        .iter()
        .map(|c| c.last_transition_time)
        .max()
    else {
        return "-".to_owned();
    };
    let secs = now.saturating_sub(last);
    match secs {
        0..120 => format!("{secs}s"),
        120..7200 => format!("{}m", secs / 60),
        7200..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Why the document is in its state, in one line.
fn reason(entry: &Entry) -> String {
    match entry.state.as_str() {
        "Ready" => String::new(),
        "Drifted" => entry.drifted_fields.join(", "),
        "Failed" => entry
            .last_error
            .as_ref()
            .map(|e| format!("{}: {}", e.class, e.message))
            .unwrap_or_default(),
        _ => ["Synced", "Ready"]
            .iter()
            .filter_map(|k| condition(entry, k))
            .map(|c| c.message.clone())
            .find(|m| !m.is_empty())
            .unwrap_or_default(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The rows of `get`, aligned in columns.
fn table(entries: &[&Entry], wide: bool, now: u64) -> String {
    let mut rows = vec![
        [
            "KIND", "NAME", "ACCOUNT", "REGION", "READY", "SYNCED", "DRIFTED", "AGE",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    if wide {
        rows[0].extend(["STATE".to_owned(), "REASON".to_owned()]);
    }
    for e in entries {
        let mut row = vec![
            e.kind.clone(),
            e.name.clone(),
            e.account.clone(),
            e.region.clone(),
            condition_status(e, "Ready"),
            condition_status(e, "Synced"),
            condition_status(e, "Drifted"),
            age(e, now),
        ];
        if wide {
            row.extend([e.state.clone(), reason(e)]);
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

pub fn get(args: GetArgs) -> anyhow::Result<ExitCode> {
    let kind = match &args.kind {
        Some(name) => Some(kind_named(name).with_context(|| {
            format!(
                "no kind {name}: one of {}",
                Kind::ALL.map(Kind::as_str).join(", ")
            )
        })?),
        None => None,
    };
    let all = documents(&args.target)?;
    let entries: Vec<&Entry> = all
        .iter()
        .filter(|e| kind.is_none_or(|k| e.kind == k.as_str()))
        .collect();
    match args.output {
        Output::Json => {
            let json: Vec<Value> = entries.iter().map(|e| listed(e)).collect();
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Output::Table | Output::Wide => {
            if entries.is_empty() {
                eprintln!("no documents");
            } else {
                print!("{}", table(&entries, args.output == Output::Wide, now()));
            }
        }
    }
    let all_ready = entries.iter().all(|e| e.state == "Ready");
    Ok(if all_ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// A document as `get -o json` prints it.
fn listed(e: &Entry) -> Value {
    serde_json::json!({
        "key": e.key, "kind": e.kind, "name": e.name, "account": e.account,
        "region": e.region, "state": e.state,
        "ready": condition_status(e, "Ready"), "synced": condition_status(e, "Synced"),
        "drifted": condition_status(e, "Drifted"), "driftedFields": e.drifted_fields,
        "lastError": e.last_error.as_ref().map(|l| serde_json::json!({"class": l.class, "message": l.message})),
        "aws": e.aws,
    })
}

pub fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let (kind, name) = args
        .document
        .split_once('/')
        .context("name the document as KIND/NAME, e.g. NamespaceShare/payments-to-client")?;
    let kind = kind_named(kind).with_context(|| format!("no kind {kind}"))?;
    let key = format!("{}/{name}", kind.as_str());
    let all = documents(&args.target)?;
    let Some(entry) = all.iter().find(|e| e.key == key) else {
        eprintln!("the controller has no document {key}");
        return Ok(ExitCode::from(3));
    };
    let (status, plan) = fetch(&args.target, &format!("/plan/{key}"))?;
    let plan: Option<Value> = (status == 200)
        .then(|| serde_json::from_str(&plan).ok())
        .flatten();
    print!("{}", description(entry, plan.as_ref(), now()));
    Ok(if entry.state == "Ready" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `describe`'s text: the document, its conditions, drifted fields, last error, AWS ids and the
/// pending plan.
fn description(e: &Entry, plan: Option<&Value>, now: u64) -> String {
    let mut out = format!(
        "Name:      {}\nKind:      {}\nAccount:   {}\nRegion:    {}\nState:     {}\n",
        e.name, e.kind, e.account, e.region, e.state
    );
    out.push_str("Conditions:\n  TYPE      STATUS   REASON          AGE    MESSAGE\n");
    for c in &e.conditions {
        let since = now.saturating_sub(c.last_transition_time);
        out.push_str(&format!(
            "  {:<9} {:<8} {:<15} {:<6} {}\n",
            c.kind,
            c.status,
            c.reason,
            format!("{since}s"),
            c.message
        ));
    }
    if !e.drifted_fields.is_empty() {
        out.push_str(&format!("Drifted:   {}\n", e.drifted_fields.join(", ")));
    }
    if let Some(l) = &e.last_error {
        out.push_str(&format!("Last error: {}: {}\n", l.class, l.message));
    }
    if !e.aws.is_empty() {
        out.push_str("AWS:\n");
        for (k, v) in &e.aws {
            out.push_str(&format!("  {k}: {v}\n"));
        }
    }
    match plan {
        Some(plan) => {
            let verb = plan["verb"].as_str().unwrap_or("?");
            out.push_str(&format!("Plan:      {verb}"));
            if let Some(r) = plan["reason"].as_str() {
                out.push_str(&format!(" ({r})"));
            }
            out.push('\n');
            for c in plan["changes"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "  {}: {} -> {}\n",
                    c["path"].as_str().unwrap_or("?"),
                    c.get("from").unwrap_or(&Value::Null),
                    c.get("to").unwrap_or(&Value::Null)
                ));
            }
        }
        None => out.push_str("Plan:      not known yet\n"),
    }
    out
}

#[cfg(test)]
mod tests;
