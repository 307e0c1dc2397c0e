//! Processes and what they did, from every source that records process
//! creation (Sysmon 1 with its ProcessGuid, Security 4688, auditd execve,
//! endpoint telemetry), joined into a forest.
//!
//! A PID names a process only for a while: Windows and Linux hand PIDs out
//! again, and telemetry can disagree with itself. So a node is one process
//! *instance* (its host, PID and start time, or its GUID), a child's parent
//! is the instance of its parent PID that had started when the child did
//! (the latest such; failing that the earliest, flagged as a child started
//! before its parent), and an activity (file, network, registry) belongs to
//! the instance of its PID that had started by the activity's time. Links
//! that would close a loop are refused and the loop is named, so walking
//! the forest always ends.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rampart_event::{Event, ValueRef};
use serde::Serialize;

use crate::text::{cut, seed_time};

/// Activities kept per process; more are counted.
const ACTIVITY_PER_PROCESS: usize = 64;

/// Whether an event records a process being created.
pub fn is_start(e: &Event) -> bool {
    if !e.contains("process.pid") {
        return false;
    }
    let code = e.get_str("event.code");
    match e.get_str("event.dataset") {
        Some("endpoint.process") => true,
        Some("windows.sysmon") => code == Some("1"),
        Some("windows.security") => code == Some("4688"),
        Some(d) if d.contains("auditd") => {
            matches!(e.get_str("auditd.log.SYSCALL"), Some("execve" | "execveat"))
                || e.get_str("event.action") == Some("auoms_execve")
        }
        _ => {
            e.contains("process.parent.pid")
                && matches!(
                    e.get_str("event.action"),
                    Some("process-started" | "start" | "exec" | "process_start")
                )
        }
    }
}

fn int(e: &Event, name: &str) -> Option<i64> {
    match e.get(name)? {
        ValueRef::Int(n) => Some(n),
        other => other.to_string().trim().parse().ok(),
    }
}

/// A process GUID as one spelling: sources differ in braces and case.
pub fn one_spelling(guid: &str) -> String {
    guid.trim_matches(['{', '}']).to_ascii_lowercase()
}

fn guid(e: &Event, ecs: &str, windows: &str) -> Option<String> {
    text(e, ecs)
        .or_else(|| text(e, windows))
        .map(|g| one_spelling(&g))
}

fn text(e: &Event, name: &str) -> Option<String> {
    e.get(name)
        .map(|v| v.to_string())
        .filter(|s| !s.is_empty() && s != "-")
}

/// One process instance.
#[derive(Debug, Clone)]
pub struct Process {
    /// The host it ran on, when the source names one.
    pub host: Option<String>,
    /// Its PID.
    pub pid: i64,
    /// Its parent's PID, as recorded.
    pub parent_pid: Option<i64>,
    /// Its GUID (Sysmon's ProcessGuid), when recorded.
    pub guid: Option<String>,
    /// Its parent's GUID, when recorded.
    pub parent_guid: Option<String>,
    /// When it started (nanoseconds).
    pub start: Option<i128>,
    /// When it ended (nanoseconds), when recorded.
    pub end: Option<i128>,
    /// Its image (shared by every process of it).
    pub executable: Option<Arc<str>>,
    /// Its command line.
    pub command_line: Option<String>,
    /// Who ran it (shared by every process of theirs).
    pub user: Option<Arc<str>>,
    /// Source index and line it was read from.
    pub source: u32,
    /// Line it was read from.
    pub line: u64,
}

/// What a process did besides starting others.
#[derive(Debug, Clone)]
pub struct Activity {
    /// When (nanoseconds).
    pub time: Option<i128>,
    /// `file`, `network`, `registry` or what the event is.
    pub kind: String,
    /// The facts.
    pub text: String,
}

/// Distinct texts shared rather than copied, at most.
const MAX_SHARED: usize = 100_000;

