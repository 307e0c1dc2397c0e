//! The web console in a real browser: IDS lines in seed 001's format with
//! feed matches planted on both sides (and lines and a rule that try to
//! inject markup), stored with `rampart ingest`, served by `rampart
//! serve`, and read by headless Chromium. The overview must show the
//! figures seed 001 computes from the same lines and feed, follow a filter,
//! and update by itself while another ingest stores more; an alert is
//! triaged from its page; events are searched; nothing from the logs or
//! the rule runs as script, which the page's state and the policy's
//! violation reports both show.

mod browser;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use browser::{eval, screenshot, session, wait_for};
use common::{ok, rampart};
use fantoccini::Locator;
use serde_json::Value;

/// The feed: addresses and their confidence, IPSUM's format.
const FEED: [(&str, u32); 3] = [
    ("213.209.159.158", 11),
    ("45.148.10.81", 4),
    ("193.32.162.157", 2),
];

/// One IDS line as seed 001's generator writes it.
struct Line {
    /// Minutes after 16:00.
    minute: u32,
    level: &'static str,
    protocol: &'static str,
    source: String,
    destination: String,
    text: String,
}

impl Line {
    fn render(&self, second: u32) -> String {
        format!(
            "2023-07-23 {:02}:{:02}:{:02},000 - ids_logger_1 - {}_severity - {} - {}:40000 --> {}:443 - SYN - {}",
            16 + self.minute / 60,
            self.minute % 60,
            second, self.level, self.protocol, self.source, self.destination, self.text
        )
    }
}

/// The lines: 240 of every mix, three feed addresses as sources, two as
/// destinations, and one whose description is markup.
fn lines() -> Vec<Line> {
    let levels = ["low", "medium", "high", "critical"];
    let protocols = ["TCP", "UDP", "ICMP", "DHCP", "HTTP"];
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let mut lines: Vec<Line> = (0..240)
        .map(|_| Line {
            minute: next(350) as u32,
            level: levels[next(10).min(3) as usize],
            protocol: protocols[next(5) as usize],
            source: format!("198.51.100.{}", next(60)),
            destination: format!("10.0.0.{}", next(12)),
            text: "Port scanning".into(),
        })
        .collect();
    for (i, (ip, _)) in FEED.iter().enumerate() {
        lines.push(Line {
            minute: 351 + i as u32,
            level: "high",
            protocol: "TCP",
            source: (*ip).into(),
            destination: "10.0.0.10".into(),
            text: "Malicious traffic".into(),
        });
    }
    for (i, (ip, _)) in FEED.iter().take(2).enumerate() {
        lines.push(Line {
            minute: 355 + i as u32,
            level: "medium",
            protocol: "UDP",
            source: "10.0.0.7".into(),
            destination: (*ip).into(),
            text: "Command and control".into(),
        });
    }
    lines.push(Line {
        minute: 358,
        level: "critical",
        protocol: "HTTP",
        source: "45.148.10.81".into(),
        destination: "10.0.0.3".into(),
        text: HOSTILE.into(),
    });
    lines
}

/// A description that tries every way into the page.
const HOSTILE: &str = "<script>window.__pwned=1</script>\"><img src=x onerror=window.__pwned=2> \
     javascript:window.__pwned=3 =cmd|' /C calc'!A0 <svg onload=window.__pwned=4>";

/// A rule whose texts try the same.
const RULE: &str = r#"title: "<script>window.__pwned=5</script> Hostile \"><img src=x onerror=window.__pwned=6>"
id: 6c7a3c0e-1f0b-4c59-9d4e-6b0f2a1e9d01
status: test
description: "=HYPERLINK(\"http://evil\") <svg onload=window.__pwned=7>"
author: "<b onmouseover=window.__pwned=8>mallory</b>"
references:
  - "javascript:window.__pwned=9"
  - "https://example.org/<script>"
tags:
  - attack.t1190
logsource:
  definition: IDS lines
detection:
  sel:
    message|contains: __pwned
  condition: sel
level: high
"#;

/// An ECS JSON line with markup where the dashboard puts labels.
const HOSTILE_JSON: &str = r#"{"@timestamp":"2023-07-23T21:59:00Z","host":{"name":"<script>window.__pwned=10</script>"},"log":{"level":"<img src=x onerror=window.__pwned=11>"},"network":{"protocol":"<svg onload=window.__pwned=12>"},"source":{"ip":"45.148.10.81"},"destination":{"ip":"10.0.0.3"},"message":"json hostile"}
"#;

