//! Dedup windows for single-event rules: a rule with `rampart.dedup: 10m`
//! folds the repeats of one group (the same host and Event ID, say) that
//! come within the window of each other into one alert with a count, instead
//! of one alert per event. Alerts of rules without a window pass straight
//! through. An open alert is emitted once its group has been quiet for a
//! whole window, or at the end of the input; at most `max_open` stay open.

use std::collections::{BTreeSet, HashMap};

use rampart_event::Timestamp;

use crate::alert::Alert;
use crate::saved::{SavedOpen, SavedState};

/// An open alert's key: its rule and group.
type Key = (String, Vec<(String, String)>);

/// Folds repeats of single-event alerts.
#[derive(Debug, Default)]
pub struct Deduper {
    windows: HashMap<String, jiff::SignedDuration>,
    open: HashMap<Key, Alert>,
    max_events: usize,
    max_open: usize,
    /// Open alerts that changed or closed since the last save, once
    /// tracked (`track_changes`).
    dirty: Option<BTreeSet<Key>>,
    /// Open alerts that opened or grew since `open_changed`, once noted.
    noted: Option<BTreeSet<Key>>,
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
            dirty: None,
            noted: None,
        }
    }

    /// A deduper of the same windows holding nothing open: what the worker
    /// of a cluster that owns the dedup windows keeps.
    pub fn fresh(&self) -> Deduper {
        Deduper {
            windows: self.windows.clone(),
            open: HashMap::new(),
            max_events: self.max_events,
            max_open: self.max_open,
            dirty: None,
            noted: None,
        }
    }

    /// Whether alerts of rule `rule_id` are folded over a window (and so
    /// need the one place that holds the windows), rather than passed on.
    pub fn folds(&self, rule_id: &str) -> bool {
        self.windows.contains_key(rule_id)
    }

    fn touch(&mut self, key: &Key) {
        for set in [&mut self.dirty, &mut self.noted].into_iter().flatten() {
            if !set.contains(key) {
                set.insert(key.clone());
            }
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
        self.touch(&key);
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
                    self.evict(self.max_open / 10 + 1, &mut out);
                }
                self.open.insert(key, alert);
            }
        }
        out
    }

    /// Emits the `n` longest-quiet open alerts (ties by rule and group, so
    /// that every run makes the same choice), to make room: a tenth of them
    /// at a time, so that a flood of new groups costs O(1) per alert.
    fn evict(&mut self, n: usize, out: &mut Vec<Alert>) {
        let mut by_age: Vec<(Option<Timestamp>, &Key)> =
            self.open.iter().map(|(k, a)| (a.last_seen, k)).collect();
        let n = n.min(by_age.len());
        if n < by_age.len() {
            by_age.select_nth_unstable(n);
        }
        by_age.truncate(n);
        by_age.sort();
        let oldest: Vec<Key> = by_age.into_iter().map(|(_, k)| k.clone()).collect();
        for key in oldest {
            self.touch(&key);
            out.extend(self.open.remove(&key));
        }
    }

    /// From now on, notes the open alerts that change or close, for
    /// [`Deduper::save`].
    pub fn track_changes(&mut self) {
        self.dirty.get_or_insert_with(BTreeSet::new);
    }

    /// From now on, notes the open alerts that open or grow, for
    /// [`Deduper::open_changed`].
    pub fn note_open_changes(&mut self) {
        self.noted.get_or_insert_with(BTreeSet::new);
    }

    /// The open alerts that opened or grew since the last call, as they
    /// stand, in key order.
    pub fn open_changed(&mut self) -> Vec<Alert> {
        let Some(noted) = &mut self.noted else {
            return Vec::new();
        };
        let keys = std::mem::take(noted);
        keys.iter()
            .filter_map(|k| self.open.get(k).cloned())
            .collect()
    }

    /// Appends to `out` the open alerts that changed or closed since the
    /// last save.
    pub fn save(&mut self, out: &mut SavedState) {
        let Some(dirty) = &mut self.dirty else {
            return;
        };
        for key in std::mem::take(dirty) {
            let alert = self.open.get(&key).map(Alert::to_bytes);
            let (rule, group) = key;
            out.dedup.push(SavedOpen {
                rule,
                group: serde_json::to_string(&group).unwrap_or_default(),
                alert,
            });
        }
    }

    /// Puts back the open alerts [`Deduper::save`] saved.
    pub fn restore(&mut self, saved: &SavedState) -> Result<(), String> {
        for open in &saved.dedup {
            let Some(bytes) = &open.alert else { continue };
            let alert = Alert::from_bytes(bytes)
                .map_err(|e| format!("dedup window of rule {}: {e}", open.rule))?;
            self.open
                .insert((alert.rule_id.clone(), alert.group.clone()), alert);
        }
        Ok(())
    }

    /// Ends the input: every open alert, in time order.
    pub fn finish(&mut self) -> Vec<Alert> {
        let keys: Vec<Key> = self.open.keys().cloned().collect();
        for key in &keys {
            self.touch(key);
        }
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

    #[test]
    fn open_alerts_saved_and_put_back_fold_on_in_the_next_run() {
        let windows = || [("watch".to_owned(), std::time::Duration::from_secs(600))];
        let mut first = Deduper::new(windows(), 10, 100);
        first.track_changes();
        first.note_open_changes();
        for m in [0, 2, 4] {
            assert!(first.offer(alert("watch", "ws01", m)).is_empty());
        }
        let open = first.open_changed();
        assert_eq!(open.len(), 1, "the open alert is shown while it grows");
        assert_eq!(open[0].count, 3);
        let mut saved = SavedState::default();
        first.save(&mut saved);
        assert_eq!(saved.dedup.len(), 1);
        let mut second = Deduper::new(windows(), 10, 100);
        second.restore(&saved).unwrap();
        assert!(second.offer(alert("watch", "ws01", 6)).is_empty());
        let out = second.finish();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].count, out[0].events.len()), (4, 4));
        assert_eq!(out[0].id, open[0].id);
    }

    #[test]
    fn a_flood_of_new_groups_keeps_few_open_and_loses_no_repeat() {
        let mut d = Deduper::new(
            [("watch".to_owned(), std::time::Duration::from_secs(600))],
            2,
            100,
        );
        let mut out = Vec::new();
        // 20,000 hosts, each seen twice, in one hot minute of equal times.
        for round in 0..2 {
            for h in 0..10_000 {
                out.extend(d.offer(alert("watch", &format!("h{h}"), round)));
                assert!(d.open.len() <= 100);
            }
        }
        out.extend(d.finish());
        assert_eq!(out.iter().map(|a| a.count).sum::<u64>(), 20_000);
        // The same flood gives the same alerts in the same order every time.
        let mut again = Deduper::new(
            [("watch".to_owned(), std::time::Duration::from_secs(600))],
            2,
            100,
        );
        let mut out2 = Vec::new();
        for round in 0..2 {
            for h in 0..10_000 {
                out2.extend(again.offer(alert("watch", &format!("h{h}"), round)));
            }
        }
        out2.extend(again.finish());
        let ids = |v: &[Alert]| {
            v.iter()
                .map(|a| (a.id.clone(), a.count))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&out), ids(&out2));
    }
}
