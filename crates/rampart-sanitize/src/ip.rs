//! Prefix-preserving pseudonyms for addresses, in the manner of
//! Crypto-PAn: each bit of an address is flipped or not by a keyed function
//! of the bits before it, so two addresses that share their first n bits
//! (n ≥ 8 for IPv4, 16 for IPv6) share the first n bits of their
//! pseudonyms (a /24 stays a /24) and nothing else of them is kept.
//!
//! A private address must stay private and a public one public, or rules
//! about internal and external traffic would change their answers. So the
//! bits that say what kind an address is are kept or permuted only among
//! their own kind:
//!
//! - Loopback, multicast, broadcast and 0.0.0.0/8 addresses name nobody
//!   and are kept whole; the other first octets that are wholly one kind
//!   (10, 240-255) are kept; those that mix kinds (100 for 100.64/10, 169 for 169.254/16,
//!   172 for 172.16/12, 192 for 192.168/16 and 192.0.2/24, 198 for
//!   198.18/15 and 198.51.100/24, 203 for 203.0.113/24) keep their first
//!   two octets; every other (public) first octet is shuffled among the
//!   public ones by the key. The bits after those are flipped as above.
//! - IPv6 keeps its first 16 bits (which say global, unique-local,
//!   link-local or multicast) and flips the other 112; `::` and `::1` stay
//!   as they are, and an IPv4-mapped address maps its IPv4 part.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;

use crate::key::Key;

/// Spreads a bit's place over a whole block (an odd constant: distinct
/// places give distinct multiples).
const SPREAD: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;

/// IPv4 first octets wholly of one special kind.
fn whole_octet(octet: u8) -> bool {
    matches!(octet, 0 | 10 | 127) || octet >= 224
}

/// IPv4 first octets holding special blocks beside public addresses.
fn mixed_octet(octet: u8) -> bool {
    matches!(octet, 100 | 169 | 172 | 192 | 198 | 203)
}

/// The public first octets, in order.
fn public_octets() -> Vec<u8> {
    (0..=255u8)
        .filter(|&o| !whole_octet(o) && !mixed_octet(o))
        .collect()
}

/// The addresses' pseudonyms under one key.
#[derive(Clone)]
pub struct AddressMap {
    /// The block cipher each bit's flip is drawn from, as Crypto-PAn
    /// does: one AES block a bit, keyed from the sanitising key.
    cipher: Aes128,
    /// What fills a block past the bits of a prefix, one for each family.
    pads: [u128; 2],
    /// Public first octets: `octets[o]` is the pseudonym of octet `o`.
    octets: [u8; 256],
}

impl std::fmt::Debug for AddressMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddressMap(..)")
    }
}

impl AddressMap {
    /// The map of `key`.
    pub fn new(key: &Key) -> AddressMap {
        let public = public_octets();
        let mut shuffled = public.clone();
        shuffled.sort_by_key(|&o| key.digest(&[b"ipv4 octet", &[o]]));
        let mut octets: [u8; 256] = std::array::from_fn(|o| o as u8);
        for (from, to) in public.iter().zip(&shuffled) {
            octets[*from as usize] = *to;
        }
        let secret = key.digest(&[b"address cipher"]);
        let cipher = Aes128::new(GenericArray::from_slice(&secret[..16]));
        let pad = |family: &[u8]| {
            let digest = key.digest(&[b"address pad", family]);
            u128::from_be_bytes(digest[..16].try_into().unwrap_or([0; 16]))
        };
        AddressMap {
            cipher,
            pads: [pad(b"ipv4"), pad(b"ipv6")],
            octets,
        }
    }

    /// The first bit of the block of `value`.
    fn draw(&self, value: u128) -> u128 {
        let mut block = GenericArray::from(value.to_be_bytes());
        self.cipher.encrypt_block(&mut block);
        u128::from(block[0] >> 7)
    }

    /// The flips of the bits `from..to` of `bits` (an address aligned to
    /// the top of 128 bits), each drawn from the bits before it, the
    /// family's pad and the bit's place (so that neighbouring bits are
    /// drawn apart, which Crypto-PAn's blocks alone do not ensure); placed
    /// where the bits are.
    fn flips(&self, family: usize, bits: u128, from: u32, to: u32) -> u128 {
        let mut flips = 0;
        for bit in from..to {
            let pad = self.pads[family] ^ u128::from(bit).wrapping_mul(SPREAD);
            let mask = u128::MAX.checked_shl(128 - bit).unwrap_or(0);
            let block = (bits & mask) | (pad & !mask);
            flips |= self.draw(block) << (127 - bit);
        }
        flips
    }

