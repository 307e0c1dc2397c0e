//! SQL table sources: a table polled by a column that grows (an id, a
//! time), as seed 000 read its web application logs, but exactly: rows
//! inserted late with a lower value or an equal one are not missed, and
//! none is taken twice. Each poll reads again the rows from a look-back
//! floor up, and takes only those not taken before, told apart by their
//! whole content (two identical rows are two rows: counted, not merged).
//! What was taken above the floor is kept with the source in the store,
//! committed with the rows' events, so a pipeline killed at any moment
//! goes on exactly from its last commit.
//!
//! Each row becomes a JSON object of its columns, read as JSON: common
//! names (`ip_address`, `http_method`, `timestamp`, ...) land on their ECS
//! fields, and every column stays under its own name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_io::Input;
use rampart_parse::{FileContext, FileDecoder, Line, ParseOptions};
use rampart_store::Store;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::arrival::Arrival;
use crate::sql_mssql::{read as read_mssql, Floor};

/// Rows handed on at a time (each batch with the state it leaves).
const CHUNK: usize = 1024;

/// Where the table is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server: its URL (`postgres://user@host:port/db`),
    /// and the environment variable holding the password, if one is
    /// needed (never in the pipeline file).
    Postgres {
        /// The connection URL, without a password.
        url: String,
        /// The variable holding the password.
        password_env: Option<String>,
    },
    /// A MySQL or MariaDB server (`mysql://user@host:port/db`), its
    /// password likewise.
    Mysql {
        /// The connection URL, without a password.
        url: String,
        /// The variable holding the password.
        password_env: Option<String>,
    },
    /// A SQL Server (`mssql://user@host:port/db`), its password likewise
    /// (experimental: see `sql_mssql`).
    Mssql {
        /// The connection URL, without a password.
        url: String,
        /// The variable holding the password.
        password_env: Option<String>,
    },
}

/// The password in `var`, when one is needed.
pub fn password(var: Option<&str>) -> Result<Option<String>, String> {
    var.map(|v| {
        std::env::var(v).map_err(|_| {
            format!(
                "{v} is not set (the database password comes from the environment or a .env file)"
            )
        })
    })
    .transpose()
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Database::Postgres { url, .. }
            | Database::Mysql { url, .. }
            | Database::Mssql { url, .. } => f.write_str(url),
        }
    }
}

/// A SQL source's settings.
#[derive(Debug, Clone)]
pub struct Table {
    /// The source's name in the pipeline file.
    pub name: String,
    /// The database.
    pub database: Database,
    /// The table.
    pub table: String,
    /// The column that grows as rows are added.
    pub order_by: String,
    /// Rows remembered above the floor (the look-back).
    pub look_back: usize,
    /// Time between polls.
    pub every: Duration,
    /// Whether to keep polling (else read once and end).
    pub follow: bool,
    /// The store that keeps what was taken.
    pub db: PathBuf,
    /// A column whose values are counted over every row taken (seed 000's
    /// per-address hit counts), and the field each row gets its value's
    /// count so far in.
    pub hit_counts: Option<(String, String)>,
}

