//! Template definitions of an EVTX chunk (MS-EVEN6 §2.2.12-2.2.13), read
//! once per chunk into a flat list of steps.
//!
//! Nearly every record is one instance of a template the chunk defines once:
//! the template holds the XML skeleton, the record only its substitution
//! values. Reading each skeleton once and replaying it per record is what
//! makes walking records cheaper than rendering and re-reading them.
//!
//! Only the tokens Windows writes in templates are understood (elements,
//! attributes, text, substitutions). A definition with anything else (CDATA,
//! character or entity references, processing instructions, a template
//! inside a template) is refused, and its records are rendered by the `evtx`
//! crate instead.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::bytes::{u16_at, u32_at, utf16_name};
use super::values;

/// Most steps a template may have: Windows templates have a few hundred.
const MAX_STEPS: usize = 16_384;

/// The element names rampart maps, known when the template is read so a
/// record's walk compares no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    Event,
    System,
    Provider,
    EventId,
    Level,
    TimeCreated,
    EventRecordId,
    Execution,
    Channel,
    Computer,
    Security,
    EventData,
    UserData,
    Data,
    Binary,
    Other,
}

/// The attribute names rampart maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    Name,
    SystemTime,
    ProcessId,
    ThreadId,
    UserId,
    Other,
}

/// One step of a template, in document order, with its XML text ready.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An element starts: `tag` is `<Name`. It is left out, with
    /// everything up to step `after`, when the substitution value its
    /// `dependency` names is null.
    Open {
        name: Arc<Name>,
        dependency: Option<u16>,
        after: usize,
        /// Set when the element is `<Data Name="literal">%n</Data>` or
        /// `<Data>%n</Data>`.
        data: Option<DataField>,
    },
    /// An attribute starts; the text and substitutions after it are its
    /// value.
    Attribute(Arc<Name>),
    /// The start tag ends and content follows.
    CloseStart,
    /// The element ends without content (`/>`).
    CloseEmpty,
    /// The element ends after its content.
    End(Arc<Name>),
    /// Literal text: as XML (escaped for where it stands) and as itself.
    Text { xml: Box<str>, text: Box<str> },
    /// Substitution value `index`; an optional one is left out when empty.
    Value { index: u16, optional: bool },
}

/// `<Data Name="literal">%n</Data>`, the shape of nearly every `EventData`
/// field, or `<Data>%n</Data>`, as one step: written at once when it
/// stands in `EventData`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataField {
    /// `<Data Name="literal">` or `<Data>`
    pub tag: Box<str>,
    /// Where the literal is in `tag`; `None` for an unnamed `Data`.
    pub name: Option<std::ops::Range<usize>>,
    /// The substitution value and whether it is optional.
    pub value: u16,
    pub optional: bool,
}

/// A template definition as steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub steps: Vec<Step>,
}

/// The bytes a definition header takes before its BinXML: the offset of the
/// next definition, the template GUID and the data size.
pub const HEADER: usize = 24;

/// A name as the XML needs it, made once per chunk: templates share most
/// of their names.
#[derive(Debug, PartialEq)]
pub struct Name {
    /// `<Name`
    pub open: Box<str>,
    /// `</Name>`
    pub close: Box<str>,
    /// ` Name="`
    pub attribute: Box<str>,
    pub element: Element,
    pub attribute_kind: Attribute,
}

impl Name {
    fn new(name: &str) -> Name {
        let framed = |before: &str, after: &str| -> Box<str> {
            let mut s = String::with_capacity(before.len() + name.len() + after.len());
            s.push_str(before);
            s.push_str(name);
            s.push_str(after);
            s.into()
        };
        Name {
            open: framed("<", ""),
            close: framed("</", ">"),
            attribute: framed(" ", "=\""),
            element: element(name),
            attribute_kind: attribute(name),
        }
    }
}

/// Names read so far: the chunk's by offset, and every chunk's by their
/// UTF-16 text, so that a name met in an earlier chunk (the same few
/// hundred recur in every log) is not decoded and framed again.
#[derive(Debug, Default, Clone)]
pub struct Names {
    at: HashMap<usize, Arc<Name>>,
    known: HashMap<Box<[u8]>, Arc<Name>>,
}

/// The most names kept across chunks, and the longest (UTF-16 bytes); past
/// them, names are made per chunk, so a crafted file cannot fill memory.
const MAX_KNOWN_NAMES: usize = 4096;
const MAX_KNOWN_NAME_BYTES: usize = 256;

impl Names {
    /// Forgets the offsets, which mean nothing in the next chunk.
    pub fn start_chunk(&mut self) {
        self.at.clear();
    }
}

