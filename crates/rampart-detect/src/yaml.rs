//! Small readers of YAML values shared by the rule, correlation and tuning
//! loaders: Sigma writes ids as text or numbers and lists as one value or
//! many, and every loader reads them the same way.

use yaml_rust2::Yaml;

/// A text value at `name`.
pub(crate) fn str_at<'a>(doc: &'a Yaml, name: &str) -> Option<&'a str> {
    doc[name].as_str()
}

/// A scalar at `name` as text (`id: 1234` is the text "1234").
pub(crate) fn text_at(doc: &Yaml, name: &str) -> Option<String> {
    scalar_text(&doc[name])
}

/// A list of texts (or a single text) at `name`.
pub(crate) fn strings_at(doc: &Yaml, name: &str) -> Vec<String> {
    match &doc[name] {
        Yaml::Array(items) => items.iter().filter_map(scalar_text).collect(),
        other => scalar_text(other).into_iter().collect(),
    }
}

pub(crate) fn scalar_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
