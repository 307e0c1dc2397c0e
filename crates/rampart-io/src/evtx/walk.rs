//! One record's BinXML replayed from its chunk's templates (see
//! [`super::template`]): the record's XML, as Event Viewer shows it, is
//! written once and kept as `event.original`, and the fields rampart maps
//! (`System`, `EventData`, `UserData`) are noted as ranges of it on the way.
//!
//! This replaces rendering each record as JSON with the `evtx` crate and
//! reading the JSON back, which cost more than everything else in decoding.
//! The shapes Windows writes are read here; a record with anything else
//! (other tokens, value types, layouts of `EventData`) is refused and the
//! caller has the crate render it, so the walk never has to guess. A test
//! holds the walk to the crate's XML and fields over the EVTX corpus.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use rampart_event::Value as Typed;
use rampart_parse::formats::windows::{Field, WinRecord};
use rustc_hash::FxHashMap as HashMap;

use super::template::{self, Attribute, DataField, Element, Name, Names, Step, Template};
use super::values::{self, kind, Value, Written};

/// Deepest element nesting and BinXML-in-BinXML nesting walked.
const MAX_ELEMENTS: usize = 64;
const MAX_FRAGMENTS: usize = 8;

/// Steps one record's walk may take, and one chunk's records together. A
/// crafted template can repeat a nested BinXML value many times at every
/// level of nesting, so that a record's work grows exponentially with its
/// size. Real records take a few hundred steps and real chunks some tens of
/// thousands; past these bounds (well inside the crate's own) the walk
/// refuses, and the crate and its limits decide.
const MAX_RECORD_STEPS: usize = 1 << 16;
const MAX_CHUNK_STEPS: usize = 1 << 17;
/// XML one record may write (the crate's limit too), and one chunk's records.
const MAX_RECORD_XML: usize = 16 << 20;
const MAX_CHUNK_XML: usize = 64 << 20;

const FRAGMENT_HEADER: u8 = 0x0f;
const TEMPLATE_INSTANCE: u8 = 0x0c;
const END_OF_FRAGMENT: u8 = 0x00;

/// Walks the records of a chunk, keeping the templates it has read for the
/// chunk's other records. [`Walker::start_chunk`] must be called before
/// the first record of each chunk: templates and names are known by their
/// offsets, which mean nothing in another chunk.
#[derive(Default, Clone)]
pub struct Walker {
    templates: HashMap<usize, Option<Arc<Template>>>,
    names: Names,
    /// Steps and XML bytes the chunk's records have taken so far.
    chunk_steps: usize,
    chunk_xml: usize,
    scratch: Vec<u8>,
    /// Value tables, one per fragment depth, reused.
    tables: Vec<Vec<Value>>,
    /// The size of the last record's XML, to size the next one's.
    last_xml: usize,
    frames: Vec<Frame>,
}

/// A walked record: its XML and where the mapped fields are in it.
#[derive(Debug, Default)]
pub struct Walked {
    /// The record as XML, without an XML declaration.
    pub xml: String,
    system: System,
    fields: Vec<(Key, Held)>,
}

/// The `System` values rampart maps.
#[derive(Debug, Default)]
struct System {
    provider: Option<Held>,
    event_id: Option<Held>,
    level: Option<Held>,
    time: Option<Held>,
    record_id: Option<Held>,
    pid: Option<Held>,
    tid: Option<Held>,
    channel: Option<Held>,
    computer: Option<Held>,
    user_sid: Option<Held>,
}

/// The text of an attribute value or of an element's content, while it is
/// written.
#[derive(Debug, Clone)]
struct Slot {
    range: Range<usize>,
    value: Piece,
}

/// What a slot holds so far.
#[derive(Debug, Clone)]
enum Piece {
    /// A null substitution: nothing written.
    Null,
    /// Exactly the text written.
    Text,
    /// Text that XML escaped: the value itself.
    Escaped(String),
    /// A number or boolean.
    Typed(Typed),
    /// Several pieces that are not all plain text, which no field holds.
    Mixed,
}

/// How a field is named.
#[derive(Debug, Clone)]
enum Key {
    /// By a range of the XML: a `Name` attribute or an element name.
    Text(Range<usize>),
    /// An unnamed `EventData/Data`: the field `Data`, a list of them all
    /// when there are several, as exports show them.
    Unnamed,
}

