//! SigmaHQ's Microsoft Defender rules against events laid out as Defender
//! writes them: its EventData names have spaces (`New Value`, `Process
//! Name`, `Source Name`), the rules' fields do not (`NewValue`,
//! `ProcessName`, `SourceName`). Each rule must fire on its event and its
//! filters must work. Skipped when the corpora are absent.

use rampart_detect::{load_path, CompileOptions, RuleSet};
use rampart_parse::{parse_text, FileContext, ParseOptions};

mod common;
use common::corpora;

/// A Defender record of Event ID `id` with these EventData fields.
fn defender(id: u32, data: &[(&str, &str)]) -> String {
    let fields: String = data
        .iter()
        .map(|(k, v)| format!("<Data Name='{k}'>{v}</Data>"))
        .collect();
    format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Windows Defender' Guid='{{11CD958A-C507-4EF3-B3F2-5FD9DFBD2C78}}'/><EventID>{id}</EventID><Version>0</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='2025-03-14T12:00:00.0000000Z'/><EventRecordID>{id}</EventRecordID><Correlation/><Execution ProcessID='3412' ThreadID='5120'/><Channel>Microsoft-Windows-Windows Defender/Operational</Channel><Computer>WS01.lab.local</Computer><Security UserID='S-1-5-18'/></System><EventData><Data Name='Product Name'>Microsoft Defender Antivirus</Data>{fields}</EventData></Event>"
    )
}

fn titles(set: &RuleSet, xml: &str) -> Vec<String> {
    let ctx = FileContext::new("defender.xml", ParseOptions::default());
    let out = parse_text(xml, ctx, None);
    assert_eq!(out.events.len(), 1, "{:?}", out.dead);
    let mut titles: Vec<String> = set
        .matches(&out.events[0])
        .iter()
        .map(|h| h.rule.rule.title.clone())
        .collect();
    titles.sort();
    titles
}

#[test]
fn defender_rules_read_the_fields_defender_writes() {
    let Some(dir) = corpora("sigma/rules/windows/builtin/windefend") else {
        return;
    };
    let set = RuleSet::build(load_path(&dir), &CompileOptions::default());
    let exclusion = defender(
        5007,
        &[
            ("Old Value", ""),
            (
                "New Value",
                r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths\C:\Temp = 0x0",
            ),
        ],
    );
    assert!(
        titles(&set, &exclusion).contains(&"Windows Defender Exclusions Added".to_owned()),
        "{:?}",
        titles(&set, &exclusion)
    );
    let amsi = defender(
        1116,
        &[
            ("Threat Name", "Trojan:PowerShell/Mimikatz.A"),
            ("Severity ID", "5"),
            ("Source Name", "AMSI"),
            (
                "Process Name",
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            ),
        ],
    );
    assert!(titles(&set, &amsi).contains(&"Windows Defender AMSI Trigger Detected".to_owned()));
    // The LSASS rule's filters name ProcessName: an allowed process is left
    // out, another is not.
    let lsass = |process: &str| {
        defender(
            1121,
            &[
                ("ID", "9E6C4E1F-7D60-472F-BA1A-A39EF669E4B2"),
                ("Path", r"C:\Windows\System32\lsass.exe"),
                ("Process Name", process),
            ],
        )
    };
    let rule = "LSASS Access Detected via Attack Surface Reduction".to_owned();
    assert!(titles(&set, &lsass(r"C:\Users\bob\Downloads\procdump64.exe")).contains(&rule));
    assert!(!titles(&set, &lsass(r"C:\Windows\System32\svchost.exe")).contains(&rule));
}
