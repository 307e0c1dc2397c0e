//! Journal files, journal exports and login records: the same journal read
//! as a binary file (plain and zstd-compressed), as `journalctl -o export`
//! and as `journalctl -o json` gives the same events, with sshd, sudo and
//! PAM messages read as from syslog; wtmp, btmp and lastlog give logins,
//! failures and last logins; damaged files are errors, never panics.

use std::path::{Path, PathBuf};

use rampart_io::records::{kind_of, read, RecordFile};
use rampart_parse::formats::login::LoginFile;
use rampart_parse::{FileContext, Output, ParseOptions};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}

fn events(path: &str) -> (RecordFile, Output) {
    let path = fixture(path);
    let kind = kind_of(&path).unwrap_or_else(|| panic!("{} not a record file", path.display()));
    let ctx = FileContext::new("f", ParseOptions::default());
    let mut out = Output::default();
    let mut all = Output::default();
    read(&path, kind, &ctx, 4, &mut out, |o| {
        all.events.append(&mut o.events)
    })
    .unwrap();
    all.events.append(&mut out.events);
    all.stats = out.stats;
    (kind, all)
}

/// What the rules see of an event: time, dataset, action, outcome, user,
/// source and message.
fn seen(out: &Output) -> Vec<String> {
    out.events
        .iter()
        .map(|e| {
            let f = |n: &str| e.get(n).map(|v| v.to_string()).unwrap_or_default();
            format!(
                "{:?} {} {} {} {} {} {}",
                e.timestamp,
                f("event.dataset"),
                f("event.action"),
                f("event.outcome"),
                f("user.name"),
                f("source.ip"),
                f("message")
            )
        })
        .collect()
}

#[test]
fn a_journal_reads_the_same_from_every_form() {
    let (kind, binary) = events("linux/journal/system.journal");
    assert_eq!(kind, RecordFile::Journal);
    let (_, compressed) = events("linux/journal/system-compressed.journal");
    let (kind, export) = events("linux/journal/export.txt");
    assert_eq!(kind, RecordFile::JournalExport);
    let json = {
        let text = std::fs::read(fixture("linux/journal/journal.json")).unwrap();
        let ctx = FileContext::new("f", ParseOptions::default());
        rampart_parse::parse_bytes(&text, ctx, None)
    };
    assert_eq!(binary.events.len(), 11);
    assert_eq!(seen(&binary), seen(&compressed));
    assert_eq!(seen(&binary), seen(&export));
    assert_eq!(seen(&binary), seen(&json));
    let lines = seen(&binary);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("linux.auth ssh-login failure root 203.0.113.9")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("ssh-invalid-user")),
        "{lines:#?}"
    );
}

#[test]
fn login_records() {
    let (kind, wtmp) = events("linux/login/wtmp");
    assert_eq!(kind, RecordFile::Login(LoginFile::Wtmp));
    let lines = seen(&wtmp);
    assert!(
        lines.iter().any(|l| l.contains("system-boot")),
        "{lines:#?}"
    );
    let logins: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("user-login success"))
        .collect();
    assert!(logins.len() >= 2, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("user-logout")),
        "{lines:#?}"
    );
    let (_, btmp) = events("linux/login/btmp");
    assert_eq!(btmp.events.len(), 6);
    assert!(btmp
        .events
        .iter()
        .all(|e| e.get_str("event.outcome") == Some("failure")));
    let (_, lastlog) = events("linux/login/lastlog");
    let users: Vec<_> = lastlog
        .events
        .iter()
        .filter_map(|e| e.get_str("user.id"))
        .collect();
    assert_eq!(users, ["0", "1000"]);
}

