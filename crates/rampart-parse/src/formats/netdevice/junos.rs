//! Juniper Junos messages. Junos names each event with a tag of capitals,
//! digits and underscores led by the name of the process or facility that
//! logs it (`UI_COMMIT`, `BGP_IO_ERROR_CLOSE_SESSION`, `SSHD_LOGIN_FAILED`):
//! the MSGID of an RFC 5424 line, whose structured data carries Juniper's
//! enterprise number (`[junos@2636.1.1.1.2.18 ...]`), or the start of the
//! message of a BSD line (`rpd[1234]: BGP_...: text`). Only tags led by one
//! of Junos's prefixes count, so that other programs' `SOME_WORD: ` lines
//! (OpenVPN's `TLS_ERROR:`) stay theirs. Junos's own kernel logs as
//! `/kernel`, with no tag. The tag becomes `event.code`; the account and
//! address of login and commit messages become `user.name` and `source.ip`,
//! and a flow session's ends (`RT_FLOW_SESSION_DENY: session denied
//! A/p->B/q ...`) become `source.*` and `destination.*`.

use rampart_event::Event;

use crate::text::ip_token;

/// The dataset of every Junos message.
pub const DATASET: &str = "juniper.junos";

/// Juniper's IANA enterprise number, in structured data IDs.
const ENTERPRISE: &str = "2636";

/// The processes and facilities that lead Junos tags (Junos's system log
/// message reference), before the first underscore.
const PREFIXES: &[&str] = &[
    "ACCT",
    "ALARMD",
    "ANALYZER",
    "ANCPD",
    "APPID",
    "APPPXY",
    "APPTRACK",
    "ASP",
    "AUDITD",
    "AUTHD",
    "AUTOCONFD",
    "AV",
    "BFDD",
    "BGP",
    "BOOTPD",
    "CFMD",
    "CHASSISD",
    "CHASSISM",
    "COSD",
    "DCD",
    "DDOS",
    "DFCD",
    "DFWD",
    "DHCPD",
    "DOT1XD",
    "DYNAMIC",
    "ESWD",
    "EVENTD",
    "FABOAMD",
    "FC",
    "FCD",
    "FIPS",
    "FLOW",
    "FPCLOGIN",
    "FSAD",
    "FUD",
    "FWAUTH",
    "GPRSD",
    "HNCACHED",
    "ICCPD",
    "IDP",
    "ISIS",
    "JADE",
    "JDIAMETERD",
    "JSRPD",
    "KERN",
    "KMD",
    "L2ALD",
    "L2CPD",
    "L2TPD",
    "LACP",
    "LACPD",
    "LDP",
    "LFMD",
    "LIBJNX",
    "LIBJSNMP",
    "LIBMSPRPC",
    "LICENSE",
    "LLDPD",
    "LOGIN",
    "LPDFD",
    "LRMUX",
    "LSYSD",
    "MCSNOOPD",
    "MIB2D",
    "MPLS",
    "NEXTHOP",
    "NSD",
    "NTPD",
    "OSPF",
    "PFE",
    "PFED",
    "PIM",
    "PING",
    "PKID",
    "PPMD",
    "PPPD",
    "PPPOE",
    "RDD",
    "RMOPD",
    "RPD",
    "RSVP",
    "RT",
    "RTLOG",
    "RTPERF",
    "SAVAL",
    "SCCPD",
    "SDXD",
    "SFW",
    "SMTPD",
    "SNMP",
    "SNMPD",
    "SSHD",
    "SSL",
    "TASK",
    "TFTPD",
    "UFDD",
    "UI",
    "UTMD",
    "VCCPD",
    "VRRPD",
    "WEB",
    "WEBFILTER",
];