/// A value of the growing column, ordered as SQL orders it (nulls, then
/// numbers, then text).
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Key {
    Null,
    Number(f64),
    Text(String),
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match (self, other) {
            (Key::Null, Key::Null) => Equal,
            (Key::Null, _) => Less,
            (_, Key::Null) => Greater,
            (Key::Number(a), Key::Number(b)) => a.total_cmp(b),
            (Key::Number(_), Key::Text(_)) => Less,
            (Key::Text(_), Key::Number(_)) => Greater,
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Key {}

/// The rows taken at or above the floor: by value of the growing column,
/// each row's content hash and how many such rows were taken.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Taken {
    rows: BTreeMap<Key, BTreeMap<u64, u32>>,
    /// Rows taken so far per value of the counted column (seed 000's
    /// `ip_hit_count`), over every run.
    hits: BTreeMap<String, u64>,
}

/// Distinct values counted, at most: past it, new values are not counted
/// (and their rows get no count), so the state stays bounded.
const MAX_COUNTED: usize = 1_000_000;

impl Taken {
    /// The lowest value kept: polls read from it up.
    fn floor(&self) -> Option<&Key> {
        self.rows.keys().next()
    }

    fn len(&self) -> usize {
        self.rows.values().map(BTreeMap::len).sum()
    }

    /// Forgets the lowest values, a whole value at a time, while more
    /// than `keep` rows are remembered (one value's rows are never split:
    /// the floor must be above everything forgotten).
    fn trim(&mut self, keep: usize) {
        while self.len() > keep && self.rows.len() > 1 {
            self.rows.pop_first();
        }
    }
}

/// A row as read: its growing value, its columns and their JSON.
struct Row {
    key: Key,
    object: serde_json::Map<String, serde_json::Value>,
    json: String,
}

impl Row {
    /// The row of `object`, keyed by its `order_by` column.
    fn new(object: serde_json::Map<String, serde_json::Value>, order_by: &str) -> Row {
        let key = match object.get(order_by) {
            Some(serde_json::Value::Number(n)) => Key::Number(n.as_f64().unwrap_or(0.0)),
            Some(serde_json::Value::String(s)) => Key::Text(s.clone()),
            _ => Key::Null,
        };
        let json = serde_json::Value::Object(object.clone()).to_string();
        Row { key, object, json }
    }
}

/// Rows in the order every poll reads them: by the growing column, then
/// by their content.
fn in_order(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.json.cmp(&b.json)));
    rows
}

/// Starts SQL source `index` on its own thread.
pub fn start(
    index: usize,
    table: Table,
    tx: SyncSender<Arrival>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("rampart-source-{index}"))
        .spawn(move || {
            if let Err(why) = poll(index, &table, &tx, &stop) {
                let _ = tx.send(Arrival::Trouble(index, why));
            }
            let _ = tx.send(Arrival::Ended(index));
        })
}