/// Reads the definition at chunk offset `at`; `None` when it holds anything
/// this reader does not understand or runs outside the chunk.
pub fn read(chunk: &[u8], at: usize, names: &mut Names) -> Option<Template> {
    let size = u32_at(chunk, at + 20)? as usize;
    // A definition claiming more bytes than the chunk has is refused, as
    // the crate refuses it.
    let end = at.checked_add(HEADER)?.checked_add(size)?;
    if end > chunk.len() {
        return None;
    }
    let mut pos = at + HEADER;
    // About one step per 8 bytes of definition.
    let mut steps = Vec::with_capacity(end.saturating_sub(pos) / 8);
    // Open elements: the step that opened each and its name.
    let mut open: Vec<(usize, Arc<Name>)> = Vec::new();
    let mut in_attribute = false;
    loop {
        if steps.len() > MAX_STEPS || pos >= end {
            return None;
        }
        let token = chunk[pos];
        match token {
            0x00 => break,
            0x0f => pos += 4,
            0x01 | 0x41 => {
                let dependency = u16_at(chunk, pos + 1)?;
                let name_at = u32_at(chunk, pos + 7)? as usize;
                pos += 11;
                let (name, next) = name(chunk, name_at, pos, names)?;
                pos = next;
                if token == 0x41 {
                    pos += 4; // the attribute list's size
                }
                open.push((steps.len(), Arc::clone(&name)));
                steps.push(Step::Open {
                    name,
                    dependency: (dependency != 0xffff).then_some(dependency),
                    after: 0,
                    data: None,
                });
                in_attribute = false;
            }
            0x06 | 0x46 => {
                let name_at = u32_at(chunk, pos + 1)? as usize;
                let (name, next) = name(chunk, name_at, pos + 5, names)?;
                pos = next;
                steps.push(Step::Attribute(name));
                in_attribute = true;
            }
            0x02 => {
                pos += 1;
                steps.push(Step::CloseStart);
                in_attribute = false;
            }
            0x03 | 0x04 => {
                pos += 1;
                let (started, name) = open.pop()?;
                steps.push(if token == 0x03 {
                    Step::CloseEmpty
                } else {
                    Step::End(name)
                });
                let after = steps.len();
                if let Some(Step::Open { after: a, .. }) = steps.get_mut(started) {
                    *a = after;
                }
                in_attribute = false;
            }
            0x05 | 0x45 => {
                // Literal values in templates are strings (type 0x01).
                if chunk.get(pos + 1) != Some(&0x01) {
                    return None;
                }
                let chars = u16_at(chunk, pos + 2)? as usize;
                let text = utf16_name(chunk.get(pos + 4..pos + 4 + chars * 2)?)?;
                pos += 4 + chars * 2;
                steps.push(Step::Text {
                    xml: escape(&text, in_attribute).into(),
                    text,
                });
            }
            0x0d | 0x0e => {
                let index = u16_at(chunk, pos + 1)?;
                // The type the substitution expects, which the crate checks.
                if !values::is_type(*chunk.get(pos + 3)?) {
                    return None;
                }
                pos += 4;
                steps.push(Step::Value {
                    index,
                    optional: token == 0x0e,
                });
            }
            _ => return None,
        }
    }
    if !open.is_empty() {
        return None;
    }
    fuse_data_fields(&mut steps);
    Some(Template { steps })
}

/// Marks each `<Data Name="literal">%n</Data>` (six steps) and
/// `<Data>%n</Data>` (four) as one field.
fn fuse_data_fields(steps: &mut [Step]) {
    for i in 0..steps.len() {
        let field = match &steps[i..] {
            [Step::Open { name, after, .. }, Step::Attribute(attribute), Step::Text { xml, text }, Step::CloseStart, Step::Value { index, optional }, Step::End(_), ..]
                if name.element == Element::Data
                    && attribute.attribute_kind == Attribute::Name
                    && xml == text
                    && !text.is_empty()
                    && *after == i + 6 =>
            {
                const OPEN: &str = "<Data Name=\"";
                let mut tag = String::with_capacity(OPEN.len() + text.len() + 2);
                tag.push_str(OPEN);
                tag.push_str(text);
                tag.push_str("\">");
                Some(DataField {
                    tag: tag.into(),
                    name: Some(OPEN.len()..OPEN.len() + text.len()),
                    value: *index,
                    optional: *optional,
                })
            }
            [Step::Open { name, after, .. }, Step::CloseStart, Step::Value { index, optional }, Step::End(_), ..]
                if name.element == Element::Data && *after == i + 4 =>
            {
                Some(DataField {
                    tag: "<Data>".into(),
                    name: None,
                    value: *index,
                    optional: *optional,
                })
            }
            _ => None,
        };
        if let (Some(field), Step::Open { data, .. }) = (field, &mut steps[i]) {
            *data = Some(field);
        }
    }
}

