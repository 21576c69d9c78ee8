//! Runbooks (`Runbook::parse`, `when` conditions): no panic; errors point inside the text;
//! every step reads as one resource whose fact requests, placement and plan (against a
//! host where every requested path is absent) can be formed without a panic; host
//! patterns check against an inventory; a condition given alone parses or points inside
//! itself, and evaluates. A step with templates renders with every name it reads set to a
//! fixed string (or fails with a position inside the text), and its rendered resource
//! plans the same way.
//!
//! Input: a `when` condition on the first line, the runbook (TOML) after it (invalid
//! UTF-8 replaced).

use std::collections::BTreeMap;
use std::path::Path;

use vmup::facts::{FactKey, Facts, PathFact};
use vmup::inventory::Inventory;
use vmup::resource::{GuestRef, HostView, Scope};
use vmup::runbook::{Condition, Runbook};

use crate::input::split_header;
use crate::targets::inventory::check_position;

pub const CHECKS: &str = "no panic; error positions valid; steps plan against empty hosts; \
                          conditions parse and evaluate";

const INVENTORY: &str = "[hosts.xen1]\nrole = \"host\"\n\
                         [hosts.ng2]\nhost = \"xen1\"\ndomain = \"NG2\"\n\
                         domain_config = \"/etc/xen/NG2\"\ngroups = [\"grid\"]\n";

fn facts_for(keys: &[FactKey]) -> Facts {
    let mut facts = Facts {
        cpus: Some(1),
        hostname: Some("ng2".into()),
        kernel_release: Some("2.6.9-55.ELxenU".into()),
        ..Facts::default()
    };
    for key in keys {
        if let FactKey::Path { path, .. } = key {
            facts.paths.insert(path.clone(), PathFact::Absent);
        }
    }
    facts
}

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let condition = String::from_utf8_lossy(header).into_owned();
    match Condition::parse(&condition) {
        Ok(c) => {
            assert_eq!(c.as_str(), condition);
            let _ = c.holds(&facts_for(&[]));
            let _ = c.holds(&Facts::default());
        }
        Err(e) => assert!(e.offset <= condition.len(), "condition error past its end"),
    }

    let text = String::from_utf8_lossy(body).into_owned();
    let runbook = match Runbook::parse(Path::new("/nonexistent/runbook.toml"), text.clone()) {
        Ok(r) => r,
        Err(e) => {
            check_position(&text, &e);
            return;
        }
    };
    let guest = Scope {
        guest: Some(GuestRef {
            name: "ng2".into(),
            domain: Some("NG2".into()),
            domain_config: Some("/etc/xen/NG2".into()),
        }),
    };
    for (i, step) in runbook.steps.iter().enumerate() {
        assert_eq!(step.number, i + 1);
        assert!(!step.kind.is_empty());
        let _ = (step.label(), step.hosts.as_str(), step.placement, &step.needs);
        if let Some(when) = &step.when {
            let _ = when.holds(&Facts::default());
        }
        let rendered;
        let resource = match (&step.resource, &step.render) {
            (Some(r), None) => r,
            (None, Some(render)) => {
                let names: BTreeMap<String, String> = render
                    .template
                    .names()
                    .into_iter()
                    .map(|n| (n, "2.6.9-67.0.1.ELxenU".to_string()))
                    .collect();
                match render.render(&minijinja::Value::from_serialize(&names)) {
                    Ok((r, _)) => {
                        rendered = r;
                        &rendered
                    }
                    Err(e) => {
                        check_position(&text, &e);
                        continue;
                    }
                }
            }
            _ => panic!("a step has both or neither of a resource and a template"),
        };
        let _ = resource.subject();
        for scope in [Scope::default(), guest.clone()] {
            let keys = resource.facts(&scope);
            let facts = facts_for(&keys);
            let view = HostView::scoped(&facts, &scope);
            let _ = resource.plan(&view);
        }
    }
    // `@FILE` patterns read files; the rest is checked against a fixed inventory.
    let reads_files = runbook.steps.iter().any(|s| s.hosts.as_str().contains('@'));
    if !reads_files
        && let Ok(inventory) = Inventory::parse(Path::new("/nonexistent/i.toml"), INVENTORY)
    {
        let _ = runbook.check_hosts(&inventory);
    }
}
