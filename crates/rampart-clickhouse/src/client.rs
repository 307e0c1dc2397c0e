//! ClickHouse's HTTP interface: a query is the body of a POST, rows come
//! back as JSON lines, and an insert is `INSERT ... FORMAT JSONEachRow`
//! with its rows as the body, so no value read from a log is ever part of
//! an insert's SQL. ClickHouse 18.16 has no query parameters over HTTP:
//! the values a search compares are written into its SQL as literals by
//! [`quote`], which escapes everything a string literal gives meaning to.
//!
//! An insert that fails for a reason that may pass (the server restarting,
//! a refused connection, a 5xx answer) is sent again after a pause that
//! doubles, up to [`TRIES`] times; the tables it writes keep one row per
//! key, so a batch stored twice counts once.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use rampart_store::StoreError;

use crate::transcript::Transcript;

/// Attempts at an insert before its error is given back.
const TRIES: u32 = 6;

/// The first pause between attempts.
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// How long a request may take.
const TIMEOUT: Duration = Duration::from_secs(300);

/// A connection to one database of one server.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    /// The server's address, `http://host:port/`.
    base: String,
    /// The database.
    pub database: String,
    user: String,
    password: String,
    transcript: Transcript,
}

/// A string as a ClickHouse string literal: quoted, with backslashes,
/// quotes and control characters escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Whether a database name is a plain identifier (it is written into DDL).
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl Client {
    /// A client for `url`: `clickhouse://[user[:password]@]host[:port][/database]`
    /// (HTTP; port 8123 and database `rampart` unless given). The password
    /// may come from `RAMPART_CLICKHOUSE_PASSWORD` instead.
    pub fn new(url: &str) -> Result<Client, StoreError> {
        let bad = |why: &str| StoreError(format!("{url}: {why}"));
        let rest = url
            .strip_prefix("clickhouse://")
            .ok_or_else(|| bad("a ClickHouse address starts with clickhouse://"))?;
        let (login, rest) = match rest.rsplit_once('@') {
            Some((login, rest)) => (Some(login), rest),
            None => (None, rest),
        };
        let (host, database) = match rest.split_once('/') {
            Some((host, db)) => (host, db.trim_end_matches('/')),
            None => (rest, ""),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let host = if host.contains(':') && !host.ends_with(']') {
            host.to_owned()
        } else {
            format!("{host}:8123")
        };
        let database = if database.is_empty() {
            "rampart"
        } else {
            database
        };
        if !plain(database) {
            return Err(bad(
                "a database name is letters, digits and underscores, not starting with a digit",
            ));
        }
        let (user, password) = match login.map(|l| l.split_once(':').unwrap_or((l, ""))) {
            Some((user, password)) => (user.to_owned(), password.to_owned()),
            None => ("default".to_owned(), String::new()),
        };
        let password = if password.is_empty() {
            std::env::var("RAMPART_CLICKHOUSE_PASSWORD").unwrap_or_default()
        } else {
            password
        };
        Ok(Client {
            agent: ureq::AgentBuilder::new().timeout(TIMEOUT).build(),
            base: format!("http://{host}/"),
            database: database.to_owned(),
            user,
            password,
            transcript: Transcript::from_env(),
        })
    }

    /// The server and database, for messages (no password).
    pub fn describe(&self) -> String {
        format!("ClickHouse {}{}", self.base, self.database)
    }

    fn request(&self, database: bool, extra: &[(&str, &str)]) -> ureq::Request {
        let mut request = self
            .agent
            .post(&self.base)
            .set("X-ClickHouse-User", &self.user)
            .query("output_format_json_quote_64bit_integers", "0");
        if !self.password.is_empty() {
            request = request.set("X-ClickHouse-Key", &self.password);
        }
        if database {
            request = request.query("database", &self.database);
        }
        for (k, v) in extra {
            request = request.query(k, v);
        }
        request
    }

    /// Sends `body` as a request; the answer's body as a reader.
    fn send(
        &self,
        request: ureq::Request,
        body: &[u8],
        what: &str,
    ) -> Result<Box<dyn Read + Send + Sync>, Failure> {
        match request.send_bytes(body) {
            Ok(response) => Ok(response.into_reader()),
            Err(ureq::Error::Status(code, response)) => {
                let text = response.into_string().unwrap_or_default();
                let message = format!(
                    "{}: {what}: {}",
                    self.describe(),
                    text.lines().next().unwrap_or("").trim()
                );
                Err(if code >= 500 && passing(&text) {
                    Failure::Passing(message)
                } else {
                    Failure::Lasting(message)
                })
            }
            Err(e) => Err(Failure::Passing(format!(
                "{}: {what}: {e}",
                self.describe()
            ))),
        }
    }

    /// Runs a statement that returns nothing worth reading (DDL).
    pub fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.execute_in(true, sql)
    }

    /// Runs a statement outside the database (creating it).
    pub fn execute_outside(&self, sql: &str) -> Result<(), StoreError> {
        self.execute_in(false, sql)
    }

    fn execute_in(&self, database: bool, sql: &str) -> Result<(), StoreError> {
        self.transcript
            .execute(database.then_some(self.database.as_str()), sql);
        let mut reader = self
            .send(
                self.request(database, &[]),
                sql.as_bytes(),
                first_words(sql),
            )
            .map_err(Failure::into_error)?;
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| StoreError(format!("{}: {e}", self.describe())))?;
        Ok(())
    }

    /// Hands each row `sql` selects (JSONEachRow is added) to `take`, read
    /// one line at a time, until it returns false.
    pub fn each<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        mut take: impl FnMut(T) -> bool,
    ) -> Result<(), StoreError> {
        let full = format!("{sql} FORMAT JSONEachRow");
        let reader = self
            .send(self.request(true, &[]), full.as_bytes(), first_words(sql))
            .map_err(Failure::into_error)?;
        let mut lines = BufReader::with_capacity(1 << 16, reader);
        let mut line = String::new();
        let mut seen = Vec::new();
        loop {
            line.clear();
            let n = lines
                .read_line(&mut line)
                .map_err(|e| StoreError(format!("{}: reading rows: {e}", self.describe())))?;
            if n == 0 {
                self.transcript.select(&self.database, sql, &seen, true);
                return Ok(());
            }
            if self.transcript.on() {
                seen.push(line.trim_end().to_owned());
            }
            // An error met after the first rows comes as text in the body.
            let row: T = serde_json::from_str(&line).map_err(|e| {
                StoreError(format!(
                    "{}: {}: {e}",
                    self.describe(),
                    line.trim().chars().take(300).collect::<String>()
                ))
            })?;
            if !take(row) {
                self.transcript.select(&self.database, sql, &seen, false);
                return Ok(());
            }
        }
    }

    /// Every row `sql` selects.
    pub fn rows<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        self.each(sql, |row| {
            all.push(row);
            true
        })?;
        Ok(all)
    }

    /// Inserts `rows` (JSON lines) into `table`, again after a pause when
    /// the failure may pass.
    pub fn insert(&self, table: &str, rows: &[u8]) -> Result<(), StoreError> {
        self.insert_with(table, rows, &[])
    }

    /// Inserts `rows` as one block, which ClickHouse stores whole or not
    /// at all (into a table without partitions).
    pub fn insert_whole(&self, table: &str, rows: &[u8]) -> Result<(), StoreError> {
        self.insert_with(
            table,
            rows,
            &[
                ("max_insert_block_size", "1000000000"),
                ("min_insert_block_size_rows", "0"),
                ("min_insert_block_size_bytes", "0"),
            ],
        )
    }

    fn insert_with(
        &self,
        table: &str,
        rows: &[u8],
        settings: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.transcript.insert(&self.database, table, rows);
        let query = format!("INSERT INTO {table} FORMAT JSONEachRow");
        let mut pause = FIRST_PAUSE;
        let mut tries = 0;
        loop {
            tries += 1;
            let sent = self
                .send(
                    self.request(true, &[&[("query", query.as_str())], settings].concat()),
                    rows,
                    &format!("inserting into {table}"),
                )
                .and_then(|mut r| {
                    std::io::copy(&mut r, &mut std::io::sink())
                        .map_err(|e| Failure::Passing(e.to_string()))
                });
            match sent {
                Ok(_) => return Ok(()),
                Err(Failure::Passing(_)) if tries < TRIES => {
                    std::thread::sleep(pause);
                    pause *= 2;
                }
                Err(failure) => return Err(failure.into_error()),
            }
        }
    }
}

