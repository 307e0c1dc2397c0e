//! Putting the unified stream in time order with memory that stays flat:
//! rows are sorted in runs of a bounded size, runs past the first are
//! written to temporary files, and the runs are merged. The order is
//! total (time, then reading order; rows without a time last), so the
//! same input always gives the same file.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};

use crate::row::Row;

/// Rows held in memory before a run is written out.
pub const RUN: usize = 200_000;

type Key = (bool, i128, u64);

fn key(r: &Row) -> Key {
    (r.time.is_none(), r.time.unwrap_or(0), r.seq)
}

/// Sorts rows, spilling to disk past [`RUN`] rows.
pub struct Sorter {
    run: Vec<Row>,
    limit: usize,
    spilled: Vec<File>,
}

impl Default for Sorter {
    fn default() -> Self {
        Sorter::with_run(RUN)
    }
}

impl Sorter {
    /// A sorter that holds at most `limit` rows in memory.
    pub fn with_run(limit: usize) -> Sorter {
        Sorter {
            run: Vec::new(),
            limit: limit.max(1),
            spilled: Vec::new(),
        }
    }

    /// Takes a row.
    pub fn push(&mut self, row: Row) -> io::Result<()> {
        self.run.push(row);
        if self.run.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.run.sort_unstable_by_key(key);
        let file = tempfile::tempfile()?;
        let mut out = BufWriter::new(file);
        for row in self.run.drain(..) {
            let bytes = postcard::to_allocvec(&row).map_err(io::Error::other)?;
            out.write_all(&(bytes.len() as u32).to_le_bytes())?;
            out.write_all(&bytes)?;
        }
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        io::Seek::rewind(&mut file)?;
        self.spilled.push(file);
        Ok(())
    }

    /// The rows in order.
    pub fn finish(mut self) -> io::Result<Sorted> {
        if self.spilled.is_empty() {
            self.run.sort_unstable_by_key(key);
            return Ok(Sorted(Inner::Memory(self.run.into_iter())));
        }
        if !self.run.is_empty() {
            self.spill()?;
        }
        let mut runs: Vec<Run> = self
            .spilled
            .into_iter()
            .map(|f| Run {
                input: BufReader::with_capacity(1 << 16, f),
                buf: Vec::new(),
            })
            .collect();
        let mut heads = Vec::with_capacity(runs.len());
        let mut heap = BinaryHeap::new();
        for (i, r) in runs.iter_mut().enumerate() {
            let head = r.next()?;
            if let Some(row) = &head {
                heap.push(Reverse((key(row), i)));
            }
            heads.push(head);
        }
        Ok(Sorted(Inner::Merge { runs, heads, heap }))
    }
}

struct Run {
    input: BufReader<File>,
    buf: Vec<u8>,
}

impl Run {
    fn next(&mut self) -> io::Result<Option<Row>> {
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other?,
        }
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.input.read_exact(&mut self.buf)?;
        postcard::from_bytes(&self.buf)
            .map(Some)
            .map_err(io::Error::other)
    }
}

/// Rows in order: from memory, or merged from runs on disk.
pub struct Sorted(Inner);

enum Inner {
    /// Everything fitted in one run.
    Memory(std::vec::IntoIter<Row>),
    /// Runs merged: each run's next row, and the runs by that row's key.
    Merge {
        runs: Vec<Run>,
        heads: Vec<Option<Row>>,
        heap: BinaryHeap<Reverse<(Key, usize)>>,
    },
}

impl Iterator for Sorted {
    type Item = io::Result<Row>;

    fn next(&mut self) -> Option<io::Result<Row>> {
        match &mut self.0 {
            Inner::Memory(rows) => rows.next().map(Ok),
            Inner::Merge { runs, heads, heap } => {
                let Reverse((_, i)) = heap.pop()?;
                let row = heads[i].take()?;
                match runs[i].next() {
                    Ok(Some(next)) => {
                        heap.push(Reverse((key(&next), i)));
                        heads[i] = Some(next);
                    }
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                Some(Ok(row))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time: Option<i128>, seq: u64) -> Row {
        Row {
            time,
            seq,
            source: 0,
            line: seq,
            pid: None,
            kind: "file".into(),
            details: format!("row {seq}"),
            summary: String::new(),
            actor: None,
        }
    }

    #[test]
    fn runs_on_disk_merge_into_the_order_memory_gives() {
        // Times repeat and go backwards; some rows have none.
        let rows: Vec<Row> = (0..1_000u64)
            .map(|i| row((i % 7 != 0).then_some(((i * 7919) % 50) as i128), i))
            .collect();
        let mut small = Sorter::with_run(64);
        let mut big = Sorter::with_run(10_000);
        for r in &rows {
            small.push(r.clone()).unwrap();
            big.push(r.clone()).unwrap();
        }
        let a: Vec<Row> = small.finish().unwrap().map(Result::unwrap).collect();
        let b: Vec<Row> = big.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(a.len(), 1_000);
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| key(&w[0]) < key(&w[1])));
        assert!(a.last().unwrap().time.is_none());
    }
}
