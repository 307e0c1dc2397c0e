//! Where the engine hands its alerts.

use std::io::{self, Write};

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
