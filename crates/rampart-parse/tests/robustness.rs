//! Property tests: no input makes any parser panic, every non-blank line is
//! accounted for (an event, a dead letter, or part of a multi-line record),
//! and every event serialises to valid JSON.

use proptest::prelude::*;
use rampart_parse::{parse_bytes, FileContext, ParseOptions, FORMATS};

/// Lines that look like real log lines with random damage, so the fuzzing
/// reaches deep into each parser rather than failing at the first byte.
fn log_like() -> impl Strategy<Value = Vec<u8>> {
    let seeds = prop::sample::select(vec![
        "Mar 14 03:22:14 web01 sshd[9841]: Failed password for invalid user x from 203.0.113.9 port 42190 ssh2",
        "<34>1 2025-03-14T10:01:02.003Z web01 sshd 4123 ID47 [ex@1 a=\"b\"] Accepted password for y from 2001:db8::1 port 2 ssh2",
        "Mar 14 11:00:21 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=192.0.2.66 DST=10.0.0.5 PROTO=TCP SPT=40000 DPT=21",
        "198.51.100.23 - - [14/Mar/2025:10:01:01 +0000] \"GET /a?b=1 HTTP/1.1\" 404 209 \"-\" \"curl/8\"",
        "[Fri Mar 14 10:01:02.123456 2025] [core:error] [pid 1:tid 2] [client 203.0.113.5:51234] AH00126: x",
        "2023-07-23 21:36:36,227 - ids_logger_1 - low_severity - TCP - 61.72.88.110:57020 --> 179.34.191.24:18059 - SYN - Port scanning",
        "[2023-07-23 21:03:47,072] - access_logger_1 - 128.168.55.198 - david \"GET search HTTP/1.1 202 90178 http://x\" \"UA\"",
        "Date: 2023-07-23 21:25:18,538 \nEvent Type: Scan Started\nUser: joseph",
        "<Event><System><EventID>4624</EventID><Channel>Security</Channel></System><EventData><Data Name='IpAddress'>192.0.2.1</Data></EventData></Event>",
        "{\"Event\":{\"System\":{\"EventID\":{\"#text\":7045},\"Channel\":\"System\"},\"EventData\":{\"ServiceName\":\"x\"}}}",
        "{\"timestamp\":\"2017-03-25T16:49:58.856335-0600\",\"event_type\":\"alert\",\"src_ip\":\"1.2.3.4\",\"alert\":{\"severity\":1}}",
        "#separator \\x09\n#fields\tts\tid.orig_h\n#types\ttime\taddr\n1741946462.1\t10.0.0.5",
        "EventID,UtcTime,Image\n1,2024-01-15 09:30:15.123,\"C:\\x.exe\"",
        "process_id,file_path,operation,timestamp,user\n1,###CORRUPT###x,read,2025-03-01 09:00:00,",
        "node=h type=EXECVE msg=audit(1742371200.101:1001): argc=2 a0=\"ls\" a1=2D6C61 a2_len=4 a2[0]=6162",
        "type=USER_LOGIN msg=audit(1.5:2): pid=1 msg='op=login acct=\"r\" addr=203.0.113.9 res=failed'\u{1d}UID=\"root\"",
        "Mar 14 10:00:00 h sysmon: <Event><System><Channel>Linux-Sysmon/Operational</Channel><EventID>1</EventID></System><EventData><Data Name=\"Image\">&lt x&gt </Data><Data Name=\"C\">cut",
        "Mar 14 10:00:00 10.0.0.1 12: *Mar 14 10:00:00.1: %PARSER-5-CFGLOG_LOGGEDCMD: User:a  logged command:clear logging",
        "Mar 14 10:00:00 r1 %%01BGP/3/BGP_AUTH_FAILED(l)[0]:BGP (SourceIpAddress=192.0.2.66:179)",
        "<189>000412: *Mar 19 09:20:01.311 UTC: %SYS-5-CONFIG_I: Configured from console by a on vty0 (10.0.0.50)",
        "<189>date=2025-03-19 time=10:11:02 devid=\"F\" tz=\"+0100\" eventtime=1742375462118457610 logid=\"01\" type=\"event\" action=\"Add\" ui=\"https(198.51.100.7)\"",
        "{\"SyslogMessage\":\"type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=59\",\"ProcessName\":\"audispd\",\"EventTime\":\"2022-05-11T18:10:21Z\"}",
    ]);
    (
        seeds,
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
    )
        .prop_map(|(seed, edits)| {
            let mut bytes = seed.as_bytes().to_vec();
            for (at, byte) in edits {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] = byte;
                }
            }
            bytes
        })
}

fn check(bytes: &[u8], forced: Option<&'static rampart_parse::Format>) {
    let ctx = FileContext::new(
        "prop.log",
        ParseOptions {
            year: Some(2025),
            ..Default::default()
        },
    );
    let out = parse_bytes(bytes, ctx, forced);
    for event in &out.events {
        let mut json = Vec::new();
        event.write_json(&mut json);
        assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
    }
    let text = String::from_utf8_lossy(bytes);
    let non_blank = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    let accounted = out.stats.total_events() + out.stats.unparsed + out.stats.skipped;
    assert!(
        accounted > 0 || non_blank == 0,
        "{non_blank} lines vanished"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn damaged_log_lines_never_panic(lines in prop::collection::vec(log_like(), 1..8)) {
        let joined = lines.join(&b'\n');
        check(&joined, None);
        for format in FORMATS {
            check(&joined, Some(format));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes, None);
        for format in FORMATS {
            check(&bytes, Some(format));
        }
    }
}