/// Process starts as they are read.
#[derive(Debug, Default)]
pub struct Gatherer {
    nodes: Vec<Node>,
    shared: HashSet<Arc<str>>,
}

impl Gatherer {
    /// Takes an event when it records a process being created.
    pub fn take(&mut self, e: &Event, source: u32) {
        let Some(pid) = int(e, "process.pid") else {
            return;
        };
        if !is_start(e) {
            return;
        }
        let executable = self.share(
            e.get_str("process.executable")
                .or_else(|| e.get_str("process.name")),
        );
        let user = self.share(e.get_str("user.name"));
        self.nodes.push(Node::of(Process {
            host: host(e),
            pid,
            parent_pid: int(e, "process.parent.pid"),
            guid: guid(e, "process.entity_id", "ProcessGuid"),
            parent_guid: guid(e, "process.parent.entity_id", "ParentProcessGuid"),
            start: e.timestamp.map(|t| t.as_nanosecond()),
            end: match e.get("process.end") {
                Some(ValueRef::Time(t)) => Some(t.as_nanosecond()),
                _ => None,
            },
            executable,
            command_line: text(e, "process.command_line").map(|c| cut(&c, 1000).to_owned()),
            user,
            source,
            line: e.origin.line,
        }));
    }

    /// `text` shared with every earlier use of it (executables and users
    /// repeat across thousands of processes).
    fn share(&mut self, text: Option<&str>) -> Option<Arc<str>> {
        let text = text.filter(|t| !t.is_empty() && *t != "-")?;
        if let Some(known) = self.shared.get(text) {
            return Some(known.clone());
        }
        let new: Arc<str> = Arc::from(text);
        if self.shared.len() < MAX_SHARED {
            self.shared.insert(new.clone());
        }
        Some(new)
    }

    /// Joins the processes into a forest.
    pub fn forest(self) -> Forest {
        drop(self.shared);
        Forest::build(self.nodes)
    }
}

/// Who did something: the host, PID and GUID an event names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Actor {
    /// The host, lower case.
    pub host: Option<String>,
    /// The PID.
    pub pid: i64,
    /// The process GUID, one spelling.
    pub guid: Option<String>,
}

impl Actor {
    /// The actor an event names, when it names a PID.
    pub fn of(e: &Event) -> Option<Actor> {
        Some(Actor {
            pid: int(e, "process.pid")?,
            host: host(e),
            guid: guid(e, "process.entity_id", "ProcessGuid"),
        })
    }
}

fn host(e: &Event) -> Option<String> {
    text(e, "host.name").map(|h| h.to_ascii_lowercase())
}

/// A problem found in how processes link up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anomaly {
    /// It started before the parent it names.
    ChildBeforeParent,
    /// Its PID was seen again with another parent: a reused PID.
    PidReused,
    /// Its PID is also one of its ancestors' PIDs (a loop by PID, told
    /// apart by start time).
    PidLoop,
    /// It names itself as its parent.
    OwnParent,
    /// Linking it to its parent would close a loop; the link is refused.
    Cycle,
    /// It ended before it started.
    EndBeforeStart,
}

impl Anomaly {
    /// How it reads in a tree.
    pub fn label(self) -> &'static str {
        match self {
            Anomaly::ChildBeforeParent => "started before its parent",
            Anomaly::PidReused => "PID reused with another parent",
            Anomaly::PidLoop => "PID loop: an ancestor has the same PID",
            Anomaly::OwnParent => "its own parent",
            Anomaly::Cycle => "parent link would close a cycle (refused)",
            Anomaly::EndBeforeStart => "ended before it started",
        }
    }
}

/// One node: a process instance, its place and what it did.
#[derive(Debug, Clone)]
pub struct Node {
    /// The process.
    pub process: Process,
    /// Its parent node.
    pub parent: Option<usize>,
    /// Its children, by start time.
    pub children: Vec<usize>,
    /// What it did, by time.
    pub activity: Vec<Activity>,
    /// Activities of it past the cap, counted.
    pub activity_more: u64,
    /// What is wrong with it.
    pub anomalies: Vec<Anomaly>,
}

