//! Placing matches in their groups, on the threads that evaluate rules:
//! each match of a detection rule that feeds correlations becomes, for
//! every correlation it feeds, its encoded group key, the value it brings
//! and the partition that owns the group. The thread that keeps the
//! correlations' state then only updates windows.

use rampart_event::Event;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::plan::{encode_part, text_field, Member, Plan, Running};

/// Partitions each correlation's groups are spread over: fixed, whatever
/// the number of threads, so that every run keeps the same groups together
/// and so gives the same alerts.
pub const PARTITIONS: usize = 16;

/// The partition of the correlations that keep their groups in one place.
pub(super) const SERIAL: u32 = u32::MAX;

/// The partition that owns the group of `correlation` whose encoded key
/// is `key`.
pub(super) fn part_of(correlation: &Running, key: &str) -> u32 {
    if correlation.serial {
        SERIAL
    } else {
        let hash = xxh3_64_with_seed(key.as_bytes(), correlation.seed);
        (hash % PARTITIONS as u64) as u32
    }
}

/// One match placed in one correlation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placement {
    /// The event's index in its batch.
    pub event: u32,
    /// The detection rule that matched.
    pub rule: u32,
    /// The correlation and its member.
    pub running: u32,
    pub member: u32,
    /// The partition that owns the group, or `SERIAL`.
    pub part: u32,
    key: (usize, usize),
    value: Option<(usize, usize)>,
}

/// One placement as it travels to the process that owns its partition
/// (the workers of a cluster): its text carried with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Carried {
    /// The detection rule that matched, by its place in the rule set
    /// (every worker loads the same rules).
    pub rule: u32,
    /// The correlation, by its place among those running.
    pub running: u32,
    /// The member of the correlation the rule is.
    pub member: u32,
    /// The partition, `PARTITIONS` for the correlations kept in one place.
    pub partition: u32,
    /// The encoded group key.
    pub key: String,
    /// The value brought to the correlation's measure, when it asks one.
    pub value: Option<String>,
}

/// The placed matches of one batch, in the order the matches were made.
#[derive(Debug, Default)]
pub struct Placements {
    pub(super) items: Vec<Placement>,
    /// Group keys and values, one after another.
    text: String,
}

impl Placements {
    /// How many placements there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The encoded group key of a placement.
    pub(super) fn key(&self, p: &Placement) -> &str {
        &self.text[p.key.0..p.key.1]
    }

    /// The value a placement brings to its correlation's measure.
    pub(super) fn value(&self, p: &Placement) -> Option<&str> {
        p.value.map(|(s, e)| &self.text[s..e])
    }

    /// Whether the placement at `n` is the last of its match.
    pub(super) fn ends_match(&self, n: usize) -> bool {
        let p = &self.items[n];
        self.items
            .get(n + 1)
            .is_none_or(|q| (q.event, q.rule) != (p.event, p.rule))
    }

    /// Each placement, with the index of its event in the batch, as it
    /// travels to the owner of its partition.
    pub fn carried(&self) -> impl Iterator<Item = (usize, Carried)> + '_ {
        self.items.iter().map(|p| {
            let partition = match p.part {
                SERIAL => PARTITIONS as u32,
                part => part,
            };
            let carried = Carried {
                rule: p.rule,
                running: p.running,
                member: p.member,
                partition,
                key: self.key(p).to_owned(),
                value: self.value(p).map(str::to_owned),
            };
            (p.event as usize, carried)
        })
    }

    /// Appends a placement that travelled here, on the batch's `at`-th
    /// event.
    pub fn push_carried(&mut self, at: usize, c: &Carried) {
        let start = self.text.len();
        self.text.push_str(&c.key);
        let key = (start, self.text.len());
        let value = c.value.as_deref().map(|v| {
            let start = self.text.len();
            self.text.push_str(v);
            (start, self.text.len())
        });
        let part = match c.partition as usize {
            PARTITIONS => SERIAL,
            part => part as u32,
        };
        self.items.push(Placement {
            event: at as u32,
            rule: c.rule,
            running: c.running,
            member: c.member,
            part,
            key,
            value,
        });
    }

    /// Places the match of detection rule `rule` on `event`, the batch's
    /// `at`-th, in every correlation it feeds whose group fields it has.
    /// An event without a time is placed nowhere.
    pub(super) fn place(&mut self, plan: &Plan, rule: usize, at: usize, event: &Event) {
        if event.timestamp.is_none() {
            return;
        }
        let Some(feeds) = plan.feeds.get(&rule) else {
            return;
        };
        for &(running, member) in feeds {
            let correlation = &plan.running[running];
            let Member::Rule {
                group_fields,
                value_fields,
            } = &correlation.members[member]
            else {
                continue;
            };
            let start = self.text.len();
            let placed = self.encode(event, group_fields, value_fields);
            let Some(value) = placed else {
                self.text.truncate(start);
                continue;
            };
            let key_end = value.map_or(self.text.len(), |(s, _)| s);
            let part = part_of(correlation, &self.text[start..key_end]);
            self.items.push(Placement {
                event: at as u32,
                rule: rule as u32,
                running: running as u32,
                member: member as u32,
                part,
                key: (start, key_end),
                value,
            });
        }
    }

    /// Appends the group key, then the value; `None` when a group field
    /// (or the value field) is missing, `Some(None)` when no value is asked.
    fn encode(
        &mut self,
        event: &Event,
        group_fields: &[Vec<String>],
        value_fields: &[String],
    ) -> Option<Option<(usize, usize)>> {
        for fields in group_fields {
            encode_part(&mut self.text, &text_field(event, fields)?);
        }
        if value_fields.is_empty() {
            return Some(None);
        }
        let value = text_field(event, value_fields)?;
        let start = self.text.len();
        self.text.push_str(&value);
        Some(Some((start, self.text.len())))
    }
}
