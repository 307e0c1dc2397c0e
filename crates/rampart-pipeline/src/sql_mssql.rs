//! SQL Server tables for the SQL source (experimental: no SQL Server runs
//! where rampart is tested, so this reader has only met the protocol
//! library's own checks). Each row comes as the server writes it in JSON
//! (`FOR JSON PATH`, SQL Server 2016 or later), as PostgreSQL's do, so
//! that no column type needs a mapping of its own here.
//!
//! The address is `mssql://USER@HOST:PORT/DATABASE`, the password in the
//! pipeline's `password_env`, with `?encrypt=off` (TLS for the login
//! only) or `?encrypt=not_supported` (none), and
//! `?trust_server_certificate=true` for a server whose certificate is not
//! signed by a known authority. SQL Server logins only: Windows
//! integrated authentication (`Trusted_Connection`) is not available on
//! Linux.

use std::time::Duration;

use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio_util::compat::TokioAsyncWriteCompatExt;

/// How long connecting may take.
const CONNECT: Duration = Duration::from_secs(10);
/// How long a whole poll (the handshake, the login, the query and its
/// rows) may take.
const POLL: Duration = Duration::from_secs(300);

/// The connection settings of `url`, with `password`, and the server's
/// host and port to connect to.
fn config(url: &str, password: Option<String>) -> Result<(Config, (String, u16)), String> {
    let bad = |why: &str| format!("{url}: {why} (mssql://USER@HOST:PORT/DATABASE)");
    let rest = url
        .strip_prefix("mssql://")
        .or_else(|| url.strip_prefix("sqlserver://"))
        .ok_or_else(|| bad("not a SQL Server address"))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (user, rest) = rest.split_once('@').ok_or_else(|| bad("no user"))?;
    let (host_port, database) = rest.split_once('/').ok_or_else(|| bad("no database"))?;
    // An IPv6 address stands in brackets (`[2001:db8::5]:1433`).
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (h, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("an unclosed `[`"))?;
            match after.strip_prefix(':') {
                Some(p) => (h, p.parse::<u16>().map_err(|_| bad("a bad port"))?),
                None if after.is_empty() => (h, 1433),
                None => return Err(bad("a bad port")),
            }
        }
        None => match host_port.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("a bad port"))?),
            None => (host_port, 1433),
        },
    };
    if user.is_empty() || host.is_empty() || database.is_empty() {
        return Err(bad("a part is empty"));
    }
    let mut config = Config::new();
    config.host(host);
    config.port(port);
    config.database(database);
    config.application_name("rampart");
    config.authentication(AuthMethod::sql_server(user, password.unwrap_or_default()));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("encrypt", "on" | "true" | "required") => {
                config.encryption(EncryptionLevel::Required);
            }
            ("encrypt", "off" | "false") => config.encryption(EncryptionLevel::Off),
            ("encrypt", "not_supported") => config.encryption(EncryptionLevel::NotSupported),
            ("trust_server_certificate", "true") => config.trust_cert(),
            (name, _) => return Err(bad(&format!("`{pair}`? ({name} is not known)"))),
        }
    }
    Ok((config, (host.to_string(), port)))
}

/// `[name]`, quoted for SQL Server.
fn bracketed(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// Where a poll starts: the lowest value of the growing column read again.
pub(crate) enum Floor<'a> {
    /// Every row.
    None,
    /// A number.
    Number(f64),
    /// Text (a time in ISO form converts to the column's type).
    Text(&'a str),
}

/// Each row of `table` whose `order_by` is at or above `floor`, in its
/// order, as the server writes it in JSON (none for a row it cannot).
pub(crate) fn read(
    (url, password): (&str, Option<String>),
    (table, order_by): (&str, &str),
    floor: Floor<'_>,
) -> Result<Vec<Option<String>>, String> {
    let (config, server) = config(url, password)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("{url}: {e}"))?;
    let order = bracketed(order_by);
    let from = format!(
        "SELECT (SELECT t.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) FROM {} t",
        bracketed(table)
    );
    let above = format!("{from} WHERE t.{order} >= @P1 ORDER BY t.{order}");
    let poll = async {
        let tcp = tokio::time::timeout(
            CONNECT,
            tokio::net::TcpStream::connect((server.0.as_str(), server.1)),
        )
        .await
        .map_err(|_| "connecting timed out".to_string())?
        .map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut client = Client::connect(config, tcp.compat_write())
            .await
            .map_err(|e| e.to_string())?;
        // The floor is compared as the column's own type; a whole number
        // as an integer, so that an index on the column serves.
        let stream = match floor {
            Floor::None => {
                client
                    .query(format!("{from} ORDER BY t.{order}"), &[])
                    .await
            }
            Floor::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => {
                client.query(above, &[&(n as i64)]).await
            }
            Floor::Number(n) => client.query(above, &[&n]).await,
            Floor::Text(s) => client.query(above, &[&s]).await,
        }
        .map_err(|e| format!("{table}: {e}"))?;
        let rows = stream
            .into_first_result()
            .await
            .map_err(|e| format!("{table}: {e}"))?;
        rows.iter()
            .map(|r| {
                r.try_get::<&str, _>(0)
                    .map(|text| text.map(str::to_string))
                    .map_err(|e| format!("{table}: a row: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()
    };
    runtime
        .block_on(async {
            tokio::time::timeout(POLL, poll)
                .await
                .map_err(|_| format!("no answer within {} s", POLL.as_secs()))?
        })
        .map_err(|e| format!("{url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_and_bad_ones_named() {
        let (c, server) = config(
            "mssql://rampart@db.example:14330/siem?encrypt=off&trust_server_certificate=true",
            Some("pw".into()),
        )
        .unwrap();
        assert_eq!(c.get_addr(), "db.example:14330");
        assert_eq!(server, ("db.example".to_string(), 14330));
        assert!(config("mssql://rampart@db.example/siem", None).is_ok());
        let (_, v6) = config("mssql://rampart@[2001:db8::5]:14330/siem", None).unwrap();
        assert_eq!(v6, ("2001:db8::5".to_string(), 14330));
        assert!(config("mssql://rampart@[2001:db8::5]/siem", None).is_ok());
        assert!(config("mssql://rampart@[2001:db8::5/siem", None).is_err());
        for (url, why) in [
            ("postgres://a@b/c", "not a SQL Server address"),
            ("mssql://db.example/siem", "no user"),
            ("mssql://a@db.example", "no database"),
            ("mssql://a@db.example:x/siem", "a bad port"),
            (
                "mssql://a@db.example/siem?Trusted_Connection=yes",
                "is not known",
            ),
        ] {
            let e = config(url, None).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn names_are_bracketed_with_their_brackets_doubled() {
        assert_eq!(bracketed("web_logs"), "[web_logs]");
        assert_eq!(bracketed("a]; DROP TABLE x; --"), "[a]]; DROP TABLE x; --]");
    }

    #[test]
    fn a_server_that_is_not_there_is_an_error_naming_it() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("mssql://sa@127.0.0.1:{port}/siem");
        let e = read((&url, None), ("web_logs", "id"), Floor::None).unwrap_err();
        assert!(e.starts_with(&format!("{url}: ")), "{e}");
    }
}
