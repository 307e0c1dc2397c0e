//! `rampart sanitize` end to end: logs pseudonymised under a key still
//! parse to the same events and hunt to the same alerts, rule for rule and
//! count for count, with no original address, host or user left; one key
//! gives one output, another key another.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{shared, workspace};

fn rampart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .env_remove("RAMPART_DB")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Alerts per rule of a hunt over `paths`.
fn alerts(paths: &[&Path]) -> BTreeMap<String, u64> {
    alerts_with(paths, &[])
}

/// Alerts per rule of a hunt over `paths` with `more` arguments.
fn alerts_with(paths: &[&Path], more: &[&str]) -> BTreeMap<String, u64> {
    let mut args = vec!["hunt", "--year", "2025", "--format", "jsonl"];
    args.extend_from_slice(more);
    let texts: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    args.extend(texts.iter().map(String::as_str));
    let mut counts = BTreeMap::new();
    for line in ok(rampart(&args)).lines() {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        *counts
            .entry(alert["rule_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

/// Addresses that name nobody, which sanitising keeps: loopback,
/// multicast, broadcast, 0.0.0.0/8.
fn names_nobody(address: &str) -> bool {
    let ip: std::net::Ipv4Addr = address.parse().unwrap();
    ip.is_loopback() || ip.is_multicast() || ip.is_broadcast() || ip.octets()[0] == 0
}

/// The addresses of `original` still in the files under `out`, but for
/// those that name nobody.
fn originals_left(out: &Path, original: &BTreeSet<String>) -> Vec<String> {
    addresses(out)
        .intersection(original)
        .filter(|a| !names_nobody(a))
        .cloned()
        .collect()
}

/// Every dotted quad in the files under `dir`.
fn addresses(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for entry in walk(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        for word in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
            if word.parse::<std::net::Ipv4Addr>().is_ok() {
                found.insert(word.to_owned());
            }
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn sanitize(paths: &[&Path], out: &Path, key: &Path) -> String {
    sanitize_with(paths, out, key, &[])
}

/// [`sanitize`] with `more` arguments.
fn sanitize_with(paths: &[&Path], out: &Path, key: &Path, more: &[&str]) -> String {
    let mut args = vec![
        "sanitize".to_owned(),
        "--year".into(),
        "2025".into(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
        "--key-file".into(),
        key.to_string_lossy().into_owned(),
    ];
    args.extend(more.iter().map(|m| m.to_string()));
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rampart(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_fixtures_hunt_to_the_same_alerts_with_nothing_identifying_left() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "a key that is long enough to use\n").unwrap();
    let fixtures = workspace().join("fixtures");
    let out = dir.path().join("out");
    let said = sanitize(&[fixtures.as_path()], &out, &key);
    assert!(said.contains("address") && said.contains("user"), "{said}");

    let before = alerts(&[fixtures.as_path()]);
    assert!(before.values().sum::<u64>() > 50, "{before:?}");
    assert_eq!(alerts(&[out.as_path()]), before);

    // No original address is left, and the hosts and users learnt are gone.
    let original = addresses(&fixtures);
    let left = originals_left(&out, &original);
    assert!(left.is_empty(), "original addresses left: {left:?}");
    let all: String = walk(&out)
        .iter()
        .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
        .collect();
    for name in ["web01", "WS01", "IEUser"] {
        assert!(!all.contains(name), "{name} is left");
    }

    // A feed sanitised with the same key still matches: the same
    // indicator alerts, on the sanitised logs.
    let feeds = dir.path().join("feeds");
    sanitize(&[workspace().join("feeds").as_path()], &feeds, &key);
    let original_feed = workspace().join("feeds/ipsum.txt");
    let with_feed = alerts_with(
        &[fixtures.as_path()],
        &["--intel", original_feed.to_str().unwrap()],
    );
    assert!(
        with_feed.get("ioc-match").copied().unwrap_or(0) > 0,
        "{with_feed:?}"
    );
    let sanitised_feed = feeds.join("ipsum.txt");
    assert_eq!(
        alerts_with(
            &[out.as_path()],
            &["--intel", sanitised_feed.to_str().unwrap()]
        ),
        with_feed
    );

    // The same key gives the same output; another key another.
    let again = dir.path().join("again");
    sanitize(&[fixtures.as_path()], &again, &key);
    let auth = Path::new("syslog/auth.log");
    let first = std::fs::read(out.join(auth)).unwrap();
    assert_eq!(std::fs::read(again.join(auth)).unwrap(), first);
    let other_key = dir.path().join("other");
    std::fs::write(&other_key, "another key, also long enough\n").unwrap();
    let other = dir.path().join("other-out");
    sanitize(&[fixtures.as_path()], &other, &other_key);
    assert_ne!(std::fs::read(other.join(auth)).unwrap(), first);

    // A folder holding files is not written into without --force.
    let refused = rampart(&[
        "sanitize",
        "--out",
        out.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        fixtures.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
}

#[test]
fn every_loghub_log_hunts_to_the_same_alerts_with_no_address_left() {
    let Some(loghub) = shared("corpora/loghub") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "a key that is long enough to use\n").unwrap();
    // Every log of the corpus: SSH, Linux, Apache, Mac, Proxifier,
    // Thunderbird, Windows CBS.
    let inputs = [loghub.as_path()];
    let out = dir.path().join("out");
    sanitize(&inputs, &out, &key);
    let before = alerts(&inputs);
    assert!(!before.is_empty());
    assert_eq!(alerts(&[out.as_path()]), before);
    let original: BTreeSet<String> = inputs.iter().flat_map(|d| addresses(d)).collect();
    let left = originals_left(&out, &original);
    assert!(left.is_empty(), "original addresses left: {left:?}");
}

#[test]
fn seed_004s_readable_style_with_given_names_networks_and_a_mapping_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "a key that is long enough to use\n").unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("auth.log"),
        "Mar 14 03:22:14 PC01 sshd[1]: Failed password for alice from 10.0.2.15 port 50122 ssh2\n\
         Mar 14 03:22:15 PC02 sshd[2]: Accepted password for bob from 10.0.3.4 port 50123 ssh2\n",
    )
    .unwrap();
    let mapping = dir.path().join("mapping.csv");
    let run = |out: &Path, mapping: &Path| {
        rampart(&[
            "sanitize",
            "--year",
            "2025",
            "--style",
            "sequential",
            "--map",
            "host:PC01=HOST01",
            "--map-net",
            "10.0.2.0/24=192.168.1.0/24",
            "--mapping",
            mapping.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
            logs.to_str().unwrap(),
        ])
    };
    let out = dir.path().join("out");
    let done = run(&out, &mapping);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let text = std::fs::read_to_string(out.join("auth.log")).unwrap();
    assert!(
        text.contains(" HOST01 sshd") && text.contains(" HOST02 sshd"),
        "{text}"
    );
    assert!(text.contains("for user01 from 192.168.1.15 "), "{text}");
    assert!(text.contains("for user02 from "), "{text}");
    assert!(
        !text.contains("10.0.3.4") && !text.contains("alice"),
        "{text}"
    );
    let kept = std::fs::read_to_string(&mapping).unwrap();
    assert!(kept.contains("user,alice,user01"), "{kept}");
    // A second run with the mapping gives the same names, in any order.
    std::fs::write(
        logs.join("auth.log"),
        "Mar 14 04:00:00 PC02 sshd[3]: Failed password for bob from 10.0.2.9 port 1 ssh2\n",
    )
    .unwrap();
    let again = dir.path().join("again");
    assert!(run(&again, &mapping).status.success());
    let text = std::fs::read_to_string(again.join("auth.log")).unwrap();
    assert!(
        text.contains(" HOST02 sshd") && text.contains("for user02 from 192.168.1.9 "),
        "{text}"
    );
    // The mapping may not be shared with what it undoes.
    let inside = dir.path().join("third");
    let refused = run(&inside, &inside.join("mapping.csv"));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("outside"));
}

#[test]
fn evtx_attack_samples_hunt_to_the_same_sigma_alerts_from_their_records() {
    let (Some(samples), Some(rules)) = (
        shared("corpora/evtx-attack-samples"),
        shared("corpora/sigma/rules/windows"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "a key that is long enough to use\n").unwrap();
    // Every sample, each tactic's folder.
    let inputs = [samples.as_path()];
    let out = dir.path().join("out");
    let mapping = dir.path().join("mapping.csv");
    sanitize_with(
        &inputs,
        &out,
        &key,
        &["--mapping", mapping.to_str().unwrap()],
    );
    let sigma = ["--rules", rules.to_str().unwrap()];
    let before = alerts_with(&inputs, &sigma);
    assert!(before.values().sum::<u64>() > 500, "{before:?}");
    assert_eq!(alerts_with(&[out.as_path()], &sigma), before);
    // No value that was replaced is left anywhere in what was written.
    let all: String = walk(&out)
        .iter()
        .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_lowercase())
        .collect();
    let mut rows = csv::Reader::from_path(&mapping).unwrap();
    let mut checked = 0;
    for row in rows.records() {
        let row = row.unwrap();
        let value = row[1].to_lowercase();
        if row[0].to_owned() == "address" || value.chars().count() < 5 {
            continue;
        }
        // As a word: `bouss` inside `sbousseaden` is another name.
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let left = all.match_indices(&value).any(|(at, _)| {
            !word(all[..at].chars().next_back()) && !word(all[at + value.len()..].chars().next())
        });
        assert!(!left, "{} {value:?} is left", &row[0]);
        checked += 1;
    }
    assert!(checked > 20, "only {checked} values checked");
}

#[test]
fn network_and_dataset_corpora_hunt_to_the_same_alerts() {
    let (Some(zeek), Some(suricata), Some(otrf), Some(rules)) = (
        shared("corpora/zeek"),
        shared("corpora/suricata"),
        shared("corpora/otrf-security-datasets"),
        shared("corpora/sigma/rules/windows"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "a key that is long enough to use\n").unwrap();
    // Zeek and Suricata with the built-in pack (their notices and alerts
    // pass through, port scans correlate); OTRF's Windows datasets with
    // SigmaHQ's Windows rules (SRV lookups such as `_ldap._tcp` included).
    for (corpus, more) in [
        (&zeek, vec![]),
        (&suricata, vec![]),
        (&otrf, vec!["--rules", rules.to_str().unwrap()]),
    ] {
        let out = dir.path().join(corpus.file_name().unwrap());
        sanitize(&[corpus.as_path()], &out, &key);
        let before = alerts_with(&[corpus.as_path()], &more);
        assert!(!before.is_empty(), "{}", corpus.display());
        assert_eq!(
            alerts_with(&[out.as_path()], &more),
            before,
            "{}",
            corpus.display()
        );
    }
}
