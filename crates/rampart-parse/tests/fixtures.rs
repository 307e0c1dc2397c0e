//! Snapshot tests: the normalised output of every fixture, as JSON lines.
//! A change in any parser shows up here as a reviewable diff.

mod common;

use std::path::Path;

fn fixture_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixture_files(&path, out);
        } else if path.is_file() && path.file_name().is_some_and(|n| n != "README.md") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let root = common::workspace();
    let mut files = Vec::new();
    fixture_files(&root.join("fixtures"), &mut files);
    assert!(files.len() >= 30, "fixtures missing: found {}", files.len());
    for path in files {
        let display = path
            .strip_prefix(&root)
            .expect("inside the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        let out = common::parse_file(&path, &display);
        let mut text = String::new();
        for event in &out.events {
            let mut line = Vec::new();
            event.write_json(&mut line);
            text.push_str(&String::from_utf8(line).expect("JSON is UTF-8"));
            text.push('\n');
        }
        for dead in &out.dead {
            text.push_str(&format!(
                "DEAD LETTER line {}: {}\n",
                dead.line, dead.reason
            ));
        }
        text.push_str(&format!("STATS {:?}\n", out.stats));
        let name = display.replace(['/', '.'], "_");
        insta::assert_snapshot!(name, text);
    }
}