/// A value kept for a field.
#[derive(Debug, Clone)]
enum Held {
    Null,
    /// A range of the XML.
    Text(Range<usize>),
    Escaped(String),
    Typed(Typed),
}

impl Held {
    fn is_blank(&self) -> bool {
        match self {
            Held::Null => true,
            Held::Text(r) => r.is_empty(),
            Held::Escaped(s) => s.is_empty(),
            Held::Typed(_) => false,
        }
    }
}

/// What a finished slot keeps; `None` for mixed pieces.
fn held(slot: Option<Slot>) -> Option<Option<Held>> {
    Some(match slot {
        None => None,
        Some(s) => Some(match s.value {
            Piece::Null => Held::Null,
            Piece::Text => Held::Text(s.range),
            Piece::Escaped(v) => Held::Escaped(v),
            Piece::Typed(v) => Held::Typed(v),
            Piece::Mixed => return None,
        }),
    })
}

/// Where an element sits, which decides what its values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Event,
    System,
    /// A child of `System`, by name.
    InSystem(Element),
    EventData,
    /// `EventData/Data`, named by its `Name` attribute.
    Data,
    UserData,
    /// The element `UserData` wraps its fields in.
    Wrapper,
    /// A field named by its element (`UserData` fields, `EventData/Binary`).
    Leaf,
    /// Anything rampart does not map (Version, Keywords, RenderingInfo, ...).
    Ignored,
}

#[derive(Debug, Clone)]
struct Frame {
    role: Role,
    /// The element name, as written in the XML.
    name: Range<usize>,
    /// `Data`'s `Name` attribute.
    data_name: Option<Slot>,
    content: Option<Slot>,
}

/// The state of one record's walk.
struct Pass<'c> {
    chunk: &'c [u8],
    out: Vec<u8>,
    frames: Vec<Frame>,
    walked: Walked,
    fragments: usize,
    /// Steps the record may still take.
    steps_left: usize,
}

impl Pass<'_> {
    /// Takes `steps` steps; `None` once the record has taken too many or
    /// written too much.
    fn spend(&mut self, steps: usize) -> Option<()> {
        self.steps_left = self.steps_left.checked_sub(steps)?;
        (self.out.len() <= MAX_RECORD_XML).then_some(())
    }
}

impl Walker {
    /// Forgets the last chunk's templates and names and what its records
    /// took: the next record is another chunk's.
    pub fn start_chunk(&mut self) {
        self.templates.clear();
        self.names.start_chunk();
        self.chunk_steps = 0;
        self.chunk_xml = 0;
    }

    /// Walks the record whose BinXML is `chunk[at..at + len]`; `None` when
    /// it holds anything this walk does not read, or takes more than the
    /// bounds allow.
    pub fn walk(&mut self, chunk: &[u8], at: usize, len: usize) -> Option<Walked> {
        let end = at.checked_add(len)?.min(chunk.len());
        let mut frames = std::mem::take(&mut self.frames);
        frames.clear();
        let mut pass = Pass {
            chunk,
            out: Vec::with_capacity(self.last_xml.max(end.saturating_sub(at) * 2) + 256),
            frames,
            walked: Walked {
                fields: Vec::with_capacity(32),
                ..Walked::default()
            },
            fragments: 0,
            steps_left: MAX_RECORD_STEPS.min(MAX_CHUNK_STEPS.saturating_sub(self.chunk_steps)),
        };
        let budget = pass.steps_left;
        let walked = self.fragment(&mut pass, at, end);
        self.frames = std::mem::take(&mut pass.frames);
        self.chunk_steps += budget - pass.steps_left;
        self.chunk_xml += pass.out.len();
        if walked.is_none() || !self.frames.is_empty() || self.chunk_xml > MAX_CHUNK_XML {
            return None;
        }
        self.last_xml = pass.out.len();
        pass.walked.xml = String::from_utf8(pass.out).ok()?;
        Some(pass.walked)
    }

    /// A fragment that is one template instance: a header (which BinXML
    /// values may leave out), the instance, and the end of the fragment
    /// (or of the bytes).
    fn fragment(&mut self, pass: &mut Pass, mut at: usize, end: usize) -> Option<()> {
        pass.fragments += 1;
        if pass.fragments > MAX_FRAGMENTS {
            return None;
        }
        if pass.chunk.get(at) == Some(&FRAGMENT_HEADER) {
            at += 4;
        }
        let after = self.instance(pass, at, end)?;
        (after == end || pass.chunk.get(after) == Some(&END_OF_FRAGMENT)).then_some(())?;
        pass.fragments -= 1;
        Some(())
    }

