//! The ClickHouse backend over a real server (ClickHouse 18.16 from the
//! system's packages, started by `scripts/clickhouse.sh` with a folder and
//! port of its own) answers every question the commands ask exactly as
//! the SQLite store does over the same events and alerts: searches of
//! every kind, counts, alert lists with every filter and order, triage and
//! its history, the store's figures. Rows sent twice count once.
//!
//! Without ClickHouse the tests say they were skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when they fail.

mod browser;
mod common;
mod servers;

use jiff::Timestamp;
use rampart_clickhouse::{ClickHouse, Rows};
use rampart_detect::{Alert, Level};
use rampart_event::{Event, Origin, Value};
use rampart_store::{
    parse_query, AlertFilter, AlertOrder, Backend, Beside, Commit, EventQuery, NewAlert, Status,
    Store, StoredEvent, Triage, PER_SOURCE,
};
use servers::Server;

fn installed() -> bool {
    servers::available(
        "ClickHouse",
        std::path::Path::new("/usr/sbin/clickhouse-server").exists()
            || std::path::Path::new("/usr/bin/clickhouse-server").exists(),
    )
}

/// 2025-03-14T00:00:00Z.
const DAY0: i64 = 1_741_910_400;

/// Event `i` of the test set: addresses of two IPv4 networks and IPv6,
/// users with quotes, numbers, lists, labels, threats, three days, and
/// some without a time or a source address.
fn event(i: u64) -> Event {
    let n = i as usize;
    let message = [
        "Failed password for root",
        "Accepted password for admin",
        "request timed out",
        "connection closed by peer",
    ][n % 4];
    let mut e = Event::new(Origin::new("t.log", i + 1), message);
    if !n.is_multiple_of(11) {
        e.timestamp = Some(Timestamp::from_second(DAY0 + (i as i64 * 613) % (3 * 86_400)).unwrap());
    }
    match n % 5 {
        0 => e.set("source.ip", format!("10.0.{}.{}", n % 3, n % 7)),
        1 => e.set("source.ip", format!("198.51.100.{}", n % 13)),
        2 => e.set("source.ip", format!("2001:db8::{:x}", n % 9)),
        3 => e.set("source.ip", format!("203.0.113.{}", n % 4)),
        _ => {}
    }
    let user = ["root", "admin", "administrator", "bob", "x' OR 1=1 --"][n % 5];
    e.set("user.name", user);
    e.set("event.code", ["4624", "4625", "4688"][n % 3]);
    e.set(
        "event.dataset",
        ["sshd", "web.access", "windows.security"][n % 3],
    );
    if n % 4 != 3 {
        e.set("host.name", ["web01", "web02", "db01"][n % 3]);
    }
    e.set("http.response.status_code", [200i64, 404, 500, 503][n % 4]);
    e.set("event.severity", (n % 8) as i64 * 13);
    if n.is_multiple_of(6) {
        e.set("network.transport", "tcp");
    }
    if n.is_multiple_of(9) {
        e.set("log.level", "HIGH_severity");
    }
    e.set("message", message);
    if n.is_multiple_of(7) {
        e.insert(
            "threat.enrichments",
            Value::Json(Box::new(serde_json::json!([
                {"indicator": {"type": "ip", "confidence": n % 4}, "matched": {"type": "indicator_match"}}
            ]))),
        );
    }
    e
}

