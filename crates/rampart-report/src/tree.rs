//! Process trees: which trees a report shows (the processes asked for, the
//! processes behind alerts) and walking one, parent → child with each
//! process's activity, in a bounded number of steps whatever the data. The
//! text, Markdown and HTML forms are all made from one walk.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::processes::{Activity, Forest};
use crate::text::seed_time;

/// An alert's tree is drawn from the process's parent (its siblings and
/// what the parent did are the context an analyst asks for next) unless
/// the parent has more children than this.
const PARENT_CHILDREN: usize = 20;
/// Nodes shown in one tree at most; the rest are counted.
pub const MAX_NODES: usize = 2_000;
/// How deep a tree is shown at most.
pub const MAX_DEPTH: usize = 100;

/// One tree to show: a process, the chain of its ancestors, and why it is
/// shown.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    /// The node the tree is drawn from.
    pub root: usize,
    /// Its ancestors, nearest first (drawn above it as a chain).
    pub ancestors: Vec<usize>,
    /// Why it is shown: `PID 15150`, or the alerts on it.
    pub reason: String,
}

/// One step of a walk.
#[derive(Debug)]
pub enum Step<'a> {
    /// A process, entered: its children and activity follow, then `Leave`.
    Enter(usize),
    /// One thing the process just entered did.
    Did(&'a Activity),
    /// Activities of it that were counted, not kept.
    MoreActivity(u64),
    /// A process already drawn in this tree (a loop): not entered again.
    Again(usize),
    /// Children left out because the tree reached its bounds.
    Cut(usize),
    /// The process entered last is done.
    Leave,
}

/// Walks the tree under `root`: each process once, children by start time,
/// at most [`MAX_NODES`] processes and [`MAX_DEPTH`] levels.
pub fn walk<'a>(forest: &'a Forest, root: usize, mut visit: impl FnMut(usize, Step<'a>)) {
    let mut seen = HashSet::new();
    let mut shown = 0usize;
    // (node, depth, entered)
    let mut stack: Vec<(usize, usize, bool)> = vec![(root, 0, false)];
    while let Some((node, depth, entered)) = stack.pop() {
        if entered {
            visit(depth, Step::Leave);
            continue;
        }
        if !seen.insert(node) {
            visit(depth, Step::Again(node));
            continue;
        }
        shown += 1;
        visit(depth, Step::Enter(node));
        let n = &forest.nodes[node];
        for a in &n.activity {
            visit(depth + 1, Step::Did(a));
        }
        if n.activity_more > 0 {
            visit(depth + 1, Step::MoreActivity(n.activity_more));
        }
        stack.push((node, depth, true));
        if depth + 1 >= MAX_DEPTH || shown >= MAX_NODES {
            if !n.children.is_empty() {
                visit(depth + 1, Step::Cut(n.children.len()));
            }
            continue;
        }
        for &c in n.children.iter().rev() {
            stack.push((c, depth + 1, false));
        }
    }
}

/// The trees to show: those of `pids` (every instance), then those of the
/// processes behind alerts (`focus`: node → alert titles) from their
/// parents, leaving out a process already inside a tree shown.
pub fn choose(forest: &Forest, pids: &[i64], focus: &BTreeMap<usize, Vec<String>>) -> Vec<Tree> {
    let mut trees = Vec::new();
    let mut covered: HashSet<usize> = HashSet::new();
    let mut add = |root: usize, reason: String, trees: &mut Vec<Tree>| {
        if covered.contains(&root) {
            return;
        }
        walk(forest, root, |_, step| {
            if let Step::Enter(n) = step {
                covered.insert(n);
            }
        });
        trees.push(Tree {
            root,
            ancestors: forest.ancestors(root),
            reason,
        });
    };
    for &pid in pids {
        for root in forest.instances(pid) {
            add(root, format!("PID {pid}"), &mut trees);
        }
    }
    // Alerts' processes, topmost first, so a child's tree is not drawn
    // again inside its parent's.
    let mut alerted: Vec<(usize, usize)> = focus
        .keys()
        .map(|&n| (forest.ancestors(n).len(), n))
        .collect();
    alerted.sort_unstable();
    for (_, node) in alerted {
        let titles = &focus[&node];
        let root = match forest.nodes[node].parent {
            Some(p) if forest.nodes[p].children.len() <= PARENT_CHILDREN => p,
            _ => node,
        };
        add(root, format!("alerts: {}", titles.join("; ")), &mut trees);
    }
    // Alerts' trees in the order their processes started.
    let asked = trees
        .iter()
        .filter(|t| t.reason.starts_with("PID "))
        .count();
    trees[asked..].sort_by_key(|t| (forest.nodes[t.root].process.start, t.root));
    trees
}