    /// The template instance at `at`; returns where it ends.
    fn instance(&mut self, pass: &mut Pass, at: usize, end: usize) -> Option<usize> {
        let chunk = pass.chunk;
        if chunk.get(at) != Some(&TEMPLATE_INSTANCE) {
            return None;
        }
        let definition = super::bytes::u32_at(chunk, at + 6)? as usize;
        let mut pos = at + 10;
        if definition == pos {
            // First use in the chunk: the definition is written here.
            let size = super::bytes::u32_at(chunk, pos + 20)? as usize;
            pos = pos.checked_add(template::HEADER + size)?;
        }
        let template = self.template(chunk, definition)?;
        let mut table = self.tables.pop().unwrap_or_default();
        let after = values::table(chunk, pos, &mut table).filter(|&after| after <= end);
        let ran = after.and_then(|_| self.run(pass, &template, &table));
        self.tables.push(table);
        ran.and(after)
    }

    fn template(&mut self, chunk: &[u8], at: usize) -> Option<Arc<Template>> {
        let names = &mut self.names;
        self.templates
            .entry(at)
            .or_insert_with(|| template::read(chunk, at, names).map(Arc::new))
            .clone()
    }

    /// Replays `template` with `table`'s values.
    fn run(&mut self, pass: &mut Pass, template: &Template, table: &[Value]) -> Option<()> {
        let steps = &template.steps;
        let mut i = 0;
        while let Some(step) = steps.get(i) {
            i += 1;
            pass.spend(1)?;
            match step {
                Step::Open {
                    name,
                    dependency,
                    after,
                    data,
                } => {
                    // A template's root is always written (MS-EVEN6 2.2.12).
                    let left_out = i > 1
                        && dependency
                            .and_then(|d| table.get(usize::from(d)))
                            .is_some_and(Value::is_null);
                    if left_out {
                        i = *after;
                    } else if let Some(field) = data.as_ref().filter(|f| pass.fast_field(f, table))
                    {
                        self.data_field(pass, field, table)?;
                        i = *after;
                    } else {
                        pass.open(name)?;
                    }
                }
                Step::Attribute(name) => {
                    let start = pass.out.len();
                    pass.out.extend_from_slice(name.attribute.as_bytes());
                    let value_start = pass.out.len();
                    let mut slot = None;
                    while let Some(piece @ (Step::Text { .. } | Step::Value { .. })) = steps.get(i)
                    {
                        i += 1;
                        if let Some(written) = self.piece(pass, piece, table, true)? {
                            merge(&mut slot, written);
                        }
                    }
                    if pass.out.len() == value_start {
                        // An attribute with no value is left out.
                        pass.out.truncate(start);
                    } else {
                        pass.out.push(b'"');
                        pass.attribute(name.attribute_kind, slot)?;
                    }
                }
                Step::CloseStart => pass.out.push(b'>'),
                Step::CloseEmpty => {
                    pass.out.extend_from_slice(b"/>");
                    pass.close()?;
                }
                Step::End(name) => {
                    pass.out.extend_from_slice(name.close.as_bytes());
                    pass.close()?;
                }
                Step::Value { index, .. }
                    if table
                        .get(usize::from(*index))
                        .is_some_and(|v| v.kind == kind::BINXML && v.len > 0) =>
                {
                    let v = table[usize::from(*index)];
                    self.fragment(pass, v.at, v.at + v.len)?;
                }
                piece => {
                    if let Some(written) = self.piece(pass, piece, table, false)? {
                        pass.content(written)?;
                    }
                }
            }
        }
        Some(())
    }