/// Alert `i`: rules, levels, groups and times of many kinds, pointing at
/// stored events or carrying one.
fn alert(i: u64, source: i64) -> NewAlert {
    let n = i as usize;
    let time = Timestamp::from_second(DAY0 + (i as i64 * 5_003) % (3 * 86_400)).unwrap();
    let mut group = vec![("source.ip".to_owned(), format!("198.51.100.{}", n % 4))];
    if n.is_multiple_of(3) {
        group.push(("host.name".to_owned(), ["web01", "db01"][n % 2].to_owned()));
    }
    let carried = n.is_multiple_of(4);
    let alert = Alert {
        id: format!("{:08x}-{i}", (i * 2_654_435_761) % 0xffff_ffff),
        rule_id: ["ssh-brute-force", "port-scan", "web-404-flood"][n % 3].to_owned(),
        title: format!("alert {i} for {}", group[0].1),
        author: None,
        references: Vec::new(),
        severity: [Level::Low, Level::Medium, Level::High, Level::Critical][n % 4],
        timestamp: Some(time),
        first_seen: Some(time),
        last_seen: Some(time),
        count: (n % 6 + 1) as u64,
        group,
        mitre: Vec::new(),
        tags: vec!["attack.t1110".to_owned()],
        matched: Vec::new(),
        events: if carried {
            vec![serde_json::value::to_raw_value(&serde_json::json!({
                "event": {"dataset": "sshd"}, "network": {"transport": "tcp"}
            }))
            .unwrap()]
        } else {
            Vec::new()
        },
        origin: rampart_detect::alert::Origin {
            path: "t.log".into(),
            line: i + 1,
        },
    };
    let events = if carried {
        Vec::new()
    } else {
        (0..(n % 3 + 1) as i64)
            .map(|k| source * PER_SOURCE + (i as i64 * 7 + k) % 600)
            .collect()
    };
    NewAlert { alert, events }
}

/// Both stores holding the same 600 events and 40 alerts.
fn filled(url: &str) -> (Store, ClickHouse, i64) {
    filled_beside(url, Store::in_memory().unwrap())
}

/// `store` and ClickHouse at `url` holding the same events and alerts.
fn filled_beside(url: &str, mut store: Store) -> (Store, ClickHouse, i64) {
    let source = store.source(b"clickhouse test", "t.log").unwrap().id;
    let house = ClickHouse::open(url).unwrap();
    let mut commit = Commit::default();
    let mut rows = Rows::default();
    let now = Timestamp::now();
    for i in 0..600 {
        let e = event(i);
        commit.events.push(source, i, &e);
        rows.event(source * PER_SOURCE + i as i64, &e, now);
    }
    for i in 0..40 {
        let a = alert(i, source);
        rows.alert(&a, now);
        commit.alerts.push(a);
    }
    store.commit(&mut commit).unwrap();
    // Sent twice, as a retry after a lost answer would: stored once.
    house.store(&rows).unwrap();
    house.store(&rows).unwrap();
    (store, house, source)
}

fn events(b: &dyn Backend, query: &EventQuery) -> Vec<StoredEvent> {
    let mut found = Vec::new();
    b.each_event(query, &mut |e| {
        found.push(e);
        true
    })
    .unwrap_or_else(|e| panic!("{query:?}: {e}"));
    found
}

