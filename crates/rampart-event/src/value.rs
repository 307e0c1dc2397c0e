//! Typed field values and their borrowed view.

use std::fmt;
use std::net::IpAddr;

use jiff::Timestamp;

/// A typed field value.
///
/// `Json` holds structures that have no flat ECS form (an array of objects
/// inside a JSON log, say); it is serialised as it came.
#[derive(Debug, Clone)]
pub enum Value {
    /// An explicit null from the source (JSON `null`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer: ports, status codes, pids, counts.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(String),
    /// Text known when rampart was built (`event.category` words and the
    /// like): parsers set these on every event, so they cost no allocation.
    Static(&'static str),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A MAC address, written as ECS wants it: `00-16-3E-DD-EE-FF`.
    Mac([u8; 6]),
    /// A UTC instant.
    Time(Timestamp),
    /// A list of scalar values.
    List(Vec<Value>),
    /// A structure kept as JSON (boxed: it is rare, and keeping it out of
    /// line keeps every other value small).
    Json(Box<serde_json::Value>),
}

/// A borrowed view of a value, as the rule engine sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// See [`Value::Null`].
    Null,
    /// See [`Value::Bool`].
    Bool(bool),
    /// See [`Value::Int`].
    Int(i64),
    /// See [`Value::Float`].
    Float(f64),
    /// See [`Value::Str`].
    Str(&'a str),
    /// See [`Value::Ip`].
    Ip(IpAddr),
    /// See [`Value::Mac`].
    Mac([u8; 6]),
    /// See [`Value::Time`].
    Time(Timestamp),
    /// See [`Value::List`].
    List(&'a [Value]),
    /// See [`Value::Json`].
    Json(&'a serde_json::Value),
}

impl Value {
    /// The borrowed view of this value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Str(s) => ValueRef::Str(s),
            Value::Static(s) => ValueRef::Str(s),
            Value::Ip(ip) => ValueRef::Ip(*ip),
            Value::Mac(mac) => ValueRef::Mac(*mac),
            Value::Time(t) => ValueRef::Time(*t),
            Value::List(l) => ValueRef::List(l),
            Value::Json(j) => ValueRef::Json(j),
        }
    }
}

impl PartialEq for Value {
    /// Values are equal when their views are: `Str` and `Static` holding the
    /// same text are the same value.
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl<'a> ValueRef<'a> {
    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ValueRef::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The address, if this is an IP.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            ValueRef::Ip(ip) => Some(*ip),
            _ => None,
        }
    }

    /// The instant, if this is a time.
    pub fn as_time(&self) -> Option<Timestamp> {
        match self {
            ValueRef::Time(t) => Some(*t),
            _ => None,
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    /// Plain text, as a table cell or a rule's string comparison sees it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => Ok(()),
            ValueRef::Bool(b) => write!(f, "{b}"),
            ValueRef::Int(i) => write!(f, "{i}"),
            ValueRef::Float(x) => write!(f, "{x}"),
            ValueRef::Str(s) => f.write_str(s),
            ValueRef::Ip(ip) => write!(f, "{ip}"),
            ValueRef::Mac(m) => write!(
                f,
                "{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            ValueRef::Time(t) => write!(f, "{t}"),
            ValueRef::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}", item.as_ref())?;
                }
                Ok(())
            }
            ValueRef::Json(j) => write!(f, "{j}"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<u16> for Value {
    fn from(i: u16) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Self {
        Value::Ip(ip)
    }
}

impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::Time(t)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}