#[test]
fn damaged_record_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = FileContext::new("f", ParseOptions::default());
    // A wtmp that is not a whole number of records is not taken for one.
    let cut = dir.path().join("wtmp");
    let bytes = std::fs::read(fixture("linux/login/wtmp")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    assert_eq!(kind_of(&cut), None);
    // A journal cut short reads its whole entries and stops with an error
    // or at its end; every cut, no panic.
    let journal = std::fs::read(fixture("linux/journal/system.journal")).unwrap();
    let path = dir.path().join("cut.journal");
    let (mut errors, mut whole) = (0, 0);
    for cut in (0..journal.len()).step_by(509) {
        std::fs::write(&path, &journal[..cut]).unwrap();
        if let Some(kind) = kind_of(&path) {
            let mut out = Output::default();
            match read(&path, kind, &ctx, 100, &mut out, |_| {}) {
                Err(_) => errors += 1,
                Ok(11) => whole += 1,
                Ok(_) => {}
            }
            assert!(out.events.len() <= 11);
        }
    }
    // Cut inside its objects the file is an error; cut in its unused tail
    // it still holds every entry.
    assert!(errors > 0 && whole > 0, "errors {errors}, whole {whole}");
    // A btmp of empty slots holds no failed login.
    let empty = dir.path().join("btmp");
    std::fs::write(&empty, vec![0u8; 384 * 3]).unwrap();
    let mut out = Output::default();
    read(
        &empty,
        kind_of(&empty).unwrap(),
        &ctx,
        100,
        &mut out,
        |_| {},
    )
    .unwrap();
    assert!(out.events.is_empty());
    // An export whose binary field claims more than there is.
    let export = dir.path().join("bad.export");
    std::fs::write(
        &export,
        b"__CURSOR=s=1\nMESSAGE\n\xff\x00\x00\x00\x00\x00\x00\x00ab",
    )
    .unwrap();
    let mut out = Output::default();
    let err = read(
        &export,
        RecordFile::JournalExport,
        &ctx,
        100,
        &mut out,
        |_| {},
    )
    .unwrap_err();
    assert!(err.contains("line 2"), "{err}");
}

/// A system tool, when installed; CI installs it (`RAMPART_REQUIRE_SERVERS`).
fn tool(path: &str) -> Option<PathBuf> {
    let found = [path, &format!("/usr{path}")]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_SERVERS").is_none(),
            "{path} is not installed (scripts/install-servers.sh installs it)"
        );
        eprintln!("skipped: {path} not installed");
    }
    found
}

#[test]
fn journal_files_written_by_systemd_read_as_their_export() {
    let Some(remote) = tool("/lib/systemd/systemd-journal-remote") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("remote.journal");
    let status = std::process::Command::new(remote)
        .arg(format!("--output={}", written.display()))
        .arg(fixture("linux/journal/export.txt"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let ctx = FileContext::new("f", ParseOptions::default());
    let mut out = Output::default();
    read(&written, RecordFile::Journal, &ctx, 1000, &mut out, |_| {}).unwrap();
    let (_, export) = events("linux/journal/export.txt");
    assert_eq!(seen(&out), seen(&export));
}

#[test]
fn wtmp_and_btmp_written_by_utmpdump_read_as_the_fixtures() {
    let Some(utmpdump) = tool("/bin/utmpdump") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["wtmp", "btmp"] {
        let text = std::process::Command::new(&utmpdump)
            .arg(fixture(&format!("linux/login/{name}")))
            .stderr(std::process::Stdio::null())
            .output()
            .unwrap()
            .stdout;
        let rewritten = dir.path().join(name);
        let mut child = std::process::Command::new(&utmpdump)
            .args(["-r", "-o"])
            .arg(&rewritten)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), &text).unwrap();
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
        let kind = kind_of(&rewritten).unwrap();
        let ctx = FileContext::new("f", ParseOptions::default());
        let mut out = Output::default();
        read(&rewritten, kind, &ctx, 1000, &mut out, |_| {}).unwrap();
        let (_, fixture) = events(&format!("linux/login/{name}"));
        assert_eq!(seen(&out), seen(&fixture), "{name}");
    }
}
