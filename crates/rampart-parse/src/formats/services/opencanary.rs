//! OpenCanary honeypot alerts (its JSON log lines). Any touch of a canary is
//! suspect: a visitor's records are `intrusion_detection` events, the
//! canary's own (starting, its configuration) are not; `logtype` says which
//! decoy service was touched and how.

use rampart_event::time::Zone;
use rampart_event::Event;
use serde_json::{Map, Value as Json};

use super::record::{at, copy, keep, put_ip, say, text};
use crate::context::FileContext;

/// OpenCanary's log types, as its logger numbers them.
const LOG_TYPES: &[(i64, &str)] = &[
    (1000, "boot"),
    (1001, "message"),
    (1002, "debug"),
    (1003, "error"),
    (1004, "ping"),
    (1005, "config_save"),
    (2000, "ftp_login_attempt"),
    (3000, "http_get"),
    (3001, "http_post_login_attempt"),
    (4000, "ssh_new_connection"),
    (4001, "ssh_remote_version_sent"),
    (4002, "ssh_login_attempt"),
    (5000, "smb_file_open"),
    (5001, "port_syn"),
    (5002, "port_nmap_os"),
    (5003, "port_nmap_null"),
    (5004, "port_nmap_xmas"),
    (5005, "port_nmap_fin"),
    (6001, "telnet_login_attempt"),
    (7001, "http_proxy_login_attempt"),
    (8001, "mysql_login_attempt"),
    (9001, "mssql_login_sql_auth"),
    (9002, "mssql_login_windows_auth"),
    (10001, "tftp"),
    (11001, "ntp_monlist"),
    (12001, "vnc"),
    (13001, "snmp_command"),
    (14001, "rdp"),
    (15001, "sip_request"),
    (16001, "git_clone_request"),
    (17001, "redis_command"),
    (18001, "tcp_banner_connection"),
    (18005, "tcp_banner_data_received"),
];

/// Fills `e` from one OpenCanary record.
pub fn alert(o: &Map<String, Json>, _ctx: &FileContext, e: &mut Event) -> &'static str {
    // Both times are written in UTC, whatever the canary's zone.
    e.timestamp = text(o, "utc_time")
        .or_else(|| text(o, "local_time"))
        .and_then(|t| crate::timefmt::any(t, &Zone::utc()));
    keep("opencanary", o, e);
    let kind = at(o, "logtype").and_then(Json::as_i64);
    let name = kind.and_then(|k| LOG_TYPES.iter().find(|(n, _)| *n == k).map(|(_, s)| *s));
    match (name, kind) {
        (Some(n), _) => e.set_static("event.action", n),
        (None, Some(k)) => e.set("event.action", k.to_string()),
        _ => {}
    }
    copy(
        o,
        e,
        &[
            ("host.name", "node_id"),
            ("user.name", "logdata.USERNAME"),
            ("user_agent.original", "logdata.USERAGENT"),
        ],
    );
    put_ip(e, "source.ip", text(o, "src_host"));
    put_ip(e, "destination.ip", text(o, "dst_host"));
    for (key, field) in [
        ("src_port", "source.port"),
        ("dst_port", "destination.port"),
    ] {
        if let Some(p) = at(o, key).and_then(Json::as_i64).filter(|p| *p >= 0) {
            e.set(field, p);
        }
    }
    // Housekeeping (1000-1999) is the canary itself; the rest is a visitor.
    let touched = kind.is_some_and(|k| k >= 2000);
    say(
        e,
        format!("OpenCanary {}", name.unwrap_or("event")),
        &[
            (" from ", text(o, "src_host")),
            (": ", text(o, "logdata.msg.logdata")),
        ],
    );
    if touched {
        e.set_static("event.category", "intrusion_detection");
    }
    "opencanary"
}
