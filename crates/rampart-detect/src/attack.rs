//! The MITRE ATT&CK catalogue (enterprise): technique ids with their names,
//! tactics and pages, so an alert from a rule tagged `attack.t1110.001`
//! says "Brute Force: Password Guessing", under Credential Access.
//!
//! rampart ships a compact table made from the enterprise ATT&CK STIX
//! bundle (`data/attack-enterprise.tsv`; © The MITRE Corporation, see
//! `data/ATTACK-LICENSE.txt`), so alerts are named without network access.
//! [`Catalogue::from_stix`] makes the table from a newer bundle; a test
//! checks the shipped table against the bundle in ../shared/corpora.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value as Json;

/// One technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechniqueInfo {
    /// `T1110.001`.
    pub id: String,
    /// `Brute Force: Password Guessing` (a sub-technique's name is prefixed
    /// with its parent's).
    pub name: String,
    /// Tactic short names, in the bundle's order (`credential-access`).
    pub tactics: Vec<String>,
    /// Its ATT&CK page.
    pub url: String,
}

/// One tactic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tactic {
    /// `TA0006`.
    pub id: String,
    /// `credential-access`, as tags and kill-chain phases write it.
    pub short: String,
    /// `Credential Access`.
    pub name: String,
}

/// The catalogue.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Catalogue {
    techniques: BTreeMap<String, TechniqueInfo>,
    tactics: Vec<Tactic>,
}

const EMBEDDED: &str = include_str!("../data/attack-enterprise.tsv");

