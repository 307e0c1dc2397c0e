//! The two ends of a connection that a firewall's message names, so that
//! firewall events count like any flow (the port-scan rule, top talkers).
//!
//! Cisco ASA writes an end as `IF:ADDR/PORT` (`from outside:203.0.113.5/4444
//! to inside:10.0.0.5/22`, `src outside:... dst inside:...`, `for outside:...
//! (mapped) to inside:...`) or `IF/ADDR(PORT)` (`outside/203.0.113.5(4444) ->
//! inside/10.0.0.5(22)`), the source first, except in `Built outbound`
//! messages, which name the outside end first; ends in parentheses repeat
//! them as translated, and translations and teardowns give no ends. Junos
//! flow sessions write `ADDR/PORT->ADDR/PORT`.

use std::net::IpAddr;

use rampart_event::Event;

/// One end: an address and, when numeric, a port.
type End = (IpAddr, Option<u16>);

/// Reads an ASA message's two ends, and its protocol, into `event`.
pub fn asa(message: &str, event: &mut Event) {
    let lower = message.to_ascii_lowercase();
    // Address translations are no connections, and a teardown repeats the
    // connection its build named.
    if lower.contains("translation") || lower.starts_with("teardown") {
        return;
    }
    let mut ends = Vec::with_capacity(2);
    let mut previous = "";
    for token in message.split_whitespace() {
        if ends.len() == 2 {
            break;
        }
        let word = token.trim_end_matches([',', ';']);
        if !token.starts_with('(') {
            match asa_end(word) {
                Some(end) => ends.push(end),
                // ICMP has no ports: `src outside:A dst inside:B`.
                None if matches!(previous, "src" | "dst" | "from" | "to") => {
                    if let Some(addr) = bare_address(word) {
                        ends.push((addr, None));
                    }
                }
                None => {}
            }
        }
        previous = word;
    }
    if let [first, second] = ends[..] {
        // `Built outbound ... for outside:SERVER to inside:CLIENT`: the
        // outside end comes first but the inside host opened it.
        let (source, destination) = if lower.contains(" outbound ") {
            (second, first)
        } else {
            (first, second)
        };
        set(event, source, destination);
        let transport = lower
            .split_whitespace()
            .find(|w| matches!(*w, "tcp" | "udp" | "icmp" | "icmp6" | "sctp"));
        if let Some(t) = transport {
            event.insert("network.transport", t.to_owned());
        }
    }
}

/// Reads the first `ADDR/PORT->ADDR/PORT` of a Junos flow message.
pub fn arrow(message: &str, event: &mut Event) {
    let pair = message.split_whitespace().find_map(|t| {
        let (a, b) = t.split_once("->")?;
        Some((slash_end(a)?, slash_end(b)?))
    });
    if let Some((source, destination)) = pair {
        set(event, source, destination);
    }
}

fn set(event: &mut Event, source: End, destination: End) {
    event.insert("source.ip", source.0);
    if let Some(port) = source.1 {
        event.insert("source.port", i64::from(port));
    }
    event.insert("destination.ip", destination.0);
    if let Some(port) = destination.1 {
        event.insert("destination.port", i64::from(port));
    }
}

/// `IF:ADDR/PORT`, `ADDR/PORT` or `IF/ADDR(PORT)`.
fn asa_end(token: &str) -> Option<End> {
    if let Some(open) = token.find('(') {
        let (_, addr) = token[..open].split_once('/')?;
        let port = token[open + 1..].strip_suffix(')')?;
        return Some((addr.parse().ok()?, port.parse().ok()));
    }
    let (left, port) = token.rsplit_once('/')?;
    let addr = left
        .parse()
        .ok()
        .or_else(|| left.split_once(':')?.1.parse().ok())?;
    Some((addr, port.parse().ok()))
}

/// `IF:ADDR` or `ADDR`.
fn bare_address(token: &str) -> Option<IpAddr> {
    token
        .parse()
        .ok()
        .or_else(|| token.split_once(':')?.1.parse().ok())
}

/// `ADDR/PORT`.
fn slash_end(token: &str) -> Option<End> {
    let (addr, port) = token.rsplit_once('/')?;
    Some((addr.parse().ok()?, port.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn ends(f: fn(&str, &mut Event), message: &str) -> Vec<String> {
        let mut e = Event::new(Origin::new("x", 1), message);
        f(message, &mut e);
        [
            "source.ip",
            "source.port",
            "destination.ip",
            "destination.port",
            "network.transport",
        ]
        .iter()
        .map(|f| e.get(f).map_or("-".into(), |v| v.to_string()))
        .collect()
    }

    #[test]
    fn asa_connection_messages() {
        for message in [
            "Deny tcp src outside:203.0.113.5/4444 dst inside:10.0.0.5/22 by access-group \"outside_in\" [0x0, 0x0]",
            "Inbound TCP connection denied from 203.0.113.5/4444 to 10.0.0.5/22 flags SYN  on interface outside",
            "access-list outside_in denied tcp outside/203.0.113.5(4444) -> inside/10.0.0.5(22) hit-cnt 1 first hit [0x1, 0x0]",
            "Built inbound TCP connection 1234 for outside:203.0.113.5/4444 (198.51.100.1/4444) to inside:10.0.0.5/22 (10.0.0.5/22)",
        ] {
            assert_eq!(
                ends(asa, message),
                ["203.0.113.5", "4444", "10.0.0.5", "22", "tcp"],
                "{message}"
            );
        }
        // An ICMP deny names no ports.
        assert_eq!(
            ends(asa, "Deny icmp src outside:203.0.113.5 dst inside:10.0.0.5 (type 8, code 0) by access-group \"in\""),
            ["203.0.113.5", "-", "10.0.0.5", "-", "icmp"]
        );
        assert_eq!(
            ends(
                asa,
                "Login permitted from 10.1.1.1/2222 to outside:10.2.2.2/ssh for user \"admin\""
            ),
            ["10.1.1.1", "2222", "10.2.2.2", "-", "-"]
        );
        assert_eq!(
            ends(asa, "User 'admin' executed cmd: show run"),
            ["-", "-", "-", "-", "-"]
        );
        // An outbound connection was opened by the inside host.
        assert_eq!(
            ends(asa, "Built outbound TCP connection 99 for outside:198.51.100.53/443 (198.51.100.53/443) to inside:10.0.0.7/51000 (203.0.113.10/51000)"),
            ["10.0.0.7", "51000", "198.51.100.53", "443", "tcp"]
        );
        for message in [
            "Built dynamic TCP translation from inside:10.0.0.7/51000 to outside:203.0.113.10/51000",
            "Teardown TCP connection 99 for outside:198.51.100.53/443 to inside:10.0.0.7/51000 duration 0:00:01 bytes 1024 TCP FINs",
        ] {
            assert_eq!(ends(asa, message), ["-", "-", "-", "-", "-"], "{message}");
        }
    }

    #[test]
    fn junos_flow_sessions() {
        assert_eq!(
            ends(arrow, "session denied 203.0.113.5/4444->10.0.0.5/22 0x0 junos-ssh 6(0) default-deny(global) untrust trust"),
            ["203.0.113.5", "4444", "10.0.0.5", "22", "-"]
        );
        assert_eq!(
            ends(arrow, "User 'admin' logged in"),
            ["-", "-", "-", "-", "-"]
        );
    }
}