/// Why a request failed.
enum Failure {
    /// It may pass: the request can be sent again.
    Passing(String),
    /// It will not: the request itself is wrong.
    Lasting(String),
}

impl Failure {
    fn into_error(self) -> StoreError {
        match self {
            Failure::Passing(m) | Failure::Lasting(m) => StoreError(m),
        }
    }
}

/// Codes of ClickHouse exceptions that pass by themselves: too many
/// queries or parts at once, memory, timeouts, the network.
const PASSING_CODES: [u32; 8] = [159, 202, 209, 210, 241, 252, 319, 425];

/// Whether a refusal whose answer is `text` may pass: the server's own
/// exceptions say their code (`Code: 62, ...`), and one that is not among
/// [`PASSING_CODES`] is the statement's fault, which sending it again
/// would not mend; an answer without a code (a proxy, a restart) may pass.
fn passing(text: &str) -> bool {
    let code = text
        .split("Code: ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<u32>().ok());
    code.is_none_or(|c| PASSING_CODES.contains(&c))
}

/// The start of a statement, for messages.
fn first_words(sql: &str) -> &str {
    let sql = sql.trim_start();
    let end = sql
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .nth(2)
        .map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_escapes_what_would_end_or_bend_it() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("x' OR 1=1 --"), "'x\\' OR 1=1 --'");
        assert_eq!(quote("a\\'b"), "'a\\\\\\'b'");
        assert_eq!(quote("a\nb\0"), "'a\\nb\\0'");
    }

    #[test]
    fn only_refusals_that_pass_by_themselves_are_sent_again() {
        assert!(passing(
            "Code: 252, e.displayText() = DB::Exception: Too many parts"
        ));
        assert!(passing("Code: 241. DB::Exception: Memory limit exceeded"));
        assert!(passing("502 Bad Gateway"));
        assert!(!passing(
            "Code: 62, e.displayText() = DB::Exception: Syntax error"
        ));
        assert!(!passing("Code: 27. DB::Exception: Cannot parse input"));
    }

    #[test]
    fn an_address_gives_the_server_database_and_login() {
        let c = Client::new("clickhouse://127.0.0.1:18123/siem").unwrap();
        assert_eq!(c.base, "http://127.0.0.1:18123/");
        assert_eq!((c.database.as_str(), c.user.as_str()), ("siem", "default"));
        let c = Client::new("clickhouse://ana:pw@ch.example").unwrap();
        assert_eq!(c.base, "http://ch.example:8123/");
        assert_eq!((c.user.as_str(), c.password.as_str()), ("ana", "pw"));
        assert_eq!(c.database, "rampart");
        assert!(Client::new("http://x/").is_err());
        assert!(Client::new("clickhouse://x/a;DROP").is_err());
        assert!(Client::new("clickhouse:///db").is_err());
    }
}
