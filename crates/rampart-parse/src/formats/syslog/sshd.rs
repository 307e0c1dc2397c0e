//! OpenSSH server messages: logins, invalid users, disconnects, break-in
//! warnings. Each message gets `event.action` and, where the line names the
//! client, `source.ip` and `source.port`.
//!
//! `system.auth.ssh.event` (`Failed`, `Accepted`, `Invalid`) and
//! `system.auth.ssh.method` keep the names Filebeat uses, so queries written
//! for Elastic carry over.

use rampart_event::Event;

use crate::output::{mark_quality, MALFORMED};
use crate::text::{first_ip, ip_token, port, position, rfind, split_once_str, uint, words};

/// Fills `event` from an sshd message.
pub fn parse(message: &str, event: &mut Event) {
    let msg = message.trim_end();
    let msg = msg.strip_suffix(" [preauth]").unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("message repeated ") {
        if let Some((times, inner)) = rest.split_once(" times: [ ") {
            if let Some(n) = uint(times) {
                event.set("system.auth.repeated", n as i64);
            }
            return parse(inner.trim_end_matches(']').trim_end(), event);
        }
    }
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("Failed ") {
        login(rest, "Failed", event);
    } else if let Some(rest) = msg.strip_prefix("Accepted ") {
        login(rest, "Accepted", event);
    } else if let Some(rest) = msg.strip_prefix("Invalid user ") {
        invalid_user(rest, event);
    } else if let Some(rest) = msg.strip_prefix("input_userauth_request: invalid user ") {
        event.set_static("event.category", "authentication");
        event.set_static("event.action", "ssh-invalid-user");
        event.set_static("event.outcome", "failure");
        event.set_static("system.auth.ssh.event", "Invalid");
        event.set_str("user.name", rest.trim());
    } else if msg.contains("POSSIBLE BREAK-IN ATTEMPT") {
        event.set_static("event.category", "network");
        event.set_static("event.action", "ssh-possible-break-in");
        if let Some(host) = msg
            .strip_prefix("reverse mapping checking getaddrinfo for ")
            .and_then(|r| r.split(' ').next())
        {
            event.set_str("source.domain", host);
        }
        client(msg, event);
    } else if msg.starts_with("Connection closed by ")
        || msg.starts_with("Disconnected from ")
        || msg.starts_with("Received disconnect from ")
        || msg.starts_with("Disconnecting")
        || msg.starts_with("Connection reset by ")
    {
        event.set_static("event.category", "network");
        event.set_static("event.action", "ssh-disconnect");
        if let Some(user) = disconnect_user(msg) {
            event.set_str("user.name", user);
        }
        client(msg, event);
    } else if msg.starts_with("maximum authentication attempts exceeded for ") {
        event.set_static("event.category", "authentication");
        event.set_static("event.action", "ssh-max-auth-attempts");
        event.set_static("event.outcome", "failure");
        if let Some((who, _)) = split_once_str(msg, " from ") {
            let who = who.trim_start_matches("maximum authentication attempts exceeded for ");
            event.set_str("user.name", who.trim_start_matches("invalid user "));
        }
        client(msg, event);
    } else if msg.starts_with("Did not receive identification string")
        || msg.starts_with("Bad protocol version")
        || msg.starts_with("Unable to negotiate")
        || msg.starts_with("banner exchange")
    {
        event.set_static("event.category", "network");
        event.set_static("event.action", "ssh-protocol-error");
        client(msg, event);
    } else if msg.starts_with("Connection from ") {
        event.set_static("event.category", "network");
        event.set_static("event.action", "ssh-connection");
        client(msg, event);
    } else if msg.starts_with("Server listening on ") || msg.starts_with("Received signal") {
        event.set_static("event.category", "process");
        event.set_static("event.action", "ssh-server");
    } else if let Some(rest) = msg.strip_prefix("PAM ") {
        // "PAM 2 more authentication failures; logname= ... rhost=IP user=root"
        event.set_static("event.category", "authentication");
        event.set_static("event.action", "pam-auth-failure");
        event.set_static("event.outcome", "failure");
        if let Some(n) = rest.split(' ').next().and_then(uint) {
            event.set("system.auth.repeated", n as i64);
        }
        super::auth::rhost_and_user(rest, event);
    } else {
        client(msg, event);
    }
}

