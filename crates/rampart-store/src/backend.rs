//! The stored data as the commands that read and work it see it, whichever
//! database holds it: the embedded SQLite [`Store`], or ClickHouse (the
//! `rampart-clickhouse` crate) when one machine's disk is not enough.
//! `alerts`, `events`, `export` and `stats` hold a `Box<dyn Backend>` and
//! never speak a SQL dialect, so both databases answer them the same way.

use crate::{
    AlertFilter, Beside, EventQuery, Stats, Step, Store, StoreError, StoredAlert, StoredEvent,
    Triage, Triaged,
};

/// What the commands reading and working stored events and alerts ask of
/// a database.
pub trait Backend: Send {
    /// The alerts `filter` selects, in its order.
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError>;

    /// One alert, by its id or the start of it (when only one matches),
    /// with its stored events put back into its JSON.
    fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError>;

    /// An alert's triage steps, oldest first.
    fn history(&self, id: &str) -> Result<Vec<Step>, StoreError>;

    /// Applies `step` to the alert `id` as `who` (user, note), and what a
    /// false positive does `beside` it where the database keeps that.
    fn triage_beside(
        &mut self,
        id: &str,
        step: &Triage,
        who: (&str, Option<&str>),
        beside: Beside,
    ) -> Result<Triaged, StoreError>;

    /// The stored event `id`.
    fn event(&self, id: i64) -> Result<Option<StoredEvent>, StoreError>;

    /// Hands each event `query` finds to `take`, newest first (or as read),
    /// until it returns false.
    fn each_event(
        &self,
        query: &EventQuery,
        take: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError>;

    /// How many events `query` finds per value of `field`, most first (at
    /// most `top` values; events without the field count under none).
    fn count_by(
        &self,
        query: &EventQuery,
        field: &str,
        top: u64,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError>;

    /// What the database holds.
    fn stats(&self) -> Result<Stats, StoreError>;
}

impl Backend for Store {
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        Store::alerts(self, filter)
    }

    fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError> {
        Store::alert(self, id)
    }

    fn history(&self, id: &str) -> Result<Vec<Step>, StoreError> {
        Store::history(self, id)
    }

    fn triage_beside(
        &mut self,
        id: &str,
        step: &Triage,
        who: (&str, Option<&str>),
        beside: Beside,
    ) -> Result<Triaged, StoreError> {
        Store::triage_beside(self, id, step, who, beside)
    }

    fn event(&self, id: i64) -> Result<Option<StoredEvent>, StoreError> {
        Store::event(self, id)
    }

    fn each_event(
        &self,
        query: &EventQuery,
        take: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError> {
        Store::each_event(self, query, take)
    }

    fn count_by(
        &self,
        query: &EventQuery,
        field: &str,
        top: u64,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        Store::count_by(self, query, field, top)
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        Store::stats(self)
    }
}
