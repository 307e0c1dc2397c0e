//! Saving the correlations' state between runs and putting it back: each
//! correlation's partition counters, and the groups that changed since the
//! last save, so that the next run (after a stop or a crash) goes on as one
//! uninterrupted run would. State saved under a rule of another shape
//! (another kind, span, threshold, group or members) is dropped, not
//! misread.

use std::collections::HashSet;

use xxhash_rust::xxh3::xxh3_64;

use super::place::{part_of, SERIAL};
use super::plan::Running;
use super::state::{Counters, State};
use super::Correlator;
use crate::saved::{SavedGroup, SavedRule, SavedState};

/// What a correlation's state depends on in its rule.
fn shape(running: &Running) -> i64 {
    let rule = &running.rule;
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        rule.kind,
        rule.rules,
        rule.group_by,
        rule.timespan,
        rule.field,
        rule.percentile,
        rule.threshold,
        rule.aliases,
        running.members,
        running.serial
    );
    xxh3_64(text.as_bytes()) as i64
}

impl Correlator {
    /// From now on, notes the groups that change or end, for
    /// [`Correlator::save`].
    pub fn track_changes(&mut self) {
        for state in self.parts.iter_mut().flatten().chain(&mut self.serial) {
            state.track();
        }
    }

    /// The states of correlation `at`: one, or one per partition.
    fn states_of(&mut self, at: usize) -> Vec<&mut State> {
        if self.plan.running[at].serial {
            vec![&mut self.serial[at]]
        } else {
            self.parts.iter_mut().map(|p| &mut p[at]).collect()
        }
    }

    /// Appends to `out` every correlation's counters and the groups that
    /// changed or ended since the last save (noted after
    /// [`Correlator::track_changes`]).
    pub fn save(&mut self, out: &mut SavedState) {
        out.reset.append(&mut self.reset);
        let plan = std::sync::Arc::clone(&self.plan);
        let mut seen = HashSet::new();
        for (at, running) in plan.running.iter().enumerate() {
            let id = &running.rule.id;
            // Two correlations of one id: the first is saved.
            if !seen.insert(id.as_str()) {
                continue;
            }
            let mut states = self.states_of(at);
            let counters: Vec<Counters> = states.iter().map(|s| s.counters()).collect();
            out.rules.push(SavedRule {
                rule: id.clone(),
                shape: shape(running),
                parts: postcard::to_stdvec(&counters).unwrap_or_default(),
            });
            for state in &mut states {
                out.groups.extend(
                    state
                        .take_dirty()
                        .into_iter()
                        .map(|(key, state)| SavedGroup {
                            rule: id.clone(),
                            key: key.into_string().into_bytes(),
                            state,
                        }),
                );
            }
        }
    }

    /// Puts back what [`Correlator::save`] saved (the whole of it, as the
    /// store gives it). A correlation whose rule changed shape starts
    /// afresh, and its saved groups are dropped at the next save; one no
    /// longer running is left as it was saved.
    pub fn restore(&mut self, saved: &SavedState) -> Result<(), String> {
        let plan = std::sync::Arc::clone(&self.plan);
        let mut carried = super::HashMap::default();
        for header in &saved.rules {
            let Some(at) = plan.running.iter().position(|r| r.rule.id == header.rule) else {
                continue;
            };
            let counters: Vec<Counters> = postcard::from_bytes(&header.parts)
                .map_err(|e| format!("correlation {}: saved counters: {e}", header.rule))?;
            let mut states = self.states_of(at);
            if header.shape != shape(&plan.running[at]) || counters.len() != states.len() {
                self.reset.push(header.rule.clone());
                continue;
            }
            for (state, c) in states.iter_mut().zip(&counters) {
                state
                    .set_counters(c)
                    .map_err(|e| format!("correlation {}: {e}", header.rule))?;
            }
            carried.insert(header.rule.as_str(), at);
        }
        for group in &saved.groups {
            let (Some(&at), Some(bytes)) = (carried.get(group.rule.as_str()), &group.state) else {
                continue;
            };
            let running = &plan.running[at];
            let key = std::str::from_utf8(&group.key).map_err(|_| {
                format!("correlation {}: a saved group key is not text", group.rule)
            })?;
            let state = match part_of(running, key) {
                SERIAL => &mut self.serial[at],
                part => &mut self.parts[part as usize][at],
            };
            state
                .restore(running, key, bytes)
                .map_err(|e| format!("correlation {}: {e}", group.rule))?;
        }
        Ok(())
    }
}