/// `password for [invalid user ]USER from IP port N ssh2[: KEY]`.
fn login(rest: &str, outcome_word: &'static str, event: &mut Event) {
    event.set_static("event.category", "authentication");
    event.set_static("event.action", "ssh-login");
    event.set(
        "event.outcome",
        if outcome_word == "Accepted" {
            "success"
        } else {
            "failure"
        },
    );
    event.set("system.auth.ssh.event", outcome_word);
    // A login names its method, user and client; one that does not is
    // kept with what it says, marked malformed.
    let Some((method, after)) = split_once_str(rest, " for ") else {
        mark_quality(event, MALFORMED);
        return;
    };
    event.set_str("system.auth.ssh.method", method);
    let Some(from_at) = rfind(after.as_bytes(), b" from ") else {
        mark_quality(event, MALFORMED);
        return;
    };
    let who = &after[..from_at];
    if who.trim().is_empty() || after[from_at + 6..].trim().is_empty() {
        mark_quality(event, MALFORMED);
    }
    let user = match who.strip_prefix("invalid user ") {
        Some(user) => {
            event.set("system.auth.ssh.invalid_user", true);
            user
        }
        None => who,
    };
    event.set_str("user.name", user);
    address_port(&after[from_at + 6..], event);
    // "ssh2: ED25519 SHA256:..." names the key's algorithm and fingerprint.
    if let Some(colon) = rfind(after.as_bytes(), b": ") {
        let signature = &after[colon + 2..];
        if position(signature, b' ').is_some() {
            event.set_str("system.auth.ssh.signature", signature);
        }
    }
}

/// `USER from IP[ port N]`.
fn invalid_user(rest: &str, event: &mut Event) {
    event.set_static("event.category", "authentication");
    event.set_static("event.action", "ssh-invalid-user");
    event.set_static("event.outcome", "failure");
    event.set_static("system.auth.ssh.event", "Invalid");
    match rfind(rest.as_bytes(), b" from ") {
        Some(at) => {
            event.set_str("user.name", &rest[..at]);
            address_port(&rest[at + 6..], event);
        }
        None => event.set_str("user.name", rest.trim()),
    }
}

/// `IP port N ...` or `IP` alone; with sshd's UseDNS, a host name.
fn address_port(text: &str, event: &mut Event) {
    let mut words = words(text);
    if let Some(word) = words.next() {
        match ip_token(word) {
            Some(ip) => event.set("source.ip", ip),
            // 999.1.2.3: meant as an address, and not one.
            None if word.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
                mark_quality(event, "unreadable-address")
            }
            None if word.contains('.') && !word.contains(['/', '=']) => {
                event.set_str("source.domain", word)
            }
            None => {}
        }
    }
    if words.next() == Some("port") {
        match words.next().map(|w| w.trim_end_matches(':')).and_then(port) {
            Some(p) => event.set("source.port", p),
            None => mark_quality(event, MALFORMED),
        }
    }
}

/// The client address and port wherever the message names them.
fn client(msg: &str, event: &mut Event) {
    let Some((ip, after)) = first_ip(msg) else {
        return;
    };
    event.set("source.ip", ip);
    let after = after.trim_start_matches([']', ':', ' ']);
    if let Some(rest) = after.strip_prefix("port ") {
        if let Some(p) = rest.split([' ', ':']).next().and_then(port) {
            event.set("source.port", p);
        }
    }
}

