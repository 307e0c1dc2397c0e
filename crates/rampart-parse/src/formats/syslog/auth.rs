//! Authentication and account messages other than sshd's: PAM, sudo, su,
//! cron, and the shadow-utils account tools (useradd, usermod, passwd, ...).

use rampart_event::Event;

use crate::text::{ip_token, split_once_str, value_after};

/// Fills `event` from a PAM message body such as
/// `authentication failure; logname= uid=0 ... rhost=IP  user=root` or
/// `session opened for user root(uid=0) by (uid=0)`.
pub fn pam(body: &str, event: &mut Event) {
    let body = body.trim();
    if body.starts_with("authentication failure") || body.contains("more authentication failure") {
        event.set_static("event.category", "authentication");
        event.set_static("event.action", "pam-auth-failure");
        event.set_static("event.outcome", "failure");
        rhost_and_user(body, event);
    } else if let Some(rest) = body.strip_prefix("session opened for user ") {
        event.set_static("event.category", "session");
        event.set_static("event.action", "session-opened");
        let (user, by) = rest.split_once(" by ").unwrap_or((rest, ""));
        event.set_str("user.name", strip_uid(user));
        let by = strip_uid(by);
        if !by.is_empty() {
            event.set_str("process.user.name", by);
        }
    } else if let Some(rest) = body.strip_prefix("session closed for user ") {
        event.set_static("event.category", "session");
        event.set_static("event.action", "session-closed");
        event.set_str("user.name", strip_uid(rest));
    } else if body.starts_with("check pass; user unknown") {
        event.set_static("event.category", "authentication");
        event.set_static("event.action", "pam-user-unknown");
        event.set_static("event.outcome", "failure");
    } else if let Some(rest) = body.strip_prefix("password changed for ") {
        event.set_static("event.category", "iam");
        event.set_static("event.action", "password-changed");
        event.set_str("user.target.name", rest.trim());
    }
}

/// Reads `rhost=` (an address or a host name) and `user=` from PAM text.
pub fn rhost_and_user(text: &str, event: &mut Event) {
    if let Some(rhost) = value_after(text, "rhost=").filter(|r| !r.is_empty()) {
        match ip_token(rhost) {
            Some(ip) => event.set("source.ip", ip),
            None => event.set_str("source.domain", rhost),
        }
    }
    if let Some(user) = value_after(text, " user=").filter(|u| !u.is_empty()) {
        event.set_str("user.name", user);
    }
}

/// `root(uid=0)` → `root`; `(uid=0)` → ``.
fn strip_uid(text: &str) -> &str {
    let text = text.trim();
    text.split_once('(').map_or(text, |(name, _)| name)
}

/// `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`
/// and the failure forms (`3 incorrect password attempts ; TTY=...`).
pub fn sudo(message: &str, event: &mut Event) {
    event.set_static("event.category", "process");
    event.set_static("event.action", "sudo-command");
    let Some((user, rest)) = message.split_once(" : ") else {
        return;
    };
    event.set_str("user.name", user.trim());
    let mut failure = None;
    for (i, part) in rest.split(" ; ").enumerate() {
        match part.split_once('=') {
            Some(("USER", v)) => event.set_str("user.effective.name", v),
            Some(("COMMAND", v)) => event.set_str("process.command_line", v),
            Some(("PWD", v)) => event.set_str("process.working_directory", v),
            Some(("TTY", v)) => event.set_str("process.tty.name", v),
            Some(_) => {}
            None if i == 0 => failure = Some(part.trim()),
            None => {}
        }
    }
    match failure {
        Some(reason) => {
            event.set_static("event.outcome", "failure");
            event.set_str("event.reason", reason);
        }
        None => event.set_static("event.outcome", "success"),
    }
}

/// `(to root) alice on pts/1`, `FAILED SU (to root) bob on pts/2`,
/// `Successful su for root by alice`, `FAILED su for root by bob`,
/// `+ pts/1 alice:root`.
pub fn su(message: &str, event: &mut Event) {
    let msg = message.trim();
    let (failed, body) = match msg
        .strip_prefix("FAILED SU ")
        .or_else(|| msg.strip_prefix("FAILED su "))
    {
        Some(rest) => (true, rest),
        None => (false, msg.strip_prefix("Successful su ").unwrap_or(msg)),
    };
    let recognised = if let Some(rest) = body.strip_prefix("(to ") {
        let (target, rest) = rest.split_once(") ").unwrap_or((rest, ""));
        event.set_str("user.effective.name", target);
        event.set_str("user.name", rest.split(" on ").next().unwrap_or(""));
        true
    } else if let Some(rest) = body.strip_prefix("for ") {
        let (target, user) = rest.split_once(" by ").unwrap_or((rest, ""));
        event.set_str("user.effective.name", target);
        event.set_str("user.name", user);
        true
    } else if let Some((sign, rest)) = body.split_once(' ') {
        let pair = rest.split(' ').nth(1).unwrap_or("");
        match (sign, pair.split_once(':')) {
            ("+" | "-", Some((user, target))) => {
                event.set_str("user.name", user);
                event.set_str("user.effective.name", target);
                return finish_su(sign == "-", event);
            }
            _ => false,
        }
    } else {
        false
    };
    if recognised {
        finish_su(failed, event);
    }
}

fn finish_su(failed: bool, event: &mut Event) {
    event.set_static("event.category", "authentication");
    event.set_static("event.action", "su");
    event.set_static("event.outcome", if failed { "failure" } else { "success" });
}