#[test]
fn clickhouse_answers_every_question_as_the_sqlite_store_does() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("clickhouse.sh", dir.path());
    let url = format!("clickhouse://127.0.0.1:{}/same", server.port);
    // No merges: the rows sent twice stay twice, and every read must count
    // each event once by itself.
    let http = format!("http://127.0.0.1:{}/", server.port);
    ureq::post(&http).send_string("SYSTEM STOP MERGES").unwrap();
    let (mut store, mut house, source) = filled(&url);
    let raw = ureq::post(&http)
        .send_string("SELECT count() FROM same.events")
        .unwrap()
        .into_string()
        .unwrap();
    assert_eq!(raw.trim(), "1200", "each event twice, unmerged");

    // Searches.
    let at = |s: i64| Some(Timestamp::from_second(s).unwrap());
    let mut queries: Vec<EventQuery> = [
        "",
        "source.ip=10.0.0.0/8",
        "source.ip=2001:db8::/32",
        "not source.ip=10.0.0.0/8",
        "source.ip!=10.0.0.0/8",
        "user.name=adm*",
        "user.name=ADMIN?",
        "user.name!=root",
        "user.name=\"x' OR 1=1 --\"",
        "http.response.status_code>=500",
        "http.response.status_code=404",
        "http.response.status_code!=200",
        "event.code in (4624, 4625)",
        "event.severity>=52",
        "event.severity!=0",
        "@timestamp>=2025-03-15",
        "@timestamp<2025-03-15T06:00:00Z",
        "failed",
        "fail",
        "FAILED root",
        "\"Failed password\"",
        "host.name=web* and user.name=root",
        "(event.dataset=sshd or event.dataset=web.access) and not host.name=web01",
        "network.transport=tcp",
        "log.level=HIGH_severity",
        "user.name<bob",
        "log.file.line<=10",
    ]
    .iter()
    .map(|q| EventQuery {
        expr: (!q.is_empty()).then(|| parse_query(q).unwrap()),
        ..EventQuery::default()
    })
    .collect();
    queries.push(EventQuery {
        since: at(DAY0 + 3_600),
        until: at(DAY0 + 86_400),
        limit: Some(25),
        ..EventQuery::default()
    });
    queries.push(EventQuery {
        expr: Some(parse_query("user.name=root").unwrap()),
        as_read: true,
        limit: Some(40),
        ..EventQuery::default()
    });
    for query in &queries {
        let sqlite = events(&store, query);
        let clickhouse = events(&house, query);
        assert!(!sqlite.is_empty() || query.expr.is_some(), "{query:?}");
        assert_eq!(sqlite.len(), clickhouse.len(), "{query:?}");
        assert!(sqlite == clickhouse, "{query:?}: the events differ");
    }
    // Inside a list, each element is compared (the SQLite store compares
    // the list's JSON, and finds none).
    for (query, expected) in [
        (
            "threat.enrichments.indicator.confidence>=2",
            (0..600).filter(|n| n % 7 == 0 && n % 4 >= 2).count(),
        ),
        (
            "threat.enrichments.matched.type=indicator_match",
            (0..600).filter(|n| n % 7 == 0).count(),
        ),
    ] {
        let query = EventQuery {
            expr: Some(parse_query(query).unwrap()),
            ..EventQuery::default()
        };
        assert_eq!(events(&house, &query).len(), expected, "{query:?}");
    }
    for field in [
        "source.ip",
        "user.name",
        "event.severity",
        "http.response.status_code",
        "network.transport",
    ] {
        let query = EventQuery {
            expr: Some(parse_query("not user.name=bob").unwrap()),
            ..EventQuery::default()
        };
        assert_eq!(
            Backend::count_by(&store, &query, field, 20).unwrap(),
            house.count_by(&query, field, 20).unwrap(),
            "{field}"
        );
    }
    let event = Backend::event(&store, PER_SOURCE + 17).unwrap();
    assert!(event.is_some());
    assert_eq!(event, house.event(PER_SOURCE + 17).unwrap());
    let bad = EventQuery {
        expr: Some(parse_query("event.severity>high").unwrap()),
        ..EventQuery::default()
    };
    let mut none = |_| true;
    let (a, b) = (
        Backend::each_event(&store, &bad, &mut none).unwrap_err().0,
        house.each_event(&bad, &mut none).unwrap_err().0,
    );
    assert_eq!(a, b, "the same refusal of a value of the wrong kind");

    // Alerts, before and after triage.
    let filters = || {
        let base = AlertFilter::default;
        vec![
            base(),
            AlertFilter {
                min_severity: Some(Level::High),
                ..base()
            },
            AlertFilter {
                rules: vec!["port-scan".into(), "web-404-flood".into()],
                order: AlertOrder::Oldest,
                ..base()
            },
            AlertFilter {
                statuses: vec![Status::Open],
                order: AlertOrder::Severity,
                ..base()
            },
            AlertFilter {
                statuses: vec![Status::Acknowledged, Status::Closed],
                ..base()
            },
            AlertFilter {
                since: at(DAY0 + 86_400),
                until: at(DAY0 + 2 * 86_400),
                order: AlertOrder::Count,
                ..base()
            },
            AlertFilter {
                host: Some("web01".into()),
                ..base()
            },
            AlertFilter {
                source_ip: Some("198.51.100.2".into()),
                limit: Some(3),
                ..base()
            },
            AlertFilter {
                search: Some("ALERT 1".into()),
                ..base()
            },
        ]
    };
    let compare = |store: &Store, house: &ClickHouse| {
        for filter in filters() {
            let sqlite = Backend::alerts(store, &filter).unwrap();
            let clickhouse = house.alerts(&filter).unwrap();
            assert_eq!(sqlite, clickhouse, "{filter:?}");
        }
        assert_eq!(
            Backend::stats(store).unwrap().alerts,
            house.stats().unwrap().alerts
        );
    };
    compare(&store, &house);
    let all = Backend::alerts(&store, &AlertFilter::default()).unwrap();
    assert_eq!(all.len(), 40);
    let steps = [
        Triage::Set(Status::Acknowledged),
        Triage::Assign(Some("ana".into())),
        Triage::Set(Status::Closed),
        Triage::Set(Status::Open),
        Triage::Assign(None),
        Triage::Set(Status::FalsePositive),
    ];
    for (i, a) in all.iter().enumerate().take(12) {
        for step in steps.iter().take(i % steps.len() + 1) {
            let who = ("ana", Some("looked at it"));
            let x = store
                .triage_beside(&a.id, step, who, Beside::default())
                .unwrap();
            let y = house
                .triage_beside(&a.id, step, who, Beside::default())
                .unwrap();
            assert_eq!(x.alert, y.alert, "{} after {step:?}", a.id);
        }
        let strip = |steps: Vec<rampart_store::Step>| {
            steps
                .into_iter()
                .map(|s| (s.user, s.action, s.status, s.assignee, s.note))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(Backend::history(&store, &a.id).unwrap()),
            strip(house.history(&a.id).unwrap()),
        );
    }
    compare(&store, &house);
    // An alert raised again (its window went on) keeps its triage.
    let mut again = alert(1, source);
    again.alert.count = 99;
    let again_id = again.alert.id.clone();
    for b in [&mut store as &mut dyn Backend, &mut house] {
        let close = Triage::Set(Status::Closed);
        b.triage_beside(&again_id, &close, ("ana", None), Beside::default())
            .unwrap();
    }
    let mut rows = Rows::default();
    rows.alert(&again, Timestamp::now());
    house.store(&rows).unwrap();
    let mut commit = Commit::default();
    commit.alerts.push(again);
    store.commit(&mut commit).unwrap();
    compare(&store, &house);
    let one = house.alert(&again_id[..10]).unwrap().unwrap();
    assert_eq!(one.count, 99);
    assert_eq!(one.status, "closed", "triage kept through an update");
    // Switching an indicator off needs the embedded store's IOC table.
    let refused = house.triage_beside(
        &all[0].id,
        &Triage::Set(Status::FalsePositive),
        ("ana", None),
        Beside {
            suppress: false,
            deactivate_ioc: true,
        },
    );
    assert!(refused.unwrap_err().0.contains("SQLite store"));

    // The overview's panels, the filters' choices, the rules page.
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let t = |secs: i64| Timestamp::from_second(secs).unwrap();
    for (since, until, levels, protocols, datasets, hosts) in [
        (DAY0, DAY0 + 3 * 86_400, vec![], vec![], vec![], vec![]),
        (
            DAY0 + 3_600 + 17,
            DAY0 + 30_000,
            vec![],
            vec![],
            vec![],
            vec![],
        ),
        (
            DAY0,
            DAY0 + 3 * 86_400,
            s(&["high", "medium"]),
            vec![],
            vec![],
            vec![],
        ),
        (
            DAY0,
            DAY0 + 2 * 86_400,
            vec![],
            s(&["TCP", ""]),
            s(&["sshd"]),
            vec![],
        ),
        (
            DAY0 - 86_400,
            DAY0 + 86_400,
            vec![],
            vec![],
            vec![],
            s(&["web01", ""]),
        ),
        (
            DAY0,
            DAY0 + 3 * 86_400,
            s(&["nothing"]),
            vec![],
            vec![],
            vec![],
        ),
    ] {
        let slice = rampart_store::Slice {
            since: t(since),
            until: t(until),
            levels,
            protocols,
            datasets,
            hosts,
        };
        let sqlite = Backend::board(&store, &slice).unwrap();
        assert!(sqlite.events > 0 || !slice.levels.is_empty(), "{slice:?}");
        assert_eq!(sqlite, house.board(&slice).unwrap(), "{slice:?}");
        assert_eq!(
            Backend::choices(&store, slice.since, slice.until).unwrap(),
            house.choices(slice.since, slice.until).unwrap()
        );
        assert_eq!(
            Backend::alerts_by_rule(&store, slice.since, slice.until).unwrap(),
            house.alerts_by_rule(slice.since, slice.until).unwrap()
        );
    }
    assert_eq!(Backend::extent(&store).unwrap(), house.extent().unwrap());
    // The terminal dashboard's panels.
    for (since, until, min_severity) in [
        (DAY0, DAY0 + 3 * 86_400, None),
        (DAY0 + 5_000, DAY0 + 40_000, Some(Level::High)),
        (DAY0 - 86_400, DAY0 + 600, Some(Level::Low)),
        (DAY0 + 86_400, DAY0 + 86_400 + 3_000, None),
    ] {
        let filter = rampart_store::OverviewFilter {
            since: t(since),
            until: t(until),
            min_severity,
        };
        let sqlite = Backend::figures(&store, &filter, 5).unwrap();
        assert_eq!(sqlite, house.figures(&filter, 5).unwrap(), "{filter:?}");
    }
    assert!(house.data_version().unwrap().is_none());

    // The store's figures.
    let (a, b) = (Backend::stats(&store).unwrap(), house.stats().unwrap());
    assert_eq!(a.events, 600);
    assert_eq!(
        (a.events, a.datasets, a.days),
        (b.events, b.datasets, b.days)
    );
    assert!(b.bytes > 0);
}

