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

fn open(path: &Path) -> Result<Reader<Vec<u8>>, String> {
    Reader::open_readfile(path)
        .map_err(|e| format!("{}: not a MaxMind database: {e}", path.display()))
}

fn english<'a>(names: Option<&std::collections::BTreeMap<&'a str, &'a str>>) -> Option<&'a str> {
    names.and_then(|n| n.get("en").copied())
}

impl GeoIp {
    /// Opens a City or Country database and an ASN database (either may be
    /// left out).
    pub fn open(geo: Option<&Path>, asn: Option<&Path>) -> Result<GeoIp, String> {
        Ok(GeoIp {
            geo: geo.map(open).transpose()?,
            asn: asn.map(open).transpose()?,
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
