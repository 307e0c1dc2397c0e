//! Dedup windows for single-event rules: a rule with `rampart.dedup: 10m`
//! folds the repeats of one group (the same host and Event ID, say) that
//! come within the window of each other into one alert with a count, instead
//! of one alert per event. Alerts of rules without a window pass straight
//! through. An open alert is emitted once its group has been quiet for a
//! whole window, or at the end of the input; at most `max_open` stay open.

use std::collections::HashMap;

use rampart_event::Timestamp;

use crate::alert::Alert;

/// Folds repeats of single-event alerts.
#[derive(Debug, Default)]
pub struct Deduper {
    windows: HashMap<String, jiff::SignedDuration>,
    open: HashMap<(String, Vec<(String, String)>), Alert>,
    max_events: usize,
    max_open: usize,
}

impl Deduper {
    /// A deduper for the given `(rule id, window)` pairs, keeping up to
    /// `max_events` events per alert and `max_open` open alerts.
    pub fn new(
        windows: impl IntoIterator<Item = (String, std::time::Duration)>,
        max_events: usize,
        max_open: usize,
    ) -> Self {
        Deduper {
            windows: windows
                .into_iter()
                .filter_map(|(id, w)| Some((id, jiff::SignedDuration::try_from(w).ok()?)))
                .collect(),
            open: HashMap::new(),
            max_events,
            max_open,
        }
    }

    /// Takes an alert; returns the alerts ready to report (this one at once
    /// when its rule has no window, folded ones when their window closed).
    pub fn offer(&mut self, alert: Alert) -> Vec<Alert> {
        let Some(window) = self.windows.get(&alert.rule_id).copied() else {
            return vec![alert];
        };
        let mut out = Vec::new();
        let key = (alert.rule_id.clone(), alert.group.clone());
        let quiet = |open: &Alert, now: Option<Timestamp>| match (open.last_seen, now) {
            (Some(last), Some(now)) => now.duration_since(last) > window,
            _ => false,
        };
        if let Some(open) = self.open.get(&key) {
            if quiet(open, alert.timestamp) {
                out.extend(self.open.remove(&key));
            }
        }
        match self.open.get_mut(&key) {
            Some(open) => {
                open.count += 1;
                open.last_seen = open.last_seen.max(alert.timestamp);
                if open.events.len() < self.max_events {
                    open.events.extend(alert.events);
                }
            }
            None => {
                if self.open.len() >= self.max_open {
                    // Emit the longest-quiet alert to make room.
                    if let Some(oldest) = self
                        .open
                        .iter()
                        .min_by_key(|(_, a)| a.last_seen)
                        .map(|(k, _)| k.clone())
                    {
                        out.extend(self.open.remove(&oldest));
                    }
                }
                self.open.insert(key, alert);
            }
        }
        out
    }

    /// Ends the input: every open alert, in time order.
    pub fn finish(&mut self) -> Vec<Alert> {
        let mut out: Vec<Alert> = self.open.drain().map(|(_, a)| a).collect();
        out.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_text;
    use rampart_event::{Event, Origin};

    fn alert(rule: &str, host: &str, minute: i64) -> Alert {
        let l = load_text(
            &format!("title: t\nid: {rule}\ndetection:\n  s: {{a: 1}}\n  condition: s\n"),
            "t.yml".into(),
        );
        let mut e = Event::new(Origin::new("x.log", minute as u64), "raw");
        e.timestamp = Some(Timestamp::from_second(1_700_000_000 + minute * 60).unwrap());
        Alert::single(
            &l.rules[0],
            vec![("host.name".into(), host.into())],
            Vec::new(),
            &e,
        )
    }

    #[test]
    fn repeats_within_the_window_fold_into_one_alert() {
        let mut d = Deduper::new(
            [("watch".to_owned(), std::time::Duration::from_secs(600))],
            3,
            100,
        );
        let mut out = Vec::new();
        for m in [0, 2, 4, 6, 30, 31] {
            out.extend(d.offer(alert("watch", "ws01", m)));
        }
        out.extend(d.offer(alert("watch", "ws02", 1)));
        out.extend(d.offer(alert("other", "ws01", 1)));
        out.extend(d.finish());
        let watch: Vec<_> = out.iter().filter(|a| a.rule_id == "watch").collect();
        let counts: Vec<(String, u64)> = watch
            .iter()
            .map(|a| (a.group[0].1.clone(), a.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("ws01".to_owned(), 4),
                ("ws02".to_owned(), 1),
                ("ws01".to_owned(), 2)
            ]
        );
        assert_eq!(watch[0].events.len(), 3, "events are capped");
        assert_eq!(out.iter().filter(|a| a.rule_id == "other").count(), 1);
    }
}
