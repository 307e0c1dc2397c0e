//! Sigma value modifiers: `Field|mod1|mod2: values` compiled into checks on
//! one field value. One module per modifier family ([`string`] for text
//! placement and case, [`encoding`] for Base64/UTF-16/dashes, [`numeric`]
//! for comparisons and [`network`] for CIDR); this module reads the modifier
//! chain and the YAML values and builds the checks.

pub mod encoding;
pub mod glob;
pub mod network;
pub mod numeric;
pub mod regex_literals;
pub mod string;
pub mod wildcard;

use std::borrow::Cow;
use std::collections::HashMap;

use rampart_event::time::Zone;
use rampart_event::ValueRef;
use regex::{Regex, RegexBuilder};

use self::numeric::NumOp;
use self::string::{Haystack, Place, StrMatch};

/// A scalar value as the rule's YAML wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null` or nothing.
    Null,
}

impl Scalar {
    /// The text a string comparison uses.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Scalar::Str(s) => Cow::Borrowed(s),
            Scalar::Int(i) => Cow::Owned(i.to_string()),
            Scalar::Float(f) => Cow::Owned(f.to_string()),
            Scalar::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Scalar::Null => Cow::Borrowed(""),
        }
    }
}

/// How text is turned into bytes before Base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wide {
    Le,
    Be,
    LeWithBom,
}

/// The modifier chain of one field term.
#[derive(Debug, Clone, Default)]
pub struct Modifiers {
    place: Option<Place>,
    cased: bool,
    /// `all`: every value must match (default: any).
    pub all: bool,
    regex: Option<(bool, bool, bool)>,
    wide: Option<Wide>,
    base64: bool,
    base64offset: bool,
    windash: bool,
    numeric: Option<NumOp>,
    cidr: bool,
    exists: bool,
    fieldref: bool,
    expand: bool,
    /// `neq`: the field must differ from every value.
    pub neq: bool,
    /// `hour` (a rampart extension): compare the UTC hour of day of a time.
    hour: bool,
}

impl Modifiers {
    /// Reads the modifiers after the field name, in order.
    pub fn parse(names: &[&str]) -> Result<Modifiers, String> {
        let mut m = Modifiers::default();
        for name in names {
            match *name {
                "contains" => m.place = Some(Place::Contains),
                "startswith" => m.place = Some(Place::Prefix),
                "endswith" => m.place = Some(Place::Suffix),
                "all" => m.all = true,
                "cased" => m.cased = true,
                "re" => m.regex = Some((false, false, false)),
                "i" | "ignorecase" | "m" | "multiline" | "s" | "dotall" => {
                    let Some(flags) = m.regex.as_mut() else {
                        return Err(format!("modifier '{name}' only follows 're'"));
                    };
                    match name.chars().next() {
                        Some('i') => flags.0 = true,
                        Some('m') => flags.1 = true,
                        _ => flags.2 = true,
                    }
                }
                "base64" => m.base64 = true,
                "base64offset" => m.base64offset = true,
                "utf16le" | "wide" => m.wide = Some(Wide::Le),
                "utf16be" => m.wide = Some(Wide::Be),
                "utf16" => m.wide = Some(Wide::LeWithBom),
                "windash" => m.windash = true,
                "lt" => m.numeric = Some(NumOp::Lt),
                "lte" => m.numeric = Some(NumOp::Lte),
                "gt" => m.numeric = Some(NumOp::Gt),
                "gte" => m.numeric = Some(NumOp::Gte),
                "cidr" => m.cidr = true,
                "exists" => m.exists = true,
                "fieldref" => m.fieldref = true,
                "expand" => m.expand = true,
                "neq" => m.neq = true,
                "hour" => m.hour = true,
                other => return Err(format!("unknown modifier '{other}'")),
            }
        }
        if m.wide.is_some() && !(m.base64 || m.base64offset) {
            return Err("utf16 modifiers need base64 or base64offset after them".into());
        }
        Ok(m)
    }

    /// Whether the values name other fields (`fieldref`).
    pub fn is_fieldref(&self) -> bool {
        self.fieldref
    }
}