/// The user in `Connection closed by authenticating user root IP ...` and
/// `Disconnected from invalid user x IP ...`.
fn disconnect_user(msg: &str) -> Option<&str> {
    let at = msg.find(" user ")?;
    let rest = &msg[at + 6..];
    let user = rest.split(' ').next()?;
    (ip_token(user).is_none() && !user.is_empty()).then_some(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn run(msg: &str) -> Event {
        let mut e = Event::new(Origin::new("t", 1), msg);
        parse(msg, &mut e);
        e
    }

    #[test]
    fn a_host_name_or_a_broken_address_where_the_client_goes() {
        let e = run("Failed password for root from gw.example.net port 4022 ssh2");
        assert_eq!(e.get_str("source.domain"), Some("gw.example.net"));
        assert!(e.get("source.ip").is_none());
        let e = run("Failed password for root from 999.1.2.3 port 4022 ssh2");
        assert!(e.get("source.ip").is_none());
        assert_eq!(crate::output::quality_marks(&e), ["unreadable-address"]);
    }

    #[test]
    fn failed_and_accepted_logins() {
        let e = run("Failed password for invalid user oracle from 203.0.113.9 port 42193 ssh2");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get_str("user.name"), Some("oracle"));
        assert_eq!(e.get_str("system.auth.ssh.method"), Some("password"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "203.0.113.9");
        assert_eq!(e.get("source.port").unwrap().as_i64(), Some(42193));
        let e = run(
            "Accepted publickey for alice from 2001:db8::7 port 51234 ssh2: ED25519 SHA256:abc",
        );
        assert_eq!(e.get_str("event.outcome"), Some("success"));
        assert_eq!(e.get("source.ip").unwrap().to_string(), "2001:db8::7");
        assert_eq!(
            e.get_str("system.auth.ssh.signature"),
            Some("ED25519 SHA256:abc")
        );
        let e =
            run("Failed keyboard-interactive/pam for invalid user x from 198.51.100.1 port 1 ssh2");
        assert_eq!(
            e.get_str("system.auth.ssh.method"),
            Some("keyboard-interactive/pam")
        );
    }

    #[test]
    fn every_client_address_is_found() {
        for msg in [
            "Received disconnect from 198.51.100.7: 11: Bye Bye [preauth]",
            "Connection closed by 198.51.100.7 [preauth]",
            "Did not receive identification string from 198.51.100.7",
            "reverse mapping checking getaddrinfo for x.example [198.51.100.7] failed - POSSIBLE BREAK-IN ATTEMPT!",
            "Invalid user webmaster from 198.51.100.7",
            "message repeated 5 times: [ Failed password for root from 198.51.100.7 port 1 ssh2]",
            "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.7  user=root",
        ] {
            let e = run(msg);
            assert_eq!(
                e.get("source.ip").map(|v| v.to_string()).as_deref(),
                Some("198.51.100.7"),
                "{msg}"
            );
        }
    }

    #[test]
    fn disconnects_keep_user_and_port() {
        let e =
            run("Connection closed by authenticating user root 203.0.113.4 port 5022 [preauth]");
        assert_eq!(e.get_str("user.name"), Some("root"));
        assert_eq!(e.get("source.port").unwrap().as_i64(), Some(5022));
        assert_eq!(e.get_str("event.action"), Some("ssh-disconnect"));
    }

    #[test]
    fn malformed_logins_keep_what_they_say_and_count_as_parse_errors() {
        let text = [
            "Mar 14 03:22:14 web01 sshd[1]: Failed password for root from 203.0.113.9 port xx ssh2",
            "Mar 14 03:22:15 web01 sshd[1]: Accepted password for",
            "Mar 14 03:22:16 web01 sshd[1]: Failed password for  from 203.0.113.9 port 22 ssh2",
            "Mar 14 03:22:17 web01 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
        ]
        .join("\n");
        let ctx = crate::FileContext::new("auth.log", crate::ParseOptions::default());
        let out = crate::parse_text(&text, ctx, None);
        assert_eq!(out.events.len(), 4, "every line is kept");
        assert_eq!(
            out.stats.unparsed, 3,
            "the malformed three are parse errors"
        );
        let dead: Vec<u64> = out.dead.iter().map(|d| d.line).collect();
        assert_eq!(dead, [1, 2, 3]);
        assert_eq!(
            out.events[0].get_ip("source.ip"),
            "203.0.113.9".parse().ok()
        );
        assert_eq!(out.events[0].get_str("user.name"), Some("root"));
        assert_eq!(
            out.events[0].get("rampart.quality").unwrap().to_string(),
            "malformed-message"
        );
        assert!(out.events[3].get("rampart.quality").is_none());
    }
}