    /// A `<Data Name="literal">%n</Data>` or `<Data>%n</Data>` in
    /// `EventData`, written at once. An unnamed one holding an array of
    /// strings is written once per string (MS-EVEN6 3.1.4.7.5).
    fn data_field(&mut self, pass: &mut Pass, field: &DataField, table: &[Value]) -> Option<()> {
        let v = table.get(usize::from(field.value))?;
        if v.kind == kind::STRING_ARRAY {
            let items = values::string_items(pass.chunk, v)?;
            if items.is_empty() {
                pass.out.extend_from_slice(b"<Data></Data>");
                return pass.data(Key::Unnamed, None);
            }
            for item in items {
                pass.spend(1)?;
                pass.out.extend_from_slice(b"<Data>");
                let slot = self.written(pass, &item, false)?;
                pass.out.extend_from_slice(b"</Data>");
                pass.data(Key::Unnamed, Some(slot))?;
            }
            return Some(());
        }
        let start = pass.out.len();
        pass.out.extend_from_slice(field.tag.as_bytes());
        let name = match &field.name {
            Some(name) => Key::Text(start + name.start..start + name.end),
            None => Key::Unnamed,
        };
        let value = Step::Value {
            index: field.value,
            optional: field.optional,
        };
        let slot = self.piece(pass, &value, table, false)?;
        pass.out.extend_from_slice(b"</Data>");
        pass.data(name, slot)
    }

    /// Writes a value that is not null.
    fn written(&mut self, pass: &mut Pass, v: &Value, attribute: bool) -> Option<Slot> {
        let start = pass.out.len();
        let value = match values::write(pass.chunk, v, attribute, &mut pass.out, &mut self.scratch)?
        {
            Written::Text => Piece::Text,
            Written::Escaped(s) => Piece::Escaped(s),
            Written::Typed(t) => Piece::Typed(t),
        };
        Some(Slot {
            range: start..pass.out.len(),
            value,
        })
    }

    /// Writes one text or substitution step; `Some(None)` when it writes
    /// nothing at all (a missing or left-out value).
    fn piece(
        &mut self,
        pass: &mut Pass,
        step: &Step,
        table: &[Value],
        attribute: bool,
    ) -> Option<Option<Slot>> {
        let start = pass.out.len();
        let value = match step {
            Step::Text { xml, text } => {
                pass.out.extend_from_slice(xml.as_bytes());
                if xml.len() == text.len() {
                    Piece::Text
                } else {
                    Piece::Escaped(text.to_string())
                }
            }
            Step::Value { index, optional } => {
                let Some(v) = table.get(usize::from(*index)) else {
                    return Some(None);
                };
                if *optional && v.is_empty(pass.chunk) {
                    return Some(None);
                }
                // BinXML inside an attribute is not a shape Windows writes.
                if v.kind == kind::BINXML {
                    return (v.len == 0).then_some(None);
                }
                if !v.is_null() {
                    return self.written(pass, v, attribute).map(Some);
                }
                Piece::Null
            }
            _ => return None,
        };
        Some(Some(Slot {
            range: start..pass.out.len(),
            value,
        }))
    }
}

/// Adds a piece to what an attribute or element holds so far.
fn merge(slot: &mut Option<Slot>, piece: Slot) {
    let Some(s) = slot else {
        *slot = Some(piece);
        return;
    };
    s.value = match (&s.value, piece.value) {
        (Piece::Null, v) => v,
        (v, Piece::Null) => v.clone(),
        (Piece::Text, Piece::Text) => Piece::Text,
        _ => Piece::Mixed,
    };
    s.range.end = piece.range.end;
}