/// `(root) CMD (/usr/local/bin/backup.sh)`.
pub fn cron(message: &str, event: &mut Event) {
    let msg = message.trim();
    let Some(rest) = msg.strip_prefix('(') else {
        return;
    };
    let Some((user, rest)) = rest.split_once(") ") else {
        return;
    };
    if let Some(cmd) = rest.strip_prefix("CMD (") {
        event.set_static("event.category", "process");
        event.set_static("event.action", "cron-command");
        event.set_str("user.name", user);
        event.set_str("process.command_line", cmd.strip_suffix(')').unwrap_or(cmd));
    }
}

/// Account management: `new user: name=x, UID=...`, `new group: name=x`,
/// `add 'x' to group 'sudo'`, `delete user 'x'`, `change user 'x' password`.
pub fn account(message: &str, event: &mut Event) {
    let msg = message.trim();
    let quoted = |text: &str| -> Option<String> {
        let start = text.find('\'')? + 1;
        let len = text[start..].find('\'')?;
        Some(text[start..start + len].to_owned())
    };
    let mut set = |action: &'static str| {
        event.set_static("event.category", "iam");
        event.set_static("event.action", action);
        event.set_static("event.outcome", "success");
    };
    if let Some(rest) = msg.strip_prefix("new user: ") {
        set("user-account-created");
        for part in rest.split(", ") {
            match part.split_once('=') {
                Some(("name", v)) => event.set_str("user.target.name", v),
                Some(("UID", v)) => event.set_str("user.target.id", v),
                Some(("GID", v)) => event.set_str("group.id", v),
                Some(("home", v)) => event.set_str("user.target.home", v),
                Some(("shell", v)) => event.set_str("user.target.shell", v),
                _ => {}
            }
        }
    } else if let Some(rest) = msg.strip_prefix("new group: ") {
        set("group-created");
        if let Some(name) = value_after(rest, "name=") {
            event.set_str("group.name", name.trim_end_matches(','));
        }
    } else if msg.starts_with("add '") && msg.contains("' to ") {
        set("user-added-to-group");
        if let Some(user) = quoted(msg) {
            event.set_str("user.target.name", &user);
        }
        if let Some((_, group)) = split_once_str(msg, " group '") {
            event.set_str("group.name", group.trim_end_matches('\''));
        }
    } else if let Some(rest) = msg.strip_prefix("delete user ") {
        set("user-account-deleted");
        if let Some(user) = quoted(rest) {
            event.set_str("user.target.name", &user);
        }
    } else if msg.starts_with("change user ") || msg.starts_with("lock user ") {
        set(if msg.ends_with("password") {
            "password-changed"
        } else {
            "user-account-changed"
        });
        if let Some(user) = quoted(msg) {
            event.set_str("user.target.name", &user);
        }
    } else if let Some(rest) = msg.strip_prefix("password for ") {
        set("password-changed");
        event.set_str(
            "user.target.name",
            rest.split(' ').next().unwrap_or("").trim_matches('\''),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Origin;

    fn with(f: fn(&str, &mut Event), msg: &str) -> Event {
        let mut e = Event::new(Origin::new("t", 1), msg);
        f(msg, &mut e);
        e
    }

    #[test]
    fn sudo_success_and_failure() {
        let e = with(
            sudo,
            "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
        );
        assert_eq!(e.get_str("user.name"), Some("alice"));
        assert_eq!(e.get_str("user.effective.name"), Some("root"));
        assert_eq!(
            e.get_str("process.command_line"),
            Some("/usr/bin/apt update")
        );
        assert_eq!(e.get_str("event.outcome"), Some("success"));
        let e = with(
            sudo,
            "bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
        );
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(
            e.get_str("event.reason"),
            Some("3 incorrect password attempts")
        );
    }

    #[test]
    fn su_forms() {
        let e = with(su, "(to root) alice on pts/1");
        assert_eq!(
            (e.get_str("user.name"), e.get_str("event.outcome")),
            (Some("alice"), Some("success"))
        );
        let e = with(su, "FAILED SU (to root) bob on pts/2");
        assert_eq!(
            (e.get_str("user.name"), e.get_str("event.outcome")),
            (Some("bob"), Some("failure"))
        );
        let e = with(su, "+ pts/1 alice:root");
        assert_eq!(e.get_str("user.effective.name"), Some("root"));
    }

    #[test]
    fn accounts_name_the_target() {
        let e = with(account, "new user: name=backdoor, UID=1001, GID=1001, home=/home/backdoor, shell=/bin/bash, from=/dev/pts/0");
        assert_eq!(e.get_str("user.target.name"), Some("backdoor"));
        assert_eq!(e.get_str("event.action"), Some("user-account-created"));
        let e = with(account, "add 'backdoor' to group 'sudo'");
        assert_eq!(e.get_str("group.name"), Some("sudo"));
        assert_eq!(e.get_str("user.target.name"), Some("backdoor"));
    }

    #[test]
    fn pam_sessions_and_failures() {
        let e = with(
            pam,
            "session opened for user root(uid=0) by alice(uid=1000)",
        );
        assert_eq!(e.get_str("user.name"), Some("root"));
        assert_eq!(e.get_str("process.user.name"), Some("alice"));
        let e = with(pam, "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4  user=test");
        assert_eq!(e.get("source.ip").unwrap().to_string(), "218.188.2.4");
        assert_eq!(e.get_str("user.name"), Some("test"));
        let e = with(
            pam,
            "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=host.example",
        );
        assert_eq!(e.get_str("source.domain"), Some("host.example"));
    }
}
