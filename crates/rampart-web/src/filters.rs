//! The filters of the overview as they live in the URL, so that a
//! filtered view can be bookmarked and shared: `range` (`1h`, `24h`, `7d`,
//! `30d`, `all`) or `since` and `until` (RFC 3339 or a date), and any
//! number of `severity`, `protocol`, `dataset` and `host` values. What
//! comes in is bounded (values per filter, length of each) and checked;
//! what goes out is written back in one order, so one view has one URL.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rampart_store::{Extent, Period, Slice, MOST_CHOICES};

/// The longest value a filter takes, in bytes.
const LONGEST: usize = 256;

/// The ranges offered, by their names in the URL.
pub const RANGES: [(&str, &str); 5] = [
    ("1h", "Last hour"),
    ("24h", "Last day"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("all", "All data"),
];

/// What the overview shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct View {
    /// The range asked for; `None` for the default (the last day, or all
    /// the data when it is older).
    pub range: Option<Period>,
    /// Severity labels.
    pub levels: Vec<String>,
    /// Protocols.
    pub protocols: Vec<String>,
    /// Datasets.
    pub datasets: Vec<String>,
    /// Hosts.
    pub hosts: Vec<String>,
}

/// The filters that take values, by their names in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Severity,
    Protocol,
    Dataset,
    Host,
}

impl Facet {
    /// Every facet, in the order the page shows them.
    pub const ALL: [Facet; 4] = [
        Facet::Severity,
        Facet::Protocol,
        Facet::Dataset,
        Facet::Host,
    ];

    /// Its name in the URL.
    pub fn key(self) -> &'static str {
        match self {
            Facet::Severity => "severity",
            Facet::Protocol => "protocol",
            Facet::Dataset => "dataset",
            Facet::Host => "host",
        }
    }

    /// Its name on the page.
    pub fn label(self) -> &'static str {
        match self {
            Facet::Severity => "Severity",
            Facet::Protocol => "Protocol",
            Facet::Dataset => "Dataset",
            Facet::Host => "Host",
        }
    }
}

/// A time from the URL: RFC 3339, or a date (its midnight, UTC).
fn time(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<Date>()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// A range's name in the URL, when it is one of [`RANGES`].
pub fn range_key(period: &Period) -> Option<&'static str> {
    match period {
        Period::Everything => Some("all"),
        Period::Last(back) => RANGES
            .iter()
            .find(|(key, _)| last(key) == Some(*back))
            .map(|(key, _)| *key),
        Period::Given { .. } => None,
    }
}

/// The span a range name stands for.
fn last(key: &str) -> Option<SignedDuration> {
    let hours = match key {
        "1h" => 1,
        "24h" => 24,
        "7d" => 24 * 7,
        "30d" => 24 * 30,
        _ => return None,
    };
    Some(SignedDuration::from_hours(hours))
}

