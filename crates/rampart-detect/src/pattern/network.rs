//! The `cidr` modifier: the field's address lies in a network. Fields hold
//! typed IPs when a parser recognised them, else text that is read here.

use std::net::IpAddr;

use ipnet::IpNet;
use rampart_event::ValueRef;

/// Reads `10.0.0.0/8`, `fe80::/10`, or a bare address (a /32 or /128).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{text}' is not a CIDR network"))
}

/// Whether the field's address is inside `net`.
pub fn contains(net: &IpNet, value: ValueRef<'_>) -> bool {
    let ip = match value {
        ValueRef::Ip(ip) => ip,
        ValueRef::Str(s) => match s.trim().trim_start_matches("::ffff:").parse() {
            Ok(ip) => ip,
            Err(_) => return false,
        },
        _ => return false,
    };
    net.contains(&ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_addresses() {
        let net = parse_cidr("192.168.0.0/16").unwrap();
        assert!(contains(&net, ValueRef::Str("192.168.4.4")));
        assert!(contains(&net, ValueRef::Str("::ffff:192.168.4.4")));
        assert!(!contains(&net, ValueRef::Str("fe80::1")));
        assert!(contains(
            &parse_cidr("fe80::/10").unwrap(),
            ValueRef::Ip("fe80::1".parse().unwrap())
        ));
        assert!(parse_cidr("10.0.0.1").is_ok());
        assert!(parse_cidr("10.0.0.0/33").is_err());
    }
}
