//! The rules the console knows (the built-in pack and the `--rules` it was
//! given): what the rules page lists, what an alert's page says of its
//! rule, and the ATT&CK coverage they add up to. Each rule's techniques
//! come from its `attack.t…` tags; a sub-technique also covers its parent,
//! as the ATT&CK Navigator counts it.

use std::collections::{BTreeMap, HashMap};

use rampart_detect::alert::techniques;
use rampart_detect::attack::Catalogue;
use rampart_detect::Level;

/// One rule, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// Its level.
    pub level: Level,
    /// Its status (`stable`, `test`, ...).
    pub status: Option<String>,
    /// Its author.
    pub author: Option<String>,
    /// Its references.
    pub references: Vec<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// `detection` or the correlation's type.
    pub kind: String,
}

/// A technique's coverage: rules tagged with it (or a sub-technique of
/// it), and their alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub rules: u64,
    pub alerts: u64,
}

/// The rules, by id.
#[derive(Debug, Default)]
pub struct Rulebook {
    rules: Vec<RuleInfo>,
    by_id: HashMap<String, usize>,
}

impl Rulebook {
    /// A rulebook of `rules` (a repeated id keeps the first).
    pub fn new(rules: Vec<RuleInfo>) -> Rulebook {
        let mut by_id = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            by_id.entry(rule.id.clone()).or_insert(i);
        }
        Rulebook { rules, by_id }
    }

    /// Every rule, in the order loaded.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// The rule `id`.
    pub fn get(&self, id: &str) -> Option<&RuleInfo> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    /// The techniques (main ones, `T1110`) the rules cover, with how many
    /// rules and, from `alerts` (per rule id), how many alerts.
    pub fn coverage(&self, alerts: &[(String, u64)]) -> BTreeMap<String, Coverage> {
        let fired: HashMap<&str, u64> = alerts.iter().map(|(r, n)| (r.as_str(), *n)).collect();
        let mut covered: BTreeMap<String, Coverage> = BTreeMap::new();
        for rule in &self.rules {
            let mut mains: Vec<String> = techniques(&rule.tags)
                .into_iter()
                .map(|t| t.id.split('.').next().unwrap_or(&t.id).to_owned())
                .collect();
            mains.sort();
            mains.dedup();
            for main in mains {
                let entry = covered.entry(main).or_default();
                entry.rules += 1;
                entry.alerts += fired.get(rule.id.as_str()).copied().unwrap_or(0);
            }
        }
        covered
    }
}

/// The ATT&CK matrix: per tactic in matrix order, its main techniques
/// (id, name), by name.
pub fn matrix() -> Vec<(String, Vec<(String, String)>)> {
    let catalogue = Catalogue::embedded();
    catalogue
        .tactics()
        .iter()
        .map(|tactic| {
            let mut techniques: Vec<(String, String)> = catalogue
                .techniques()
                .filter(|t| !t.id.contains('.') && t.tactics.contains(&tactic.short))
                .map(|t| (t.id.clone(), t.name.clone()))
                .collect();
            techniques.sort_by(|a, b| a.1.cmp(&b.1));
            (tactic.name.clone(), techniques)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, tags: &[&str]) -> RuleInfo {
        RuleInfo {
            id: id.into(),
            title: id.into(),
            description: None,
            level: Level::High,
            status: None,
            author: None,
            references: Vec::new(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            kind: "detection".into(),
        }
    }

    #[test]
    fn sub_techniques_count_for_their_parent_once_per_rule() {
        let book = Rulebook::new(vec![
            rule(
                "a",
                &[
                    "attack.t1110.001",
                    "attack.t1110.003",
                    "attack.credential_access",
                ],
            ),
            rule("b", &["attack.t1110"]),
            rule("c", &["attack.t1059.001"]),
            rule("a", &["attack.t9999"]),
        ]);
        let alerts = [("a".to_owned(), 5), ("c".to_owned(), 2)];
        let covered = book.coverage(&alerts);
        assert_eq!(
            covered["T1110"],
            Coverage {
                rules: 2,
                alerts: 5
            }
        );
        assert_eq!(
            covered["T1059"],
            Coverage {
                rules: 1,
                alerts: 2
            }
        );
        assert_eq!(
            book.get("a").unwrap().tags.len(),
            3,
            "the first of a repeated id"
        );
    }

    #[test]
    fn the_matrix_has_every_tactic_with_its_techniques() {
        let matrix = matrix();
        assert!(matrix.len() >= 12, "{}", matrix.len());
        let credential = matrix
            .iter()
            .find(|(name, _)| name == "Credential Access")
            .unwrap();
        assert!(credential.1.iter().any(|(id, _)| id == "T1110"));
        assert!(matrix
            .iter()
            .all(|(_, t)| t.iter().all(|(id, _)| !id.contains('.'))));
    }
}