/// What seed 001 computes from the lines and the feed.
struct Expected {
    events: u64,
    malicious: u64,
    sources: u64,
    levels: BTreeMap<String, u64>,
    protocols: BTreeMap<String, u64>,
}

fn expected(lines: &[Line]) -> Expected {
    let bad = |ip: &str| FEED.iter().any(|(f, _)| *f == ip);
    let malicious: Vec<&Line> = lines
        .iter()
        .filter(|l| bad(&l.source) || bad(&l.destination))
        .collect();
    let mut levels = BTreeMap::new();
    let mut protocols = BTreeMap::new();
    for l in lines {
        *levels.entry(l.level.to_owned()).or_default() += 1;
        *protocols.entry(l.protocol.to_owned()).or_default() += 1;
    }
    Expected {
        events: lines.len() as u64,
        malicious: malicious.len() as u64,
        sources: malicious
            .iter()
            .map(|l| l.source.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64,
        levels,
        protocols,
    }
}

/// Writes the lines (each second apart) and stores them.
fn store(db: &Path, dir: &Path, name: &str, lines: &[Line]) {
    let text: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| l.render((i % 60) as u32) + "\n")
        .collect();
    let log = dir.join(name);
    std::fs::write(&log, text).unwrap();
    let feed: String = FEED.iter().map(|(ip, c)| format!("{ip}\t{c}\n")).collect();
    std::fs::write(dir.join("ipsum.txt"), format!("# IPsum\n{feed}")).unwrap();
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("hostile.yml"), RULE).unwrap();
    ok(rampart(
        db,
        &[
            "ingest",
            "-q",
            "--intel",
            dir.join("ipsum.txt").to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    ));
}

/// The KPI cards: label → number.
async fn cards(client: &fantoccini::Client) -> BTreeMap<String, u64> {
    let found = eval(
        client,
        "return Array.from(document.querySelectorAll('.card')).map(c => \
         [c.querySelector('.card-label').textContent, c.querySelector('.card-value').textContent])",
    )
    .await;
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let label = pair[0].as_str().unwrap().to_owned();
            let digits: String = pair[1]
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            (label, digits.parse().unwrap())
        })
        .collect()
}

/// The bars of the chart labelled `chart`, read from their tooltips
/// (`label: count`; the label drawn may be cut short): label → count.
async fn bars(client: &fantoccini::Client, chart: &str) -> BTreeMap<String, u64> {
    let script = format!(
        "return Array.from(document.querySelectorAll('svg[aria-label=\"{chart}\"] g > title')).map(t => t.textContent)"
    );
    eval(client, &script)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|tip| {
            let (label, count) = tip.as_str().unwrap().rsplit_once(": ").unwrap();
            let digits: String = count.chars().filter(char::is_ascii_digit).collect();
            (label.to_owned(), digits.parse().unwrap())
        })
        .collect()
}