#[test]
fn retention_drops_whole_days_and_a_database_opens_again_as_it_was() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("clickhouse.sh", dir.path());
    let url = format!("clickhouse://127.0.0.1:{}/kept", server.port);
    let (_, house, _) = filled(&url);
    let before = house.stats().unwrap();
    let mut again = ClickHouse::open(&url).unwrap();
    assert_eq!(again.stats().unwrap().events, before.events);
    let cut = Timestamp::from_second(DAY0 + 86_400 + 5).unwrap();
    let day =
        |s: &rampart_store::Stats, d: &str| s.days.iter().find(|(x, _)| x == d).map(|(_, n)| *n);
    let first = day(&before, "2025-03-14").unwrap();
    // Events only: the first day goes whole, events without a time stay
    // (they are kept with the day they were stored).
    let pruned = Backend::prune(&mut again, cut, true).unwrap();
    assert_eq!((pruned.events, pruned.alerts), (first, 0));
    let after = again.stats().unwrap();
    assert_eq!(day(&after, "2025-03-14"), None);
    assert_eq!(day(&after, "2025-03-15"), day(&before, "2025-03-15"));
    assert_eq!(after.events, before.events - first);
    // Then the alerts before the cut, with their triage.
    let old = |h: &ClickHouse| {
        h.alerts(&AlertFilter {
            until: Some(cut),
            ..AlertFilter::default()
        })
        .unwrap()
        .len() as u64
    };
    let n = old(&again);
    assert!(n > 0);
    let all = again.alerts(&AlertFilter::default()).unwrap().len() as u64;
    let pruned = Backend::prune(&mut again, cut, false).unwrap();
    assert_eq!((pruned.events, pruned.alerts), (0, n));
    // A delete is a mutation 18.16 applies in the background; prune waits
    // for it, so what it removed is gone when it returns.
    assert_eq!(old(&again), 0);
    assert_eq!(
        again.alerts(&AlertFilter::default()).unwrap().len() as u64,
        all - n
    );
}