/// The instance (of those of one PID) that had started by `time`; the
/// earliest when none had.
fn running(nodes: &[Node], instances: &[usize], time: Option<i128>) -> Option<usize> {
    instances
        .iter()
        .rev()
        .find(|&&j| match (nodes[j].process.start, time) {
            (Some(s), Some(t)) => s <= t,
            _ => true,
        })
        .or_else(|| instances.first())
        .copied()
}

impl Node {
    fn of(process: Process) -> Node {
        Node {
            process,
            parent: None,
            children: Vec::new(),
            activity: Vec::new(),
            activity_more: 0,
            anomalies: Vec::new(),
        }
    }
}

/// Every process instance, linked to its parent.
#[derive(Debug, Default)]
pub struct Forest {
    /// The nodes, in the order their processes were read.
    pub nodes: Vec<Node>,
    by_pid: HashMap<(Option<String>, i64), Vec<usize>>,
    by_guid: HashMap<String, usize>,
    /// The source of each later instance of a PID that came with another
    /// parent (one per reuse).
    pub reuses: Vec<u32>,
}

impl Forest {
    fn build(mut nodes: Vec<Node>) -> Forest {
        nodes.shrink_to_fit();
        let mut by_pid: HashMap<(Option<String>, i64), Vec<usize>> = HashMap::new();
        let mut by_guid: HashMap<String, usize> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            by_pid
                .entry((n.process.host.clone(), n.process.pid))
                .or_default()
                .push(i);
            if let Some(g) = &n.process.guid {
                by_guid.entry(g.clone()).or_insert(i);
            }
        }
        // Instances of a PID by start time (unknown times first, in reading order).
        for list in by_pid.values_mut() {
            list.sort_by_key(|&i| (nodes[i].process.start, i));
        }
        let mut parents: Vec<Option<usize>> = vec![None; nodes.len()];
        let mut flags: Vec<Vec<Anomaly>> = vec![Vec::new(); nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            let p = &n.process;
            if let (Some(s), Some(e)) = (p.start, p.end) {
                if e < s {
                    flags[i].push(Anomaly::EndBeforeStart);
                }
            }
            if let Some(g) = &p.parent_guid {
                if let Some(&j) = by_guid.get(g) {
                    if j != i {
                        parents[i] = Some(j);
                        continue;
                    }
                }
            }
            let Some(ppid) = p.parent_pid else { continue };
            if ppid == p.pid {
                flags[i].push(Anomaly::OwnParent);
                continue;
            }
            let Some(candidates) = by_pid.get(&(p.host.clone(), ppid)) else {
                continue;
            };
            let started_by = candidates
                .iter()
                .rev()
                .find(|&&j| match (nodes[j].process.start, p.start) {
                    (Some(ps), Some(cs)) => ps <= cs,
                    _ => true,
                })
                .copied();
            parents[i] = Some(match started_by {
                Some(j) => j,
                None => {
                    flags[i].push(Anomaly::ChildBeforeParent);
                    candidates[0]
                }
            });
        }
        // A PID seen with two different parent PIDs is a reused PID.
        let mut reuses = Vec::new();
        for list in by_pid.values() {
            let first = nodes[list[0]].process.parent_pid;
            if list.iter().any(|&j| nodes[j].process.parent_pid != first) {
                for &j in list {
                    flags[j].push(Anomaly::PidReused);
                }
                reuses.extend(list[1..].iter().map(|&j| nodes[j].process.source));
            }
        }
        reuses.sort_unstable();
        // Refuse links that close a loop: walk up from each node.
        for i in 0..nodes.len() {
            let mut at = parents[i];
            let mut steps = 0;
            while let Some(j) = at {
                if j == i || steps > nodes.len() {
                    parents[i] = None;
                    flags[i].push(Anomaly::Cycle);
                    break;
                }
                at = parents[j];
                steps += 1;
            }
        }
        for i in 0..nodes.len() {
            nodes[i].parent = parents[i];
            if let Some(j) = parents[i] {
                nodes[j].children.push(i);
            }
        }
        for i in 0..nodes.len() {
            // Loops by PID: an ancestor with this node's PID.
            let mut at = nodes[i].parent;
            while let Some(j) = at {
                if nodes[j].process.pid == nodes[i].process.pid {
                    flags[i].push(Anomaly::PidLoop);
                    break;
                }
                at = nodes[j].parent;
            }
        }
        for (node, mut f) in nodes.iter_mut().zip(flags) {
            f.sort();
            f.dedup();
            node.anomalies = f;
        }
        let starts: Vec<Option<i128>> = nodes.iter().map(|n| n.process.start).collect();
        for node in &mut nodes {
            node.children.sort_by_key(|&c| (starts[c], c));
        }
        Forest {
            nodes,
            by_pid,
            by_guid,
            reuses,
        }
    }

    /// Every instance of `pid` (on any host), by start time.
    pub fn instances(&self, pid: i64) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .by_pid
            .iter()
            .filter(|((_, p), _)| *p == pid)
            .flat_map(|(_, list)| list.iter().copied())
            .collect();
        found.sort_by_key(|&i| (self.nodes[i].process.start, i));
        found
    }

    /// The process that did what `actor` names at `time`: the one with
    /// its GUID when the GUID is recorded (and none when that process's
    /// start was not: an instance with another GUID is not it), else the
    /// instance of its PID that had started by then.
    pub fn owner(&self, actor: &Actor, time: Option<i128>) -> Option<usize> {
        let instances = self.by_pid.get(&(actor.host.clone(), actor.pid))?;
        match actor.guid.as_deref() {
            Some(g) => match self.by_guid.get(g) {
                Some(&j) => Some(j),
                None => running(&self.nodes, instances, time)
                    .filter(|&j| self.nodes[j].process.guid.is_none()),
            },
            None => running(&self.nodes, instances, time),
        }
    }

    /// Adds what a process did (past [`ACTIVITY_PER_PROCESS`], counts it).
    pub fn attach(&mut self, node: usize, activity: Activity) {
        let n = &mut self.nodes[node];
        if n.activity.len() < ACTIVITY_PER_PROCESS {
            n.activity.push(activity);
        } else {
            n.activity_more += 1;
        }
    }

    /// The ancestors of a node, nearest first.
    pub fn ancestors(&self, node: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = self.nodes[node].parent;
        while let Some(j) = at {
            out.push(j);
            at = self.nodes[j].parent;
        }
        out
    }

    /// A node as one line of text.
    pub fn describe(&self, node: usize) -> String {
        let p = &self.nodes[node].process;
        let mut s = format!("process_id: {}", p.pid);
        if let Some(pp) = p.parent_pid {
            s.push_str(&format!(", parent_id: {pp}"));
        }
        if let Some(e) = &p.executable {
            s.push_str(&format!(", executable_path: {e}"));
        }
        if let Some(u) = &p.user {
            s.push_str(&format!(", user: {u}"));
        }
        if let Some(t) = p
            .start
            .and_then(|n| jiff::Timestamp::from_nanosecond(n).ok())
        {
            s.push_str(&format!(", start_time: {}", seed_time(t)));
        }
        if let Some(h) = &p.host {
            s.push_str(&format!(", host: {h}"));
        }
        s
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rampart_event::Origin;

    pub(crate) fn start(pid: i64, ppid: i64, at: &str) -> Event {
        let mut e = Event::new(Origin::new("p.csv", 1), "x");
        e.set_static("event.dataset", "endpoint.process");
        e.set("process.pid", pid);
        e.set("process.parent.pid", ppid);
        e.timestamp = Some(format!("2025-03-01T{at}Z").parse().unwrap());
        e
    }

    fn forest(events: &[Event]) -> Forest {
        let mut g = Gatherer::default();
        for e in events {
            g.take(e, 0);
        }
        g.forest()
    }

    fn did(f: &mut Forest, e: &Event, what: &str) {
        let actor = Actor::of(e).unwrap();
        if let Some(n) = f.owner(&actor, e.timestamp.map(|t| t.as_nanosecond())) {
            f.attach(
                n,
                Activity {
                    time: None,
                    kind: "file".into(),
                    text: what.into(),
                },
            );
        }
    }

    #[test]
    fn a_reused_pid_is_two_nodes_and_the_loop_is_named() {
        // Seed 003's chain: 15164 runs under 15154, 15165 under it, then a
        // second 15164 under 15165.
        let f = forest(&[
            start(15154, 15153, "09:01:01"),
            start(15164, 15154, "09:03:20"),
            start(15165, 15164, "09:03:30"),
            start(15164, 15165, "09:03:40"),
        ]);
        let first = 1;
        let second = 3;
        assert_eq!(f.nodes[2].parent, Some(first));
        assert_eq!(f.nodes[second].parent, Some(2));
        assert!(f.nodes[second].anomalies.contains(&Anomaly::PidLoop));
        assert!(f.nodes[second].anomalies.contains(&Anomaly::PidReused));
        assert!(f.nodes[first].anomalies.contains(&Anomaly::PidReused));
        assert_eq!(f.ancestors(second), vec![2, 1, 0]);
    }

    #[test]
    fn a_true_cycle_is_cut_and_walking_ends() {
        let f = forest(&[start(1, 2, "09:00:00"), start(2, 1, "09:00:05")]);
        let cut = f
            .nodes
            .iter()
            .filter(|n| n.anomalies.contains(&Anomaly::Cycle))
            .count();
        assert_eq!(cut, 1);
        for i in 0..2 {
            assert!(f.ancestors(i).len() <= 1);
        }
    }

    #[test]
    fn a_child_before_its_parent_is_linked_and_flagged() {
        let f = forest(&[start(10, 1, "09:01:11"), start(11, 10, "09:01:01")]);
        assert_eq!(f.nodes[1].parent, Some(0));
        assert_eq!(f.nodes[1].anomalies, vec![Anomaly::ChildBeforeParent]);
    }

    #[test]
    fn activity_goes_to_the_instance_running_at_its_time() {
        let mut f = forest(&[start(7, 1, "09:00:00"), start(7, 2, "10:00:00")]);
        let mut file = Event::new(Origin::new("f.csv", 3), "x");
        file.set("process.pid", 7i64);
        file.timestamp = Some("2025-03-01T10:30:00Z".parse().unwrap());
        did(&mut f, &file, "Operation: write");
        assert!(f.nodes[0].activity.is_empty());
        assert_eq!(f.nodes[1].activity.len(), 1);
    }

    #[test]
    fn a_guid_names_the_process_exactly() {
        let mut p = start(7, 1, "09:00:00");
        p.set_str("process.entity_id", "{a}");
        let mut f = forest(&[p]);
        for (guid, at) in [("{A}", "09:05:00"), ("{b}", "09:06:00")] {
            let mut file = Event::new(Origin::new("f.evtx", 3), "x");
            file.set("process.pid", 7i64);
            file.set_str("process.entity_id", guid);
            file.timestamp = Some(format!("2025-03-01T{at}Z").parse().unwrap());
            did(&mut f, &file, guid);
        }
        let texts: Vec<&str> = f.nodes[0]
            .activity
            .iter()
            .map(|a| a.text.as_str())
            .collect();
        assert_eq!(texts, vec!["{A}"]);
    }
}
