//! EVTX records written back in a form other tools read: no library
//! writes EVTX, so a sanitised record comes out as evtx_dump's JSON (one
//! record a line: elements as keys, attributes under `#attributes`, an
//! element's text beside its attributes as `#text`, each named `Data` of
//! `EventData` under its name, unnamed ones as one list `Data`), made from
//! the record's XML.

use roxmltree::{Document, Node};
use serde_json::{Map, Value};

/// The record `xml` as a line of evtx_dump's JSON; `None` when it is not
/// XML.
pub fn to_json(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).ok()?;
    let root = doc.root_element();
    let mut top = Map::new();
    top.insert(root.tag_name().name().to_owned(), element(root, false));
    serde_json::to_string(&Value::Object(top)).ok()
}

/// An element's attributes, `None` when it has none.
fn attributes(node: Node<'_, '_>) -> Option<Value> {
    let mut map = Map::new();
    if let Some(ns) = node
        .tag_name()
        .namespace()
        .filter(|_| node.parent_element().is_none())
    {
        map.insert("xmlns".into(), Value::String(ns.to_owned()));
    }
    for a in node.attributes() {
        map.insert(a.name().to_owned(), Value::String(a.value().to_owned()));
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

/// The text of an element (its text children joined).
fn text(node: Node<'_, '_>) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

/// An element as evtx_dump writes it; `data` when it is `EventData`, whose
/// `Data` are keyed by their `Name`.
fn element(node: Node<'_, '_>, data: bool) -> Value {
    let attrs = attributes(node);
    let children: Vec<Node<'_, '_>> = node.children().filter(Node::is_element).collect();
    if children.is_empty() {
        let text = text(node);
        return match attrs {
            None if text.is_empty() => Value::Null,
            None => Value::String(text),
            Some(attrs) => {
                let mut map = Map::new();
                map.insert("#attributes".into(), attrs);
                if !text.is_empty() {
                    map.insert("#text".into(), Value::String(text));
                }
                Value::Object(map)
            }
        };
    }
    let mut map = Map::new();
    if let Some(attrs) = attrs {
        map.insert("#attributes".into(), attrs);
    }
    let mut unnamed = Vec::new();
    for child in children {
        let name = child.tag_name().name();
        if data && name == "Data" {
            match child.attribute("Name") {
                Some(key) => {
                    map.insert(key.to_owned(), Value::String(text(child)));
                }
                None => unnamed.push(Value::String(text(child))),
            }
            continue;
        }
        let value = element(child, name == "EventData");
        match map.get_mut(name) {
            Some(Value::Array(items)) => items.push(value),
            Some(first) => {
                let first = first.take();
                map.insert(name.to_owned(), Value::Array(vec![first, value]));
            }
            None => {
                map.insert(name.to_owned(), value);
            }
        }
    }
    match unnamed.len() {
        0 => {}
        1 => {
            map.insert("Data".into(), unnamed.remove(0));
        }
        _ => {
            map.insert("Data".into(), Value::Array(unnamed));
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_becomes_evtx_dumps_json() {
        let xml = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="ESENT"/><EventID Qualifiers="0">325</EventID><Computer>DC1</Computer></System><EventData><Data Name="User">NT AUTHORITY\SYSTEM</Data><Data>a</Data><Data>b</Data><Binary>00</Binary></EventData></Event>"#;
        let json: Value = serde_json::from_str(&to_json(xml).unwrap()).unwrap();
        let event = &json["Event"];
        assert_eq!(
            event["#attributes"]["xmlns"],
            "http://schemas.microsoft.com/win/2004/08/events/event"
        );
        assert_eq!(event["System"]["Provider"]["#attributes"]["Name"], "ESENT");
        assert_eq!(event["System"]["EventID"]["#text"], "325");
        assert_eq!(event["System"]["Computer"], "DC1");
        assert_eq!(event["EventData"]["User"], "NT AUTHORITY\\SYSTEM");
        assert_eq!(event["EventData"]["Data"], serde_json::json!(["a", "b"]));
        assert_eq!(event["EventData"]["Binary"], "00");
        assert!(to_json("not xml").is_none());
    }
}
