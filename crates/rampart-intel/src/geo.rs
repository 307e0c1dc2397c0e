//! GeoIP and ASN from MaxMind databases (`.mmdb`: GeoLite2/GeoIP2 City or
//! Country, and ASN): `source.geo.*`, `source.as.*` and the same for
//! `destination`, in ECS's names. Addresses a database does not hold
//! (private ranges, say) get nothing.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{geoip2, Reader};
use rampart_event::{Event, Value};
use serde_json::json;

/// The open databases.
#[derive(Debug, Default)]
pub struct GeoIp {
    geo: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

/// Opens the MaxMind database at `path`, refusing one whose search tree
/// does not fit in the file.
pub(crate) fn open_database(path: &Path) -> Result<Reader<Vec<u8>>, String> {
    let reader = Reader::open_readfile(path)
        .map_err(|e| format!("{}: not a MaxMind database: {e}", path.display()))?;
    // The data section starts after the search tree, whose size the
    // metadata states (MaxMind DB spec: node count x record size / 4, then a
    // 16-byte separator). A damaged count would send lookups past the file,
    // where the reader panics instead of failing.
    let m = &reader.metadata;
    let tree = u64::from(m.node_count) * u64::from(m.record_size) / 4 + 16;
    let size = std::fs::metadata(path).map_or(0, |f| f.len());
    if !matches!(m.record_size, 24 | 28 | 32) || tree > size {
        return Err(format!(
            "{}: a damaged MaxMind database: its search tree ({} nodes of {} bits) does not fit in its {size} bytes",
            path.display(),
            m.node_count,
            m.record_size
        ));
    }
    Ok(reader)
}

fn open(path: &Path, kind: &str) -> Result<Reader<Vec<u8>>, String> {
    let reader = open_database(path)?;
    let m = &reader.metadata;
    // A City database given as the ASN one (or the reverse) would enrich
    // nothing without a word.
    let wanted = if kind == "asn" {
        "ASN"
    } else {
        "City or Country"
    };
    let fits = if kind == "asn" {
        m.database_type.contains("ASN") || m.database_type.contains("ISP")
    } else {
        !m.database_type.contains("ASN")
    };
    if !fits {
        return Err(format!(
            "{}: a {} database, not the {wanted} database this option takes",
            path.display(),
            m.database_type
        ));
    }
    Ok(reader)
}

fn english<'a>(names: Option<&std::collections::BTreeMap<&'a str, &'a str>>) -> Option<&'a str> {
    names.and_then(|n| n.get("en").copied())
}

impl GeoIp {
    /// Opens a City or Country database and an ASN database (either may be
    /// left out).
    pub fn open(geo: Option<&Path>, asn: Option<&Path>) -> Result<GeoIp, String> {
        Ok(GeoIp {
            geo: geo.map(|p| open(p, "geo")).transpose()?,
            asn: asn.map(|p| open(p, "asn")).transpose()?,
        })
    }

    /// Whether any database is open.
    pub fn is_empty(&self) -> bool {
        self.geo.is_none() && self.asn.is_none()
    }

    /// Adds `<side>.geo.*` and `<side>.as.*` for the source and destination
    /// addresses.
    pub fn enrich(&self, event: &mut Event) {
        for side in ["source", "destination"] {
            if let Some(ip) = event.get_ip(&format!("{side}.ip")) {
                self.enrich_side(event, side, ip);
            }
        }
    }

    fn enrich_side(&self, event: &mut Event, side: &str, ip: IpAddr) {
        if let Some(Ok(Some(city))) = self.geo.as_ref().map(|r| r.lookup::<geoip2::City>(ip)) {
            let set = |event: &mut Event, field: &str, value: Option<&str>| {
                if let Some(v) = value {
                    event.set(format!("{side}.geo.{field}"), v.to_owned());
                }
            };
            if let Some(country) = &city.country {
                set(event, "country_iso_code", country.iso_code);
                set(event, "country_name", english(country.names.as_ref()));
            }
            if let Some(continent) = &city.continent {
                set(event, "continent_code", continent.code);
                set(event, "continent_name", english(continent.names.as_ref()));
            }
            if let Some(c) = &city.city {
                set(event, "city_name", english(c.names.as_ref()));
            }
            if let Some(region) = city.subdivisions.as_ref().and_then(|s| s.first()) {
                set(event, "region_name", english(region.names.as_ref()));
                if let (Some(country), Some(code)) = (
                    city.country.as_ref().and_then(|c| c.iso_code),
                    region.iso_code,
                ) {
                    event.set(
                        format!("{side}.geo.region_iso_code"),
                        format!("{country}-{code}"),
                    );
                }
            }
            if let Some(location) = &city.location {
                if let (Some(lat), Some(lon)) = (location.latitude, location.longitude) {
                    event.set(
                        format!("{side}.geo.location"),
                        Value::Json(Box::new(json!({"lat": lat, "lon": lon}))),
                    );
                }
                set(event, "timezone", location.time_zone);
            }
        }
        if let Some(Ok(Some(asn))) = self.asn.as_ref().map(|r| r.lookup::<geoip2::Asn>(ip)) {
            if let Some(n) = asn.autonomous_system_number {
                event.set(format!("{side}.as.number"), i64::from(n));
            }
            if let Some(org) = asn.autonomous_system_organization {
                event.set(format!("{side}.as.organization.name"), org.to_owned());
            }
        }
    }
}
