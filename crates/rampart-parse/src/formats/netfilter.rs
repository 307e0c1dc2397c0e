//! Kernel netfilter log lines, as UFW and iptables `LOG` targets write them:
//! `[UFW BLOCK] IN=eth0 OUT= MAC=.. SRC=.. DST=.. PROTO=TCP SPT=.. DPT=..`.
//! They usually arrive inside a syslog file from the `kernel` program.

use rampart_event::{Event, Value};

use crate::text::{find, port, uint};

/// The `event.dataset` of UFW lines.
pub const UFW: &str = "firewall.ufw";
/// The `event.dataset` of other netfilter lines.
pub const IPTABLES: &str = "firewall.iptables";

/// Whether a kernel message is a netfilter log line.
pub fn is_netfilter(message: &str) -> bool {
    let bytes = message.as_bytes();
    find(bytes, b"SRC=").is_some()
        && find(bytes, b"DST=").is_some()
        && find(bytes, b"IN=").is_some()
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
        if let Some(end) = find(msg.as_bytes(), b"] ") {
            msg = &msg[end + 2..];
        }
    }
    let Some(in_at) = find(msg.as_bytes(), b"IN=") else {
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
    event.set_static("event.category", "network");
    event.set_static("event.action", action(label));
    event.set_str("rule.name", label);

    let mut flags = Vec::new();
    let mut seen_len = false;
    for (word, eq) in key_values(&msg[in_at..]) {
        let Some(eq) = eq else {
            if let Some(flag) = tcp_flag(word) {
                flags.push(Value::Static(flag));
            } else if !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase()) {
                flags.push(Value::from(word));
            }
            continue;
        };
        let value = &word[eq + 1..];
        match key_code(&word.as_bytes()[..eq]) {
            IN => event.set_str("observer.ingress.interface.name", value),
            OUT => event.set_str("observer.egress.interface.name", value),
            MAC => mac(value, event),
            SRC => match value.parse::<std::net::IpAddr>() {
                Ok(ip) => {
                    event.set_static("network.type", if ip.is_ipv4() { "ipv4" } else { "ipv6" });
                    event.set("source.ip", ip);
                }
                Err(_) => event.set_str("iptables.src", value),
            },
            DST => match value.parse::<std::net::IpAddr>() {
                Ok(ip) => event.set("destination.ip", ip),
                Err(_) => event.set_str("iptables.dst", value),
            },
            PROTO => match transport(value) {
                Some(known) => event.set_static("network.transport", known),
                None => event.set("network.transport", value.to_ascii_lowercase()),
            },
            SPT => {
                if let Some(p) = port(value) {
                    event.set("source.port", p);
                }
            }
            DPT => {
                if let Some(p) = port(value) {
                    event.set("destination.port", p);
                }
            }
            // The first LEN is the IP packet's, a later one the UDP payload's.
            LEN if !seen_len => {
                seen_len = true;
                if let Some(n) = uint(value) {
                    event.set("network.bytes", n as i64);
                }
            }
            TTL => number("iptables.ttl", value, event),
            ID => number("iptables.id", value, event),
            WINDOW => number("iptables.tcp.window", value, event),
            TYPE => number("iptables.icmp.type", value, event),
            CODE => number("iptables.icmp.code", value, event),
            _ => {}
        }
    }
    if !flags.is_empty() {
        event.set("iptables.tcp.flags", flags);
    }
    dataset
}

/// The space-separated words of `text`, each with the position of its `=`.
/// One vectorised pass finds the spaces; the `=` sits right after a short
/// key, so a byte loop finds it in a few steps.
fn key_values(text: &str) -> impl Iterator<Item = (&str, Option<usize>)> {
    let bytes = text.as_bytes();
    let mut spaces = memchr::memchr_iter(b' ', bytes);
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let end = match spaces.next() {
            Some(at) => {
                start = Some(at + 1);
                at
            }
            None => {
                start = None;
                bytes.len()
            }
        };
        let word = &text[from..end];
        Some((word, word.bytes().position(|b| b == b'=')))
    })
}

