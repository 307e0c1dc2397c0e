//! Every input format rampart reads, registered in one list ([`FORMATS`]).
//!
//! Two kinds of format exist. *Line* formats read one line into at most one
//! event and can be tried on any line, which is how a file that mixes formats
//! is read line by line. *Record* formats (JSON, XML, CSV, Zeek TSV, endpoint
//! AV records) keep state across lines: headers, open quotes, open elements.

pub mod auditd;
pub mod csv;
pub mod csv_split;
pub mod endpoint;
pub mod generator;
pub mod generic;
pub mod journal;
pub mod json;
pub mod login;
pub mod netdevice;
pub mod netfilter;
pub mod raw;
pub mod services;
pub mod suricata;
pub mod syslog;
pub mod web;
pub mod windows;
pub mod zeek;

use std::sync::Arc;

use rampart_event::Event;

use crate::context::FileContext;
use crate::output::Output;

/// What a line parser returns: the dataset and the event, or `None` when the
/// line is not in its format.
pub type Parsed = Option<(&'static str, Event)>;

/// A format that reads one line into at most one event.
pub enum LineParser {
    /// RFC 3164 / 5424 syslog (keeps the year across lines).
    Syslog(syslog::SyslogParser),
    /// Any line of text (keeps the year across lines).
    Raw(raw::RawParser),
    /// A stateless line format.
    Plain(fn(&FileContext, u64, &Arc<str>) -> Parsed),
}

impl LineParser {
    /// Parses one line; `None` if the line is not in this format. The line is
    /// shared so that the event keeps it as `event.original` without a copy.
    pub fn parse(
        &mut self,
        ctx: &FileContext,
        no: u64,
        line: &Arc<str>,
    ) -> Option<(&'static str, Event)> {
        match self {
            LineParser::Syslog(p) => p.parse(ctx, no, line),
            LineParser::Raw(p) => p.parse(ctx, no, line),
            LineParser::Plain(f) => f(ctx, no, line),
        }
    }
}

/// A format that reads records spanning lines.
pub enum RecordDecoder {
    /// JSON values.
    Json(json::JsonDecoder),
    /// Windows XML events.
    Xml(windows::xml::XmlDecoder),
    /// CSV with a header.
    Csv(csv::CsvDecoder),
    /// Zeek TSV.
    Zeek(zeek::ZeekTsvDecoder),
    /// Endpoint AV records.
    Endpoint(generator::EndpointDecoder),
}

impl RecordDecoder {
    /// Feeds one line.
    pub fn feed(&mut self, ctx: &FileContext, no: u64, line: &str, out: &mut Output) {
        match self {
            RecordDecoder::Json(d) => d.feed(ctx, no, line, out),
            RecordDecoder::Xml(d) => d.feed(ctx, no, line, out),
            RecordDecoder::Csv(d) => d.feed(ctx, no, line, out),
            RecordDecoder::Zeek(d) => d.feed(ctx, no, line, out),
            RecordDecoder::Endpoint(d) => d.feed(ctx, no, line, out),
        }
    }

    /// Flushes what is still open at the end of the input.
    pub fn finish(&mut self, ctx: &FileContext, out: &mut Output) {
        match self {
            RecordDecoder::Json(d) => d.finish(out),
            RecordDecoder::Xml(d) => d.finish(out),
            RecordDecoder::Csv(d) => d.finish(ctx, out),
            RecordDecoder::Zeek(_) => {}
            RecordDecoder::Endpoint(d) => d.flush(out),
        }
    }
}

/// How a format is read.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Line by line.
    Line(fn(&FileContext) -> LineParser),
    /// Record by record.
    Records(fn() -> RecordDecoder),
}

