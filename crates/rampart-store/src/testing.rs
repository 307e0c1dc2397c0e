//! What the store's tests share: alerts made to order.

use jiff::Timestamp;
use rampart_detect::{Alert, Level};

use crate::NewAlert;

/// An alert `id` of `rule` at `time` about `group`, with no events.
pub fn alert(
    id: &str,
    rule: &str,
    level: Level,
    time: Timestamp,
    group: Vec<(String, String)>,
) -> NewAlert {
    NewAlert {
        alert: Alert {
            id: id.to_owned(),
            rule_id: rule.to_owned(),
            title: format!("{rule} {id}"),
            author: None,
            references: Vec::new(),
            severity: level,
            timestamp: Some(time),
            first_seen: Some(time),
            last_seen: Some(time),
            count: 1,
            group,
            mitre: Vec::new(),
            tags: Vec::new(),
            matched: Vec::new(),
            events: Vec::new(),
            origin: rampart_detect::alert::Origin {
                path: "t.log".into(),
                line: 1,
            },
        },
        events: Vec::new(),
    }
}