fn poll(
    index: usize,
    t: &Table,
    tx: &SyncSender<Arrival>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut store = Store::open(&t.db).map_err(|e| format!("cannot open the database: {e}"))?;
    let label = format!("{}/{}", t.database, t.table);
    let key = format!("rampart run sql {} {label}", t.name);
    let place = store
        .source(key.as_bytes(), &label)
        .map_err(|e| e.to_string())?;
    let mut taken: Taken = match &place.state {
        Some(bytes) => postcard::from_bytes(bytes)
            .map_err(|e| format!("the state kept for {label} does not read: {e}"))?,
        None => Taken::default(),
    };
    drop(store);
    // Events are named with the source too, as file sources' are.
    let input = Arc::new(Input {
        path: PathBuf::from(format!("{label}#{}", place.id)),
        rotated_set: None,
        resume: Default::default(),
    });
    let mut ordinal = place.events;
    let ctx = FileContext::new(&label, ParseOptions::default());
    let json = rampart_parse::by_name("json").ok_or("no JSON reader")?;
    loop {
        let started = Instant::now();
        let rows = match &t.database {
            Database::Sqlite(path) => read_sqlite(path, t, taken.floor())?,
            Database::Postgres { url, password_env } => {
                read_postgres((url, password_env.as_deref()), t, taken.floor())?
            }
            Database::Mysql { url, password_env } => {
                read_mysql((url, password_env.as_deref()), t, taken.floor())?
            }
            Database::Mssql { url, password_env } => {
                let floor = match taken.floor() {
                    None | Some(Key::Null) => Floor::None,
                    Some(Key::Number(n)) => Floor::Number(*n),
                    Some(Key::Text(s)) => Floor::Text(s),
                };
                let password = password(password_env.as_deref())?;
                let texts = read_mssql((url, password), (&t.table, &t.order_by), floor)?;
                rows_of_json(texts.into_iter().flatten(), t)?
            }
        };
        // What is new: for each row content at each value, what the table
        // holds beyond what was taken.
        let mut seen: BTreeMap<(Key, u64), u32> = BTreeMap::new();
        let mut new = Vec::new();
        for row in rows {
            let hash = xxh3_64(row.json.as_bytes());
            let n = seen.entry((row.key.clone(), hash)).or_default();
            *n += 1;
            let before = taken
                .rows
                .get(&row.key)
                .and_then(|m| m.get(&hash))
                .copied()
                .unwrap_or(0);
            if *n > before {
                new.push((row, hash));
            }
        }
        let chunks = new.len().div_ceil(CHUNK);
        for (i, chunk) in new.chunks(CHUNK).enumerate() {
            let mut decoder = FileDecoder::new(ctx.clone(), Some(json));
            for (row, hash) in chunk {
                ordinal += 1;
                let json = match &t.hit_counts {
                    Some((column, name)) => counted(row, column, name, &mut taken.hits),
                    None => row.json.clone(),
                };
                decoder.feed(Line {
                    no: ordinal,
                    bytes: json.as_bytes(),
                    len: json.len(),
                });
                *taken
                    .rows
                    .entry(row.key.clone())
                    .or_default()
                    .entry(*hash)
                    .or_default() += 1;
            }
            decoder.finish();
            // Trimmed once the poll's rows are all taken: a value whose
            // rows span two chunks is never half forgotten.
            if i + 1 == chunks {
                taken.trim(t.look_back);
            }
            let out = decoder.output();
            let state = postcard::to_stdvec(&taken).map_err(|e| e.to_string())?;
            let sent = tx.send(Arrival::Read {
                source: index,
                input: Arc::clone(&input),
                place: place.clone(),
                events: std::mem::take(&mut out.events),
                dead: std::mem::take(&mut out.dead),
                state: Some(state),
            });
            if sent.is_err() {
                return Ok(());
            }
        }
        if !t.follow {
            return Ok(());
        }
        while started.elapsed() < t.every {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The row's JSON with `name` set to how many rows taken so far (this one
/// included) hold its value of `column`.
fn counted(row: &Row, column: &str, name: &str, hits: &mut BTreeMap<String, u64>) -> String {
    let value = match row.object.get(column) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => return row.json.clone(),
        Some(other) => other.to_string(),
    };
    let room = hits.len() < MAX_COUNTED;
    let count = match hits.get_mut(&value) {
        Some(n) => {
            *n += 1;
            Some(*n)
        }
        None if room => {
            hits.insert(value, 1);
            Some(1)
        }
        None => None,
    };
    let Some(n) = count else {
        return row.json.clone();
    };
    let mut object = row.object.clone();
    object.insert(name.to_string(), n.into());
    serde_json::Value::Object(object).to_string()
}

/// `"name"`, quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The rows at or above `floor`, in order of the growing column (then of
/// their content, so that every poll reads them in the same order).
fn read_sqlite(path: &std::path::Path, t: &Table, floor: Option<&Key>) -> Result<Vec<Row>, String> {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let order = quoted(&t.order_by);
    let sql = format!(
        "SELECT * FROM {} WHERE ?1 IS NULL OR {order} >= ?1 ORDER BY {order}",
        quoted(&t.table)
    );
    let floor = match floor {
        None | Some(Key::Null) => rusqlite::types::Value::Null,
        Some(Key::Number(n)) => rusqlite::types::Value::Real(*n),
        Some(Key::Text(s)) => rusqlite::types::Value::Text(s.clone()),
    };
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    if !names.contains(&t.order_by) {
        return Err(format!("{}: no column {}", t.table, t.order_by));
    }
    let rows = stmt
        .query_map([floor], |r| {
            let mut object = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let value = match r.get_ref(i)? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => n.into(),
                    ValueRef::Real(x) => x.into(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                    ValueRef::Blob(b) => b
                        .iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<String>()
                        .into(),
                };
                object.insert(name.clone(), value);
            }
            Ok(Row::new(object, &t.order_by))
        })
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(in_order(rows))
}

/// The rows at or above `floor` of a PostgreSQL table, as `read_sqlite`
/// gives them; each row as the server writes it in JSON (`row_to_json`).
fn read_postgres(
    (url, password_env): (&str, Option<&str>),
    t: &Table,
    floor: Option<&Key>,
) -> Result<Vec<Row>, String> {
    let mut config: postgres::Config = url.parse().map_err(|e| format!("{url}: {e}"))?;
    if let Some(p) = password(password_env)? {
        config.password(p);
    }
    config.connect_timeout(Duration::from_secs(10));
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| format!("{url}: {e}"))?;
    let order = quoted(&t.order_by);
    let from = format!("SELECT row_to_json(t)::text FROM {} t", quoted(&t.table));
    let rows = match floor {
        None | Some(Key::Null) => client.query(&format!("{from} ORDER BY t.{order}"), &[]),
        Some(Key::Number(n)) => client.query(
            &format!("{from} WHERE t.{order} >= $1::float8 ORDER BY t.{order}"),
            &[n],
        ),
        // Times compare as their text (ISO order is time order).
        Some(Key::Text(s)) => client.query(
            &format!("{from} WHERE t.{order}::text >= $1 ORDER BY t.{order}"),
            &[s],
        ),
    }
    .map_err(|e| format!("{url}: {}: {e}", t.table))?;
    rows_of_json(rows.iter().map(|row| row.get::<_, String>(0)), t)
}

