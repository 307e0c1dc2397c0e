//! The built-in rule pack: Sigma YAML files under `rules/builtin/`, embedded
//! in the binary. Adding a rule means adding its file here, in one visible
//! list; each file carries its own tests (`rampart rules test`).

/// `(file name, YAML text)` of every built-in rule file.
pub const PACK: &[(&str, &str)] = &[
    (
        "encoded-powershell.yml",
        include_str!("../../../rules/builtin/encoded-powershell.yml"),
    ),
    (
        "port-scan.yml",
        include_str!("../../../rules/builtin/port-scan.yml"),
    ),
    (
        "registry-run-key.yml",
        include_str!("../../../rules/builtin/registry-run-key.yml"),
    ),
    (
        "scanner-user-agent.yml",
        include_str!("../../../rules/builtin/scanner-user-agent.yml"),
    ),
    (
        "ssh-brute-force.yml",
        include_str!("../../../rules/builtin/ssh-brute-force.yml"),
    ),
    (
        "ssh-login-off-hours.yml",
        include_str!("../../../rules/builtin/ssh-login-off-hours.yml"),
    ),
    (
        "third-party-detections.yml",
        include_str!("../../../rules/builtin/third-party-detections.yml"),
    ),
    (
        "web-404-flood.yml",
        include_str!("../../../rules/builtin/web-404-flood.yml"),
    ),
    (
        "web-attack-payload.yml",
        include_str!("../../../rules/builtin/web-attack-payload.yml"),
    ),
    (
        "win-new-service.yml",
        include_str!("../../../rules/builtin/win-new-service.yml"),
    ),
    (
        "win-new-user.yml",
        include_str!("../../../rules/builtin/win-new-user.yml"),
    ),
    (
        "win-watchlist-event.yml",
        include_str!("../../../rules/builtin/win-watchlist-event.yml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_text, CompileOptions, Limits, RuleSet};

    #[test]
    fn every_builtin_rule_loads_and_compiles() {
        let mut loaded = crate::Loaded::default();
        for (name, text) in PACK {
            loaded.extend(load_text(text, format!("builtin:{name}").into()));
        }
        let mut set = RuleSet::build(loaded, &CompileOptions::default());
        let correlations = set.correlator(Limits::default());
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
        assert!(set.rules().len() >= PACK.len());
        assert_eq!(correlations.len(), 3);
    }
}