/// `rampart` with `--db db` and `args`; its output, which must be a success.
fn run(db: &str, args: &[&str]) -> String {
    common::ok(
        common::command()
            .args(["--db", db])
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn the_commands_and_the_web_console_read_clickhouse_as_they_read_sqlite() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("clickhouse.sh", dir.path());
    let house = format!("clickhouse://127.0.0.1:{}/console", server.port);
    let file = dir.path().join("s.db");
    let (store, _, _) = filled_beside(&house, Store::open(&file).unwrap());
    drop(store);
    let sqlite = file.to_str().unwrap();

    // The commands.
    for args in [
        &["alerts", "--format", "jsonl", "--limit", "1000"][..],
        &["alerts", "--severity", "high", "--format", "csv"],
        &["alerts", "--status", "open", "--host", "web01"],
        &[
            "events",
            "-q",
            "user.name=root and source.ip=10.0.0.0/8",
            "--format",
            "jsonl",
        ],
        &[
            "events",
            "-q",
            "http.response.status_code>=500",
            "--limit",
            "7",
        ],
        &["events", "--count-by", "source.ip"],
    ] {
        assert_eq!(run(sqlite, args), run(&house, args), "{args:?}");
    }
    let first = run(sqlite, &["alerts", "--format", "jsonl", "--limit", "1"]);
    let id: serde_json::Value = serde_json::from_str(first.trim()).unwrap();
    let id = id["id"].as_str().unwrap().to_owned();
    assert_eq!(
        run(sqlite, &["alerts", "show", &id]),
        run(&house, &["alerts", "show", &id[..8]])
    );
    let export = |db: &str, name: &str| {
        let out = dir.path().join(name);
        run(
            db,
            &[
                "export",
                "events",
                "-q",
                "failed",
                "--output",
                out.to_str().unwrap(),
            ],
        );
        std::fs::read_to_string(out).unwrap()
    };
    let exported = export(sqlite, "a.csv");
    assert!(exported.lines().count() > 100);
    assert_eq!(exported, export(&house, "b.csv"));
    let stats = |db: &str| {
        run(db, &["stats"])
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(stats(sqlite), stats(&house));

    // The web console: the same answers from both, and triage that lands.
    let (_a, at_sqlite) = browser::serve(&file, &[], &[]);
    let (_b, at_house) = browser::serve(std::path::Path::new(&house), &[], &[]);
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let get = |base: &str, path: &str| {
        let response = agent.get(&format!("{base}{path}")).call().unwrap();
        assert_eq!(response.status(), 200, "{base}{path}");
        response.into_string().unwrap()
    };
    for path in [
        "/api/alerts?severity=medium",
        "/api/overview?since=2025-03-14T00:00:00Z&until=2025-03-17T00:00:00Z",
        "/api/overview?since=2025-03-14T00:00:00Z&until=2025-03-15T00:00:00Z&level=high",
        "/api/events?q=user.name%3Dadm*&limit=20",
        &format!("/api/alerts/{id}"),
    ] {
        let a: serde_json::Value = serde_json::from_str(&get(&at_sqlite, path)).unwrap();
        let b: serde_json::Value = serde_json::from_str(&get(&at_house, path)).unwrap();
        assert_eq!(a, b, "{path}");
    }
    for path in [
        "/",
        "/alerts",
        "/events?q=failed",
        "/rules",
        &format!("/alerts/{id}"),
    ] {
        let page = get(&at_house, path);
        assert!(page.contains("</html>"), "{path}");
    }
    let page = get(&at_house, &format!("/alerts/{id}"));
    let token = browser::form_token(&page);
    let posted = agent
        .post(&format!("{at_house}/alerts/{id}/triage"))
        .set("Origin", &at_house)
        .send_form(&[
            ("token", token.as_str()),
            ("action", "close"),
            ("note", "done"),
            ("user", "web"),
        ]);
    assert_eq!(posted.map(|r| r.status()).unwrap_or(0), 303);
    let shown = run(&house, &["alerts", "show", &id]);
    assert!(
        shown.contains("closed") && shown.contains("done"),
        "{shown}"
    );
}

/// A pipeline file reading standard input into ClickHouse at `url`.
fn pipeline_into(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let pipeline = dir.join("p.yml");
    std::fs::write(
        &pipeline,
        format!(
            "sources:\n  logs: {{type: stdin}}\nsinks:\n  house: {{type: clickhouse, database: \"{url}\", take: all}}\nhealth_seconds: 0\n",
        ),
    )
    .unwrap();
    pipeline
}

/// Runs `pipeline` once over the lines of `log`; its output.
fn run_over(pipeline: &std::path::Path, log: &std::path::Path) -> String {
    common::ok(
        common::command()
            .args(["run", "--no-db", "-q", "--once", "--config"])
            .arg(pipeline)
            .stdin(std::fs::File::open(log).unwrap())
            .output()
            .unwrap(),
    )
}

#[test]
fn a_pipeline_waits_for_clickhouse_and_stores_each_event_once() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("clickhouse.sh", dir.path());
    let url = format!("clickhouse://127.0.0.1:{}/waited", server.port);
    let log = dir.path().join("auth.log");
    std::fs::write(&log, common::failures("203.0.113.9", 0, 300)).unwrap();
    let pipeline = pipeline_into(dir.path(), &url);
    // The server is away when the pipeline starts, and back 1.5 s later.
    server.stop();
    let run = common::command()
        .args(["run", "--no-db", "-q", "--once", "--config"])
        .arg(&pipeline)
        .stdin(std::fs::File::open(&log).unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    server.start_again();
    let out = run.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let house = ClickHouse::open(&url).unwrap();
    assert_eq!(house.stats().unwrap().events, 300);
    let alerts = house.alerts(&AlertFilter::default()).unwrap();
    assert!(
        alerts.iter().any(|a| a.rule_id == "ssh-brute-force"),
        "{alerts:?}"
    );
    let mut ids: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), alerts.len());
    // Run again over the same file: the same rows, stored once.
    run_over(&pipeline, &log);
    assert_eq!(house.stats().unwrap().events, 300);
    assert_eq!(house.alerts(&AlertFilter::default()).unwrap(), alerts);
}

