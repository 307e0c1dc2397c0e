//! A query turned into SQLite: the fields the events table keeps as
//! columns are compared there (and their indexes used), any other field is
//! read from the event's JSON, free text goes to the full-text index. Every
//! value, and every JSON path, is a bound parameter: nothing of the query
//! is pasted into the SQL.

use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;
use rusqlite::types::Value;

use super::parse::{Expr, Op, QueryError};

/// How a column's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (none when the event has none).
    Text,
    /// A whole number.
    Int,
    /// The event's time, in microseconds.
    Time,
}

/// The column that keeps `field` in either backend's events table, if
/// one does.
pub fn column(field: &str) -> Option<(&'static str, Kind)> {
    Some(match field {
        "@timestamp" => ("time", Kind::Time),
        "event.dataset" => ("dataset", Kind::Text),
        "host.name" => ("host", Kind::Text),
        "source.ip" => ("source_ip", Kind::Text),
        "destination.ip" => ("destination_ip", Kind::Text),
        "user.name" => ("user_name", Kind::Text),
        "event.code" => ("event_code", Kind::Text),
        "event.severity" => ("severity", Kind::Int),
        _ => return None,
    })
}

/// The JSON path of a dotted field in an event's nested JSON.
fn json_path(field: &str) -> String {
    let mut path = String::from("$");
    for part in field.split('.') {
        path.push_str(".\"");
        path.push_str(&part.replace('"', "\\\""));
        path.push('"');
    }
    path
}

/// A condition or a whole query as SQL, with its parameters.
pub struct Sql {
    pub text: String,
    pub params: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.params.push(value.into());
        format!("?{}", self.params.len())
    }
}

/// Tells how many stored events hold a word (lowercase), for free text.
pub type WordCount<'a> = &'a dyn Fn(&str) -> u64;

/// `expr` as an SQL condition over the events table; `docs` says how many
/// events hold a word.
pub fn condition(expr: &Expr, docs: WordCount<'_>) -> Result<Sql, QueryError> {
    let mut sql = Sql {
        text: String::new(),
        params: Vec::new(),
    };
    sql.text = write(expr, &mut sql, docs)?;
    Ok(sql)
}

fn write(expr: &Expr, sql: &mut Sql, docs: WordCount<'_>) -> Result<String, QueryError> {
    Ok(match expr {
        Expr::And(a, b) => format!("({} AND {})", write(a, sql, docs)?, write(b, sql, docs)?),
        Expr::Or(a, b) => format!("({} OR {})", write(a, sql, docs)?, write(b, sql, docs)?),
        Expr::Not(a) => format!("(NOT coalesce({}, 0))", write(a, sql, docs)?),
        Expr::Text(text) => text_search(text, sql, docs),
        Expr::Cond {
            field,
            op,
            values,
            column: at,
        } => {
            let (target, kind) = match column(field) {
                Some((name, kind)) => (name.to_owned(), kind),
                None => {
                    let path = sql.bind(json_path(field));
                    (format!("json_extract(doc, {path})"), Kind::Text)
                }
            };
            let json = column(field).is_none();
            let one = |value: &str, op: Op, sql: &mut Sql| {
                compare(&target, kind, json, op, value, sql).map_err(|message| QueryError {
                    column: *at,
                    message: format!("{field}: {message}"),
                })
            };
            match op {
                Op::In => {
                    let parts: Vec<String> = values
                        .iter()
                        .map(|v| one(v, Op::Eq, sql))
                        .collect::<Result<_, _>>()?;
                    format!("({})", parts.join(" OR "))
                }
                op => one(&values[0], *op, sql)?,
            }
        }
    })
}