/// The rows of `t` a server wrote as JSON objects, one each, in order.
fn rows_of_json(texts: impl Iterator<Item = String>, t: &Table) -> Result<Vec<Row>, String> {
    let mut out = Vec::new();
    for text in texts {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| format!("{}: a row: {e}", t.table))?;
        if !object.contains_key(&t.order_by) {
            return Err(format!("{}: no column {}", t.table, t.order_by));
        }
        out.push(Row::new(object, &t.order_by));
    }
    Ok(in_order(out))
}

/// The rows at or above `floor` of a MySQL or MariaDB table, as
/// `read_sqlite` gives them.
fn read_mysql(
    (url, password_env): (&str, Option<&str>),
    t: &Table,
    floor: Option<&Key>,
) -> Result<Vec<Row>, String> {
    use mysql::prelude::Queryable;
    let opts = mysql::Opts::from_url(url).map_err(|e| format!("{url}: {e}"))?;
    let opts = mysql::OptsBuilder::from_opts(opts)
        .pass(password(password_env)?)
        .tcp_connect_timeout(Some(Duration::from_secs(10)));
    let mut conn = mysql::Conn::new(opts).map_err(|e| format!("{url}: {e}"))?;
    let order = format!("`{}`", t.order_by.replace('`', "``"));
    let from = format!("SELECT * FROM `{}`", t.table.replace('`', "``"));
    let result: Result<Vec<mysql::Row>, mysql::Error> = match floor {
        // Prepared statements every time: the server then sends typed
        // values (the text protocol would send numbers as text, and rows
        // would not compare from one poll to the next).
        None | Some(Key::Null) => conn.exec(format!("{from} ORDER BY {order}"), ()),
        Some(Key::Number(n)) => {
            conn.exec(format!("{from} WHERE {order} >= ? ORDER BY {order}"), (n,))
        }
        Some(Key::Text(s)) => conn.exec(
            format!("{from} WHERE CAST({order} AS CHAR) >= ? ORDER BY {order}"),
            (s,),
        ),
    };
    let rows = result.map_err(|e| format!("{url}: {}: {e}", t.table))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut object = serde_json::Map::new();
        for (i, column) in row.columns_ref().iter().enumerate() {
            let name = column.name_str().into_owned();
            let value = match row.as_ref(i) {
                None | Some(mysql::Value::NULL) => serde_json::Value::Null,
                Some(mysql::Value::Int(n)) => (*n).into(),
                Some(mysql::Value::UInt(n)) => (*n).into(),
                Some(mysql::Value::Float(x)) => f64::from(*x).into(),
                Some(mysql::Value::Double(x)) => (*x).into(),
                Some(mysql::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned().into(),
                Some(mysql::Value::Date(y, mo, d, h, mi, s, us)) => {
                    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}").into()
                }
                Some(mysql::Value::Time(neg, d, h, mi, s, us)) => format!(
                    "{}{:02}:{mi:02}:{s:02}.{us:06}",
                    if *neg { "-" } else { "" },
                    u32::from(*h) + d * 24
                )
                .into(),
            };
            object.insert(name, value);
        }
        out.push(Row::new(object, &t.order_by));
    }
    Ok(in_order(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_forgets_whole_values_from_the_lowest() {
        let mut t = Taken::default();
        for (k, h) in [(1.0, 1), (1.0, 2), (2.0, 3), (3.0, 4), (3.0, 5)] {
            *t.rows
                .entry(Key::Number(k))
                .or_default()
                .entry(h)
                .or_default() += 1;
        }
        t.trim(3);
        assert_eq!(t.floor(), Some(&Key::Number(2.0)));
        t.trim(1);
        // One value's rows are never split, even above the bound.
        assert_eq!(t.floor(), Some(&Key::Number(3.0)));
        assert_eq!(t.len(), 2);
    }
}