/// One registered input format.
#[derive(Clone, Copy)]
pub struct Format {
    /// The name `--input-format` takes.
    pub name: &'static str,
    /// What it reads.
    pub description: &'static str,
    /// How it is read.
    pub kind: Kind,
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// Every input format, in the order detection prefers them on a tie.
pub static FORMATS: &[Format] = &[
    Format {
        name: "syslog",
        description:
            "syslog RFC 3164/5424 (sshd, sudo, su, cron, PAM, account tools, kernel, UFW/iptables, audit records, Sysmon for Linux, Cisco, Huawei, FortiGate)",
        kind: Kind::Line(|ctx| LineParser::Syslog(syslog::SyslogParser::new(ctx))),
    },
    Format {
        name: "auditd",
        description: "Linux audit records (audit.log, one event per record)",
        kind: Kind::Line(|_| LineParser::Plain(auditd::parse_line)),
    },
    Format {
        name: "cisco",
        description: "Cisco and Huawei messages as the device prints them (show logging, no syslog header)",
        kind: Kind::Line(|_| LineParser::Plain(netdevice::buffer::parse_line)),
    },
    Format {
        name: "fortigate",
        description: "FortiGate key=value logs sent without a syslog header",
        kind: Kind::Line(|_| LineParser::Plain(netdevice::fortigate::parse_line)),
    },
    Format {
        name: "web-access",
        description: "Apache/Nginx access logs (combined, common, vhost_combined)",
        kind: Kind::Line(|_| LineParser::Plain(web::parse_access)),
    },
    Format {
        name: "web-error",
        description: "Apache and Nginx error logs",
        kind: Kind::Line(|_| LineParser::Plain(web::parse_error)),
    },
    Format {
        name: "ids",
        description: "Security Log Generator IDS lines",
        kind: Kind::Line(|_| LineParser::Plain(generator::parse_ids)),
    },
    Format {
        name: "generator-access",
        description: "Security Log Generator web access lines",
        kind: Kind::Line(|_| LineParser::Plain(generator::parse_access)),
    },
    Format {
        name: "endpoint-av",
        description: "Security Log Generator multi-line endpoint AV records",
        kind: Kind::Records(|| RecordDecoder::Endpoint(generator::EndpointDecoder::default())),
    },
    Format {
        name: "windows-xml",
        description: "Windows events as XML (wevtutil, <Events> documents, one <Event> per line)",
        kind: Kind::Records(|| RecordDecoder::Xml(windows::xml::XmlDecoder::default())),
    },
    Format {
        name: "json",
        description:
            "JSON/JSONL, each object recognised (evtx_dump, Winlogbeat, Suricata, Zeek, AWS CloudTrail, Azure, GCP audit, Microsoft 365, Okta, OneLogin, Duo, GitHub, Bitbucket, Kubernetes audit, OpenCanary, macOS unified log and eslogger, generic)",
        kind: Kind::Records(|| RecordDecoder::Json(json::JsonDecoder::new(None))),
    },
    Format {
        name: "evtx-json",
        description: "Windows events as evtx_dump JSON",
        kind: Kind::Records(|| {
            RecordDecoder::Json(json::JsonDecoder::new(Some(json::Shape::EvtxDump)))
        }),
    },
    Format {
        name: "winlogbeat",
        description: "Windows events as Winlogbeat JSON",
        kind: Kind::Records(|| {
            RecordDecoder::Json(json::JsonDecoder::new(Some(json::Shape::Winlogbeat)))
        }),
    },
    Format {
        name: "suricata",
        description: "Suricata EVE JSON",
        kind: Kind::Records(|| {
            RecordDecoder::Json(json::JsonDecoder::new(Some(json::Shape::Suricata)))
        }),
    },
    Format {
        name: "zeek-json",
        description: "Zeek logs as JSON",
        kind: Kind::Records(|| {
            RecordDecoder::Json(json::JsonDecoder::new(Some(json::Shape::Zeek)))
        }),
    },
    Format {
        name: "zeek",
        description: "Zeek logs as TSV with #fields headers",
        kind: Kind::Records(|| RecordDecoder::Zeek(zeek::ZeekTsvDecoder::default())),
    },
    Format {
        name: "csv",
        description:
            "CSV with a header, table recognised (Windows export, endpoint telemetry, generic)",
        kind: Kind::Records(|| RecordDecoder::Csv(csv::CsvDecoder::new(None))),
    },
    Format {
        name: "windows-csv",
        description: "Windows events as CSV with an Event ID column",
        kind: Kind::Records(|| {
            RecordDecoder::Csv(csv::CsvDecoder::new(Some(csv::CsvShape::Windows)))
        }),
    },
    Format {
        name: "endpoint-csv",
        description: "endpoint process/network/file/registry telemetry CSV",
        kind: Kind::Records(|| {
            RecordDecoder::Csv(csv::CsvDecoder::new(Some(csv::CsvShape::Endpoint)))
        }),
    },
    Format {
        name: "generic-csv",
        description: "any CSV with a header, columns kept as fields",
        kind: Kind::Records(|| {
            RecordDecoder::Csv(csv::CsvDecoder::new(Some(csv::CsvShape::Generic)))
        }),
    },
    RAW,
];

/// Lines of no known format: what a file no format reads is read as, never
/// chosen by detection nor tried as another format's fallback.
pub const RAW: Format = Format {
    name: "raw",
    description: "lines of no known format, kept whole (message, and a time where a common layout starts the line)",
    kind: Kind::Line(|ctx| LineParser::Raw(raw::RawParser::new(ctx))),
};

/// The format with this `--input-format` name.
pub fn by_name(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The line formats that recognise their lines, for detection and
/// per-line fallback (not `raw`, which takes any text).
pub fn line_formats() -> impl Iterator<Item = &'static Format> {
    FORMATS
        .iter()
        .filter(|f| matches!(f.kind, Kind::Line(_)) && f.name != RAW.name)
}
