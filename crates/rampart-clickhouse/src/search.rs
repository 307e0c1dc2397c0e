//! The query language of `rampart events` (parsed in `rampart-store`)
//! turned into ClickHouse SQL over the `events` table: the fields kept as
//! columns (the same as the SQLite store's, empty rather than NULL when an
//! event has none; severity nullable) are compared there, any other field (and any address range)
//! through the `keys`, `vals`, `nums` and `addrs` arrays, free text in the
//! event's text. Every value is a
//! literal written by [`quote`] or a number Rust has parsed; field names
//! are literals too, never identifiers.
//!
//! Free text is found as the SQLite store finds it: the text as it is,
//! ignoring case, and each of its words whole (between characters that
//! are not letters or digits). What differs: a list's elements are
//! compared one by one (SQLite compares the list's JSON).

use ipnet::IpNet;
use rampart_store::{
    hot_column as column, like_pattern, time_of, words, ColumnKind as Kind, EventQuery, Expr, Op,
    QueryError, StoreError,
};

use crate::client::quote;
use crate::write::address_key;

/// The `WHERE` condition of `query`.
pub(crate) fn condition(query: &EventQuery) -> Result<String, StoreError> {
    let mut parts = Vec::new();
    if let Some(expr) = &query.expr {
        parts.push(write(expr).map_err(|e| StoreError(e.to_string()))?);
    }
    if let Some(t) = query.since {
        parts.push(format!("(timed = 1 AND time >= {})", t.as_microsecond()));
    }
    if let Some(t) = query.until {
        parts.push(format!("(timed = 1 AND time < {})", t.as_microsecond()));
    }
    Ok(if parts.is_empty() {
        "1".to_owned()
    } else {
        parts.join(" AND ")
    })
}

fn write(expr: &Expr) -> Result<String, QueryError> {
    Ok(match expr {
        Expr::And(a, b) => format!("({} AND {})", write(a)?, write(b)?),
        Expr::Or(a, b) => format!("({} OR {})", write(a)?, write(b)?),
        Expr::Not(a) => format!("(NOT {})", write(a)?),
        Expr::Text(text) => {
            let mut parts = vec![format!(
                "positionCaseInsensitiveUTF8(text, {}) > 0",
                quote(text)
            )];
            // A word holds letters and digits only: nothing in it is a
            // regular expression's operator.
            for word in words(text) {
                let pattern = format!(r"(^|[^\pL\pN]){word}([^\pL\pN]|$)");
                parts.push(format!("match(lowerUTF8(text), {})", quote(&pattern)));
            }
            format!("({})", parts.join(" AND "))
        }
        Expr::Cond {
            field,
            op,
            values,
            column: at,
        } => {
            let one = |value: &str, op: Op| {
                compare(field, op, value).map_err(|message| QueryError {
                    column: *at,
                    message: format!("{field}: {message}"),
                })
            };
            match op {
                Op::In => {
                    let parts: Vec<String> = values
                        .iter()
                        .map(|v| one(v, Op::Eq))
                        .collect::<Result<_, _>>()?;
                    format!("({})", parts.join(" OR "))
                }
                op => one(&values[0], *op)?,
            }
        }
    })
}