    /// The pseudonym of `ip`.
    pub fn map(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v4) => IpAddr::V4(self.v4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.v6(v6)),
        }
    }

    fn v4(&self, ip: Ipv4Addr) -> Ipv4Addr {
        // Loopback, multicast, broadcast and "this network" name nobody,
        // and rules look for them as they are (`\\127.0.0.1\ADMIN$`).
        if ip.is_loopback() || ip.is_multicast() || ip.is_broadcast() || ip.octets()[0] == 0 {
            return ip;
        }
        let bits = u32::from(ip);
        let first = (bits >> 24) as u8;
        let (kept, head) = if whole_octet(first) {
            (8, bits & 0xff00_0000)
        } else if mixed_octet(first) {
            (16, bits & 0xffff_0000)
        } else {
            (8, u32::from(self.octets[first as usize]) << 24)
        };
        let top = u128::from(bits) << 96;
        let flipped = ((top ^ self.flips(0, top, kept, 32)) >> 96) as u32;
        Ipv4Addr::from(head | (flipped & (u32::MAX >> kept)))
    }

    fn v6(&self, ip: Ipv6Addr) -> Ipv6Addr {
        if ip.is_unspecified() || ip.is_loopback() {
            return ip;
        }
        if let Some(v4) = ip.to_ipv4_mapped() {
            return self.v4(v4).to_ipv6_mapped();
        }
        let bits = u128::from(ip);
        let head = bits & (0xffffu128 << 112);
        let flipped = bits ^ self.flips(1, bits, 16, 128);
        Ipv6Addr::from(head | (flipped & (u128::MAX >> 16)))
    }
}

/// Whether an address is of the private kinds rules tell from public ones.
#[cfg(test)]
fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> AddressMap {
        AddressMap::new(&Key::new(b"a key of some sixteen bytes").unwrap())
    }

    fn v4(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// The length of the common prefix of two addresses, in bits.
    fn common(a: IpAddr, b: IpAddr) -> u32 {
        match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros(),
            _ => 0,
        }
    }

    #[test]
    fn prefixes_are_kept_and_nothing_more() {
        let map = map();
        let mut state = 1u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 32) as u32
        };
        for _ in 0..2000 {
            let a = IpAddr::V4(Ipv4Addr::from(next()));
            // An address sharing a random number of leading bits with a.
            let shared = next() % 33;
            let flip = if shared == 32 {
                0
            } else {
                1u32 << (31 - shared)
            };
            let b = match a {
                IpAddr::V4(x) => IpAddr::V4(Ipv4Addr::from(u32::from(x) ^ flip)),
                _ => unreachable!(),
            };
            let (ma, mb) = (map.map(a), map.map(b));
            if common(a, b) >= 8 {
                assert_eq!(common(ma, mb), common(a, b), "{a} {b} -> {ma} {mb}");
            } else {
                // First octets are shuffled whole: apart they stay apart.
                assert!(common(ma, mb) < 8, "{a} {b} -> {ma} {mb}");
            }
            assert_eq!(private(ma), private(a), "{a} -> {ma}");
            assert_eq!(ma.is_multicast(), a.is_multicast(), "{a} -> {ma}");
        }
    }

    #[test]
    fn the_same_address_maps_the_same_and_others_apart() {
        let map = map();
        let a = map.map(v4("203.0.113.7"));
        assert_eq!(a, map.map(v4("203.0.113.7")));
        assert_ne!(a, v4("203.0.113.7"));
        assert_ne!(map.map(v4("8.8.8.8")), v4("8.8.8.8"));
        let other = AddressMap::new(&Key::new(b"another key of sixteen bytes").unwrap());
        assert_ne!(other.map(v4("8.8.8.8")), map.map(v4("8.8.8.8")));
        // Kinds kept.
        for private_one in [
            "10.1.2.3",
            "172.16.9.9",
            "192.168.1.20",
            "127.0.0.1",
            "169.254.3.4",
            "100.64.0.9",
        ] {
            let m = map.map(v4(private_one));
            assert!(private(m), "{private_one} -> {m}");
        }
        for public_one in ["8.8.8.8", "172.15.0.1", "192.169.0.1", "45.148.10.81"] {
            let m = map.map(v4(public_one));
            assert!(!private(m) && !m.is_multicast(), "{public_one} -> {m}");
        }
    }

    #[test]
    fn ipv6_keeps_its_kind_its_prefixes_and_the_special_ones() {
        let map = map();
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        assert_eq!(map.map(ip("::1")), ip("::1"));
        assert_eq!(map.map(ip("::")), ip("::"));
        let (a, b) = (ip("2001:db8:1:2::10"), ip("2001:db8:1:2::20"));
        assert_eq!(common(map.map(a), map.map(b)), common(a, b));
        assert!(private(map.map(ip("fe80::1"))));
        assert!(private(map.map(ip("fd00::abcd"))));
        assert!(!private(map.map(ip("2a01:4f8::1"))));
        let mapped = map.map(ip("::ffff:10.0.0.1"));
        match mapped {
            IpAddr::V6(v6) => assert!(v6.to_ipv4_mapped().unwrap().is_private()),
            _ => panic!(),
        }
    }
}
