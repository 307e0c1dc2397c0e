//! `rampart alerts`: the stored alerts, listed with filters, shown one at a
//! time with their triage history, and triaged (acknowledged, assigned,
//! closed, marked false positive, reopened), each step kept with who took
//! it and their note.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rampart_detect::Level;
use rampart_engine::output::{csv_line, neutralise};

use super::list_format::{cell_time, ListFormat};
use rampart_event::Timestamp;
use rampart_store::{AlertFilter, Backend, Beside, Status, StoredAlert, Triage};

/// Arguments of `rampart alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Output format of the list.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only alerts of this level or above.
    #[arg(long, value_name = "LEVEL")]
    severity: Option<String>,
    /// Only alerts of this rule id (repeatable).
    #[arg(long, value_name = "ID")]
    rule: Vec<String>,
    /// Only alerts in this state: open, acknowledged, closed, false-positive
    /// (repeatable).
    #[arg(long)]
    status: Vec<String>,
    /// Only what happened at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub since: Option<Timestamp>,
    /// Only what happened before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub until: Option<Timestamp>,
    /// Only alerts about this host.
    #[arg(long)]
    host: Option<String>,
    /// Only alerts about this source address.
    #[arg(long, value_name = "IP")]
    source_ip: Option<String>,
    /// Only alerts holding this text.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// The most to list, newest first [default: 100; `export`: all].
    #[arg(long)]
    pub limit: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// One alert with its events and triage history (an id or its start).
    Show { id: String },
    /// Acknowledge alerts: someone is on them.
    Ack(Step),
    /// Close alerts: dealt with.
    Close(Step),
    /// Reopen alerts.
    Reopen(Step),
    /// Mark alerts false positives.
    FalsePositive {
        #[command(flatten)]
        step: Step,
        /// Also silence each alert's rule for its group (the same address,
        /// user ...) in later hunts and ingests (`rampart suppress` lists).
        #[arg(long)]
        suppress: bool,
        /// For `ioc-match` alerts: also switch the indicator off in the IOC
        /// database.
        #[arg(long)]
        deactivate_ioc: bool,
    },
    /// Assign alerts to someone (`--to ''` to nobody).
    Assign {
        #[command(flatten)]
        step: Step,
        /// Who takes them.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Args)]
struct Step {
    /// Alert ids (or their starts).
    #[arg(required = true)]
    ids: Vec<String>,
    /// Why, in a few words.
    #[arg(long)]
    note: Option<String>,
    /// Who takes the step (default: the login name).
    #[arg(long)]
    user: Option<String>,
}

impl FilterArgs {
    /// The store's filter, listing at most `limit` when no `--limit` says.
    pub fn filter(&self, limit: Option<u64>) -> anyhow::Result<AlertFilter> {
        let min_severity = match &self.severity {
            Some(s) => Some(Level::parse(s).with_context(|| {
                format!("unknown level {s:?}: informational, low, medium, high or critical")
            })?),
            None => None,
        };
        let statuses = self
            .status
            .iter()
            .map(|s| {
                Status::parse(s).with_context(|| {
                    format!("unknown status {s:?}: open, acknowledged, closed or false-positive")
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(AlertFilter {
            min_severity,
            rules: self.rule.clone(),
            statuses,
            since: self.since,
            until: self.until,
            host: self.host.clone(),
            source_ip: self.source_ip.clone(),
            search: self.search.clone(),
            order: rampart_store::AlertOrder::Newest,
            limit: self.limit.or(limit),
        })
    }
}

/// The login name: who a triage step is by when no one else is named.
pub fn login() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// Runs the command.
pub fn run(args: &AlertsArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let mut store = super::backend::open(db)?;
    let mut out = std::io::stdout().lock();
    let (step, triage) = match &args.action {
        None => {
            let alerts = store.alerts(&args.filter.filter(Some(100))?)?;
            write_list(&alerts, args.format, &mut out)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Action::Show { id }) => {
            let Some(alert) = store.alert(id)? else {
                bail!("no alert {id}");
            };
            show(store.as_ref(), &alert, &mut out)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Action::Ack(step)) => (step, Triage::Set(Status::Acknowledged)),
        Some(Action::Close(step)) => (step, Triage::Set(Status::Closed)),
        Some(Action::Reopen(step)) => (step, Triage::Set(Status::Open)),
        Some(Action::FalsePositive { step, .. }) => (step, Triage::Set(Status::FalsePositive)),
        Some(Action::Assign { step, to }) => {
            let who = Some(to.clone()).filter(|t| !t.is_empty());
            (step, Triage::Assign(who))
        }
    };
    let user = step.user.clone().unwrap_or_else(login);
    let (suppress, deactivate) = match &args.action {
        Some(Action::FalsePositive {
            suppress,
            deactivate_ioc,
            ..
        }) => (*suppress, *deactivate_ioc),
        _ => (false, false),
    };
    let beside = Beside {
        suppress,
        deactivate_ioc: deactivate,
    };
    for id in &step.ids {
        let done = store.triage_beside(id, &triage, (&user, step.note.as_deref()), beside)?;
        let alert = &done.alert;
        writeln!(
            out,
            "{}  {}  {}",
            alert.id,
            alert.status,
            alert.assignee.as_deref().unwrap_or("-")
        )?;
        if let Some(n) = done.suppression {
            writeln!(
                out,
                "  suppression {n}: {} for {}",
                alert.rule_id,
                describe(&alert.group())
            )?;
        }
        if let Some((value, n)) = &done.deactivated {
            writeln!(
                out,
                "  indicator {value}: {n} switched off in the IOC database"
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The alert's JSON with its triage state added.
fn with_state(alert: &StoredAlert) -> serde_json::Value {
    let mut doc: serde_json::Value =
        serde_json::from_str(&alert.doc).unwrap_or(serde_json::Value::Null);
    if let Some(map) = doc.as_object_mut() {
        map.insert("status".into(), alert.status.clone().into());
        map.insert("assignee".into(), alert.assignee.clone().into());
    }
    doc
}

/// Writes `alerts` as `format`.
pub fn write_list(
    alerts: &[StoredAlert],
    format: ListFormat,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match format {
        ListFormat::Jsonl => {
            for a in alerts {
                writeln!(out, "{}", with_state(a))?;
            }
        }
        ListFormat::Json => {
            let all: Vec<serde_json::Value> = alerts.iter().map(with_state).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
        }
        ListFormat::Csv => {
            let header = [
                "id",
                "time",
                "severity",
                "status",
                "assignee",
                "count",
                "rule_id",
                "title",
                "group",
                "first_seen",
                "last_seen",
                "mitre",
            ];
            out.write_all(&csv_line(header)?)?;
            for a in alerts {
                let (when, count) = (cell_time(a.time), a.count.to_string());
                let (group, first, last, mitre) = details(a);
                let cells = [
                    a.id.as_str(),
                    &when,
                    a.severity.as_str(),
                    &a.status,
                    a.assignee.as_deref().unwrap_or(""),
                    &count,
                    &a.rule_id,
                    &a.title,
                    &group,
                    &first,
                    &last,
                    &mitre,
                ];
                let safe: Vec<_> = cells.iter().map(|c| neutralise(c)).collect();
                out.write_all(&csv_line(safe.iter().map(|c| c.as_ref()))?)?;
            }
        }
        ListFormat::Table => {
            if alerts.is_empty() {
                writeln!(out, "no alerts match")?;
                return Ok(());
            }
            writeln!(
                out,
                "{:<16}  {:<19}  {:<13}  {:<14}  {:>7}  title",
                "id", "time (UTC)", "severity", "status", "count"
            )?;
            for a in alerts {
                let title: String = a
                    .title
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(70)
                    .collect();
                writeln!(
                    out,
                    "{:<16}  {:<19}  {:<13}  {:<14}  {:>7}  {title}",
                    a.id.chars().take(16).collect::<String>(),
                    cell_time(a.time),
                    a.severity.as_str(),
                    a.status,
                    a.count
                )?;
            }
        }
    }
    Ok(())
}

/// Group values as `field=value ...`.
pub fn describe(group: &[(String, String)]) -> String {
    let pairs: Vec<String> = group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(" ")
}

/// An alert's group (`field=value ...`), first and last seen, and ATT&CK
/// technique ids, for a row.
fn details(alert: &StoredAlert) -> (String, String, String, String) {
    let doc: serde_json::Value = serde_json::from_str(&alert.doc).unwrap_or_default();
    let text = |key: &str| doc[key].as_str().unwrap_or_default().to_owned();
    let group = describe(&alert.group());
    let mitre = doc["mitre"].as_array().map_or_else(String::new, |m| {
        let ids = m.iter().filter_map(|t| t["id"].as_str());
        ids.collect::<Vec<_>>().join(" ")
    });
    (group, text("first_seen"), text("last_seen"), mitre)
}

fn show(store: &dyn Backend, alert: &StoredAlert, out: &mut impl Write) -> anyhow::Result<()> {
    let mut doc = with_state(alert);
    let history: Vec<serde_json::Value> = store
        .history(&alert.id)?
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "time": s.time.to_string(),
                "user": s.user,
                "action": s.action,
                "status": s.status,
                "assignee": s.assignee,
                "note": s.note,
            })
        })
        .collect();
    if let Some(map) = doc.as_object_mut() {
        map.insert("history".into(), history.into());
    }
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}
