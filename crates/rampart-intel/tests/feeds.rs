//! The feed fixtures in feeds read as their README says: format
//! recognised, indicators in normal form, bad entries reported with their
//! line, the rest ignored with a reason.

use std::path::PathBuf;

use rampart_intel::{read_file, Feed, FeedOptions, Format, Kind};

fn fixture(name: &str) -> Feed {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../feeds")
        .join(name);
    read_file(&path, &FeedOptions::default()).unwrap()
}

fn count(feed: &Feed, kind: Kind) -> usize {
    feed.indicators.iter().filter(|i| i.kind == kind).count()
}

fn has(feed: &Feed, kind: Kind, value: &str) -> bool {
    feed.indicators
        .iter()
        .any(|i| i.kind == kind && i.value == value)
}

#[test]
fn plain_lists_guess_each_kind_and_report_bad_lines() {
    let feed = fixture("plain.txt");
    assert_eq!(feed.format, Some(Format::Plain));
    assert_eq!(feed.indicators.len(), 18);
    let kinds = [
        (Kind::Ip, 6),
        (Kind::Cidr, 3),
        (Kind::Domain, 4),
        (Kind::Url, 2),
    ];
    for (kind, n) in kinds {
        assert_eq!(count(&feed, kind), n, "{kind}");
    }
    assert!(has(&feed, Kind::Ip, "2001:db8::1"));
    assert!(
        has(&feed, Kind::Ip, "198.51.100.99"),
        "inline comment stripped"
    );
    assert!(has(&feed, Kind::Cidr, "203.0.113.64/28"));
    assert!(has(&feed, Kind::Domain, "phish.example.org"));
    assert!(has(
        &feed,
        Kind::Sha1,
        "1ed24af510f2703f95e4e73cc4de28f89c684702"
    ));
    let bad: Vec<u64> = feed.invalid.iter().map(|i| i.line).collect();
    assert_eq!(bad, [36, 37]);
    assert_eq!(feed.indicators[0].source, "plain.txt");
}

#[test]
fn ipsum_counts_become_confidence_and_the_minimum_filters() {
    let feed = fixture("ipsum.txt");
    assert_eq!(feed.format, Some(Format::Ipsum));
    assert_eq!(feed.indicators.len(), 15);
    let top = feed
        .indicators
        .iter()
        .find(|i| i.value == "203.0.113.201")
        .unwrap();
    assert_eq!(top.confidence, Some(11));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../feeds/ipsum.txt");
    let options = FeedOptions {
        ipsum_min_lists: 5,
        ..FeedOptions::default()
    };
    let strict = read_file(&path, &options).unwrap();
    assert_eq!(strict.indicators.len(), 8);
    assert_eq!(strict.ignored_total(), 7);
}

#[test]
fn csv_with_a_header_reads_types_confidence_sources_and_tags() {
    let feed = fixture("iocs.csv");
    assert_eq!(feed.format, Some(Format::Csv));
    assert_eq!(feed.indicators.len(), 7);
    assert_eq!(feed.invalid.len(), 1);
    assert_eq!(feed.invalid[0].line, 9, "row 8 is file line 9");
    let net = feed
        .indicators
        .iter()
        .find(|i| i.kind == Kind::Cidr)
        .unwrap();
    assert_eq!(net.value, "203.0.113.0/24");
    assert_eq!(net.source, "CERT-EX, shared feed");
    assert_eq!(net.confidence, Some(60));
    assert_eq!(net.tags, ["botnet", "c2"]);
    assert!(net.expires.is_some());
    assert!(has(&feed, Kind::Ip, "2001:db8::5"));
    assert!(has(&feed, Kind::Domain, "bad-updates.example.org"));
    let url = feed
        .indicators
        .iter()
        .find(|i| i.kind == Kind::Url)
        .unwrap();
    assert_eq!(url.confidence, None);
}

#[test]
fn misp_exports_take_detection_attributes_in_both_formats() {
    for name in ["misp.csv", "misp.json"] {
        let feed = fixture(name);
        assert_eq!(feed.indicators.len(), 10, "{name}");
        assert!(feed.invalid.is_empty(), "{name}: {:?}", feed.invalid);
        assert_eq!(feed.ignored_total(), 3, "{name}: {:?}", feed.ignored);
        assert_eq!(count(&feed, Kind::Ip), 3, "{name}");
        assert!(has(&feed, Kind::Ip, "198.51.100.9"), "{name}: ip-dst|port");
        assert!(
            !has(&feed, Kind::Ip, "198.51.100.200"),
            "{name}: to_ids off"
        );
        assert!(
            has(&feed, Kind::Domain, "mail.badactor.test"),
            "{name}: hostname"
        );
        assert!(
            has(
                &feed,
                Kind::Sha256,
                "47f90ffb5519dca96440ee3b27f963fd8c6341ee8e6c92ac6a6981d9fe7725a5"
            ),
            "{name}: filename|sha256"
        );
        let tagged = feed
            .indicators
            .iter()
            .find(|i| i.value == "198.51.100.9")
            .unwrap();
        assert!(
            tagged.tags.iter().any(|t| t == "tlp:amber"),
            "{name}: {:?}",
            tagged.tags
        );
    }
    assert_eq!(fixture("misp.csv").format, Some(Format::MispCsv));
    assert_eq!(fixture("misp.json").format, Some(Format::MispJson));
}

#[test]
fn stix_bundles_yield_each_observable_of_their_indicators() {
    let feed = fixture("stix.json");
    assert_eq!(feed.format, Some(Format::Stix));
    assert_eq!(feed.indicators.len(), 9);
    assert!(feed.invalid.is_empty());
    assert_eq!(feed.ignored_total(), 4, "{:?}", feed.ignored);
    assert!(has(&feed, Kind::Ip, "192.0.2.66") && has(&feed, Kind::Ip, "192.0.2.67"));
    assert!(has(&feed, Kind::Cidr, "203.0.113.0/24"));
    assert!(has(&feed, Kind::Md5, "c8071a26b141f7223f132e126e7bd167"));
    let c2 = feed
        .indicators
        .iter()
        .find(|i| i.value == "198.51.100.7")
        .unwrap();
    assert_eq!(c2.confidence, Some(85));
    assert_eq!(c2.tags, ["c2", "botnet"]);
    assert!(!has(&feed, Kind::Ip, "198.51.100.250"), "revoked");
    assert!(!has(&feed, Kind::Domain, "old-c2.example.org"), "expired");
}