/// A compiled check of one field value.
#[derive(Debug, Clone)]
pub enum ValueMatch {
    /// Text placement, wildcards, case.
    Str(StrMatch),
    /// A regular expression (`re`), and the literals one of which starts
    /// every match, when it has such a set (for pruning).
    Regex(Regex, Option<Vec<String>>),
    /// A numeric comparison (`lt`, `gte`, ...), or numeric equality when the
    /// field holds a number and the rule wrote one.
    Num(NumOp, f64),
    /// An address range (`cidr`).
    Cidr(ipnet::IpNet),
    /// `null`: the field is absent or null.
    Null,
    /// `exists: true|false`.
    Exists(bool),
    /// `fieldref`: equal to (or placed within) another field's value; the
    /// names are the event fields the referenced Sigma field maps to.
    FieldRef(Vec<String>, Place, bool),
    /// `hour`: the hour of day (0-23) of a time, in a zone, compared with a number.
    Hour(NumOp, f64, Zone),
}

/// How values are read, set once per rule set.
#[derive(Debug, Clone, Default)]
pub struct ValueOptions {
    /// Values for `expand`'s `%placeholders%`.
    pub placeholders: HashMap<String, Vec<String>>,
    /// The zone whose clock the `hour` modifier reads (business hours);
    /// UTC by default.
    pub hour_zone: Zone,
}

/// Compiles the values of one term. `options` resolves `expand`'s `%name%`
/// and gives `hour` its zone; `map_field` resolves a `fieldref` target to
/// event field names.
pub fn compile(
    mods: &Modifiers,
    values: &[Scalar],
    options: &ValueOptions,
    map_field: &dyn Fn(&str) -> Vec<String>,
) -> Result<Vec<ValueMatch>, String> {
    let placeholders = &options.placeholders;
    let mut out = Vec::new();
    for value in values {
        if mods.exists {
            match value {
                Scalar::Bool(b) => out.push(ValueMatch::Exists(*b)),
                other => return Err(format!("exists takes true or false, not {other:?}")),
            }
            continue;
        }
        if mods.fieldref {
            let place = mods.place.unwrap_or(Place::Exact);
            out.push(ValueMatch::FieldRef(
                map_field(&value.text()),
                place,
                mods.cased,
            ));
            continue;
        }
        if mods.hour {
            let n = match value {
                Scalar::Int(i) => *i as f64,
                other => return Err(format!("hour compares with a number, not {other:?}")),
            };
            out.push(ValueMatch::Hour(
                mods.numeric.unwrap_or(NumOp::Eq),
                n,
                options.hour_zone.clone(),
            ));
            continue;
        }
        if let Some(op) = mods.numeric {
            let n = match value {
                Scalar::Int(i) => *i as f64,
                Scalar::Float(f) => *f,
                Scalar::Str(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("'{s}' is not a number for {op:?}"))?,
                other => return Err(format!("{other:?} is not a number for {op:?}")),
            };
            out.push(ValueMatch::Num(op, n));
            continue;
        }
        if mods.cidr {
            let text = value.text();
            let net = network::parse_cidr(&text)?;
            out.push(ValueMatch::Cidr(net));
            continue;
        }
        if let Some((i, m, s)) = mods.regex {
            let pattern = value.text();
            let re = RegexBuilder::new(&pattern)
                .case_insensitive(i)
                .multi_line(m)
                .dot_matches_new_line(s)
                .size_limit(1 << 22)
                .build()
                .map_err(|e| format!("bad regex: {e}"))?;
            let literals = regex_literals::necessary(&pattern, i, m, s);
            out.push(ValueMatch::Regex(re, literals));
            continue;
        }
        match value {
            Scalar::Null => {
                out.push(ValueMatch::Null);
                continue;
            }
            Scalar::Int(i) if mods.place.is_none() && !mods.base64 && !mods.base64offset => {
                // Numbers compare as numbers with numeric fields and as text
                // with text fields (`EventID: 4688` against "4688").
                out.push(ValueMatch::Num(NumOp::Eq, *i as f64));
                continue;
            }
            _ => {}
        }
        let texts = if mods.expand {
            expand(&value.text(), placeholders)?
        } else {
            vec![value.text().into_owned()]
        };
        for text in texts {
            for encoded in encode(mods, &text) {
                let place = mods.place.unwrap_or(Place::Exact);
                if mods.windash {
                    match encoding::windash(&encoded) {
                        Some(variants) => {
                            for v in variants {
                                out.push(ValueMatch::Str(StrMatch::new(&v, place, mods.cased)?));
                            }
                        }
                        None => out.push(ValueMatch::Str(StrMatch::any_dash(
                            &encoded, place, mods.cased,
                        )?)),
                    }
                } else {
                    out.push(ValueMatch::Str(StrMatch::new(&encoded, place, mods.cased)?));
                }
            }
        }
    }
    Ok(out)
}

