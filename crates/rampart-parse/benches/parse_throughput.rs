//! Parser throughput per format, against a physical baseline measured in the
//! same run: splitting the same bytes into lines with memchr.
//!
//! Run with `cargo bench -p rampart-parse`. Each format gets a synthetic
//! corpus of realistic, varied lines (addresses, ports, users and times
//! change line to line, so nothing is cached by accident). Prints MB/s,
//! lines/s and events/s on one core, and the ratio of parse time to the
//! line-split baseline. Set `RAMPART_BENCH_LINES` to change the corpus size
//! and `RAMPART_BENCH_ONLY` to run only the formats whose name contains it.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use rampart_event::time::Zone;
use rampart_parse::{
    by_name, read_lines, FileContext, FileDecoder, ParseOptions, DEFAULT_MAX_LINE,
};

/// The allocator the `rampart` binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A tiny deterministic generator, so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            1 + self.below(222),
            self.below(256),
            self.below(256),
            1 + self.below(254)
        )
    }
}

const USERS: &[&str] = &[
    "root", "admin", "oracle", "alice", "bob", "test", "ubuntu", "postgres",
];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn sshd(r: &mut Rng, _: usize) -> String {
    let (m, d, h, mi, s) = (
        MONTHS[r.below(12) as usize],
        1 + r.below(28),
        r.below(24),
        r.below(60),
        r.below(60),
    );
    let user = USERS[r.below(USERS.len() as u64) as usize];
    let (ip, port, pid) = (r.ip(), 1024 + r.below(60000), 1000 + r.below(30000));
    let msg = match r.below(4) {
        0 => format!("Failed password for {user} from {ip} port {port} ssh2"),
        1 => format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
        2 => format!("Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:Xq3v8mB1dLkT0aW9yZr"),
        _ => format!("Connection closed by authenticating user {user} {ip} port {port} [preauth]"),
    };
    format!("{m} {d:>2} {h:02}:{mi:02}:{s:02} web01 sshd[{pid}]: {msg}")
}

fn apache(r: &mut Rng, _: usize) -> String {
    let (d, h, mi, s) = (1 + r.below(28), r.below(24), r.below(60), r.below(60));
    let ip = r.ip();
    let path = [
        "/",
        "/index.php",
        "/wp-login.php",
        "/api/v1/items?id=42&sort=asc",
        "/static/app.js",
    ][r.below(5) as usize];
    let status = [200, 200, 304, 404, 500][r.below(5) as usize];
    let bytes = r.below(90000);
    let agent = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
        "curl/8.5.0",
        "sqlmap/1.7.2#stable (https://sqlmap.org)",
    ][r.below(3) as usize];
    format!("{ip} - - [{d:02}/Mar/2025:{h:02}:{mi:02}:{s:02} +0000] \"GET {path} HTTP/1.1\" {status} {bytes} \"https://example.com/\" \"{agent}\"")
}

fn ufw(r: &mut Rng, _: usize) -> String {
    let (d, h, mi, s) = (1 + r.below(28), r.below(24), r.below(60), r.below(60));
    let (src, dst) = (r.ip(), r.ip());
    let (spt, dpt, id) = (1024 + r.below(60000), r.below(1024), r.below(65535));
    format!("Mar {d:>2} {h:02}:{mi:02}:{s:02} fw01 kernel: [{}.{:06}] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC={src} DST={dst} LEN=44 TOS=0x00 PREC=0x00 TTL=52 ID={id} PROTO=TCP SPT={spt} DPT={dpt} WINDOW=1024 RES=0x00 SYN URGP=0", r.below(100000), r.below(1000000))
}

fn ids(r: &mut Rng, _: usize) -> String {
    let (h, mi, s, ms) = (r.below(24), r.below(60), r.below(60), r.below(1000));
    let (src, dst) = (r.ip(), r.ip());
    let level = ["low_severity", "medium_severity", "high_severity"][r.below(3) as usize];
    let proto = ["TCP", "UDP", "ICMP", "DNS"][r.below(4) as usize];
    format!("2023-07-23 {h:02}:{mi:02}:{s:02},{ms:03} - ids_logger_1 - {level} - {proto} - {src}:{} --> {dst}:{} - SYN - Port scanning", r.below(65535), r.below(65535))
}

