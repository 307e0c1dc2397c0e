//! Windows events as XML: a `wevtutil qe /f:xml` stream, an `<Events>`
//! document, or one `<Event>` per line. Events are cut out of the text by
//! their tags, so any layout works, and each is parsed on its own: one broken
//! event is one dead letter, not a lost file.

use std::borrow::Cow;
use std::sync::Arc;

use rampart_event::{Timestamp, Value};
use roxmltree::{Document, Node};

use super::{Field, WinRecord};
use crate::context::FileContext;
use crate::output::Output;
use crate::text::uint;

/// The largest single event accepted; a longer one is a dead letter.
const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// Cuts events out of XML text fed line by line.
#[derive(Debug, Default)]
pub struct XmlDecoder {
    buffer: String,
    start_line: u64,
}

fn event_start(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find("<Event") {
        let at = from + at;
        match text.as_bytes().get(at + 6) {
            Some(b' ' | b'>' | b'\t' | b'\r' | b'\n') => return Some(at),
            _ => from = at + 6,
        }
    }
    None
}

impl XmlDecoder {
    /// Feeds one line.
    pub fn feed(&mut self, ctx: &FileContext, no: u64, line: &str, out: &mut Output) {
        if self.buffer.is_empty() {
            match event_start(line) {
                Some(at) => {
                    self.start_line = no;
                    self.buffer.push_str(&line[at..]);
                }
                None => {
                    let t = line.trim();
                    let framing = t.is_empty()
                        || t.starts_with("<?xml")
                        || t.starts_with("<Events")
                        || t.starts_with("</Events")
                        || t.starts_with("<!--");
                    if framing {
                        out.skipped();
                    } else {
                        out.unparsed(no, "text outside any <Event> element", line);
                    }
                    return;
                }
            }
        } else {
            self.buffer.push('\n');
            self.buffer.push_str(line);
        }
        while let Some(end) = self.buffer.find("</Event>") {
            let rest = self.buffer.split_off(end + "</Event>".len());
            let chunk = std::mem::take(&mut self.buffer);
            let original = Arc::from(chunk.as_str());
            match parse_event(&chunk, ctx) {
                Ok(rec) => out.event(
                    super::FORMAT,
                    super::build(ctx, self.start_line, &original, rec),
                ),
                Err(why) => match parse_damaged_event(&chunk, ctx) {
                    Some((rec, repairs)) => {
                        let mut event = super::build(ctx, self.start_line, &original, rec);
                        mark_repairs(&mut event, repairs);
                        out.event(super::FORMAT, event);
                    }
                    None => {
                        out.unparsed(self.start_line, format!("invalid event XML: {why}"), &chunk)
                    }
                },
            }
            match event_start(&rest) {
                Some(at) => {
                    self.buffer = rest[at..].to_owned();
                    self.start_line = no;
                }
                None => break,
            }
        }
        if self.buffer.len() > MAX_EVENT_BYTES {
            out.unparsed(self.start_line, "event XML longer than 4 MiB", &self.buffer);
            self.buffer.clear();
        }
    }

