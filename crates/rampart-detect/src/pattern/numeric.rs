//! Numeric comparisons: `lt`, `lte`, `gt`, `gte`, and equality with a number
//! the rule wrote. A field holding text compares by its numeric reading;
//! for equality, text that is not a number still compares as text
//! (`EventID: 4688` against the string "4688").

use rampart_event::ValueRef;

/// A comparison against the rule's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    /// Equal.
    Eq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
}

/// The number a field value holds, if any.
pub fn number(value: ValueRef<'_>) -> Option<f64> {
    match value {
        ValueRef::Int(i) => Some(i as f64),
        ValueRef::Float(f) => Some(f),
        ValueRef::Str(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16).ok().map(|i| i as f64),
                None => s.parse().ok(),
            }
        }
        ValueRef::Bool(b) => Some(f64::from(u8::from(b))),
        _ => None,
    }
}

/// The hour of day in `zone` of a time value (or RFC 3339 text).
pub fn hour_of(value: ValueRef<'_>, zone: &rampart_event::time::Zone) -> Option<i64> {
    let t = match value {
        ValueRef::Time(t) => t,
        ValueRef::Str(s) => s.trim().parse::<rampart_event::Timestamp>().ok()?,
        _ => return None,
    };
    Some(i64::from(zone.civil(t).hour))
}

/// Whether `value op n` holds.
pub fn compare(op: NumOp, value: ValueRef<'_>, n: f64) -> bool {
    let Some(v) = number(value) else {
        return false;
    };
    match op {
        NumOp::Eq => v == n,
        NumOp::Lt => v < n,
        NumOp::Lte => v <= n,
        NumOp::Gt => v > n,
        NumOp::Gte => v >= n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_hex_read_as_numbers() {
        assert!(compare(NumOp::Eq, ValueRef::Str(" 4688"), 4688.0));
        assert!(compare(NumOp::Eq, ValueRef::Str("0x10"), 16.0));
        assert!(compare(NumOp::Lt, ValueRef::Float(1.5), 2.0));
        assert!(!compare(NumOp::Gte, ValueRef::Str("n/a"), 0.0));
    }
}