/// The Base64/UTF-16 forms of `text` the modifiers ask for (`text` itself
/// when there are none).
fn encode(mods: &Modifiers, text: &str) -> Vec<String> {
    let bytes = match mods.wide {
        None => text.as_bytes().to_vec(),
        Some(Wide::Le) => encoding::utf16(text, true, false),
        Some(Wide::Be) => encoding::utf16(text, false, false),
        Some(Wide::LeWithBom) => encoding::utf16(text, true, true),
    };
    if mods.base64offset {
        encoding::base64_offsets(&bytes)
    } else if mods.base64 {
        vec![encoding::base64(&bytes)]
    } else {
        vec![text.to_owned()]
    }
}

/// Replaces `%name%` placeholders with their configured values.
fn expand(text: &str, placeholders: &HashMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    let Some(start) = text.find('%') else {
        return Ok(vec![text.to_owned()]);
    };
    let Some(len) = text[start + 1..].find('%') else {
        return Ok(vec![text.to_owned()]);
    };
    let name = &text[start + 1..start + 1 + len];
    let values = placeholders
        .get(name)
        .ok_or_else(|| format!("placeholder %{name}% has no configured values"))?;
    let rest = &text[start + len + 2..];
    let mut out = Vec::new();
    for tail in expand(rest, placeholders)? {
        for v in values {
            out.push(format!("{}{v}{tail}", &text[..start]));
        }
    }
    Ok(out)
}

/// The text of a field value, as string comparisons see it.
pub fn text_of(value: ValueRef<'_>) -> Cow<'_, str> {
    match value {
        ValueRef::Str(s) => Cow::Borrowed(s),
        ValueRef::Null => Cow::Borrowed(""),
        other => {
            // Room for an IPv6 address or a time at once, instead of
            // growing the text step by step as it is written.
            let mut text = String::with_capacity(48);
            let _ = std::fmt::Write::write_fmt(&mut text, format_args!("{other}"));
            Cow::Owned(text)
        }
    }
}

impl ValueMatch {
    /// Whether a present, non-list field value matches. `other` fetches a
    /// field for `fieldref`.
    pub fn matches<'a>(
        &self,
        value: ValueRef<'a>,
        other: &dyn Fn(&str) -> Option<ValueRef<'a>>,
    ) -> bool {
        self.matches_in(value, &Haystack::new(&text_of(value)), other)
    }

    /// Like [`ValueMatch::matches`], with the value's text prepared once for
    /// all the checks of a field.
    pub fn matches_in<'a>(
        &self,
        value: ValueRef<'a>,
        hay: &Haystack<'_>,
        other: &dyn Fn(&str) -> Option<ValueRef<'a>>,
    ) -> bool {
        match self {
            ValueMatch::Str(m) => m.is_match_in(hay),
            ValueMatch::Regex(re, _) => re.is_match(hay.raw()),
            ValueMatch::Num(op, n) => numeric::compare(*op, value, *n),
            ValueMatch::Cidr(net) => network::contains(net, value),
            ValueMatch::Null => matches!(value, ValueRef::Null),
            ValueMatch::Exists(present) => *present,
            ValueMatch::Hour(op, n, zone) => numeric::hour_of(value, zone)
                .is_some_and(|h| numeric::compare(*op, ValueRef::Int(h), *n)),
            ValueMatch::FieldRef(names, place, cased) => {
                names.iter().find_map(|n| other(n)).is_some_and(|target| {
                    StrMatch::new(&escape_wildcards(&text_of(target)), *place, *cased)
                        .is_ok_and(|m| m.is_match_in(hay))
                })
            }
        }
    }

    /// Whether deciding the match reads the value as text (a number's
    /// digits, say); comparisons, ranges and presence do not.
    pub fn reads_text(&self) -> bool {
        matches!(
            self,
            ValueMatch::Str(_) | ValueMatch::Regex(..) | ValueMatch::FieldRef(..)
        )
    }

    /// Whether an absent field matches.
    pub fn matches_absent(&self) -> bool {
        match self {
            ValueMatch::Null => true,
            ValueMatch::Exists(present) => !present,
            // Rampart drops empty text, so `field: ''` also means "no value".
            ValueMatch::Str(StrMatch::Literal {
                needle,
                place: Place::Exact,
                ..
            }) => needle.is_empty(),
            _ => false,
        }
    }
}