/// Nothing injected ran: no `__pwned` in the page.
async fn nothing_ran(client: &fantoccini::Client, page: &str) {
    let state = eval(client, "return typeof window.__pwned").await;
    assert_eq!(
        state,
        Value::from("undefined"),
        "{page}: injected script ran"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_console_shows_seed_001s_figures_triages_searches_and_runs_nothing_injected() {
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let lines = lines();
    store(&db, dir.path(), "ids.log", &lines);
    let mut want = expected(&lines);
    // An event whose severity label, protocol and host are markup: they
    // reach the charts' labels and tooltips, the filters and the heatmap.
    std::fs::write(dir.path().join("hostile.json"), HOSTILE_JSON).unwrap();
    ok(rampart(
        &db,
        &[
            "ingest",
            "-q",
            "--intel",
            dir.path().join("ipsum.txt").to_str().unwrap(),
            dir.path().join("hostile.json").to_str().unwrap(),
        ],
    ));
    want.events += 1;
    want.malicious += 1;
    *want
        .levels
        .entry("<img src=x onerror=window.__pwned=11>".into())
        .or_default() += 1;
    *want
        .protocols
        .entry("<SVG ONLOAD=WINDOW.__PWNED=12>".into())
        .or_default() += 1;
    let rules = dir.path().join("rules");
    let (_server, url) = browser::serve(&db, &["--rules", rules.to_str().unwrap()], &[]);
    let (_driver, driver) = browser::driver();
    let client = session(&driver, 1280, 1000).await;

    // The overview: seed 001's figures, on the data's whole extent (it is
    // from 2023, older than the default day).
    client.goto(&format!("{url}/")).await.unwrap();
    let shown = cards(&client).await;
    assert_eq!(shown["Events"], want.events, "{shown:?}");
    assert_eq!(shown["Malicious events"], want.malicious, "{shown:?}");
    assert_eq!(shown["Benign events"], want.events - want.malicious);
    assert_eq!(shown["Malicious sources"], want.sources);
    let open_alerts = shown["Open alerts"];
    assert!(open_alerts > 0);
    assert_eq!(
        bars(&client, "Events per severity").await,
        want.levels,
        "severity distribution"
    );
    assert_eq!(
        bars(&client, "Events per protocol").await,
        want.protocols,
        "protocol usage"
    );
    let top = bars(&client, "Malicious events per source address").await;
    assert_eq!(top.len() as u64, want.sources, "{top:?}");
    assert_eq!(top.get("213.209.159.158"), Some(&1));
    let heat = eval(
        &client,
        "return Array.from(document.querySelectorAll('table.heatmap td')).map(td => td.textContent).join(',')",
    )
    .await;
    assert!(heat.as_str().unwrap().contains('1'), "heatmap: {heat}");
    nothing_ran(&client, "overview").await;
    // The hostile description is shown as text in the details table.
    let details = eval(
        &client,
        "return document.querySelector('#h-investigate').parentElement.textContent",
    )
    .await;
    assert!(details
        .as_str()
        .unwrap()
        .contains("<script>window.__pwned=1</script>"));
    screenshot(&client, "overview.png").await;

    // A filter narrows every panel, and lives in the URL.
    let tcp = lines.iter().filter(|l| l.protocol == "TCP").count() as u64;
    client.goto(&format!("{url}/?protocol=TCP")).await.unwrap();
    let shown = cards(&client).await;
    assert_eq!(shown["Events"], tcp);
    // Alerts follow the filter too, by the protocol of their events.
    assert!(
        shown["Open alerts"] > 0 && shown["Open alerts"] < open_alerts,
        "{shown:?}"
    );
    assert_eq!(
        bars(&client, "Events per protocol").await,
        BTreeMap::from([("TCP".to_owned(), tcp)])
    );
    // Clicking a severity bar adds that filter to the URL.
    client
        .find(Locator::Css("svg[aria-label=\"Events per severity\"] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let address = client.current_url().await.unwrap();
    assert!(address.query().unwrap().contains("severity="), "{address}");
    assert!(
        address.query().unwrap().contains("protocol=TCP"),
        "{address}"
    );

    // Live: more lines stored by another ingest show without a reload.
    client.goto(&format!("{url}/")).await.unwrap();
    eval(&client, "window.__same_page = true; return null").await;
    let more: Vec<Line> = self::lines().into_iter().take(30).collect();
    store(&db, dir.path(), "more.log", &more);
    let total = want.events + 30;
    let updated = wait_for(
        &client,
        &format!(
            "return Array.from(document.querySelectorAll('.card')).some(c => \
             c.textContent.includes('Events') && c.querySelector('.card-value').textContent.replace(/\\D/g, '') === '{total}')"
        ),
        6,
    )
    .await;
    assert!(
        updated,
        "the overview did not show the new events within 6 s"
    );
    assert_eq!(
        eval(&client, "return window.__same_page === true").await,
        Value::Bool(true)
    );

    // Alerts: the hostile rule's alert, its page, and triage.
    client.goto(&format!("{url}/alerts")).await.unwrap();
    nothing_ran(&client, "alerts").await;
    let titles = eval(
        &client,
        "return document.querySelector('#alerts').textContent",
    )
    .await;
    assert!(titles
        .as_str()
        .unwrap()
        .contains("<script>window.__pwned=5</script>"));
    client
        .find(Locator::XPath(
            "//table[@id='alerts']//a[contains(., 'Hostile')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    nothing_ran(&client, "alert").await;
    // A javascript: reference is not a link.
    let links = eval(&client, "return Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href')).join(' ')").await;
    assert!(!links.as_str().unwrap().contains("javascript:"), "{links}");
    let technique = eval(
        &client,
        "return document.body.textContent.includes('T1190')",
    )
    .await;
    assert_eq!(technique, Value::Bool(true));
    let description = eval(
        &client,
        "return document.querySelector('.rule-description').textContent",
    )
    .await;
    assert_eq!(
        description,
        Value::from("=HYPERLINK(\"http://evil\") <svg onload=window.__pwned=7>")
    );
    screenshot(&client, "alert.png").await;
    client
        .find(Locator::Css("#action"))
        .await
        .unwrap()
        .select_by_value("acknowledge")
        .await
        .unwrap();
    client
        .find(Locator::Css("#note"))
        .await
        .unwrap()
        .send_keys("looking into it <b>now</b>")
        .await
        .unwrap();
    client
        .find(Locator::Css("form.triage button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(wait_for(&client, "return document.querySelector('#status') && document.querySelector('#status').textContent === 'acknowledged'", 5).await);
    let history = eval(
        &client,
        "return document.querySelector('#history').textContent",
    )
    .await;
    let history = history.as_str().unwrap();
    assert!(
        history.contains("tester") && history.contains("acknowledge"),
        "{history}"
    );
    assert!(history.contains("looking into it <b>now</b>"), "{history}");
    // The CLI sees the same step.
    let alert_id = client
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let shown = ok(rampart(&db, &["alerts", "show", &alert_id]));
    assert!(shown.contains("acknowledged"), "{shown}");

    // Events: a search, a facet, and a query that does not read.
    client
        .goto(&format!(
            "{url}/events?q=source.ip%3D213.209.159.158&range=all"
        ))
        .await
        .unwrap();
    let rows = eval(
        &client,
        "return document.querySelectorAll('#events tbody tr').length",
    )
    .await;
    assert_eq!(rows, Value::from(1));
    client
        .goto(&format!("{url}/events?q=source.ip%3D%28&range=all"))
        .await
        .unwrap();
    let error = eval(
        &client,
        "return document.querySelector('.query-error').textContent",
    )
    .await;
    assert!(error.as_str().unwrap().contains("column"), "{error}");
    client
        .goto(&format!("{url}/events?q=__pwned&range=all"))
        .await
        .unwrap();
    nothing_ran(&client, "events").await;
    let found = eval(
        &client,
        "return document.querySelector('#events').textContent",
    )
    .await;
    assert!(found
        .as_str()
        .unwrap()
        .contains("<svg onload=window.__pwned=4>"));
    let event = client.find(Locator::Css("#events tbody a")).await.unwrap();
    event.click().await.unwrap();
    nothing_ran(&client, "event").await;
    let original = eval(
        &client,
        "return document.querySelector('pre.original').textContent",
    )
    .await;
    assert!(original.as_str().unwrap().contains(HOSTILE));

    // Rules and ATT&CK: the rule listed by its title, its technique
    // covered and its one alert counted.
    client
        .goto(&format!("{url}/rules?range=all"))
        .await
        .unwrap();
    nothing_ran(&client, "rules").await;
    let listed = eval(
        &client,
        "return document.querySelector('#rules').textContent",
    )
    .await;
    assert!(listed
        .as_str()
        .unwrap()
        .contains("<script>window.__pwned=5</script> Hostile"));
    let cell = eval(
        &client,
        "const li = Array.from(document.querySelectorAll('#attack-matrix li')).find(l => \
         l.textContent.includes('Exploit Public-Facing Application')); return [li.className, li.textContent]",
    )
    .await;
    // Built-in rules may cover it too: covered, at least.
    assert_ne!(cell[0], Value::from("tech tech-0"), "{cell}");
    assert!(cell[1].as_str().unwrap().ends_with(" 1"), "{cell}");
    screenshot(&client, "rules.png").await;

    // A phone's width: nothing wider than the screen.
    client.set_window_size(390, 844).await.unwrap();
    for page in ["/", "/alerts", "/events?range=all", "/rules"] {
        client.goto(&format!("{url}{page}")).await.unwrap();
        let wide = eval(
            &client,
            "if (document.documentElement.scrollWidth <= window.innerWidth + 1) return ''; \
             return Array.from(document.querySelectorAll('body *')) \
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1) \
               .slice(0, 5).map(e => e.tagName + '.' + e.className).join(', ')",
        )
        .await;
        assert_eq!(wide, Value::from(""), "{page} is wider than a phone");
    }
    client.goto(&format!("{url}/")).await.unwrap();
    screenshot(&client, "overview-phone.png").await;

    // No violation of the policy was reported on any page.
    let text = eval(
        &client,
        "return fetch('/api/csp-reports').then(r => r.text())",
    )
    .await;
    let reports: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    assert_eq!(reports["count"], Value::from(0), "{reports}");

    // Accessibility: no serious or critical violation on any page, on a
    // laptop's width (axe is put in by the driver, after the policy's
    // reports were read).
    if let Some(axe) = browser::axe() {
        client.set_window_size(1280, 1000).await.unwrap();
        for page in [
            "/",
            "/alerts",
            &format!("/alerts/{alert_id}"),
            "/events?q=__pwned&range=all",
            "/rules",
        ] {
            client.goto(&format!("{url}{page}")).await.unwrap();
            let found = browser::accessibility(&client, &axe).await;
            assert!(found.is_empty(), "{page}: {found:#?}");
        }
    }
    client.close().await.unwrap();
}