#[test]
fn a_command_keeping_its_data_in_the_embedded_store_refuses_a_server_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::command()
        .current_dir(dir.path())
        .args(["--db", "clickhouse://127.0.0.1:9/x", "ioc", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("names a server, not a file"), "{said}");
    assert!(
        !dir.path().join("clickhouse:").exists(),
        "no folder made of the address"
    );
}

#[test]
fn a_false_positive_on_clickhouse_silences_its_group_in_later_hunts() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("clickhouse.sh", dir.path());
    let url = format!("clickhouse://127.0.0.1:{}/silenced", server.port);
    let log = dir.path().join("auth.log");
    std::fs::write(&log, common::failures("203.0.113.9", 0, 40)).unwrap();
    run_over(&pipeline_into(dir.path(), &url), &log);
    let brute = |hunt_args: &[&str]| {
        let out = common::ok(
            common::command()
                .args(["--db", &url, "hunt", "--format", "jsonl"])
                .args(hunt_args)
                .arg(&log)
                .output()
                .unwrap(),
        );
        out.lines()
            .filter(|l| l.contains("\"ssh-brute-force\""))
            .count()
    };
    assert!(brute(&[]) > 0, "raised before any triage");
    let listed = run(
        &url,
        &["alerts", "--rule", "ssh-brute-force", "--format", "jsonl"],
    );
    let first: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    let id = first["id"].as_str().unwrap().to_owned();
    let fp = [
        "alerts",
        "false-positive",
        &id,
        "--suppress",
        "--note",
        "our scanner",
    ];
    let said = run(&url, &fp);
    assert!(said.contains("suppression"), "{said}");
    let kept = run(&url, &["suppress", "list"]);
    assert!(
        kept.contains("our scanner") && kept.contains("ssh-brute-force"),
        "{kept}"
    );
    // Marking it again keeps one suppression.
    run(&url, &fp);
    assert_eq!(run(&url, &["suppress", "list"]).lines().count(), 1);
    assert_eq!(
        brute(&["--db", &url]),
        0,
        "silenced by the suppression in ClickHouse"
    );
    assert!(brute(&["--no-db"]) > 0, "--no-db reads none");
    let suppression = kept.split_whitespace().next().unwrap();
    run(&url, &["suppress", "remove", suppression]);
    assert_eq!(run(&url, &["suppress", "list"]), "");
    assert!(brute(&[]) > 0, "raised again once removed");
    // Switching an indicator off needs the embedded store's IOC table.
    let out = common::command()
        .args([
            "--db",
            &url,
            "alerts",
            "false-positive",
            &id,
            "--deactivate-ioc",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