/// Junos daemons (and the SRX's `RT_...` loggers) whose tagged messages are
/// read as Junos: a tag alone is no proof, as other programs write
/// `SSL_ERROR:` and the like.
const PROGRAMS: &[&str] = &[
    "rpd",
    "mgd",
    "sshd",
    "chassisd",
    "dcd",
    "eventd",
    "snmpd",
    "mib2d",
    "cosd",
    "l2ald",
    "lacpd",
    "kmd",
    "pfed",
    "jsrpd",
    "flowd",
    "rtlogd",
    "utmd",
    "idpd",
    "appidd",
    "authd",
    "dfwd",
    "xntpd",
    "ntpd",
    "bfdd",
    "ppmd",
    "lfmd",
    "vrrpd",
    "alarmd",
    "craftd",
    "jdhcpd",
    "smid",
    "rmopd",
    "sampled",
    "license-check",
    "cli",
    "login",
    "inetd",
    "auditd",
    "pkid",
    "lldpd",
    "mcsnoopd",
    "dot1xd",
    "eswd",
    "dhcpd",
];

fn junos_program(program: Option<&str>) -> bool {
    program.is_some_and(|p| PROGRAMS.contains(&p) || p.starts_with("RT_"))
}

/// The syslog header parts a Junos message is known by.
pub struct Line<'a> {
    /// The program (BSD tag or RFC 5424 APP-NAME).
    pub program: Option<&'a str>,
    /// The RFC 5424 MSGID.
    pub msgid: Option<&'a str>,
    /// Whether an RFC 5424 structured data element is Juniper's (see
    /// [`is_juniper_sd_id`]).
    pub juniper_data: bool,
    /// The message.
    pub message: &'a str,
}