    /// Reports an event left open at the end of the file.
    pub fn finish(&mut self, out: &mut Output) {
        if !self.buffer.is_empty() {
            out.unparsed(
                self.start_line,
                "event XML cut off at end of file",
                &self.buffer,
            );
            self.buffer.clear();
        }
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn owned(text: &str) -> Cow<'static, str> {
    Cow::Owned(text.to_owned())
}

fn text_of(node: Node<'_, '_>) -> Option<String> {
    let text: String = node
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    Some(text)
}

/// Reads an event that does not parse as written, repairing what is known
/// to break in transit: entities missing their `;` (Sysmon for Linux writes
/// `&lt unknown process&gt `), stray `&`, and an event cut off before its
/// end by a message size limit (closed after its last complete field).
/// Returns the record and the names of the repairs made.
pub fn parse_damaged_event(
    xml: &str,
    ctx: &FileContext,
) -> Option<(WinRecord<'static>, Vec<&'static str>)> {
    let mut repairs = Vec::new();
    let mut text = Cow::Borrowed(xml);
    if let Some(fixed) = fix_entities(&text) {
        text = Cow::Owned(fixed);
        repairs.push("bad-entity");
    }
    if !text.contains("</Event>") && text.contains("<EventData>") {
        let end = text.rfind("</Data>")? + "</Data>".len();
        text = Cow::Owned(format!("{}</EventData></Event>", &text[..end]));
        repairs.push("cut-event");
    }
    if repairs.is_empty() {
        return None;
    }
    Some((parse_event(&text, ctx).ok()?, repairs))
}

/// Names the repairs made to an event's XML in `rampart.quality`.
pub fn mark_repairs(event: &mut rampart_event::Event, repairs: Vec<&'static str>) {
    for repair in repairs {
        crate::output::mark_quality(event, repair);
    }
}

/// `xml` with each `&` that does not start an entity made one: a known
/// entity missing its `;` gets it, anything else becomes `&amp;`. `None`
/// when every `&` is fine.
fn fix_entities(xml: &str) -> Option<String> {
    const NAMES: [&str; 5] = ["lt", "gt", "amp", "quot", "apos"];
    let mut out = String::with_capacity(xml.len() + 16);
    let mut changed = false;
    let mut rest = xml;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let word_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(after.len());
        let word = &after[..word_len];
        let terminated = after[word_len..].starts_with(';');
        let valid = terminated
            && (NAMES.contains(&word)
                || word.strip_prefix('#').is_some_and(|n| {
                    let n = n.strip_prefix('x').unwrap_or(n);
                    !n.is_empty() && n.bytes().all(|b| b.is_ascii_hexdigit())
                }));
        if valid {
            out.push('&');
        } else if !terminated && NAMES.contains(&word) {
            out.push('&');
            out.push_str(word);
            out.push(';');
            rest = &after[word_len..];
            changed = true;
            continue;
        } else {
            out.push_str("&amp;");
            changed = true;
        }
        rest = after;
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Parses one `<Event>` element.
pub fn parse_event(xml: &str, ctx: &FileContext) -> Result<WinRecord<'static>, String> {
    let doc = Document::parse(xml).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    if root.tag_name().name() != "Event" {
        return Err(format!("root element is <{}>", root.tag_name().name()));
    }
    let system = child(root, "System").ok_or("no <System> element")?;
    let mut rec = WinRecord::default();
    for node in system.children().filter(Node::is_element) {
        match node.tag_name().name() {
            "Provider" => {
                rec.provider = node
                    .attribute("Name")
                    .or_else(|| node.attribute("EventSourceName"))
                    .map(owned);
            }
            "EventID" => {
                rec.event_id = node
                    .text()
                    .and_then(|t| uint(t.trim()))
                    .and_then(|n| u32::try_from(n).ok())
            }
            "Level" => rec.level = node.text().and_then(|t| uint(t.trim())).map(|n| n as i64),
            "TimeCreated" => {
                rec.time = node
                    .attribute("SystemTime")
                    .and_then(|t| crate::timefmt::any(t, &ctx.options.zone))
                    .or_else(|| {
                        node.attribute("SystemTime")
                            .and_then(|t| t.parse::<Timestamp>().ok())
                    });
            }
            "EventRecordID" => rec.record_id = node.text().and_then(|t| uint(t.trim())),
            "Execution" => {
                rec.pid = node.attribute("ProcessID").and_then(uint);
                rec.tid = node.attribute("ThreadID").and_then(uint);
            }
            "Channel" => {
                rec.channel = node
                    .text()
                    .map(|t| owned(t.trim()))
                    .filter(|t| !t.is_empty())
            }
            "Computer" => {
                rec.computer = node
                    .text()
                    .map(|t| owned(t.trim()))
                    .filter(|t| !t.is_empty())
            }
            "Security" => rec.user_sid = node.attribute("UserID").map(owned),
            _ => {}
        }
    }
    if let Some(data) = child(root, "EventData") {
        // Unnamed `Data` are one field `Data` (a list when there are
        // several, where the first stood), as the EVTX reader gives them.
        let unnamed: Vec<String> = data
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "Data")
            .filter(|n| n.attribute("Name").is_none())
            .map(|n| text_of(n).unwrap_or_default())
            .collect();
        let mut listed = false;
        for (i, node) in data.children().filter(Node::is_element).enumerate() {
            let text = || Field::Text(Cow::Owned(text_of(node).unwrap_or_default()));
            match node.attribute("Name") {
                Some(name) => rec.data.push((owned(name), text())),
                None if node.tag_name().name() == "Data" => {
                    if unnamed.len() == 1 {
                        rec.data.push((Cow::Borrowed("Data"), text()));
                    } else if !listed {
                        listed = true;
                        let items = unnamed.iter().map(|t| Value::Str(t.clone())).collect();
                        rec.data
                            .push((Cow::Borrowed("Data"), Field::Value(Value::List(items))));
                    }
                }
                None => rec.data.push((
                    Cow::Owned(format!("{}{}", node.tag_name().name(), i)),
                    text(),
                )),
            }
        }
    }
    if let Some(user) = child(root, "UserData") {
        for group in user.children().filter(Node::is_element) {
            for node in group.children().filter(Node::is_element) {
                let name = owned(node.tag_name().name());
                rec.data.push((
                    name,
                    Field::Text(Cow::Owned(text_of(node).unwrap_or_default())),
                ));
            }
        }
    }
    if let Some(info) = child(root, "RenderingInfo") {
        rec.message = child(info, "Message").and_then(text_of).map(Cow::Owned);
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    const EVENT: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Service Control Manager'/><EventID Qualifiers='16384'>7045</EventID><Level>4</Level><TimeCreated SystemTime='2025-03-14T12:04:40.1234567Z'/><EventRecordID>88</EventRecordID><Channel>System</Channel><Computer>WS01</Computer></System><EventData><Data Name='ServiceName'>updsvc</Data><Data Name='ImagePath'>C:\\Users\\Public\\updsvc.exe</Data></EventData></Event>";

    #[test]
    fn unnamed_data_is_one_field_as_the_evtx_reader_gives_it() {
        let ctx = FileContext::new("e.xml", ParseOptions::default());
        let event = |data: &str| {
            format!("<Event><System><EventID>325</EventID><Channel>Application</Channel></System><EventData>{data}<Binary>00</Binary></EventData></Event>")
        };
        let rec = parse_event(&event("<Data>NTDS</Data><Data>C:\\ntds.dit</Data>"), &ctx).unwrap();
        let shown = crate::formats::windows::shown(&rec);
        assert_eq!(
            shown,
            [
                (
                    "Data",
                    r#"List([Str("NTDS"), Str("C:\\ntds.dit")])"#.to_owned()
                ),
                ("Binary2", "00".to_owned()),
            ]
        );
        let one = parse_event(&event("<Data>only</Data>"), &ctx).unwrap();
        assert!(matches!(&one.data[0], (k, Field::Text(t)) if k == "Data" && t == "only"));
    }

    #[test]
    fn events_are_cut_from_any_layout() {
        let ctx = FileContext::new("e.xml", ParseOptions::default());
        let mut d = XmlDecoder::default();
        let mut out = Output::default();
        let split = EVENT.find("<System>").unwrap();
        let doc = format!("<Events>{EVENT}{EVENT}{}", &EVENT[..split]);
        d.feed(&ctx, 1, &doc, &mut out);
        d.feed(&ctx, 2, &format!("{}</Events>", &EVENT[split..]), &mut out);
        d.finish(&mut out);
        assert_eq!(out.events.len(), 3);
        let e = &out.events[0];
        assert_eq!(e.get_str("service.name"), Some("updsvc"));
        assert_eq!(e.get_str("event.code"), Some("7045"));
        assert_eq!(e.get_str("event.dataset"), Some("windows.system"));
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2025-03-14T12:04:40.1234567Z"
        );
        assert_eq!(out.stats.unparsed, 0);
    }

