//! Windows events as XML: a `wevtutil qe /f:xml` stream, an `<Events>`
//! document, or one `<Event>` per line. Events are cut out of the text by
//! their tags, so any layout works, and each is parsed on its own: one broken
//! event is one dead letter, not a lost file.

use std::borrow::Cow;
use std::sync::Arc;

use rampart_event::Timestamp;
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
            match parse_event(&chunk, ctx) {
                Ok(rec) => out.event(
                    super::FORMAT,
                    super::build(ctx, self.start_line, &Arc::from(chunk.as_str()), rec),
                ),
                Err(why) => {
                    out.unparsed(self.start_line, format!("invalid event XML: {why}"), &chunk)
                }
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
        for (i, node) in data.children().filter(Node::is_element).enumerate() {
            let name = node
                .attribute("Name")
                .map(owned)
                .unwrap_or_else(|| Cow::Owned(format!("{}{}", node.tag_name().name(), i)));
            rec.data.push((
                name,
                Field::Text(Cow::Owned(text_of(node).unwrap_or_default())),
            ));
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
}