impl View {
    /// Reads the query string of a URL.
    pub fn parse(query: Option<&str>) -> Result<View, String> {
        let mut view = View::default();
        let (mut since, mut until) = (None, None);
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if value.len() > LONGEST {
                return Err(format!("{key}: a value longer than {LONGEST} bytes"));
            }
            let list = match key.as_ref() {
                "range" | "since" | "until" if value.is_empty() => continue,
                "range" => {
                    view.range = Some(match value.as_ref() {
                        "all" => Period::Everything,
                        other => Period::Last(last(other).ok_or_else(|| {
                            format!("range: {other:?} is not 1h, 24h, 7d, 30d or all")
                        })?),
                    });
                    continue;
                }
                "since" => {
                    since = Some(time(&value).ok_or_else(|| {
                        format!("since: {value:?} is not a date or an RFC 3339 time")
                    })?);
                    continue;
                }
                "until" => {
                    until = Some(time(&value).ok_or_else(|| {
                        format!("until: {value:?} is not a date or an RFC 3339 time")
                    })?);
                    continue;
                }
                "severity" => &mut view.levels,
                "protocol" => &mut view.protocols,
                "dataset" => &mut view.datasets,
                "host" => &mut view.hosts,
                _ => continue,
            };
            if list.len() >= MOST_CHOICES {
                return Err(format!("{key}: more than {MOST_CHOICES} values"));
            }
            if !list.iter().any(|v| *v == value) {
                list.push(value.into_owned());
            }
        }
        if since.is_some() || until.is_some() {
            view.range = Some(Period::Given { since, until });
        }
        Ok(view)
    }

    /// The values chosen for `facet`.
    pub fn values(&self, facet: Facet) -> &[String] {
        match facet {
            Facet::Severity => &self.levels,
            Facet::Protocol => &self.protocols,
            Facet::Dataset => &self.datasets,
            Facet::Host => &self.hosts,
        }
    }

    fn values_mut(&mut self, facet: Facet) -> &mut Vec<String> {
        match facet {
            Facet::Severity => &mut self.levels,
            Facet::Protocol => &mut self.protocols,
            Facet::Dataset => &mut self.datasets,
            Facet::Host => &mut self.hosts,
        }
    }

    /// The view with `value` of `facet` chosen if it was not, and left out
    /// if it was.
    pub fn toggled(&self, facet: Facet, value: &str) -> View {
        let mut view = self.clone();
        let list = view.values_mut(facet);
        match list.iter().position(|v| v == value) {
            Some(at) => {
                list.remove(at);
            }
            None => list.push(value.to_owned()),
        }
        view
    }

    /// The query string of the view (empty for the default one), `?`
    /// included.
    pub fn query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        match &self.range {
            None => {}
            Some(Period::Given { since, until }) => {
                if let Some(t) = since {
                    out.append_pair("since", &t.to_string());
                }
                if let Some(t) = until {
                    out.append_pair("until", &t.to_string());
                }
            }
            Some(period) => {
                if let Some(key) = range_key(period) {
                    out.append_pair("range", key);
                }
            }
        }
        for facet in Facet::ALL {
            for value in self.values(facet) {
                out.append_pair(facet.key(), value);
            }
        }
        let query = out.finish();
        if query.is_empty() {
            query
        } else {
            format!("?{query}")
        }
    }

    /// The range the view opens on, for data reaching `extent`.
    pub fn period(&self, extent: &Extent, now: Timestamp) -> Period {
        self.range
            .unwrap_or_else(|| Period::default_for(extent, now))
    }

    /// The slice of the store the view shows at `now`.
    pub fn slice(&self, extent: &Extent, now: Timestamp) -> Slice {
        let (since, until) = self.period(extent, now).bounds(extent, now);
        Slice {
            since,
            until,
            levels: self.levels.clone(),
            protocols: self.protocols.clone(),
            datasets: self.datasets.clone(),
            hosts: self.hosts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_goes_through_its_url_unchanged() {
        let view = View::parse(Some(
            "range=7d&severity=high&severity=low&protocol=TCP&host=a%26b&dataset=ids.alert",
        ))
        .unwrap();
        assert_eq!(
            view.range,
            Some(Period::Last(SignedDuration::from_hours(168)))
        );
        assert_eq!(view.levels, ["high", "low"]);
        assert_eq!(view.hosts, ["a&b"]);
        let again = View::parse(Some(view.query().trim_start_matches('?'))).unwrap();
        assert_eq!(again, view);
        let given = View::parse(Some("since=2023-07-23&until=2023-07-24T06:00:00Z")).unwrap();
        assert_eq!(
            given.range,
            Some(Period::Given {
                since: Some("2023-07-23T00:00:00Z".parse().unwrap()),
                until: Some("2023-07-24T06:00:00Z".parse().unwrap()),
            })
        );
        assert_eq!(
            View::parse(Some(given.query().trim_start_matches('?'))).unwrap(),
            given
        );
        assert_eq!(View::default().query(), "");
    }

    #[test]
    fn bad_and_oversized_filters_are_refused_by_name() {
        assert!(View::parse(Some("range=2w"))
            .unwrap_err()
            .starts_with("range:"));
        assert!(View::parse(Some("since=yesterday"))
            .unwrap_err()
            .starts_with("since:"));
        let long = format!("host={}", "a".repeat(LONGEST + 1));
        assert!(View::parse(Some(&long)).unwrap_err().starts_with("host:"));
        let many: Vec<String> = (0..=MOST_CHOICES)
            .map(|i| format!("protocol=p{i}"))
            .collect();
        assert!(View::parse(Some(&many.join("&")))
            .unwrap_err()
            .starts_with("protocol:"));
        // Repeats count once; unknown keys are left alone.
        let view = View::parse(Some("severity=low&severity=low&utm=x")).unwrap();
        assert_eq!(view.levels, ["low"]);
    }

    #[test]
    fn toggling_a_value_adds_it_then_takes_it_away() {
        let view = View::default().toggled(Facet::Protocol, "TCP");
        assert_eq!(view.protocols, ["TCP"]);
        assert!(view.toggled(Facet::Protocol, "TCP").protocols.is_empty());
    }
}
