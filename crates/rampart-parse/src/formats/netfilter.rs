//! Kernel netfilter log lines, as UFW and iptables `LOG` targets write them:
//! `[UFW BLOCK] IN=eth0 OUT= MAC=.. SRC=.. DST=.. PROTO=TCP SPT=.. DPT=..`.
//! They usually arrive inside a syslog file from the `kernel` program.

use rampart_event::Event;

use crate::text::{port, uint};

/// The `event.dataset` of UFW lines.
pub const UFW: &str = "firewall.ufw";
/// The `event.dataset` of other netfilter lines.
pub const IPTABLES: &str = "firewall.iptables";

/// Whether a kernel message is a netfilter log line.
pub fn is_netfilter(message: &str) -> bool {
    let bytes = message.as_bytes();
    memchr::memmem::find(bytes, b"SRC=").is_some()
        && memchr::memmem::find(bytes, b"DST=").is_some()
        && memchr::memmem::find(bytes, b"IN=").is_some()
}

/// Fills `event` from a netfilter message and returns its dataset.
pub fn parse(message: &str, event: &mut Event) -> &'static str {
    // Drop the kernel's uptime stamp: "[12345.678901] ".
    let mut msg = message.trim_start();
    if msg.starts_with('[')
        && msg
            .as_bytes()
            .get(1)
            .is_some_and(|b| b.is_ascii_digit() || *b == b' ')
    {
        if let Some(end) = msg.find("] ") {
            msg = &msg[end + 2..];
        }
    }
    let Some(in_at) = msg.find("IN=") else {
        return IPTABLES;
    };
    let prefix = msg[..in_at].trim();
    let dataset = if prefix.starts_with("[UFW ") {
        UFW
    } else {
        IPTABLES
    };
    let label = prefix
        .trim_start_matches('[')
        .trim_end_matches([']', ':'])
        .trim();
    event.set_static("event.dataset", dataset);
    event.set_static("event.kind", "event");
    event.set_static("event.category", "network");
    event.set_static("event.action", action(label));
    event.set_str("rule.name", label);

    let mut flags = Vec::new();
    let mut seen_len = false;
    for word in msg[in_at..].split(' ') {
        let Some((key, value)) = word.split_once('=') else {
            if !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase()) {
                flags.push(rampart_event::Value::from(word));
            }
            continue;
        };
        match key {
            "IN" => event.set_str("observer.ingress.interface.name", value),
            "OUT" => event.set_str("observer.egress.interface.name", value),
            "MAC" => mac(value, event),
            "SRC" => match value.parse::<std::net::IpAddr>() {
                Ok(ip) => {
                    event.set("network.type", if ip.is_ipv4() { "ipv4" } else { "ipv6" });
                    event.set("source.ip", ip);
                }
                Err(_) => event.set_str("iptables.src", value),
            },
            "DST" => match value.parse::<std::net::IpAddr>() {
                Ok(ip) => event.set("destination.ip", ip),
                Err(_) => event.set_str("iptables.dst", value),
            },
            "PROTO" => {
                let proto = value.to_ascii_lowercase();
                event.set("network.transport", proto);
            }
            "SPT" => {
                if let Some(p) = port(value) {
                    event.set("source.port", p);
                }
            }
            "DPT" => {
                if let Some(p) = port(value) {
                    event.set("destination.port", p);
                }
            }
            // The first LEN is the IP packet's, a later one the UDP payload's.
            "LEN" if !seen_len => {
                seen_len = true;
                if let Some(n) = uint(value) {
                    event.set("network.bytes", n as i64);
                }
            }
            "TTL" => number("iptables.ttl", value, event),
            "ID" => number("iptables.id", value, event),
            "WINDOW" => number("iptables.tcp.window", value, event),
            "TYPE" => number("iptables.icmp.type", value, event),
            "CODE" => number("iptables.icmp.code", value, event),
            _ => {}
        }
    }
    if !flags.is_empty() {
        event.set("iptables.tcp.flags", flags);
    }
    dataset
}

fn number(name: &'static str, value: &str, event: &mut Event) {
    if let Some(n) = uint(value) {
        event.set(name, n as i64);
    }
}

/// `MAC=dst(6):src(6):ethertype(2)`, colon-separated bytes.
fn mac(value: &str, event: &mut Event) {
    let bytes: Vec<&str> = value.split(':').collect();
    if bytes.len() >= 12 {
        event.set(
            "destination.mac",
            bytes[0..6].join("-").to_ascii_uppercase(),
        );
        event.set("source.mac", bytes[6..12].join("-").to_ascii_uppercase());
    }
}

/// `block`, `allow` or `log`, from the log prefix's words.
fn action(label: &str) -> &'static str {
    let upper = label.to_ascii_uppercase();
    let has = |w: &str| upper.contains(w);
    if has("BLOCK") || has("DROP") || has("DENY") || has("REJECT") {
        "block"
    } else if has("ALLOW") || has("ACCEPT") || has("PASS") {
        "allow"
    } else {
        "log"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    #[test]
    fn ufw_block_line() {
        let msg = "[12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=192.0.2.66 DST=10.0.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=52 ID=54321 PROTO=TCP SPT=40000 DPT=21 WINDOW=1024 RES=0x00 SYN URGP=0";
        assert!(is_netfilter(msg));
        let mut e = Event::new(Origin::new("t", 1), msg);
        assert_eq!(parse(msg, &mut e), UFW);
        assert_eq!(e.get_str("event.action"), Some("block"));
        assert_eq!(e.get_str("rule.name"), Some("UFW BLOCK"));
        assert_eq!(e.get("destination.port").unwrap().as_i64(), Some(21));
        assert_eq!(e.get_str("network.transport"), Some("tcp"));
        assert_eq!(e.get_str("observer.ingress.interface.name"), Some("eth0"));
        assert!(e.get("observer.egress.interface.name").is_none());
        assert_eq!(e.get_str("source.mac"), Some("00-16-3E-DD-EE-FF"));
        assert_eq!(e.get("iptables.tcp.flags").unwrap().to_string(), "SYN");
    }

    #[test]
    fn iptables_prefix_names_the_action() {
        let msg = "IPTABLES-DROP: IN=eth1 OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=40 PROTO=UDP SPT=5353 DPT=5353 LEN=20";
        let mut e = Event::new(Origin::new("t", 1), msg);
        assert_eq!(parse(msg, &mut e), IPTABLES);
        assert_eq!(e.get_str("event.action"), Some("block"));
        assert_eq!(e.get_str("network.type"), Some("ipv6"));
        assert_eq!(e.get("network.bytes").unwrap().as_i64(), Some(40));
    }
}
