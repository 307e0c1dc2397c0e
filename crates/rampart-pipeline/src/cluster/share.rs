//! The stage without state, on every worker: a batch of the collectors'
//! events read, run through the rules on the worker threads, each
//! partition's share published to the work stream, the alerts that need no
//! state and the events handed to the sinks, and the batch acknowledged
//! once all of that is kept.

use std::time::Instant;

use async_nats::jetstream;
use futures_util::StreamExt;
use rampart_detect::Alert;
use rampart_engine::{Detected, Sink, SHARES};
use rampart_event::Event;
use rayon::prelude::*;

use super::setup::within;
use super::wire::{self, Item, Work};
use super::Worker;

/// Events run through the rules as one batch.
const CHUNK: usize = 1024;
/// A work message's size, at most, before the next is begun.
const MESSAGE_BYTES: usize = 512 * 1024;

impl Worker<'_, '_> {
    /// Reads a batch of events, runs the rules, shares out what needs
    /// state, hands the rest to the sinks and acknowledges the batch;
    /// returns how many messages it took.
    pub(super) async fn share_out(&mut self) -> Result<usize, String> {
        let events = &self.parts.events;
        let count = self.fetch.count;
        let messages = within(async {
            let mut batch = events
                .fetch()
                .max_messages(count)
                .messages()
                .await
                .map_err(|e| e.to_string())?;
            let mut messages = Vec::new();
            while let Some(m) = batch.next().await {
                match m {
                    Ok(m) => messages.push(m),
                    // The server ends a pull with a 409 status: what came
                    // before it is good (see [`super::fetch`]).
                    Err(e) if e.to_string().contains(": 409,") => break,
                    Err(e) => return Err(e.to_string()),
                }
            }
            Ok(messages)
        })
        .await?;
        let bytes = messages.iter().map(|m| m.payload.len()).sum();
        self.fetch.learn(messages.len(), bytes);
        if messages.is_empty() {
            return Ok(0);
        }
        let replies = messages
            .iter()
            .filter_map(|m| m.reply.as_ref().map(ToString::to_string))
            .collect();
        self.keeper.shared().in_hand = Some((Instant::now(), replies));
        // Each message holds one event or several, a line each.
        let decoded: Vec<Vec<(u64, Result<Event, String>)>> = {
            let decode = |m: &jetstream::Message| {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                m.payload
                    .split(|b| *b == b'\n')
                    .filter(|line| !line.is_empty())
                    .enumerate()
                    .map(|(at, line)| {
                        let event = std::str::from_utf8(line)
                            .map_err(|_| "not UTF-8".to_string())
                            .and_then(Event::from_ecs_json);
                        (wire::place(seq, at), event)
                    })
                    .collect()
            };
            match self.pool {
                Some(pool) => pool.install(|| messages.par_iter().map(decode).collect()),
                None => messages.iter().map(decode).collect(),
            }
        };
        let mut seqs = Vec::with_capacity(decoded.len());
        let mut events = Vec::with_capacity(decoded.len());
        for (seq, event) in decoded.into_iter().flatten() {
            match event {
                Ok(e) => {
                    seqs.push(seq);
                    events.push(e);
                }
                Err(e) => {
                    self.report.unreadable += 1;
                    self.say(format!("a message of the events stream is no event: {e}"));
                }
            }
        }
        let mut batches: Vec<Vec<Event>> = Vec::new();
        while events.len() > CHUNK {
            let rest = events.split_off(CHUNK);
            batches.push(std::mem::replace(&mut events, rest));
        }
        batches.push(events);
        let detected = self.engine.detect_split(self.pool, &mut batches);
        // Each batch's items by partition, made on the pool, then each
        // partition's in event order.
        let mut starts = Vec::with_capacity(batches.len());
        let mut first = 0;
        for events in &batches {
            starts.push(first);
            first += events.len();
        }
        let items_of = |((events, detected), first): ((&Vec<Event>, Detected), &usize)| {
            let shares: Vec<Vec<Item>> = detected
                .shares
                .into_iter()
                .map(|list| {
                    list.into_iter()
                        .map(|share| {
                            let mut json = Vec::with_capacity(512);
                            events[share.event].write_json(&mut json);
                            Item {
                                seq: seqs[first + share.event],
                                event: String::from_utf8(json).unwrap_or_default(),
                                placed: share.placed,
                                folded: share.folded.iter().map(Alert::to_bytes).collect(),
                            }
                        })
                        .collect()
                })
                .collect();
            (shares, detected.ready)
        };
        let made: Vec<(Vec<Vec<Item>>, Vec<Alert>)> = {
            let work: Vec<_> = batches.iter().zip(detected).zip(&starts).collect();
            match self.pool {
                Some(pool) => pool.install(|| work.into_par_iter().map(items_of).collect()),
                None => work.into_iter().map(items_of).collect(),
            }
        };
        let mut shares: Vec<Vec<Item>> = (0..SHARES).map(|_| Vec::new()).collect();
        let mut ready = Vec::new();
        for (by_partition, alerts) in made {
            for (p, items) in by_partition.into_iter().enumerate() {
                shares[p].extend(items);
            }
            ready.extend(alerts);
        }
        within(self.publish(shares)).await?;
        for alert in ready {
            self.hand_on(alert);
        }
        let events: Vec<Event> = batches.into_iter().flatten().collect();
        self.report.events += events.len() as u64;
        self.router.events(&self.input, events);
        self.router.deliver();
        futures_util::future::try_join_all(messages.iter().map(|m| m.ack()))
            .await
            .map_err(|e| format!("ack: {e}"))?;
        self.keeper.shared().in_hand = None;
        Ok(messages.len())
    }

    /// Publishes each partition's items, and waits until the work stream
    /// stored them all.
    async fn publish(&mut self, shares: Vec<Vec<Item>>) -> Result<(), String> {
        let prefix = &self.parts.places.prefix;
        let mut acks = Vec::new();
        for (p, items) in shares.into_iter().enumerate() {
            let mut message = Vec::new();
            let mut weight = 0;
            let mut items = items.into_iter().peekable();
            while let Some(item) = items.next() {
                weight += item.weight();
                message.push(item);
                if weight >= MESSAGE_BYTES || items.peek().is_none() {
                    let work = Work {
                        rules: self.rules,
                        items: std::mem::take(&mut message),
                    };
                    weight = 0;
                    let ack = self
                        .parts
                        .places
                        .js
                        .publish(format!("{prefix}{p:02}"), wire::encode(&work).into())
                        .await
                        .map_err(|e| format!("work: {e}"))?;
                    acks.push(ack);
                }
            }
        }
        for ack in acks {
            ack.await.map_err(|e| format!("work: {e}"))?;
        }
        Ok(())
    }
}
