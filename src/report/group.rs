//! Hosts grouped by outcome: hosts whose status, changes, error and warnings are the same
//! are shown once, as the human report's `alike` does, so 1,000 alike guests read as one.

use std::collections::HashMap;

use super::input::{Change, HostLine, Status};

/// Hosts that ended the same way: `first`'s changes, error and warnings stand for all.
#[derive(Debug)]
pub struct Group<'a> {
    /// The first host of the group, whose details are shown.
    pub first: &'a HostLine,
    /// Every host of the group, `first` included, in the order printed.
    pub hosts: Vec<&'a HostLine>,
}

/// What makes two hosts alike (the human report's `alike`, notes left out as there).
type Key<'a> = (
    Status,
    Option<&'a str>,
    &'a [Change],
    Option<&'a str>,
    &'a [String],
    Option<&'a str>,
);

fn key(host: &HostLine) -> Key<'_> {
    (
        host.status,
        host.phase.as_deref(),
        &host.changes,
        host.error.as_deref(),
        &host.warnings,
        host.become_method.as_deref(),
    )
}

/// The groups of `hosts`: by status in [`Status::ALL`] order (failures first), then in
/// the order their first host was printed. One hash lookup per host: no quadratic work.
pub fn groups(hosts: &[HostLine]) -> Vec<Group<'_>> {
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    for host in hosts {
        let at = *index.entry(key(host)).or_insert_with(|| {
            groups.push(Group {
                first: host,
                hosts: Vec::new(),
            });
            groups.len() - 1
        });
        groups[at].hosts.push(host);
    }
    let rank = |s: Status| Status::ALL.iter().position(|a| *a == s);
    // A stable sort keeps the printed order within a status.
    groups.sort_by_key(|g| rank(g.first.status));
    groups
}

#[cfg(test)]
mod tests {
    use super::super::input::parse;

    #[test]
    fn alike_hosts_share_a_group_failures_first() {
        let line = |h: &str, s: &str, e: &str| {
            format!("{{\"host\":\"{h}\",\"status\":\"{s}\",\"changes\":[],\"error\":{e}}}\n")
        };
        let text = [
            line("a", "ok", "null"),
            line("b", "failed", "\"disk full\""),
            line("c", "ok", "null"),
            line("d", "failed", "\"other\""),
            line("e", "failed", "\"disk full\""),
            "{\"summary\":{\"hosts\":5}}\n".to_string(),
        ]
        .concat();
        let runs = parse("t", &text).unwrap();
        let names: Vec<Vec<&str>> = super::groups(&runs[0].hosts)
            .iter()
            .map(|g| g.hosts.iter().map(|h| h.host.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["b", "e"], vec!["d"], vec!["a", "c"]]);
    }
}