/// Whether an RFC 5424 SD-ID (`junos@2636.1.1.1.2.18`) names Juniper's
/// enterprise number.
pub fn is_juniper_sd_id(id: &str) -> bool {
    id.split_once('@').is_some_and(|(_, number)| {
        number == ENTERPRISE
            || number
                .strip_prefix(ENTERPRISE)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Reads a Junos message into `event`; `None` when the line is not one.
pub fn read(line: &Line<'_>, event: &mut Event) -> Option<&'static str> {
    let tagged = tag_of(line.message).filter(|_| line.juniper_data || junos_program(line.program));
    let (tag, text) = match tagged {
        Some((tag, text)) => (Some(tag), text),
        None if line.juniper_data => (line.msgid.filter(|m| is_tag(m)), line.message),
        None if line.program == Some("/kernel") => (None, line.message),
        None => return None,
    };
    event.set_static("event.module", "juniper");
    if let Some(tag) = tag {
        event.set_str("event.code", tag);
        event.insert_str("message", text);
        account(tag, text, event);
        if tag.starts_with("RT_FLOW_SESSION") {
            super::flow::arrow(text, event);
        }
    }
    Some(DATASET)
}

/// `TAG: text` at the start of a message.
fn tag_of(message: &str) -> Option<(&str, &str)> {
    let (tag, text) = message.split_once(": ")?;
    is_tag(tag).then_some((tag, text.trim()))
}

/// Capitals and digits in two or more parts joined by underscores, the
/// first part one of Junos's prefixes.
fn is_tag(word: &str) -> bool {
    word.len() <= 64
        && !word.ends_with('_')
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && word
            .split_once('_')
            .is_some_and(|(prefix, _)| PREFIXES.contains(&prefix))
}

/// The account (`User 'admin'`, `user 'root'`) and address (`from host
/// '10.0.0.1'`, an `ssh-connection '10.0.0.1 ...'`) of login, logout and
/// configuration messages, and the outcome of logins.
fn account(tag: &str, text: &str, event: &mut Event) {
    let login = tag.contains("LOGIN") || tag.contains("AUTH");
    if !login && !tag.starts_with("UI_") {
        return;
    }
    // The last occurrence: a user name can itself hold "from host '...'".
    let quoted = |after: &str| {
        let at = text.rfind(after)? + after.len();
        text[at..].split('\'').next()
    };
    if let Some(user) = quoted("User '").or_else(|| quoted("user '")) {
        event.insert_str("user.name", user);
    }
    let from = quoted("from host '").or_else(|| quoted("ssh-connection '"));
    if let Some(ip) = from.and_then(|f| f.split(' ').next()).and_then(ip_token) {
        event.insert("source.ip", ip);
    }
    if login {
        event.insert("event.category", "authentication");
        if tag.contains("FAIL") {
            event.insert("event.outcome", "failure");
        } else if tag.ends_with("LOGIN_EVENT") || tag.ends_with("ACCEPTED") {
            event.insert("event.outcome", "success");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn read_line(line: Line<'_>) -> (Option<&'static str>, Event) {
        let mut e = Event::new(Origin::new("x", 1), line.message);
        (read(&line, &mut e), e)
    }

    fn bsd<'a>(program: &'a str, message: &'a str) -> Line<'a> {
        Line {
            program: Some(program),
            msgid: None,
            juniper_data: false,
            message,
        }
    }

    #[test]
    fn tagged_messages_and_the_kernel() {
        let (d, e) = read_line(bsd(
            "sshd",
            "SSHD_LOGIN_FAILED: Login failed for user 'root' from host '203.0.113.9'",
        ));
        assert_eq!(d, Some(DATASET));
        assert_eq!(e.get_str("event.code"), Some("SSHD_LOGIN_FAILED"));
        assert_eq!(e.get_str("user.name"), Some("root"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.9");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));

        let (_, e) = read_line(bsd(
            "mgd",
            "UI_COMMIT: User 'admin' requested 'commit' operation (comment: none)",
        ));
        assert_eq!(e.get_str("user.name"), Some("admin"));
        assert_eq!(e.get_str("event.outcome"), None);

        let (_, e) = read_line(bsd("mgd", "UI_LOGIN_EVENT: User 'ops' login, class 'j-super-user' [6540], ssh-connection '198.51.100.4 50312 192.0.2.1 22', client-mode 'cli'"));
        assert_eq!(e.get_str("user.name"), Some("ops"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "198.51.100.4");
        assert_eq!(e.get_str("event.outcome"), Some("success"));

        let (d, e) = read_line(bsd(
            "/kernel",
            "tcp_auth_ok: Packet from 192.0.2.7:179 missing MD5 digest",
        ));
        assert_eq!(d, Some(DATASET));
        assert_eq!(e.get_str("event.code"), None);
    }

    #[test]
    fn structured_data_names_juniper() {
        let (d, e) = read_line(Line {
            program: Some("rpd"),
            msgid: Some("BGP_PREFIX_THRESH_EXCEEDED"),
            juniper_data: true,
            message: "192.0.2.2 (External AS 65001): Configured maximum prefix-limit exceeded",
        });
        assert_eq!(d, Some(DATASET));
        assert_eq!(e.get_str("event.code"), Some("BGP_PREFIX_THRESH_EXCEEDED"));
        assert!(is_juniper_sd_id("junos@2636.1.1.1.2.18"));
        assert!(is_juniper_sd_id("junos@2636"));
        assert!(!is_juniper_sd_id("other@26360.1"));
        assert!(!is_juniper_sd_id("meta"));
    }

    #[test]
    fn ordinary_messages_are_not_junos() {
        for (program, message) in [
            ("kernel", "EXT4-fs (sda1): mounted filesystem"),
            (
                "sshd",
                "Accepted password for root from 10.0.0.1 port 22 ssh2",
            ),
            ("CRON", "(root) CMD (run-parts /etc/cron.hourly)"),
            ("app", "ERROR: disk full"),
            ("app", "A_: trailing underscore"),
            ("app", "Mixed_Case: no"),
            ("openvpn", "TLS_ERROR: BIO read tls_read_plaintext error"),
            ("app", "SSL_ERROR: handshake failed"),
            ("nginx", "WEB_FILTER: blocked"),
            ("app", "MAX_CONNECTIONS: 100"),
            ("app", "UI_: no tag after the prefix"),
        ] {
            assert_eq!(read_line(bsd(program, message)).0, None, "{message}");
        }
    }
}