fn sql_op(op: Op) -> &'static str {
    match op {
        Op::Eq | Op::In => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

/// Whether the address key `key` (an SQL expression) is inside `net`.
fn inside(key: &str, net: &IpNet) -> String {
    let (low, high) = (net.network(), net.broadcast());
    format!(
        "{key} BETWEEN {} AND {}",
        quote(&address_key(low)),
        quote(&address_key(high))
    )
}

/// An address range an equality compares with, if it is one.
fn range(op: Op, value: &str) -> Option<IpNet> {
    let equality = matches!(op, Op::Eq | Op::Ne | Op::In);
    (equality && value.contains('/'))
        .then(|| value.parse().ok())
        .flatten()
}

/// The condition on one text value (`v`, an SQL expression) a comparison
/// makes, before negation.
fn on_text(v: &str, op: Op, value: &str) -> String {
    let wild = value.contains(['*', '?']);
    let equality = matches!(op, Op::Eq | Op::Ne | Op::In);
    if equality && wild {
        // SQLite's LIKE ignores the case of ASCII letters, and so does this.
        return format!("lower({v}) LIKE lower({})", quote(&like_pattern(value)));
    }
    let op = match op {
        Op::Ne => Op::Eq,
        o => o,
    };
    format!("{v} {} {}", sql_op(op), quote(value))
}

fn compare(field: &str, op: Op, value: &str) -> Result<String, String> {
    let negate = |cond: String| {
        if op == Op::Ne {
            format!("(NOT ({cond}))")
        } else {
            format!("({cond})")
        }
    };
    let wild = value.contains(['*', '?']);
    match column(field) {
        Some((name, Kind::Time)) => {
            if wild {
                return Err("a time cannot be a pattern".into());
            }
            let t = time_of(value)?.as_microsecond();
            let op = if op == Op::Ne { Op::Eq } else { op };
            Ok(negate(format!("timed = 1 AND {name} {} {t}", sql_op(op))))
        }
        Some((name, Kind::Int)) => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("{value:?} is not a whole number"))?;
            let op = if op == Op::Ne { Op::Eq } else { op };
            Ok(negate(format!("ifNull({name} {} {n}, 0)", sql_op(op))))
        }
        Some((name, Kind::Text)) if range(op, value).is_none() => {
            // An event without the field has it empty here and NULL in
            // SQLite, where it matches no comparison: nor does it here.
            Ok(negate(format!(
                "{name} != '' AND {}",
                on_text(name, op, value)
            )))
        }
        _ => {
            let key = quote(field);
            if let Some(net) = range(op, value) {
                return Ok(negate(format!(
                    "arrayExists((k, a) -> k = {key} AND {}, keys, addrs)",
                    inside("a", &net)
                )));
            }
            let numeric = value
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .filter(|_| !wild);
            let inner = match numeric {
                Some(n) => {
                    let num_op = if op == Op::Ne { Op::Eq } else { op };
                    let number = format!("(f = 1 AND n {} {n:?})", sql_op(num_op));
                    if matches!(op, Op::Eq | Op::Ne | Op::In) {
                        format!("({number} OR {})", on_text("v", op, value))
                    } else {
                        number
                    }
                }
                None => on_text("v", op, value),
            };
            Ok(negate(format!(
                "arrayExists((k, v, n, f) -> k = {key} AND {inner}, keys, vals, nums, numeric)"
            )))
        }
    }
}

/// The expression giving `field`'s value as text for a count by it ('' for
/// none).
pub(crate) fn value_of(field: &str) -> String {
    match column(field) {
        Some((name, Kind::Text)) => name.to_owned(),
        Some((name, Kind::Int)) => format!("ifNull(toString({name}), '')"),
        Some((name, Kind::Time)) => format!("if(timed = 1, toString({name}), '')"),
        None => format!("vals[indexOf(keys, {})]", quote(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_store::parse_query;

    fn sql(query: &str) -> String {
        write(&parse_query(query).unwrap()).unwrap()
    }

    #[test]
    fn values_become_escaped_literals_and_names_never_identifiers() {
        let s = sql("user.name=\"x' OR 1=1 --\"");
        assert!(s.contains("'x\\' OR 1=1 --'"), "{s}");
        let odd = Expr::Cond {
            field: "a'b.c".into(),
            op: Op::Eq,
            values: vec!["1".into()],
            column: 1,
        };
        let s = write(&odd).unwrap();
        assert!(s.contains("k = 'a\\'b.c'"), "{s}");
    }

    #[test]
    fn a_range_is_compared_as_numbers_and_a_pattern_as_like() {
        let s = sql("source.ip=10.0.0.0/8");
        assert!(s.contains("BETWEEN '40A000000' AND '40AFFFFFF'"), "{s}");
        let s = sql("user.name=adm*");
        assert!(s.contains("LIKE lower('adm%')"), "{s}");
        assert!(write(&parse_query("@timestamp=2025*").unwrap()).is_err());
    }
}
