//! The template walk against the `evtx` crate's own rendering, record by
//! record over every EVTX file of ../shared/corpora: the walked XML must be
//! the crate's XML, and the fields read from it the fields read from the
//! crate's JSON. Records the walk refuses are counted; they are rendered by
//! the crate in real runs. Skipped when the corpora are absent.

mod common;

use common::corpora;
use evtx::{EvtxParser, ParserSettings};
use rampart_event::time::Zone;
use rampart_io::evtx::walk::Walker;
use rampart_parse::formats::windows::evtx_json;
use rampart_parse::{FileContext, ParseOptions};

/// What one record gave: the walk's XML and fields, and the crate's.
struct Compared {
    walked: Option<(String, String)>,
    xml: String,
    fields: String,
}

#[test]
fn the_walk_writes_the_crates_xml_and_reads_the_same_fields() {
    let Some(root) = corpora() else {
        return;
    };
    let manifest = std::fs::read_to_string(root.join("MANIFEST-evtx-records.tsv")).unwrap();
    let ctx = FileContext::new(
        "x.evtx",
        ParseOptions {
            year: None,
            zone: Zone::utc(),
        },
    );
    let (mut walked, mut refused, mut differ) = (0usize, 0usize, Vec::new());
    for line in manifest.lines().skip(1) {
        let path = root.join(line.split('\t').next().unwrap());
        let settings = ParserSettings::new().num_threads(1).indent(false);
        let Ok(parser) = EvtxParser::from_path(&path) else {
            continue;
        };
        let mut parser = parser.with_configuration(settings);
        let mut walker = Walker::default();
        let ctx = ctx.clone();
        let records = parser.serialized_records(move |record| {
            let record = record?;
            let xml = record.clone().into_xml()?.data;
            let json = record.clone().into_json()?.data;
            let fields = format!("{:?}", evtx_json::record(&json, &ctx));
            let walked = walker
                .walk(
                    record.chunk.data,
                    record.binxml_offset as usize,
                    record.binxml_size as usize,
                )
                .map(|w| {
                    let rec = format!("{:?}", Some(w.record(&w.xml)));
                    (w.xml, rec)
                });
            Ok(Compared {
                walked,
                xml,
                fields,
            })
        });
        for c in records.flatten() {
            let Some((xml, fields)) = c.walked else {
                refused += 1;
                continue;
            };
            walked += 1;
            let expected = c.xml.split_once("?>\n").map_or(c.xml.as_str(), |(_, x)| x);
            if xml != expected || fields != c.fields {
                differ.push((
                    path.display().to_string(),
                    xml,
                    expected.to_owned(),
                    fields,
                    c.fields,
                ));
            }
        }
    }
    println!(
        "{walked} records walked, {refused} rendered by the crate, {} differ",
        differ.len()
    );
    for (path, xml, expected, fields, crate_fields) in differ.iter().take(3) {
        println!("{path}\n  walked: {xml}\n  crate:  {expected}\n  fields: {fields}\n  crate:  {crate_fields}");
    }
    assert!(differ.is_empty());
    assert!(walked > 10 * refused, "the walk reads nearly every record");
}