fn element(name: &str) -> Element {
    match name {
        "Event" => Element::Event,
        "System" => Element::System,
        "Provider" => Element::Provider,
        "EventID" => Element::EventId,
        "Level" => Element::Level,
        "TimeCreated" => Element::TimeCreated,
        "EventRecordID" => Element::EventRecordId,
        "Execution" => Element::Execution,
        "Channel" => Element::Channel,
        "Computer" => Element::Computer,
        "Security" => Element::Security,
        "EventData" => Element::EventData,
        "UserData" => Element::UserData,
        "Data" => Element::Data,
        "Binary" => Element::Binary,
        _ => Element::Other,
    }
}

fn attribute(name: &str) -> Attribute {
    match name {
        "Name" => Attribute::Name,
        "SystemTime" => Attribute::SystemTime,
        "ProcessID" => Attribute::ProcessId,
        "ThreadID" => Attribute::ThreadId,
        "UserID" => Attribute::UserId,
        _ => Attribute::Other,
    }
}

/// Literal text as XML: `&`, `<`, `>` (and quotes in attributes) escaped.
fn escape(text: &str, attribute: bool) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>') || (attribute && matches!(c, '"' | '\''));
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The name at chunk offset `at`, and where the token stream goes on from
/// `pos`: past the name when it is written inline there (its first use in
/// the chunk), else at `pos`.
fn name(chunk: &[u8], at: usize, pos: usize, names: &mut Names) -> Option<(Arc<Name>, usize)> {
    // next offset (4), hash (2), character count (2), characters, NUL.
    let chars = u16_at(chunk, at + 6)? as usize;
    let next = if at == pos {
        pos + 8 + chars * 2 + 2
    } else {
        pos
    };
    if let Some(name) = names.at.get(&at) {
        return Some((Arc::clone(name), next));
    }
    let units = chunk.get(at + 8..at + 8 + chars * 2)?;
    let name = match names.known.get(units) {
        Some(name) => Arc::clone(name),
        None => {
            let name = Arc::new(Name::new(&utf16_name(units)?));
            if names.known.len() < MAX_KNOWN_NAMES && units.len() <= MAX_KNOWN_NAME_BYTES {
                names.known.insert(units.into(), Arc::clone(&name));
            }
            name
        }
    };
    names.at.insert(at, Arc::clone(&name));
    Some((name, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evtx::test_binxml::{inline_name, utf16};

    /// `<Data Name="x&">%0</Data>` as a definition at offset 0.
    fn definition() -> Vec<u8> {
        let mut d = vec![0u8; HEADER];
        d.extend([0x0f, 1, 1, 0]);
        d.extend([0x41, 0xff, 0xff, 0, 0, 0, 0]);
        inline_name(&mut d, "Data");
        d.extend([0u8; 4]);
        d.push(0x06);
        inline_name(&mut d, "Name");
        d.extend([0x05, 0x01, 2, 0]);
        d.extend(utf16("x&"));
        d.push(0x02);
        d.extend([0x0e, 0, 0, 0x01]);
        d.extend([0x04, 0x00]);
        let size = (d.len() - HEADER) as u32;
        d[20..24].copy_from_slice(&size.to_le_bytes());
        d
    }

    #[test]
    fn a_definition_becomes_steps_with_inline_names_read() {
        let t = read(&definition(), 0, &mut Names::default()).unwrap();
        assert_eq!(
            t.steps,
            [
                Step::Open {
                    name: Arc::new(Name::new("Data")),
                    dependency: None,
                    after: 6,
                    data: None,
                },
                Step::Attribute(Arc::new(Name::new("Name"))),
                Step::Text {
                    xml: "x&amp;".into(),
                    text: "x&".into()
                },
                Step::CloseStart,
                Step::Value {
                    index: 0,
                    optional: true
                },
                Step::End(Arc::new(Name::new("Data"))),
            ]
        );
    }

    #[test]
    fn unknown_tokens_and_cut_definitions_are_refused() {
        let mut d = definition();
        let cdata = d.len() - 2;
        d[cdata] = 0x07;
        assert!(read(&d, 0, &mut Names::default()).is_none());
        let d = definition();
        assert!(read(&d[..d.len() - 3], 0, &mut Names::default()).is_none());
        assert!(read(&d, d.len(), &mut Names::default()).is_none());
    }
}