fn suricata(r: &mut Rng, i: usize) -> String {
    let (src, dst) = (r.ip(), r.ip());
    format!("{{\"timestamp\":\"2025-03-14T10:{:02}:{:02}.{:06}+0000\",\"flow_id\":{i},\"event_type\":\"alert\",\"src_ip\":\"{src}\",\"src_port\":{},\"dest_ip\":\"{dst}\",\"dest_port\":443,\"proto\":\"TCP\",\"alert\":{{\"action\":\"allowed\",\"gid\":1,\"signature_id\":{},\"rev\":3,\"signature\":\"ET POLICY Suspicious inbound\",\"category\":\"Misc activity\",\"severity\":2}},\"flow\":{{\"pkts_toserver\":7,\"pkts_toclient\":8,\"bytes_toserver\":708,\"bytes_toclient\":4091}}}}", r.below(60), r.below(60), r.below(1000000), r.below(65535), 2000000 + r.below(9999))
}

fn cloudtrail(r: &mut Rng, i: usize) -> String {
    let ip = r.ip();
    let name = [
        "GetObject",
        "AssumeRole",
        "DescribeInstances",
        "PutBucketPolicy",
    ][r.below(4) as usize];
    format!("{{\"eventVersion\":\"1.09\",\"userIdentity\":{{\"type\":\"AssumedRole\",\"principalId\":\"AROAEXAMPLE:{}\",\"arn\":\"arn:aws:sts::111122223333:assumed-role/ops/{}\",\"accountId\":\"111122223333\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\"userName\":\"ops\"}},\"attributes\":{{\"mfaAuthenticated\":\"false\",\"creationDate\":\"2026-03-14T09:00:00Z\"}}}}}},\"eventTime\":\"2026-03-14T09:{:02}:{:02}Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"{name}\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"{ip}\",\"userAgent\":\"aws-cli/2.15.30 Python/3.11.8\",\"requestParameters\":{{\"bucketName\":\"logs-{}\",\"key\":\"k/{i}\"}},\"responseElements\":null,\"requestID\":\"R{i}\",\"eventID\":\"e-{i}\",\"readOnly\":true,\"eventType\":\"AwsApiCall\",\"managementEvent\":false,\"recipientAccountId\":\"111122223333\"}}", USERS[r.below(8) as usize], USERS[r.below(8) as usize], r.below(60), r.below(60), r.below(20))
}

fn okta(r: &mut Rng, i: usize) -> String {
    let ip = r.ip();
    let user = USERS[r.below(8) as usize];
    format!("{{\"uuid\":\"u-{i}\",\"published\":\"2026-03-14T09:{:02}:{:02}.123Z\",\"eventType\":\"user.session.start\",\"version\":\"0\",\"severity\":\"INFO\",\"displayMessage\":\"User login to Okta\",\"actor\":{{\"id\":\"00u{i}\",\"type\":\"User\",\"alternateId\":\"{user}@example.com\",\"displayName\":\"{user}\"}},\"client\":{{\"userAgent\":{{\"rawUserAgent\":\"Mozilla/5.0\",\"os\":\"Linux\",\"browser\":\"FIREFOX\"}},\"ipAddress\":\"{ip}\",\"geographicalContext\":{{\"city\":\"Amsterdam\",\"country\":\"Netherlands\"}}}},\"outcome\":{{\"result\":\"SUCCESS\",\"reason\":null}},\"securityContext\":{{\"isProxy\":false}},\"target\":[{{\"id\":\"0oa1\",\"type\":\"AppInstance\",\"displayName\":\"Okta Admin Console\"}}]}}", r.below(60), r.below(60))
}

fn winxml(r: &mut Rng, i: usize) -> String {
    let ip = r.ip();
    format!("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{{54849625-5478-4994-A5BA-3E3B0328C30D}}'/><EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime='2025-03-14T12:00:{:02}.{:07}Z'/><EventRecordID>{i}</EventRecordID><Correlation/><Execution ProcessID='640' ThreadID='{}'/><Channel>Security</Channel><Computer>WS01.lab.local</Computer><Security/></System><EventData><Data Name='TargetUserName'>{}</Data><Data Name='TargetDomainName'>LAB</Data><Data Name='LogonType'>3</Data><Data Name='IpAddress'>{ip}</Data><Data Name='IpPort'>{}</Data><Data Name='WorkstationName'>-</Data></EventData></Event>", r.below(60), r.below(10_000_000), r.below(9000), USERS[r.below(8) as usize], r.below(65535))
}

/// Events taken out of the decoder at a time, as `rampart-io` hands them on.
const BATCH: usize = 512;

struct Case {
    format: &'static str,
    make: fn(&mut Rng, usize) -> String,
    lines: usize,
    /// Lines that are not events (a CSV header).
    headers: u64,
}

