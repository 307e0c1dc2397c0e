//! `rampart report` and `rampart tree` end to end: seed 003's investigation
//! from its four CSVs, a data set with anomalies planted at random whose
//! counts the report must give exactly, an output folder that is not
//! overwritten, and hostile log text that stays text in a real browser.

mod browser;
mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

use common::Rng;
use serde_json::Value as Json;

fn rampart(args: &[&str]) -> Output {
    let db = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--db")
        .arg(db.path().join("r.db"))
        .args(args)
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .output()
        .unwrap()
}

fn report(inputs: &[&Path], out: &Path, more: &[&str]) -> Json {
    let mut args: Vec<String> = vec!["report".into(), "-q".into(), "--out".into()];
    args.push(out.display().to_string());
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(more.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    common::ok(rampart(&refs));
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// The issues of the source whose path ends with `name`, as (kind, rows).
fn issues(report: &Json, name: &str) -> Vec<(String, u64)> {
    let source = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no source {name}"));
    let mut out: Vec<(String, u64)> = source["issues"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "empty-optional-field")
        .map(|(k, v)| (k.clone(), v["rows"].as_u64().unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn seed_three_comes_out_whole() {
    let Some(seed) = common::shared("seed-data/seed3") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<std::path::PathBuf> = ["process", "network", "file", "registry"]
        .iter()
        .map(|t| seed.join(format!("{t}_events.csv")))
        .collect();
    let refs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let out = dir.path().join("report");
    let r = report(&refs, &out, &[]);

    // The attack chain from PID 15150, drawn because of the Run-key alert
    // on its child, complete, nested in order, with the reused PID's loop
    // marked and the child started before its parent.
    let tree = r["trees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .find(|t| {
            t.starts_with("- (ancestor) process_id: 100,") && t.contains("process_id: 15150,")
        })
        .expect("a tree of PID 15150");
    let chain = [15150, 15151, 15152, 15153, 15154, 15164, 15165, 15164];
    let mut depth = 0;
    let mut found = 0;
    for line in tree.lines() {
        let Some(at) = line.find("- process_id: ") else {
            continue;
        };
        let pid: u64 = line[at + 14..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if found < chain.len() && pid == chain[found] {
            assert!(
                at > depth || found == 0,
                "{pid} not below its parent:\n{tree}"
            );
            depth = at;
            if pid == 15154 {
                assert!(line.contains("[!] started before its parent"), "{line}");
            }
            if found == chain.len() - 1 {
                assert!(line.contains("PID loop"), "{line}");
            }
            found += 1;
        }
    }
    assert_eq!(found, chain.len(), "chain incomplete:\n{tree}");
    assert!(tree
        .contains("Operation: write | File: C:/Users/Admin/AppData/Local/Temp/system_update.exe"));
    assert!(tree.contains("Value: DisableTaskMgr = 1"), "{tree}");
    // The orders hidden in base64 arguments are read out.
    assert!(tree.contains("[decoded] download, modify-system"), "{tree}");
    assert!(
        tree.contains("[decoded] connect, 192.168.1.100, 8080"),
        "{tree}"
    );
    assert!(tree.contains("192.168.1.10:54321 → DstIP: 192.168.1.100:8080"));

    // Quality counts, measured here independently from the raw files.
    for input in &inputs {
        let text = std::fs::read_to_string(input).unwrap();
        let mut seen = HashSet::new();
        let mut duplicates = 0;
        let mut corrupt = 0;
        for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
            if !seen.insert(line) {
                duplicates += 1;
            } else if line.contains("###CORRUPT###") {
                corrupt += 1;
            }
        }
        let name = input.file_name().unwrap().to_str().unwrap();
        let got = issues(&r, name);
        let count = |k: &str| got.iter().find(|(g, _)| g == k).map_or(0, |(_, n)| *n);
        assert_eq!(count("exact-duplicate"), duplicates, "{name}: {got:?}");
        assert_eq!(count("corrupt-marker"), corrupt, "{name}: {got:?}");
    }
    let registry = issues(&r, "registry_events.csv");
    assert!(
        registry.contains(&("time-drift".to_owned(), 10)),
        "{registry:?}"
    );

    // ATT&CK from the rule that fired, on the events it fired on only.
    assert!(r["techniques"]["T1547.001"]["alerts"].as_u64().unwrap() >= 1);
    let enriched = std::fs::read_to_string(out.join("unified_events_enriched.csv")).unwrap();
    assert!(!enriched.contains("T1053.002"));
    let mut rows = csv::Reader::from_path(out.join("unified_events_enriched.csv")).unwrap();
    let mut tagged = 0;
    let mut last = String::new();
    for row in rows.records() {
        let row = row.unwrap();
        if !row[0].is_empty() {
            assert!(row[0] >= *last, "out of order at {row:?}");
            last = row[0].to_owned();
        }
        if &row[6] == "T1547.001" {
            assert!(row[3].contains("CurrentVersion\\Run"), "{row:?}");
            tagged += 1;
        }
    }
    assert_eq!(tagged, r["alerts"].as_array().unwrap().len());
    let unified = std::fs::read_to_string(out.join("unified_events.csv")).unwrap();
    assert!(unified.starts_with("timestamp,process_id,event_type,event_details\n"));
    assert!(unified.contains(
        "2025-03-01 09:00:21,15150,process_start,Executable: C:/Users/Admin/Downloads/image_resizer.exe | User: admin\n"
    ));
    for name in [
        "report.html",
        "report.md",
        "process_tree.md",
        "errors.md",
        "cleaned_process_events.csv",
        "event_type_distribution.png",
        "event_timeline.png",
        "top_talkers.png",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
}

fn time(seconds: i64) -> String {
    jiff::Timestamp::from_second(1_740_819_600 + seconds)
        .unwrap()
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Writes a process table and a file table with anomalies planted at
/// random rows, and returns the counts the report must give.
fn plant(seed: u64, dir: &Path) -> Vec<(&'static str, &'static str, u64)> {
    let mut rng = Rng(seed);
    let n = 1_500usize;
    // A clean forest: process i starts at i seconds, its parent among the
    // first half (so the second half are leaves).
    struct P {
        pid: u64,
        parent: u64,
        start: String,
        end: String,
        exe: String,
        user: String,
    }
    let mut procs: Vec<P> = (0..n)
        .map(|i| {
            let parent = if i == 0 {
                4
            } else {
                1000 + rng.index(i.min(n / 2)) as u64
            };
            P {
                pid: 1000 + i as u64,
                parent,
                start: time(i as i64),
                end: time(i as i64 + 3600),
                exe: format!("C:/Program Files/app{}.exe", i % 17),
                user: ["alice", "bob", "SYSTEM"][i % 3].to_owned(),
            }
        })
        .collect();
    let mut used: HashSet<usize> = HashSet::new();
    let pick = |rng: &mut Rng, from: usize, to: usize, used: &mut HashSet<usize>| loop {
        let i = from + rng.index(to - from);
        if used.insert(i) {
            return i;
        }
    };
    let k = |rng: &mut Rng| 1 + rng.index(15) as u64;
    let mut expect = Vec::new();

    let (corrupt, empty, badtime, endbefore, own, cbp, reuse) = (
        k(&mut rng),
        k(&mut rng),
        k(&mut rng),
        k(&mut rng),
        k(&mut rng),
        k(&mut rng),
        k(&mut rng),
    );
    used.insert(0);
    for _ in 0..corrupt {
        let i = pick(&mut rng, 1, n, &mut used);
        procs[i].exe = format!("###CORRUPT###{}", procs[i].exe);
    }
    for _ in 0..empty {
        let i = pick(&mut rng, 1, n, &mut used);
        procs[i].exe.clear();
    }
    for _ in 0..badtime {
        let i = pick(&mut rng, n / 2, n, &mut used);
        procs[i].start = "32/13/2025 25:61".to_owned();
    }
    for _ in 0..endbefore {
        let i = pick(&mut rng, 1, n, &mut used);
        procs[i].end = time(i as i64 - 30);
    }
    for _ in 0..own {
        let i = pick(&mut rng, n / 2, n, &mut used);
        procs[i].parent = procs[i].pid;
    }
    for _ in 0..cbp {
        // A child set before its (clean) parent's start.
        let i = loop {
            let i = pick(&mut rng, n / 2, n, &mut used);
            let parent = (procs[i].parent - 1000) as usize;
            if !used.contains(&parent) {
                used.insert(parent);
                break i;
            }
            used.remove(&i);
        };
        let parent = (procs[i].parent - 1000) as i64;
        procs[i].start = time(parent - 5);
    }
    let mut extra = Vec::new();
    for r in 0..reuse {
        let i = pick(&mut rng, 1, n / 2, &mut used);
        let other = loop {
            let j = rng.index(n / 2) as u64 + 1000;
            if j != procs[i].parent && j != procs[i].pid {
                break j;
            }
        };
        extra.push(P {
            pid: procs[i].pid,
            parent: other,
            start: time(10_000 + r as i64),
            end: time(20_000 + r as i64),
            exe: "C:/Windows/reused.exe".to_owned(),
            user: "eve".to_owned(),
        });
    }
    procs.extend(extra);
    let mut lines: Vec<String> = procs
        .iter()
        .map(|p| {
            format!(
                "{},{},{},{},{},{},\"\"\"{}\"\"\"",
                p.pid, p.parent, p.start, p.end, p.exe, p.user, p.exe
            )
        })
        .collect();
    let dups = k(&mut rng);
    for _ in 0..dups {
        let i = pick(&mut rng, 1, n, &mut used);
        let at = rng.index(lines.len() - i) + i + 1;
        let copy = lines[i].clone();
        lines.insert(at, copy);
    }
    let mut text = String::from(
        "process_id,parent_id,start_time,end_time,executable_path,user,command_line\n",
    );
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(dir.join("process_events.csv"), text).unwrap();
    expect.extend([
        ("process_events.csv", "corrupt-marker", corrupt),
        ("process_events.csv", "empty-required-field", empty),
        ("process_events.csv", "unparseable-time", badtime),
        ("process_events.csv", "end-before-start", endbefore),
        ("process_events.csv", "own-parent", own),
        ("process_events.csv", "child-before-parent", cbp),
        ("process_events.csv", "pid-reused", reuse),
        ("process_events.csv", "exact-duplicate", dups),
    ]);

    // File events: corrupt paths, unreadable and drifted times, duplicates.
    let files = 800usize;
    let mut rows: Vec<String> = (0..files)
        .map(|i| {
            format!(
                "{},C:/Users/alice/doc{i}.txt,write,{},alice",
                1000 + rng.index(n),
                time(i as i64 * 2)
            )
        })
        .collect();
    let mut used: HashSet<usize> = HashSet::new();
    let (fc, ft, fd, fdup) = (k(&mut rng), k(&mut rng), k(&mut rng), k(&mut rng));
    for _ in 0..fc {
        let i = pick(&mut rng, 0, files, &mut used);
        rows[i] = rows[i].replacen(",C:/", ",###CORRUPT###C:/", 1);
    }
    for _ in 0..ft {
        let i = pick(&mut rng, 0, files, &mut used);
        rows[i] = format!("1001,C:/x{i},read,yesterday-ish,bob");
    }
    for _ in 0..fd {
        let i = pick(&mut rng, 0, files, &mut used);
        rows[i] = format!(
            "1001,C:/drift{i},read,{},bob",
            time(2 * 365 * 86_400 + i as i64)
        );
    }
    for _ in 0..fdup {
        let i = pick(&mut rng, 0, files, &mut used);
        let copy = rows[i].clone();
        rows.push(copy);
    }
    let mut text = String::from("process_id,file_path,operation,timestamp,user\n");
    for r in &rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(dir.join("file_events.csv"), text).unwrap();
    expect.extend([
        ("file_events.csv", "corrupt-marker", fc),
        ("file_events.csv", "unparseable-time", ft),
        ("file_events.csv", "time-drift", fd),
        ("file_events.csv", "exact-duplicate", fdup),
    ]);
    expect
}

#[test]
fn planted_anomalies_are_counted_exactly() {
    for seed in [7u64, 1_234_567, 0x9e37_79b9_7f4a_7c15] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let expect = plant(seed, &data);
        let r = report(&[&data], &dir.path().join("out"), &["--format", "json"]);
        for (file, kind, n) in &expect {
            let got = issues(&r, file);
            let count = got.iter().find(|(k, _)| k == kind).map_or(0, |(_, c)| *c);
            assert_eq!(count, *n, "seed {seed}: {file} {kind}: {got:?}");
        }
        // Nothing is reported that was not planted.
        for file in ["process_events.csv", "file_events.csv"] {
            for (kind, n) in issues(&r, file) {
                assert!(
                    expect.iter().any(|(f, k, _)| *f == file && *k == kind),
                    "seed {seed}: {file} reports {n} {kind} that were not planted"
                );
            }
        }
    }
}

#[test]
fn an_output_folder_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, common::failures("203.0.113.5", 0, 6)).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let refused = rampart(&[
        "report",
        "-q",
        "--out",
        out.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert!(!out.join("report.html").exists());
    common::ok(rampart(&[
        "report",
        "-q",
        "--force",
        "--year",
        "2025",
        "--out",
        out.to_str().unwrap(),
        log.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["alerts"][0]["rule_id"], "ssh-brute-force");
}

#[test]
fn tree_prints_a_pid_chain_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("process_events.csv");
    std::fs::write(
        &p,
        "process_id,parent_id,start_time,end_time,executable_path,user,command_line\n\
         10,1,2025-03-01 09:00:00,2025-03-01 10:00:00,C:/a.exe,bob,a\n\
         11,10,2025-03-01 09:00:05,2025-03-01 10:00:00,C:/b.exe,bob,b\n\
         12,11,2025-03-01 09:00:09,2025-03-01 10:00:00,C:/c.exe,bob,c\n",
    )
    .unwrap();
    let out = common::ok(rampart(&["tree", "--pid", "10", p.to_str().unwrap()]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "# PID 10");
    assert!(
        lines[1].starts_with("- process_id: 10, parent_id: 1"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("  - process_id: 11, parent_id: 10"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("    - process_id: 12, parent_id: 11"),
        "{out}"
    );
    let missing = rampart(&["tree", "--pid", "99", p.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    // auditd's execve records are process starts too.
    let audit = common::workspace().join("fixtures/auditd/audit.log");
    let out = common::ok(rampart(&["tree", "--pid", "4388", audit.to_str().unwrap()]));
    assert!(
        out.contains("- process_id: 4388, parent_id: 4210, executable_path: /usr/bin/base64"),
        "{out}"
    );
}

#[test]
fn hostile_text_stays_text_in_the_html_report() {
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let evil = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>";
    std::fs::write(
        data.join("process_events.csv"),
        format!(
            "process_id,parent_id,start_time,end_time,executable_path,user,command_line\n\
             500,4,2025-03-01 09:00:00,2025-03-01 10:00:00,C:/{evil}.exe,{evil},\"{evil}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        data.join("registry_events.csv"),
        format!(
            "process_id,registry_key,operation,timestamp,value_name,value_data,user\n\
             500,HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run,create,2025-03-01 09:00:05,{evil},{evil},{evil}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = report(&[&data], &out, &["--pid", "500", "--title", evil]);
    assert_eq!(r["alerts"].as_array().unwrap().len(), 1);
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !page.contains("<script>window"),
        "unescaped script in the page"
    );
    assert!(!page.contains("<img src=x"), "unescaped image in the page");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_driver, url) = browser::driver();
        let client = browser::session(&url, 1280, 900).await;
        client
            .goto(&format!("file://{}", out.join("report.html").display()))
            .await
            .unwrap();
        let state = browser::eval(
            &client,
            "return [window.__pwned === undefined, document.scripts.length, \
             document.querySelectorAll('[onerror]').length, \
             document.body.innerText.includes('<script>window.__pwned=1</script>'), \
             document.querySelectorAll('details').length, \
             document.images.length];",
        )
        .await;
        assert_eq!(state[0], true, "a script ran: {state}");
        assert_eq!(state[1], 0, "{state}");
        assert_eq!(state[2], 0, "{state}");
        assert_eq!(
            state[3], true,
            "the hostile text is not shown as text: {state}"
        );
        assert!(state[4].as_u64().unwrap() >= 1, "no process tree: {state}");
        assert!(state[5].as_u64().unwrap() >= 3, "charts missing: {state}");
        // The charts are images that loaded (data URIs, no fetch).
        let loaded = browser::eval(
            &client,
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0);",
        )
        .await;
        assert_eq!(loaded, true);
        browser::screenshot(&client, "report.png").await;
        if let Some(axe) = browser::axe() {
            let problems = browser::accessibility(&client, &axe).await;
            assert!(problems.is_empty(), "accessibility: {problems:?}");
        }
        client.close().await.unwrap();
    });
}

/// How the stand-in model answers.
#[derive(Clone, Copy, PartialEq)]
enum Model {
    Answers,
    Garbage,
    Hangs,
}

/// A stand-in for an OpenAI-compatible chat endpoint on a free port: it
/// counts requests, checks the key, and answers as `model` says.
fn stand_in(model: Model) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut authorised = false;
            let mut path = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if path.is_empty() {
                    path = line.clone();
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                authorised |= line.trim() == "Authorization: Bearer test-key";
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let request: Json = serde_json::from_slice(&body).unwrap_or_default();
            let (status, answer) = match model {
                Model::Hangs => {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    continue;
                }
                _ if !authorised || !path.starts_with("POST /v1/chat/completions") => {
                    ("401 Unauthorized", "{}".to_owned())
                }
                Model::Garbage => ("200 OK", "<html>busy</html>".to_owned()),
                Model::Answers => {
                    let facts = request["messages"][1]["content"].as_str().unwrap_or("");
                    let content = format!(
                        "Model account {n} <b>bold</b> of {} bytes of facts.",
                        facts.len()
                    );
                    (
                        "200 OK",
                        serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
                            .to_string(),
                    )
                }
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, count)
}

fn llm_report(dir: &Path, url: &str, out: &str, more: &[&str]) -> (Output, Option<Json>) {
    let log = dir.join("auth.log");
    let mut logs = common::failures("203.0.113.5", 0, 6);
    logs.push_str(&common::failures("198.51.100.7", 400, 6));
    std::fs::write(&log, logs).unwrap();
    let out = dir.join(out);
    let cache = dir.join("cache.jsonl");
    let db = dir.join("r.db");
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--db")
        .arg(&db)
        .args([
            "report", "--year", "2025", "--format", "json,md", "--llm", url,
        ])
        .arg("--llm-cache")
        .arg(&cache)
        .arg("--out")
        .arg(&out)
        .args(more)
        .arg(&log)
        .env("RAMPART_LLM_KEY", "test-key")
        .env_remove("OPENAI_API_KEY")
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .current_dir(dir)
        .output()
        .unwrap();
    let json = std::fs::read_to_string(out.join("report.json"))
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap());
    (output, json)
}

#[test]
fn a_model_writes_the_accounts_once_and_the_cache_pays_the_second_time() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let (url, count) = stand_in(Model::Answers);
    let (out, r) = llm_report(dir.path(), &url, "one", &["--llm-events", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = r.unwrap();
    let alerts = r["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    for a in alerts {
        assert_eq!(a["summary_by"], "llm", "{a}");
        assert!(a["summary"].as_str().unwrap().starts_with("Model account"));
    }
    assert_eq!(r["summary_by"], "llm");
    // Two alerts, two events, the investigation.
    assert_eq!(count.load(Ordering::SeqCst), 5);
    assert_eq!(r["llm"]["requests"], 5);
    let md = std::fs::read_to_string(dir.path().join("one/report.md")).unwrap();
    assert!(
        md.contains("Model account") && !md.contains("<b>"),
        "the answer is shown as text"
    );

    // The same facts again: nothing is sent.
    let (out, r) = llm_report(dir.path(), &url, "two", &["--llm-events", "2"]);
    assert!(out.status.success());
    let r = r.unwrap();
    assert_eq!(
        count.load(Ordering::SeqCst),
        5,
        "a cached answer was asked again"
    );
    assert_eq!(r["llm"]["cached"], 5);
    assert_eq!(r["alerts"][0]["summary_by"], "llm (cached)");
}

#[test]
fn the_request_cap_holds_and_the_template_stays_past_it() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let (url, count) = stand_in(Model::Answers);
    let (out, r) = llm_report(
        dir.path(),
        &url,
        "out",
        &["--llm-max-requests", "2", "--llm-events", "5"],
    );
    assert!(out.status.success());
    let r = r.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    // The first alert is asked; one request is kept for the investigation.
    assert_eq!(r["alerts"][0]["summary_by"], "llm");
    assert!(r["alerts"][1]["summary_by"]
        .as_str()
        .unwrap()
        .contains("cap of 2"));
    assert!(r["alerts"][1]["summary"]
        .as_str()
        .unwrap()
        .contains("SSH brute force"));
    assert_eq!(r["summary_by"], "llm");
}

#[test]
fn a_model_that_hangs_or_babbles_leaves_the_template() {
    for (model, says) in [
        (Model::Hangs, "the model failed"),
        (Model::Garbage, "not JSON"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (url, _) = stand_in(model);
        let started = std::time::Instant::now();
        let (out, r) = llm_report(dir.path(), &url, "out", &["--llm-timeout", "1"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Two failures in a row and it stops asking: no wait per alert.
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
        let r = r.unwrap();
        let by = r["alerts"][0]["summary_by"].as_str().unwrap();
        assert!(by.contains(says), "{by}");
        assert!(r["alerts"][0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("SSH brute force"));
        assert!(r["summary_by"].as_str().unwrap().starts_with("template"));
        assert!(String::from_utf8_lossy(&out.stderr).contains("failed"));
    }
}

#[test]
fn a_report_over_the_stored_events_says_what_one_over_the_files_says() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("auth.log"), common::failures("203.0.113.5", 0, 6)).unwrap();
    std::fs::write(
        data.join("process_events.csv"),
        "process_id,parent_id,start_time,end_time,executable_path,user,command_line\n\
         10,1,2025-03-14 03:00:00,2025-03-14 04:00:00,C:/a.exe,bob,a\n\
         11,10,2025-03-14 03:00:05,2025-03-14 04:00:00,C:/b.exe,bob,b\n\
         11,10,2025-03-14 03:00:05,2025-03-14 04:00:00,C:/b.exe,bob,b\n",
    )
    .unwrap();
    common::ingest(&db, &data);
    let from_files = report(
        &[&data],
        &dir.path().join("files"),
        &["--year", "2025", "--pid", "10", "--format", "json"],
    );
    let out = dir.path().join("stored");
    common::ok(common::rampart(
        &db,
        &[
            "report",
            "-q",
            "--stored",
            "--pid",
            "10",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let stored: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for key in ["events", "duplicates_dropped", "first", "last"] {
        assert_eq!(stored[key], from_files[key], "{key}");
    }
    assert_eq!(stored["alerts"][0]["rule_id"], "ssh-brute-force");
    assert_eq!(
        stored["alerts"][0]["count"],
        from_files["alerts"][0]["count"]
    );
    assert_eq!(stored["trees"][0]["text"], from_files["trees"][0]["text"]);
}

#[test]
fn a_newer_attack_bundle_names_the_techniques() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("registry_events.csv");
    std::fs::write(
        &data,
        "process_id,registry_key,operation,timestamp,value_name,value_data,user\n\
         4022,HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run,create,2025-03-01 09:57:02,App,C:/a.exe,admin\n",
    )
    .unwrap();
    let bundle = dir.path().join("bundle.json");
    std::fs::write(
        &bundle,
        serde_json::json!({
            "type": "bundle",
            "objects": [
                {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Staying Put",
                 "x_mitre_shortname": "staying-put",
                 "external_references": [{"source_name": "mitre-attack", "external_id": "TA9001"}]},
                {"type": "attack-pattern", "id": "attack-pattern--1", "name": "Run Keys, as a newer bundle names them",
                 "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "staying-put"}],
                 "external_references": [{"source_name": "mitre-attack", "external_id": "T1547.001",
                                          "url": "https://attack.mitre.org/techniques/T1547/001"}]}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let r = report(
        &[&data],
        &dir.path().join("out"),
        &["--format", "json", "--attack", bundle.to_str().unwrap()],
    );
    let t = &r["techniques"]["T1547.001"]["technique"];
    assert!(
        t["name"]
            .as_str()
            .unwrap()
            .contains("as a newer bundle names them"),
        "{t}"
    );
    assert_eq!(t["tactics"], serde_json::json!(["staying-put"]));
}

#[test]
fn the_trees_of_alerts_are_bounded_and_the_rest_counted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut processes = String::from(
        "process_id,parent_id,start_time,end_time,executable_path,user,command_line\n",
    );
    let mut registry =
        String::from("process_id,registry_key,operation,timestamp,value_name,value_data,user\n");
    // 60 processes, each its own root (parents unrecorded), each setting a
    // Run key: 60 alerts, 60 processes.
    for i in 0..60 {
        processes.push_str(&format!(
            "{},{},2025-03-01 09:{:02}:00,2025-03-01 11:00:00,C:/p{i}.exe,bob,p{i}\n",
            1000 + i,
            5000 + i,
            i
        ));
        registry.push_str(&format!(
            "{},HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run,create,2025-03-01 09:{:02}:30,v{i},C:/p{i}.exe,bob\n",
            1000 + i,
            i
        ));
    }
    std::fs::write(data.join("process_events.csv"), processes).unwrap();
    std::fs::write(data.join("registry_events.csv"), registry).unwrap();
    let r = report(&[&data], &dir.path().join("out"), &["--format", "json,md"]);
    assert_eq!(r["alerts"].as_array().unwrap().len(), 60);
    assert_eq!(r["trees"].as_array().unwrap().len(), 50);
    assert_eq!(r["trees_left_out"], 10);
    let md = std::fs::read_to_string(dir.path().join("out/process_tree.md")).unwrap();
    assert!(md.contains("The processes behind 10 less severe alerts are not drawn"));
}
