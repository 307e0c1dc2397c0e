//! Where the rules of a command come from: the built-in pack embedded in the
//! binary and the `--rules` paths a user names. `hunt` and `rules` share it.

use std::path::PathBuf;

use anyhow::bail;
use rampart_detect::{builtin, load_path, load_text, Loaded};

/// The built-in pack, loaded.
pub fn builtin_rules() -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in builtin::PACK {
        loaded.extend(load_text(text, format!("builtin:{name}").into()));
    }
    loaded
}

/// Loads every `--rules` path; a path that does not exist is an error.
pub fn load_rules(paths: &[PathBuf]) -> anyhow::Result<Loaded> {
    let mut loaded = Loaded::default();
    for path in paths {
        if !path.exists() {
            bail!("rules path {} does not exist", path.display());
        }
        loaded.extend(load_path(path));
    }
    Ok(loaded)
}