    #[test]
    fn a_broken_event_is_one_dead_letter() {
        let ctx = FileContext::new("e.xml", ParseOptions::default());
        let mut d = XmlDecoder::default();
        let mut out = Output::default();
        d.feed(
            &ctx,
            1,
            "<Event><System><EventID>1</System></Event>",
            &mut out,
        );
        d.feed(&ctx, 2, EVENT, &mut out);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.stats.unparsed, 1);
        assert_eq!(out.dead[0].line, 1);
    }

    #[test]
    fn entities_and_cut_events_are_repaired() {
        assert_eq!(
            fix_entities("<D>&lt unknown&gt x &amp; &#x41; R&D</D>").unwrap(),
            "<D>&lt; unknown&gt; x &amp; &#x41; R&amp;D</D>"
        );
        assert!(fix_entities("<D>&lt;a&gt;</D>").is_none());
        let ctx = FileContext::new("x", ParseOptions::default());
        let xml = r#"<Event><System><EventID>1</EventID></System><EventData><Data Name="Image">&lt unknown process&gt </Data><Data Name="CommandLine">cut he"#;
        let (rec, repairs) = parse_damaged_event(xml, &ctx).unwrap();
        assert_eq!(repairs, ["bad-entity", "cut-event"]);
        assert_eq!(rec.data.len(), 1);
        assert!(parse_damaged_event("<Event><System/></Event>", &ctx).is_none());
    }
}