impl Pass<'_> {
    fn open(&mut self, name: &Name) -> Option<()> {
        if self.frames.len() >= MAX_ELEMENTS {
            return None;
        }
        let parent = self.frames.last().map(|f| f.role);
        let role = match (parent, name.element) {
            (None, Element::Event) => Role::Event,
            (None, _) => return None,
            (Some(Role::Event), Element::System) => Role::System,
            (Some(Role::Event), Element::EventData) => Role::EventData,
            (Some(Role::Event), Element::UserData) => Role::UserData,
            (Some(Role::System), Element::Other) => Role::Ignored,
            (Some(Role::System), element) => Role::InSystem(element),
            (Some(Role::EventData), Element::Data) => Role::Data,
            (Some(Role::EventData), Element::Binary) => Role::Leaf,
            (Some(Role::EventData), _) => return None,
            (Some(Role::UserData), _) => Role::Wrapper,
            (Some(Role::Wrapper), _) => Role::Leaf,
            (Some(Role::Data | Role::Leaf), _) => return None,
            _ => Role::Ignored,
        };
        // The name follows `<`.
        let start = self.out.len() + 1;
        self.out.extend_from_slice(name.open.as_bytes());
        self.frames.push(Frame {
            role,
            name: start..self.out.len(),
            data_name: None,
            content: None,
        });
        Some(())
    }

    fn attribute(&mut self, attribute: Attribute, slot: Option<Slot>) -> Option<()> {
        let frame = self.frames.last_mut()?;
        let sys = &mut self.walked.system;
        let target = match (frame.role, attribute) {
            (Role::InSystem(Element::Provider), Attribute::Name) => &mut sys.provider,
            (Role::InSystem(Element::TimeCreated), Attribute::SystemTime) => &mut sys.time,
            (Role::InSystem(Element::Execution), Attribute::ProcessId) => &mut sys.pid,
            (Role::InSystem(Element::Execution), Attribute::ThreadId) => &mut sys.tid,
            (Role::InSystem(Element::Security), Attribute::UserId) => &mut sys.user_sid,
            (Role::Data, Attribute::Name) => {
                frame.data_name = slot;
                return Some(());
            }
            // Other attributes of a field would be lost as a field: refuse.
            (Role::Data | Role::Leaf, _) => return None,
            _ => return Some(()),
        };
        *target = held(slot)?;
        Some(())
    }

    fn content(&mut self, piece: Slot) -> Option<()> {
        let frame = self.frames.last_mut()?;
        match frame.role {
            Role::Ignored => {}
            Role::Event | Role::System | Role::EventData | Role::UserData | Role::Wrapper => {
                // Text beside elements: not a shape Windows writes.
                if !piece.range.is_empty() {
                    return None;
                }
            }
            _ => merge(&mut frame.content, piece),
        }
        Some(())
    }

    /// Whether `field` can be written at once here: in `EventData`, with a
    /// value that is not BinXML (nor an array, unless `Data` is unnamed).
    fn fast_field(&self, field: &DataField, table: &[Value]) -> bool {
        self.frames
            .last()
            .is_some_and(|f| f.role == Role::EventData)
            && table.get(usize::from(field.value)).is_some_and(|v| {
                v.kind != kind::BINXML && (v.kind != kind::STRING_ARRAY || field.name.is_none())
            })
    }

    /// Notes an `EventData` field named by the text at `name`.
    fn data(&mut self, name: Key, content: Option<Slot>) -> Option<()> {
        // An empty `Data` is empty text, as exports show it.
        let value = held(content)?
            .filter(|h| !h.is_blank())
            .unwrap_or(Held::Text(0..0));
        self.walked.fields.push((name, value));
        Some(())
    }

    fn close(&mut self) -> Option<()> {
        let frame = self.frames.pop()?;
        let sys = &mut self.walked.system;
        let target = match frame.role {
            Role::InSystem(Element::EventId) => &mut sys.event_id,
            Role::InSystem(Element::Level) => &mut sys.level,
            Role::InSystem(Element::EventRecordId) => &mut sys.record_id,
            Role::InSystem(Element::Channel) => &mut sys.channel,
            Role::InSystem(Element::Computer) => &mut sys.computer,
            Role::Data => {
                let name = frame.data_name?;
                matches!(name.value, Piece::Text).then_some(())?;
                return self.data(Key::Text(name.range), frame.content);
            }
            Role::Leaf => {
                // An empty element elsewhere is null, as exports show it.
                let value = held(frame.content)?
                    .filter(|h| !h.is_blank())
                    .unwrap_or(Held::Null);
                self.walked.fields.push((Key::Text(frame.name), value));
                return Some(());
            }
            _ => return Some(()),
        };
        *target = held(frame.content)?;
        Some(())
    }
}