impl Catalogue {
    /// The catalogue rampart ships.
    pub fn embedded() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| Catalogue::from_tsv(EMBEDDED))
    }

    /// A technique by id (`T1110`, `t1110.001`).
    pub fn technique(&self, id: &str) -> Option<&TechniqueInfo> {
        self.techniques.get(&id.to_ascii_uppercase())
    }

    /// A tactic by short name (`credential-access`, or Sigma's
    /// `credential_access`) or id (`TA0006`).
    pub fn tactic(&self, name: &str) -> Option<&Tactic> {
        let short = name.to_ascii_lowercase().replace('_', "-");
        self.tactics
            .iter()
            .find(|t| t.short == short || t.id.eq_ignore_ascii_case(name))
    }

    /// The tactics in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// Every technique and sub-technique, by id.
    pub fn techniques(&self) -> impl Iterator<Item = &TechniqueInfo> {
        self.techniques.values()
    }

    /// How many techniques and sub-techniques it holds.
    pub fn len(&self) -> usize {
        self.techniques.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
    }

    /// Reads the table form: `tactic` lines (`id`, short name, name) in
    /// matrix order, then `technique` lines (id, name, tactics, URL).
    pub fn from_tsv(text: &str) -> Catalogue {
        let mut c = Catalogue::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["tactic", id, short, name] => c.tactics.push(Tactic {
                    id: (*id).to_owned(),
                    short: (*short).to_owned(),
                    name: (*name).to_owned(),
                }),
                ["technique", id, name, tactics, url] => {
                    c.techniques.insert(
                        (*id).to_owned(),
                        TechniqueInfo {
                            id: (*id).to_owned(),
                            name: (*name).to_owned(),
                            tactics: tactics
                                .split(',')
                                .filter(|t| !t.is_empty())
                                .map(str::to_owned)
                                .collect(),
                            url: (*url).to_owned(),
                        },
                    );
                }
                _ => {}
            }
        }
        c
    }

    /// The table form of the catalogue.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from(
            "# MITRE ATT&CK enterprise techniques and tactics, made from the ATT&CK STIX bundle.\n\
             # (c) The MITRE Corporation. This work is reproduced and distributed with the permission of The MITRE Corporation.\n",
        );
        for t in &self.tactics {
            out.push_str(&format!("tactic\t{}\t{}\t{}\n", t.id, t.short, t.name));
        }
        for t in self.techniques.values() {
            out.push_str(&format!(
                "technique\t{}\t{}\t{}\t{}\n",
                t.id,
                t.name,
                t.tactics.join(","),
                t.url
            ));
        }
        out
    }

    /// Reads an ATT&CK STIX bundle: its current (not revoked or deprecated)
    /// attack patterns and tactics, tactics in the matrix's order.
    pub fn from_stix(text: &str) -> Result<Catalogue, String> {
        let doc: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let objects = doc
            .get("objects")
            .and_then(Json::as_array)
            .ok_or("not a STIX bundle")?;
        let current = |o: &&Json| {
            o.get("revoked").and_then(Json::as_bool) != Some(true)
                && o.get("x_mitre_deprecated").and_then(Json::as_bool) != Some(true)
        };
        let attack_ref = |o: &Json| -> Option<(String, String)> {
            o.get("external_references")?
                .as_array()?
                .iter()
                .find(|r| r.get("source_name").and_then(Json::as_str) == Some("mitre-attack"))
                .and_then(|r| {
                    Some((
                        r.get("external_id")?.as_str()?.to_owned(),
                        r.get("url").and_then(Json::as_str).unwrap_or("").to_owned(),
                    ))
                })
        };
        let text_of = |o: &Json, k: &str| o.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
        let mut c = Catalogue::default();
        let mut by_ref: BTreeMap<String, Tactic> = BTreeMap::new();
        for o in objects.iter().filter(current) {
            match o.get("type").and_then(Json::as_str) {
                Some("x-mitre-tactic") => {
                    if let Some((id, _)) = attack_ref(o) {
                        by_ref.insert(
                            text_of(o, "id"),
                            Tactic {
                                id,
                                short: text_of(o, "x_mitre_shortname"),
                                name: text_of(o, "name"),
                            },
                        );
                    }
                }
                Some("attack-pattern") => {
                    let Some((id, url)) = attack_ref(o) else {
                        continue;
                    };
                    let tactics = o
                        .get("kill_chain_phases")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|p| {
                            p.get("kill_chain_name").and_then(Json::as_str) == Some("mitre-attack")
                        })
                        .filter_map(|p| p.get("phase_name")?.as_str().map(str::to_owned))
                        .collect();
                    c.techniques.insert(
                        id.clone(),
                        TechniqueInfo {
                            id,
                            name: text_of(o, "name"),
                            tactics,
                            url,
                        },
                    );
                }
                _ => {}
            }
        }
        // Sub-techniques are named after their parent: "Brute Force: Password Guessing".
        let parents: BTreeMap<String, String> = c
            .techniques
            .values()
            .filter(|t| !t.id.contains('.'))
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect();
        for t in c.techniques.values_mut() {
            if let Some((parent, _)) = t.id.split_once('.') {
                if let Some(p) = parents.get(parent) {
                    t.name = format!("{p}: {}", t.name);
                }
            }
        }
        // The matrix lists its tactics in order.
        let order: Vec<String> = objects
            .iter()
            .filter(|o| o.get("type").and_then(Json::as_str) == Some("x-mitre-matrix"))
            .filter_map(|o| o.get("tactic_refs")?.as_array().cloned())
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        for r in &order {
            if let Some(t) = by_ref.remove(r) {
                c.tactics.push(t);
            }
        }
        c.tactics.extend(by_ref.into_values());
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_names_techniques_and_tactics() {
        let c = Catalogue::embedded();
        assert!(c.len() > 600, "{}", c.len());
        let t = c.technique("t1110.001").unwrap();
        assert_eq!(t.name, "Brute Force: Password Guessing");
        assert_eq!(t.tactics, ["credential-access"]);
        assert_eq!(t.url, "https://attack.mitre.org/techniques/T1110/001");
        assert_eq!(
            c.tactic("credential_access").unwrap().name,
            "Credential Access"
        );
        assert_eq!(c.tactic("TA0006").unwrap().short, "credential-access");
        assert_eq!(c.tactics().len(), 14);
        assert_eq!(Catalogue::from_tsv(&c.to_tsv()), *c);
    }
}
