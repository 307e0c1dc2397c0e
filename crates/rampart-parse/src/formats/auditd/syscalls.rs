//! System call names from the numbers raw audit records carry
//! (`arch=c000003e syscall=59` is `execve`), which is what the interpreted
//! field `SYSCALL` that Sigma rules test holds.
//!
//! The numbers differ per architecture; `syscalls.tsv` holds the tables of
//! x86_64, i386 and arm64 as the kernel's UAPI headers give them.

use std::sync::OnceLock;

/// The architectures with a table: audit's `arch` value and its name.
const ARCHES: &[(&str, &str)] = &[
    ("c000003e", "x86_64"),
    ("40000003", "i386"),
    ("c00000b7", "aarch64"),
];

/// The names per architecture, indexed by number (empty where none).
type Tables = Vec<(&'static str, Vec<&'static str>)>;

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables: Tables = ARCHES.iter().map(|(_, n)| (*n, Vec::new())).collect();
        for line in include_str!("syscalls.tsv").lines() {
            let mut cols = line.split('\t');
            let (Some(arch), Some(number), Some(name)) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let (Some(table), Ok(number)) = (
                tables.iter_mut().find(|(a, _)| *a == arch),
                number.parse::<usize>(),
            ) else {
                continue;
            };
            if table.1.len() <= number {
                table.1.resize(number + 1, "");
            }
            table.1[number] = name;
        }
        tables
    })
}

/// The architecture's name (`x86_64`) from audit's `arch` value.
pub fn arch_name(arch: &str) -> Option<&'static str> {
    let arch = arch.trim_start_matches("0x").to_ascii_lowercase();
    ARCHES.iter().find(|(a, _)| *a == arch).map(|(_, n)| *n)
}

/// The name of system call `number` on `arch` (audit's hex value).
pub fn name(arch: &str, number: u64) -> Option<&'static str> {
    let arch = arch_name(arch)?;
    let (_, names) = tables().iter().find(|(a, _)| *a == arch)?;
    let name = *names.get(usize::try_from(number).ok()?)?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_per_architecture() {
        assert_eq!(name("c000003e", 59), Some("execve"));
        assert_eq!(name("c000003e", 133), Some("mknod"));
        assert_eq!(name("c000003e", 319), Some("memfd_create"));
        assert_eq!(name("c00000b7", 221), Some("execve"));
        assert_eq!(name("40000003", 11), Some("execve"));
        assert_eq!(name("C000003E", 0), Some("read"));
        assert_eq!(name("c000003e", 100_000), None);
        assert_eq!(name("deadbeef", 59), None);
        assert_eq!(arch_name("c000003e"), Some("x86_64"));
    }
}