impl Walked {
    /// The record as rampart's Windows record, its text borrowed from
    /// `xml` (the walked XML, as kept in the event).
    pub fn record<'a>(&self, xml: &'a str) -> WinRecord<'a> {
        let range = |r: &Range<usize>| xml.get(r.clone()).unwrap_or_default();
        let text = |held: &Option<Held>| -> Option<Cow<'a, str>> {
            match held.as_ref()? {
                Held::Null => None,
                Held::Text(r) => Some(Cow::Borrowed(range(r))),
                Held::Escaped(v) => Some(Cow::Owned(v.clone())),
                Held::Typed(v) => Some(Cow::Owned(match v {
                    Typed::Int(i) => i.to_string(),
                    Typed::Float(x) => x.to_string(),
                    Typed::Bool(b) => b.to_string(),
                    _ => return None,
                })),
            }
        };
        let number = |held: &Option<Held>| -> Option<u64> {
            match held {
                Some(Held::Typed(Typed::Int(i))) => u64::try_from(*i).ok(),
                _ => text(held)?.trim().parse().ok(),
            }
        };
        let sys = &self.system;
        let mut rec = WinRecord {
            provider: text(&sys.provider),
            event_id: number(&sys.event_id).and_then(|n| u32::try_from(n).ok()),
            channel: text(&sys.channel),
            computer: text(&sys.computer),
            record_id: number(&sys.record_id),
            level: number(&sys.level).and_then(|n| i64::try_from(n).ok()),
            time: text(&sys.time).and_then(|t| t.parse().ok()),
            pid: number(&sys.pid),
            tid: number(&sys.tid),
            user_sid: text(&sys.user_sid),
            data: Vec::with_capacity(self.fields.len()),
            message: None,
        };
        let field = |value: &Held| match value {
            Held::Null => Field::Value(Typed::Null),
            Held::Text(r) => Field::Text(Cow::Borrowed(range(r))),
            Held::Escaped(v) => Field::Text(Cow::Owned(v.clone())),
            Held::Typed(v) => Field::Value(v.clone()),
        };
        let unnamed: Vec<&Held> = self
            .fields
            .iter()
            .filter(|(k, _)| matches!(k, Key::Unnamed))
            .map(|(_, v)| v)
            .collect();
        let mut listed = false;
        for (key, value) in &self.fields {
            match key {
                Key::Text(r) => rec.data.push((Cow::Borrowed(range(r)), field(value))),
                Key::Unnamed if unnamed.len() == 1 => {
                    rec.data.push((Cow::Borrowed("Data"), field(value)))
                }
                // Several unnamed `Data` are one list, where the first stood.
                Key::Unnamed if !listed => {
                    listed = true;
                    let items = unnamed.iter().map(|v| match field(v) {
                        Field::Text(t) => Typed::Str(t.into_owned()),
                        Field::Value(v) => v,
                    });
                    rec.data.push((
                        Cow::Borrowed("Data"),
                        Field::Value(Typed::List(items.collect())),
                    ));
                }
                Key::Unnamed => {}
            }
        }
        rec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evtx::test_binxml::{inline_name, utf16};

    fn open(out: &mut Vec<u8>, name: &str, attributes: bool) {
        out.push(if attributes { 0x41 } else { 0x01 });
        out.extend([0xff, 0xff, 0, 0, 0, 0]);
        inline_name(out, name);
        if attributes {
            out.extend([0u8; 4]);
        }
    }

    /// A chunk with one template, `<Event><System><EventID>%0</EventID>
    /// </System><EventData><Data Name="Image">%1</Data></EventData></Event>`,
    /// and one record of it; returns the chunk and where the record is.
    fn chunk(image: &str) -> (Vec<u8>, usize, usize) {
        let mut c = vec![0u8; template::HEADER];
        c.extend([0x0f, 1, 1, 0]);
        open(&mut c, "Event", false);
        c.push(0x02);
        open(&mut c, "System", false);
        c.push(0x02);
        open(&mut c, "EventID", false);
        c.extend([0x02, 0x0d, 0, 0, kind::UINT16, 0x04, 0x04]);
        open(&mut c, "EventData", false);
        c.push(0x02);
        open(&mut c, "Data", true);
        c.push(0x06);
        inline_name(&mut c, "Name");
        c.extend([0x05, 0x01, 5, 0]);
        c.extend(utf16("Image"));
        c.extend([0x02, 0x0d, 1, 0, kind::STRING, 0x04, 0x04, 0x04, 0x00]);
        let size = (c.len() - template::HEADER) as u32;
        c[20..24].copy_from_slice(&size.to_le_bytes());
        let record = c.len();
        c.extend([0x0f, 1, 1, 0, 0x0c, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let text = utf16(image);
        c.extend(2u32.to_le_bytes());
        c.extend([2, 0, kind::UINT16, 0]);
        c.extend((text.len() as u16).to_le_bytes());
        c.extend([kind::STRING, 0]);
        c.extend(4688u16.to_le_bytes());
        c.extend(text);
        c.push(0x00);
        let len = c.len() - record;
        (c, record, len)
    }

    #[test]
    fn a_record_becomes_its_xml_and_fields() {
        let (c, at, len) = chunk("C:\\a&b.exe");
        let walked = Walker::default().walk(&c, at, len).unwrap();
        assert_eq!(
            walked.xml,
            "<Event><System><EventID>4688</EventID></System><EventData>\
             <Data Name=\"Image\">C:\\a&amp;b.exe</Data></EventData></Event>"
        );
        let rec = walked.record(&walked.xml);
        assert_eq!(rec.event_id, Some(4688));
        assert_eq!(rec.data.len(), 1);
        assert_eq!(rec.data[0].0, "Image");
        assert!(matches!(&rec.data[0].1, Field::Text(t) if t == "C:\\a&b.exe"));
    }

    #[test]
    fn templates_are_not_carried_from_one_chunk_to_another() {
        let (a, at, len) = chunk("a.exe");
        let (mut b, _, _) = chunk("b.exe");
        // Another chunk: another header, and its template writes Name2.
        b[0] = 1;
        let name = b.windows(10).position(|w| w == utf16("Image")).unwrap();
        b[name + 8] = b'2';
        let mut walker = Walker::default();
        assert!(walker.walk(&a, at, len).unwrap().xml.contains("\"Image\""));
        walker.start_chunk();
        assert!(walker.walk(&b, at, len).unwrap().xml.contains("\"Imag2\""));
    }

    /// A template `<Event>%0%0...</Event>` whose value 0 is, `depth` times
    /// over, BinXML instancing the same template: `fanout ^ depth` copies.
    fn nested(fanout: usize, depth: usize) -> (Vec<u8>, usize, usize) {
        let mut c = vec![0u8; template::HEADER];
        c.extend([0x0f, 1, 1, 0]);
        open(&mut c, "Event", false);
        c.push(0x02);
        for _ in 0..fanout {
            c.extend([0x0d, 0, 0, kind::BINXML]);
        }
        c.extend([0x04, 0x00]);
        let size = (c.len() - template::HEADER) as u32;
        c[20..24].copy_from_slice(&size.to_le_bytes());
        let record = c.len();
        let mut value = Vec::new();
        for _ in 0..depth {
            let mut instance = vec![0x0f, 1, 1, 0, 0x0c, 1, 0, 0, 0, 0, 0, 0, 0, 0];
            instance.extend(1u32.to_le_bytes());
            instance.extend((value.len() as u16).to_le_bytes());
            instance.extend([kind::BINXML, 0]);
            instance.extend(&value);
            instance.push(0x00);
            value = instance;
        }
        let len = value.len();
        c.extend(value);
        (c, record, len)
    }

    #[test]
    fn a_record_that_multiplies_its_work_is_refused() {
        let (c, at, len) = nested(2, 3);
        let walked = Walker::default().walk(&c, at, len).unwrap();
        assert_eq!(walked.xml.matches("<Event>").count(), 1 + 2 + 4);
        // 6^7 copies: 280,000 instances, far past the steps a record may take.
        let (c, at, len) = nested(6, 7);
        assert!(Walker::default().walk(&c, at, len).is_none());
    }

    #[test]
    fn a_chunk_whose_records_take_too_many_steps_together_is_refused() {
        let (c, at, len) = chunk("a.exe");
        let mut walker = Walker::default();
        let walked = (0..MAX_CHUNK_STEPS)
            .take_while(|_| walker.walk(&c, at, len).is_some())
            .count();
        assert!(walked > 1000 && walked < MAX_CHUNK_STEPS, "{walked}");
        walker.start_chunk();
        assert!(walker.walk(&c, at, len).is_some());
    }

    #[test]
    fn damaged_bytes_are_refused_or_walked_never_a_panic() {
        let (c, at, len) = chunk("powershell.exe -enc AAAA");
        for i in 0..c.len() {
            for byte in [0x00, 0x01, 0x0c, 0x0f, 0x41, 0x7f, 0xff] {
                let mut damaged = c.clone();
                damaged[i] = byte;
                // A fresh walker: templates are read per chunk.
                if let Some(w) = Walker::default().walk(&damaged, at, len) {
                    let _ = w.record(&w.xml);
                }
            }
        }
        let mut walker = Walker::default();
        assert!(walker.walk(&c, at, len).is_some());
        assert!(walker.walk(&c, at, len + 1_000_000).is_some());
        assert!(walker.walk(&c, at + 1, len).is_none());
    }
}