/// TCP flags as the kernel prints them, without allocating.
fn tcp_flag(word: &str) -> Option<&'static str> {
    [
        "SYN", "ACK", "FIN", "RST", "PSH", "URG", "CWR", "ECE", "DF", "MF", "CE",
    ]
    .into_iter()
    .find(|flag| *flag == word)
}

/// A key of up to eight bytes packed into an integer, so the per-word key
/// dispatch is one integer match instead of a string comparison per arm.
const fn key_code(key: &[u8]) -> u64 {
    if key.len() > 8 {
        return 0;
    }
    let mut code = 0u64;
    let mut i = 0;
    while i < key.len() {
        code = code << 8 | key[i] as u64;
        i += 1;
    }
    code
}

const IN: u64 = key_code(b"IN");
const OUT: u64 = key_code(b"OUT");
const MAC: u64 = key_code(b"MAC");
const SRC: u64 = key_code(b"SRC");
const DST: u64 = key_code(b"DST");
const PROTO: u64 = key_code(b"PROTO");
const SPT: u64 = key_code(b"SPT");
const DPT: u64 = key_code(b"DPT");
const LEN: u64 = key_code(b"LEN");
const TTL: u64 = key_code(b"TTL");
const ID: u64 = key_code(b"ID");
const WINDOW: u64 = key_code(b"WINDOW");
const TYPE: u64 = key_code(b"TYPE");
const CODE: u64 = key_code(b"CODE");

/// The common transport names in ECS's lower case, without allocating.
fn transport(proto: &str) -> Option<&'static str> {
    ["tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp", "ah"]
        .into_iter()
        .find(|known| proto.eq_ignore_ascii_case(known))
}

fn number(name: &'static str, value: &str, event: &mut Event) {
    if let Some(n) = uint(value) {
        event.set(name, n as i64);
    }
}

/// `MAC=dst(6):src(6):ethertype(2)`, colon-separated hex bytes.
fn mac(value: &str, event: &mut Event) {
    let bytes = value.as_bytes();
    let mut octets = [0u8; 12];
    for (i, octet) in octets.iter_mut().enumerate() {
        let at = i * 3;
        let pair = (bytes.get(at), bytes.get(at + 1), bytes.get(at + 2));
        let (Some(&hi), Some(&lo), None | Some(b':')) = pair else {
            return;
        };
        let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) else {
            return;
        };
        *octet = hi << 4 | lo;
    }
    let (destination, source) = octets.split_at(6);
    event.set(
        "destination.mac",
        Value::Mac(destination.try_into().unwrap_or_default()),
    );
    event.set(
        "source.mac",
        Value::Mac(source.try_into().unwrap_or_default()),
    );
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `block`, `allow` or `log`, from the log prefix's words (`[UFW BLOCK]`,
/// `IPTABLES-DROPPED: `, `fw-accept`).
fn action(label: &str) -> &'static str {
    let starts = |word: &str, prefix: &str| {
        word.len() >= prefix.len()
            && word.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let mut verdict = "log";
    for word in label.split(|c: char| !c.is_ascii_alphabetic()) {
        if ["BLOCK", "DROP", "DENY", "REJECT"]
            .iter()
            .any(|p| starts(word, p))
        {
            return "block";
        }
        if ["ALLOW", "ACCEPT", "PASS"].iter().any(|p| starts(word, p)) {
            verdict = "allow";
        }
    }
    verdict
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
        assert_eq!(
            e.get("source.mac").unwrap().to_string(),
            "00-16-3E-DD-EE-FF"
        );
        assert_eq!(
            e.get("destination.mac").unwrap().to_string(),
            "00-16-3E-AA-BB-CC"
        );
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

    #[test]
    fn prefix_words_name_the_verdict() {
        assert_eq!(action("UFW BLOCK"), "block");
        assert_eq!(action("INPUT-dropped"), "block");
        assert_eq!(action("UFW ALLOW"), "allow");
        assert_eq!(action("fw-accept then REJECT"), "block");
        assert_eq!(action("UFW AUDIT"), "log");
        assert_eq!(action(""), "log");
    }
}