fn sql_op(op: Op) -> &'static str {
    match op {
        Op::Eq | Op::In => "=",
        Op::Ne => "IS NOT",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

/// A value with `*` and `?` as a LIKE pattern (`%`, `_` and `\` escaped).
pub fn like_pattern(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A time as a query writes it: RFC 3339, or a date (its midnight, UTC).
pub fn time_of(value: &str) -> Result<Timestamp, String> {
    value
        .parse()
        .or_else(|_| {
            value
                .parse::<jiff::civil::Date>()
                .map_err(|e| e.to_string())
                .and_then(|d| {
                    d.to_zoned(jiff::tz::TimeZone::UTC)
                        .map(|z| z.timestamp())
                        .map_err(|e| e.to_string())
                })
        })
        .map_err(|_| format!("{value:?} is not a time (RFC 3339, or a date such as 2025-03-14)"))
}

fn time_value(value: &str) -> Result<i64, String> {
    time_of(value).map(|t| t.as_microsecond())
}

fn compare(
    target: &str,
    kind: Kind,
    json: bool,
    op: Op,
    value: &str,
    sql: &mut Sql,
) -> Result<String, String> {
    let wild = value.contains(['*', '?']);
    let equality = matches!(op, Op::Eq | Op::Ne | Op::In);
    let negate = |cond: String| {
        if op == Op::Ne {
            format!("(NOT coalesce({cond}, 0))")
        } else {
            cond
        }
    };
    match kind {
        Kind::Time => {
            if wild {
                return Err("a time cannot be a pattern".into());
            }
            let p = sql.bind(time_value(value)?);
            Ok(format!("{target} {} {p}", sql_op(op)))
        }
        Kind::Int => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("{value:?} is not a whole number"))?;
            let p = sql.bind(n);
            Ok(format!("{target} {} {p}", sql_op(op)))
        }
        Kind::Text => {
            if equality && value.contains('/') {
                if let Ok(net) = value.parse::<IpNet>() {
                    let p = sql.bind(net.to_string());
                    return Ok(negate(format!("ip_in({target}, {p})")));
                }
            }
            if equality && wild {
                let p = sql.bind(like_pattern(value));
                return Ok(negate(format!("({target} LIKE {p} ESCAPE '\\')")));
            }
            if json {
                if let Ok(n) = value.parse::<f64>() {
                    let (pn, pt) = (sql.bind(n), sql.bind(value.to_owned()));
                    let numeric = format!(
                        "(typeof({target}) IN ('integer', 'real') AND {target} {} {pn})",
                        sql_op(match op {
                            Op::Ne => Op::Eq,
                            o => o,
                        })
                    );
                    return Ok(match op {
                        Op::Eq | Op::In => format!("({numeric} OR {target} = {pt})"),
                        Op::Ne => format!("(NOT coalesce({numeric} OR {target} = {pt}, 0))"),
                        _ => numeric,
                    });
                }
            }
            let p = sql.bind(value.to_owned());
            if op == Op::Eq && BY_DAY.contains(&target) {
                return Ok(format!("({DAY} IN {DAYS} AND {target} = {p})"));
            }
            Ok(format!("{target} {} {p}", sql_op(op)))
        }
    }
}

/// The columns indexed within the day of the event (see migration 5).
const BY_DAY: [&str; 3] = ["source_ip", "destination_ip", "user_name"];

/// The day of an event as those indexes have it.
const DAY: &str = "coalesce(time / 86400000000, -1)";

/// Every day that may hold events, from the hourly counts (a few thousand
/// rows, not the events): an equality on a column indexed by day is one
/// index seek per day. Before 1970 a day is not its hours' floor (SQL
/// divides toward zero), so the days around them are taken too.
const DAYS: &str = "(SELECT hour / 24 FROM event_hours WHERE hour >= 0
    UNION SELECT hour / 24 + k FROM event_hours, (SELECT -1 AS k UNION ALL SELECT 0 UNION ALL SELECT 1)
        WHERE hour < 0
    UNION SELECT -1)";

/// Events holding a word at or above which a search walks the events
/// newest first and asks the full-text index of each, rather than list
/// every event holding it: a word in a third of ten million events listed
/// whole took 7 s before the first page; walked, the first page comes
/// after a few hundred questions.
const COMMON_WORD: u64 = 100_000;

/// Free text: the events whose text (message, or the original line) holds
/// it, found through the full-text index by its words, then checked whole.
/// Words that many events hold are asked of the index event by event (a
/// page of the newest comes at once); otherwise the events holding the
/// rarest word are listed from the index.
fn text_search(text: &str, sql: &mut Sql, docs: WordCount<'_>) -> String {
    let words = super::words(text);
    let whole = sql.bind(text.to_lowercase());
    let check = format!(
        "(instr(lower(coalesce(json_extract(doc, '$.message'), json_extract(doc, '$.event.original'), '')), {whole}) > 0)"
    );
    if words.is_empty() {
        return check;
    }
    let rarest = words.iter().map(|w| docs(w)).min().unwrap_or(0);
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    let matched = sql.bind(quoted.join(" AND "));
    if rarest >= COMMON_WORD {
        format!("(EXISTS (SELECT 1 FROM events_text WHERE events_text MATCH {matched} AND rowid = events.id) AND {check})")
    } else {
        format!(
            "(id IN (SELECT rowid FROM events_text WHERE events_text MATCH {matched}) AND {check})"
        )
    }
}

/// Whether the address `ip` (as text) lies in `net` (as text); what SQL's
/// `ip_in` answers.
pub fn ip_in(ip: Option<&str>, net: &str) -> bool {
    let (Some(ip), Ok(net)) = (
        ip.and_then(|i| i.parse::<IpAddr>().ok()),
        net.parse::<IpNet>(),
    ) else {
        return false;
    };
    net.contains(&ip)
}

/// The column keeping `field`, if one does.
pub fn column_of(field: &str) -> Option<&'static str> {
    column(field).map(|(name, _)| name)
}

/// The JSON path of `field`, for a grouping.
pub fn json_path_of(field: &str) -> String {
    json_path(field)
}