/// Seed 003's process telemetry: a header, then one process a row.
fn telemetry(r: &mut Rng, i: usize) -> String {
    if i == 0 {
        return "process_id,parent_id,start_time,end_time,executable_path,user,command_line".into();
    }
    let exe = [
        "C:/Windows/System32/cmd.exe",
        "C:/Program Files/winword.exe",
    ][r.below(2) as usize];
    let start = i % 3600;
    format!(
        "{},{},2025-03-01 09:{:02}:{:02},2025-03-01 10:{:02}:{:02},{exe},user{},\"\"\"{exe}\"\" /c job{i}\"",
        1000 + i,
        1000 + r.below(i as u64),
        start / 60,
        start % 60,
        start / 60,
        start % 60,
        r.below(5)
    )
}

fn corpus(case: &Case) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = String::with_capacity(case.lines * 200);
    for i in 0..case.lines {
        text.push_str(&(case.make)(&mut rng, i));
        text.push('\n');
    }
    text.into_bytes()
}

/// The fastest of `runs` timings of `f`.
fn best_of(runs: usize, mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..runs {
        let start = Instant::now();
        result = f();
        best = best.min(start.elapsed());
    }
    (best, result)
}

fn main() {
    let scale: usize = std::env::var("RAMPART_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let cases = [
        Case {
            format: "syslog",
            make: sshd,
            lines: scale,
            headers: 0,
        },
        Case {
            format: "web-access",
            make: apache,
            lines: scale,
            headers: 0,
        },
        Case {
            format: "syslog",
            make: ufw,
            lines: scale,
            headers: 0,
        },
        Case {
            format: "ids",
            make: ids,
            lines: scale,
            headers: 0,
        },
        Case {
            format: "json",
            make: suricata,
            lines: scale / 4,
            headers: 0,
        },
        Case {
            format: "json",
            make: cloudtrail,
            lines: scale / 4,
            headers: 0,
        },
        Case {
            format: "json",
            make: okta,
            lines: scale / 4,
            headers: 0,
        },
        Case {
            format: "windows-xml",
            make: winxml,
            lines: scale / 4,
            headers: 0,
        },
        Case {
            format: "csv",
            make: telemetry,
            lines: scale,
            headers: 1,
        },
    ];
    let names = [
        "sshd (syslog)",
        "apache combined",
        "ufw (syslog)",
        "generator ids",
        "suricata eve",
        "cloudtrail json",
        "okta json",
        "windows xml",
        "telemetry csv",
    ];
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{:<16} {:>9} {:>9} {:>12} {:>12} {:>10} {:>10}",
        "format", "MB", "MB/s", "lines/s", "events/s", "split MB/s", "parse/split"
    );
    let only = std::env::var("RAMPART_BENCH_ONLY").unwrap_or_default();
    // MB/s of each JSON service beside Suricata's, the bar they are held to.
    let mut json_speeds: Vec<(&str, f64)> = Vec::new();
    for (case, name) in cases.iter().zip(names) {
        if !name.contains(only.as_str()) {
            continue;
        }
        let bytes = corpus(case);
        let mb = bytes.len() as f64 / 1e6;
        // Baseline: a bare memchr line split over the same bytes.
        let (split, lines) = best_of(5, || {
            black_box(memchr::memchr_iter(b'\n', black_box(&bytes)).count() as u64)
        });
        let format = by_name(case.format).expect("registered format");
        let (parse, events) = best_of(5, || {
            let options = ParseOptions {
                year: Some(2025),
                zone: Zone::utc(),
            };
            let mut decoder =
                FileDecoder::new(FileContext::new("bench.log", options), Some(format));
            let mut events = 0u64;
            read_lines(&bytes[..], DEFAULT_MAX_LINE, |line| {
                decoder.feed(line);
                let out = decoder.output();
                if out.events.len() >= BATCH {
                    events += out.events.len() as u64;
                    black_box(out.take());
                }
            })
            .expect("in memory");
            decoder.finish();
            events + decoder.output().events.len() as u64
        });
        assert_eq!(
            events + case.headers,
            lines,
            "{name}: every line must parse"
        );
        let secs = parse.as_secs_f64();
        if case.format == "json" {
            json_speeds.push((name, mb / secs));
        }
        let _ = writeln!(
            report,
            "{:<16} {:>9.1} {:>9.1} {:>12.0} {:>12.0} {:>10.0} {:>10.1}x",
            name,
            mb,
            mb / secs,
            lines as f64 / secs,
            events as f64 / secs,
            mb / split.as_secs_f64(),
            secs / split.as_secs_f64()
        );
    }
    if let Some(&(_, eve)) = json_speeds.iter().find(|(n, _)| *n == "suricata eve") {
        for (name, speed) in json_speeds.iter().filter(|(n, _)| *n != "suricata eve") {
            let _ = writeln!(
                report,
                "{name}: {:.0} % of the Suricata EVE parser's MB/s",
                100.0 * speed / eve
            );
        }
    }
    print!("{report}");
}
