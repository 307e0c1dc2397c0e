//! The vocabulary literal scanning shares with the checks that read it and
//! the events that cache it: where a literal was found, which literals a
//! check looks for, what one field's scan found, and the scanner as the
//! event view sees it (so views and checks need not know how it is built).

use rampart_event::ValueRef;

/// A literal occurs somewhere in the value.
pub const ANYWHERE: u8 = 1;
/// A literal starts the value.
pub const AT_START: u8 = 2;
/// A literal ends the value.
pub const AT_END: u8 = 4;

/// Where a check finds its literals: the scanned field and, per value, the
/// literal standing for it (none for values that are not literals).
#[derive(Debug, Clone)]
pub struct Atoms {
    /// The field scan, an index into the scanner's fields.
    pub field: usize,
    /// For each value of the check, its literal's pattern number.
    pub ids: Vec<Option<u32>>,
    /// `(pattern, value)` pairs in pattern order, to go from what a scan
    /// found to the values it decides.
    pub by_pattern: Vec<(u32, usize)>,
    /// The values no scan decides (numbers, regexes, case-sensitive text).
    pub direct: Vec<usize>,
}

impl Atoms {
    /// The atoms of a check on field scan `field`.
    pub fn new(field: usize, ids: Vec<Option<u32>>) -> Self {
        let mut by_pattern: Vec<(u32, usize)> = ids
            .iter()
            .enumerate()
            .filter_map(|(v, id)| Some(((*id)?, v)))
            .collect();
        by_pattern.sort_unstable();
        let direct = (0..ids.len()).filter(|&v| ids[v].is_none()).collect();
        Atoms {
            field,
            ids,
            by_pattern,
            direct,
        }
    }

    /// The values whose literal is pattern `id`.
    pub fn values_of(&self, id: u32) -> impl Iterator<Item = usize> + '_ {
        let start = self.by_pattern.partition_point(|(p, _)| *p < id);
        self.by_pattern[start..]
            .iter()
            .take_while(move |(p, _)| *p == id)
            .map(|(_, v)| *v)
    }
}

/// What scanning one field of one event found: `(pattern, where)` pairs in
/// pattern order.
#[derive(Debug, Default)]
pub struct Found {
    hits: Vec<(u32, u8)>,
}

impl Found {
    /// What was found, from `(pattern, where)` pairs in any order and with
    /// repeats: sorted, one pair per pattern with its places joined.
    pub fn new(mut hits: Vec<(u32, u8)>) -> Self {
        hits.sort_unstable_by_key(|(p, _)| *p);
        hits.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 |= later.1;
            }
            same
        });
        Found { hits }
    }

    /// `(pattern, where)` for every literal found, in pattern order.
    pub fn hits(&self) -> &[(u32, u8)] {
        &self.hits
    }

    /// Where pattern `id` was found ([`ANYWHERE`], [`AT_START`], [`AT_END`]
    /// bits), 0 when it was not.
    pub fn get(&self, id: u32) -> u8 {
        self.hits
            .binary_search_by_key(&id, |(p, _)| *p)
            .map_or(0, |at| self.hits[at].1)
    }
}

/// A scanner of event fields, as an event view uses it.
pub trait FieldScanner: Sync {
    /// How many field scans there are.
    fn fields(&self) -> usize;
    /// The event fields scan `f` reads (the first present one).
    fn names(&self, f: usize) -> &[String];
    /// Scans `value` for the literals of field scan `f`; `None` when the
    /// scan has no automaton.
    fn scan(&self, f: usize, value: ValueRef<'_>) -> Option<Found>;
}
