//! Writing a report's files: `report.html` (one self-contained page),
//! `report.md` with seed 003's `process_tree.md` and `errors.md`, and
//! `report.json`. The CSVs and charts are written as they are made.

mod html;
mod markdown;

use std::fs::File;
use std::io::{self, BufWriter, Write};

use crate::findings::{Findings, Options};

/// Writes the formats `options` asks for into its folder.
pub fn all(f: &Findings, options: &Options) -> io::Result<()> {
    let out = &options.out;
    if options.formats.html {
        std::fs::write(out.join("report.html"), html::page(f).into_string())?;
    }
    if options.formats.md {
        std::fs::write(out.join("report.md"), markdown::report(f))?;
        std::fs::write(out.join("process_tree.md"), markdown::trees(f))?;
        std::fs::write(out.join("errors.md"), markdown::quality(f))?;
    }
    if options.formats.json {
        let mut w = BufWriter::new(File::create(out.join("report.json"))?);
        serde_json::to_writer_pretty(&mut w, f)?;
        w.write_all(b"\n")?;
        w.flush()?;
    }
    Ok(())
}

/// The files a report writes besides the CSVs and charts, per format.
pub fn names(options: &Options) -> Vec<&'static str> {
    let mut v = Vec::new();
    if options.formats.html {
        v.push("report.html");
    }
    if options.formats.md {
        v.extend(["report.md", "process_tree.md", "errors.md"]);
    }
    if options.formats.json {
        v.push("report.json");
    }
    v
}

/// An ATT&CK technique's page.
fn technique_url(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}
