//! IP lookup throughput on one core: a table of 1,000,000 addresses (plus
//! 10,000 ranges of several lengths, as blocklists mix them), looked up with
//! half hits and half misses, next to reading the same addresses alone in
//! the same run.
//!
//! Run with `cargo bench -p rampart-intel`. `RAMPART_BENCH_ENTRIES` and
//! `RAMPART_BENCH_LOOKUPS` change the sizes.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use rampart_intel::{Indicator, IntelTable, Kind};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A fixed pseudo-random sequence (xorshift), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let entries = env("RAMPART_BENCH_ENTRIES", 1_000_000);
    let lookups = env("RAMPART_BENCH_LOOKUPS", 10_000_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let mut table = IntelTable::new(false);
    let mut listed = Vec::with_capacity(entries);
    for _ in 0..entries {
        let ip = Ipv4Addr::from(rng.next());
        listed.push(ip);
        table
            .add(Indicator::new(Kind::Ip, ip.to_string(), "bench"))
            .expect("an address indexes");
    }
    for i in 0..10_000u32 {
        let len = [16u8, 20, 24, 28][i as usize % 4];
        let net = ipnet::Ipv4Net::new(Ipv4Addr::from(rng.next()), len)
            .expect("the length is valid")
            .trunc();
        table
            .add(Indicator::new(Kind::Cidr, net.to_string(), "bench"))
            .expect("a range indexes");
    }
    let build = started.elapsed().as_secs_f64();
    // Half the probes are listed addresses, half random ones.
    let probes: Vec<IpAddr> = (0..lookups)
        .map(|i| {
            if i % 2 == 0 {
                IpAddr::V4(listed[rng.next() as usize % listed.len()])
            } else {
                IpAddr::V4(Ipv4Addr::from(rng.next()))
            }
        })
        .collect();

    // Baseline: reading the same addresses.
    let started = Instant::now();
    let mut sum = 0u64;
    for ip in &probes {
        if let IpAddr::V4(a) = black_box(ip) {
            sum = sum.wrapping_add(u64::from(u32::from(*a)));
        }
    }
    black_box(sum);
    let read = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut hits = 0u64;
    for ip in &probes {
        if table.first_ip(*black_box(ip)).is_some() {
            hits += 1;
        }
    }
    let lookup = started.elapsed().as_secs_f64();

    println!(
        "table: {} indicators ({entries} addresses, 10000 ranges of 4 lengths) built in {build:.2} s",
        table.len()
    );
    println!("{:<24} {:>10} {:>14}", "stage", "seconds", "lookups/s");
    for (name, secs) in [("read addresses", read), ("look up", lookup)] {
        println!("{name:<24} {secs:>10.3} {:>14.0}", lookups as f64 / secs);
    }
    println!(
        "lookup/read time: {:.1}x; {hits} of {lookups} probes matched",
        lookup / read
    );
}