/// A tree as indented text (`- ` items, two spaces a level), as seed 003's
/// `process_tree.md` draws it, with its ancestors above it and problems
/// marked `[!]`.
pub fn text(forest: &Forest, tree: &Tree, alerts: &BTreeMap<usize, Vec<String>>) -> String {
    let mut out = String::new();
    let lead = tree.ancestors.len();
    for (depth, &a) in tree.ancestors.iter().rev().enumerate() {
        out.push_str(&"  ".repeat(depth));
        out.push_str("- (ancestor) ");
        out.push_str(&forest.describe(a));
        out.push('\n');
    }
    walk(forest, tree.root, |depth, step| {
        let pad = "  ".repeat(lead + depth);
        match step {
            Step::Enter(n) => {
                out.push_str(&format!("{pad}- {}", forest.describe(n)));
                for a in &forest.nodes[n].anomalies {
                    out.push_str(&format!(" [!] {}", a.label()));
                }
                if let Some(titles) = alerts.get(&n) {
                    out.push_str(&format!(" [alert] {}", titles.join("; ")));
                }
                let hidden = decoded(forest, n);
                if !hidden.is_empty() {
                    out.push_str(&format!(" [decoded] {}", hidden.join(", ")));
                }
                out.push('\n');
            }
            Step::Did(a) => out.push_str(&format!("{pad}- {}\n", activity(a))),
            Step::MoreActivity(k) => out.push_str(&format!("{pad}- ... {k} more activities\n")),
            Step::Again(n) => out.push_str(&format!(
                "{pad}- process_id: {} (already shown above: a loop)\n",
                forest.nodes[n].process.pid
            )),
            Step::Cut(k) => out.push_str(&format!(
                "{pad}- ... {k} children not shown (tree too large)\n"
            )),
            Step::Leave => {}
        }
    });
    out
}

/// What base64 in a process's command line says.
pub fn decoded(forest: &Forest, node: usize) -> Vec<String> {
    forest.nodes[node]
        .process
        .command_line
        .as_deref()
        .map(crate::decode::hidden_text)
        .unwrap_or_default()
}

/// One activity as a line: `File Event: 2025-03-01 09:00:22 | Operation: write | File: ...`.
pub fn activity(a: &Activity) -> String {
    let when = a
        .time
        .and_then(|n| jiff::Timestamp::from_nanosecond(n).ok())
        .map(seed_time)
        .unwrap_or_else(|| "(no time)".to_owned());
    let label = match a.kind.as_str() {
        "file" => "File Event".to_owned(),
        "network" => "Network Event".to_owned(),
        "registry" => "Registry Event".to_owned(),
        other => format!("{other} event"),
    };
    format!("{label}: {when} | {}", a.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processes::tests::start;
    use crate::processes::Gatherer;

    #[test]
    fn a_deep_chain_is_cut_at_the_bounds() {
        let mut g = Gatherer::default();
        for pid in 1..=(MAX_DEPTH as i64 + 50) {
            g.take(&start(pid, pid - 1, "09:00:00"), 0);
        }
        let f = g.forest();
        let mut entered = 0;
        let mut cut = 0;
        walk(&f, 0, |_, s| match s {
            Step::Enter(_) => entered += 1,
            Step::Cut(_) => cut += 1,
            _ => {}
        });
        assert_eq!(entered, MAX_DEPTH);
        assert_eq!(cut, 1);
    }

    #[test]
    fn a_tree_is_chosen_once_even_when_asked_twice() {
        let mut g = Gatherer::default();
        g.take(&start(5, 1, "09:00:00"), 0);
        g.take(&start(6, 5, "09:00:01"), 0);
        let f = g.forest();
        let mut focus = BTreeMap::new();
        focus.insert(1usize, vec!["Run key".to_owned()]);
        let trees = choose(&f, &[5], &focus);
        assert_eq!(trees.len(), 1);
        let drawn = text(&f, &trees[0], &focus);
        assert!(drawn.contains("process_id: 6, parent_id: 5"), "{drawn}");
        assert!(drawn.contains("[alert] Run key"), "{drawn}");
    }

    #[test]
    fn an_alerts_tree_starts_at_the_parent() {
        let mut g = Gatherer::default();
        g.take(&start(5, 1, "09:00:00"), 0);
        g.take(&start(6, 5, "09:00:01"), 0);
        g.take(&start(7, 6, "09:00:02"), 0);
        let f = g.forest();
        let mut focus = BTreeMap::new();
        focus.insert(1usize, vec!["Run key".to_owned()]);
        let trees = choose(&f, &[], &focus);
        assert_eq!(trees.len(), 1);
        assert_eq!(trees[0].root, 0);
        assert!(trees[0].ancestors.is_empty());
    }
}