/// A field's text used as a literal value: its wildcards are escaped.
fn escape_wildcards(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(mods: &[&str], values: &[Scalar]) -> Vec<ValueMatch> {
        compile(
            &Modifiers::parse(mods).unwrap(),
            values,
            &ValueOptions {
                placeholders: HashMap::from([(
                    "domain_controllers".to_owned(),
                    vec!["dc1".to_owned(), "dc2".to_owned()],
                )]),
                hour_zone: Zone::utc(),
            },
            &|f| vec![format!("mapped.{f}")],
        )
        .unwrap()
    }

    fn any(ms: &[ValueMatch], value: ValueRef<'_>) -> bool {
        ms.iter().any(|m| m.matches(value, &|_| None))
    }

    #[test]
    fn chains_apply_in_order() {
        let ms = build(
            &["utf16le", "base64offset", "contains"],
            &[Scalar::Str("Invoke-".into())],
        );
        assert_eq!(ms.len(), 3);
        let encoded = encoding::base64(&encoding::utf16(
            "powershell Invoke-Expression",
            true,
            false,
        ));
        assert!(any(&ms, ValueRef::Str(&encoded)));
        let ms = build(&["windash", "contains"], &[Scalar::Str(" -enc ".into())]);
        assert!(any(&ms, ValueRef::Str("powershell.exe /ENC AAA")));
    }

    #[test]
    fn numbers_match_numbers_and_their_text() {
        let ms = build(&[], &[Scalar::Int(4688)]);
        assert!(any(&ms, ValueRef::Int(4688)));
        assert!(any(&ms, ValueRef::Str("4688")));
        assert!(!any(&ms, ValueRef::Str("46880")));
        let ms = build(&["gte"], &[Scalar::Int(10)]);
        assert!(any(&ms, ValueRef::Str("12")) && !any(&ms, ValueRef::Int(9)));
    }

    #[test]
    fn hour_of_day() {
        let t: rampart_event::Timestamp = "2025-03-14T23:10:00Z".parse().unwrap();
        let late = build(&["hour", "gte"], &[Scalar::Int(22)]);
        assert!(any(&late, ValueRef::Time(t)));
        assert!(any(&late, ValueRef::Str("2025-03-14T22:00:00+00:00")));
        let early = build(&["hour", "lt"], &[Scalar::Int(7)]);
        assert!(!any(&early, ValueRef::Time(t)));
    }

    #[test]
    fn regex_flags_and_cidr() {
        let ms = build(&["re", "i"], &[Scalar::Str("^cmd\\.exe$".into())]);
        assert!(any(&ms, ValueRef::Str("CMD.EXE")));
        let ms = build(&["re"], &[Scalar::Str("^cmd\\.exe$".into())]);
        assert!(!any(&ms, ValueRef::Str("CMD.EXE")));
        let ms = build(&["cidr"], &[Scalar::Str("10.0.0.0/8".into())]);
        assert!(any(&ms, ValueRef::Ip("10.1.2.3".parse().unwrap())));
        assert!(any(&ms, ValueRef::Str("10.1.2.3")));
        assert!(!any(&ms, ValueRef::Str("11.1.2.3")));
    }

    #[test]
    fn expand_and_bad_chains() {
        let ms = build(&["expand"], &[Scalar::Str("%domain_controllers%$".into())]);
        assert!(any(&ms, ValueRef::Str("DC2$")));
        assert!(compile(
            &Modifiers::parse(&["expand"]).unwrap(),
            &[Scalar::Str("%unknown%".into())],
            &ValueOptions::default(),
            &|f| vec![f.to_owned()]
        )
        .unwrap_err()
        .contains("%unknown%"));
        assert!(Modifiers::parse(&["i"]).is_err());
        assert!(Modifiers::parse(&["wide", "contains"]).is_err());
        assert!(Modifiers::parse(&["bogus"]).unwrap_err().contains("bogus"));
    }

    #[test]
    fn null_empty_and_exists_cover_absent_fields() {
        assert!(build(&[], &[Scalar::Null])[0].matches_absent());
        assert!(build(&[], &[Scalar::Str(String::new())])[0].matches_absent());
        assert!(build(&["exists"], &[Scalar::Bool(false)])[0].matches_absent());
        assert!(!build(&["exists"], &[Scalar::Bool(true)])[0].matches_absent());
        assert!(!build(&["contains"], &[Scalar::Str("x".into())])[0].matches_absent());
    }
}
