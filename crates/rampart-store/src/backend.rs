//! The stored data as the commands that read and work it see it, whichever
//! database holds it: the embedded SQLite [`Store`], or ClickHouse (the
//! `rampart-clickhouse` crate) when one machine's disk is not enough.
//! `alerts`, `events`, `export`, `stats`, the web console and the terminal
//! dashboard hold a `Box<dyn Backend>` and never speak a SQL dialect, so both databases
//! answer them the same way.

use jiff::Timestamp;

use crate::{
    AlertFilter, Beside, Board, Choices, EventQuery, Extent, Figures, OverviewFilter, Pruned,
    Slice, Stats, Step, Store, StoreError, StoredAlert, StoredEvent, StoredSuppression, Triage,
    Triaged,
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

    /// The suppressions made from triage, oldest first (`hunt`, `ingest`
    /// and `run` apply them beside the config file's).
    fn suppressions(&self) -> Result<Vec<StoredSuppression>, StoreError>;

    /// Removes suppression `id`; whether there was one.
    fn remove_suppression(&mut self, id: i64) -> Result<bool, StoreError>;

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

    /// The events `query` finds, newest first (or as read).
    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut found = Vec::new();
        self.each_event(query, &mut |e| {
            found.push(e);
            true
        })?;
        Ok(found)
    }

    /// What the database holds.
    fn stats(&self) -> Result<Stats, StoreError>;

    /// Retention: removes events and (unless `events_only`) alerts from
    /// before `before`. The SQLite store goes by when they were stored;
    /// ClickHouse drops whole days of events by their own time (an event
    /// without one by the day it was stored) and alerts by their time.
    fn prune(&mut self, before: Timestamp, events_only: bool) -> Result<Pruned, StoreError>;

    /// How far the stored data reaches in time.
    fn extent(&self) -> Result<Extent, StoreError>;

    /// The overview of `slice`.
    fn board(&self, slice: &Slice) -> Result<Board, StoreError>;

    /// The figures of `filter` (the terminal dashboard's panels), each top
    /// list `top` long.
    fn figures(&self, filter: &OverviewFilter, top: usize) -> Result<Figures, StoreError>;

    /// A number that changes whenever another connection stores something,
    /// so that a reader finding it as it was need not read again; `None`
    /// when the database cannot tell (read again each time).
    fn data_version(&self) -> Result<Option<i64>, StoreError>;

    /// The values each filter of an overview can take over `since`..`until`.
    fn choices(&self, since: Timestamp, until: Timestamp) -> Result<Choices, StoreError>;

    /// Alerts per rule whose time is in `since`..`until`, most first.
    fn alerts_by_rule(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError>;

    /// Runs `read` over one view of the data, where the database has such
    /// views (SQLite: what others commit meanwhile is not seen, so the
    /// panels of a page agree); see [`Backend::snapshot`].
    fn view(
        &self,
        read: &mut dyn FnMut(&dyn Backend) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

impl dyn Backend + '_ {
    /// Runs `read` over one view of the data (see [`Backend::view`]) and
    /// gives back what it read.
    pub fn snapshot<T>(
        &self,
        read: impl FnOnce(&dyn Backend) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut read = Some(read);
        let mut found = None;
        self.view(&mut |b| {
            if let Some(read) = read.take() {
                found = Some(read(b)?);
            }
            Ok(())
        })?;
        found.ok_or_else(|| StoreError("a view ended without reading".into()))
    }
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

    fn suppressions(&self) -> Result<Vec<StoredSuppression>, StoreError> {
        Store::suppressions(self)
    }

    fn remove_suppression(&mut self, id: i64) -> Result<bool, StoreError> {
        Store::remove_suppression(self, id)
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

    fn prune(&mut self, before: Timestamp, events_only: bool) -> Result<Pruned, StoreError> {
        Store::prune(self, before, events_only)
    }

    fn extent(&self) -> Result<Extent, StoreError> {
        Store::extent(self)
    }

    fn board(&self, slice: &Slice) -> Result<Board, StoreError> {
        Store::board(self, slice)
    }

    fn choices(&self, since: Timestamp, until: Timestamp) -> Result<Choices, StoreError> {
        Store::choices(self, since, until)
    }

    fn figures(&self, filter: &OverviewFilter, top: usize) -> Result<Figures, StoreError> {
        Store::figures(self, filter, top)
    }

    fn data_version(&self) -> Result<Option<i64>, StoreError> {
        Store::data_version(self).map(Some)
    }

    fn alerts_by_rule(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        Store::alerts_by_rule(self, since, until)
    }

    fn view(
        &self,
        read: &mut dyn FnMut(&dyn Backend) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        Store::snapshot(self, |store| read(store))
    }
}
