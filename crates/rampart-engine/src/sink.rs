//! Where the engine hands its alerts: a sink, on the consumer's thread or
//! on one of its own.

use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use rampart_detect::Alert;

use crate::output::AlertWriter;

/// Takes alerts in output order.
pub trait AlertSink {
    /// Takes one alert; an error stops further alerts from being handed on
    /// (the run goes on, counting them).
    fn alert(&mut self, alert: Alert) -> io::Result<()>;
}

/// Alerts kept for later (VirusTotal lookups on them, say).
impl AlertSink for Vec<Alert> {
    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.push(alert);
        Ok(())
    }
}

/// Streaming formats write each alert as it comes; the others hold them
/// until [`AlertWriter::finish`] sorts and writes them.
impl<W: Write> AlertSink for AlertWriter<W> {
    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        if self.format().streams() {
            self.write(&alert)
        } else {
            self.hold(alert);
            Ok(())
        }
    }
}

/// Alerts handed to a [`Background`] sink's thread at a time.
const BUNDLE: usize = 64;
/// Bundles that may wait for it, so that memory stays bounded when the
/// output is slower than the engine.
const WAITING: usize = 16;

/// A sink run on a thread of its own: turning alerts into text and writing
/// them costs the engine's consumer only a hand-over. After the sink's
/// first error, alerts are taken and dropped, and [`Background::finish`]
/// gives the error.
pub struct Background<S> {
    bundle: Vec<Alert>,
    tx: SyncSender<Vec<Alert>>,
    thread: JoinHandle<(S, io::Result<()>)>,
}

impl<S: AlertSink + Send + 'static> Background<S> {
    /// Starts the thread that hands alerts to `sink`.
    pub fn start(mut sink: S) -> io::Result<Background<S>> {
        let (tx, rx) = sync_channel::<Vec<Alert>>(WAITING);
        let thread = std::thread::Builder::new()
            .name("rampart-output".into())
            .spawn(move || {
                let mut written = Ok(());
                for alert in rx.into_iter().flatten() {
                    if written.is_ok() {
                        written = sink.alert(alert);
                    }
                }
                (sink, written)
            })?;
        Ok(Background {
            bundle: Vec::with_capacity(BUNDLE),
            tx,
            thread,
        })
    }

    /// Hands on what is left, waits for the thread, and gives the sink back
    /// with the first error it gave.
    pub fn finish(self) -> (S, io::Result<()>) {
        let Background { bundle, tx, thread } = self;
        let _ = tx.send(bundle);
        drop(tx);
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl<S> AlertSink for Background<S> {
    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.bundle.push(alert);
        if self.bundle.len() >= BUNDLE {
            let full = std::mem::replace(&mut self.bundle, Vec::with_capacity(BUNDLE));
            // The thread takes every bundle until `finish`; should it have
            // died, `finish` carries its panic.
            let _ = self.tx.send(full);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_detect::Level;

    fn alert(n: usize) -> Alert {
        let mut rule = rampart_intel::ioc_rule();
        rule.id = format!("r{n}");
        rule.level = Level::High;
        let event = rampart_event::Event::new(rampart_event::Origin::new("t.log", n as u64), "x");
        Alert::single(&rule, Vec::new(), Vec::new(), &event)
    }

    /// Takes five alerts, then fails.
    struct Failing(Vec<String>);

    impl AlertSink for Failing {
        fn alert(&mut self, alert: Alert) -> io::Result<()> {
            if self.0.len() == 5 {
                return Err(io::Error::other("disk full"));
            }
            self.0.push(alert.rule_id);
            Ok(())
        }
    }

    #[test]
    fn every_alert_reaches_the_sink_on_its_thread_in_order() {
        let mut sink = Background::start(Vec::new()).unwrap();
        for n in 0..1000 {
            sink.alert(alert(n)).unwrap();
        }
        let (alerts, written) = sink.finish();
        written.unwrap();
        let ids: Vec<String> = alerts.into_iter().map(|a| a.rule_id).collect();
        let expected: Vec<String> = (0..1000).map(|n| format!("r{n}")).collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_failing_sink_gives_its_first_error_and_the_engine_goes_on() {
        let mut sink = Background::start(Failing(Vec::new())).unwrap();
        // Far more than the bundles that may wait: the thread keeps taking them.
        for n in 0..(BUNDLE * WAITING * 4) {
            sink.alert(alert(n)).unwrap();
        }
        let (failing, written) = sink.finish();
        assert_eq!(written.unwrap_err().to_string(), "disk full");
        assert_eq!(failing.0, ["r0", "r1", "r2", "r3", "r4"]);
    }
}
