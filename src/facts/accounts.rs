//! Account ids by name, as the host itself resolves them: `getent` on a real host, the
//! tree's own `/etc/passwd` and `/etc/group` under a local root (never the controller's,
//! which would give a guest disk the owners of the machine it is mounted on).

use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// The numeric ids of a user and a group named in a runbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountIds {
    /// A user name to look up.
    pub user: Option<String>,
    /// A group name to look up.
    pub group: Option<String>,
}

/// What the host says: None for a name it does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ids {
    /// The user's uid.
    pub uid: Option<u32>,
    /// The group's gid.
    pub gid: Option<u32>,
}

const ID_FN: &str = r#"vmup_id() {
  if [ -z "$VMUP_ROOT" ] && command -v getent >/dev/null 2>&1; then
    getent "$1" "$2" | { IFS=: read -r n x id rest; echo "$id"; }; return 0
  fi
  vmup_under "/etc/$1" || return 1
  [ -f "$R" ] || return 0
  while IFS=: read -r n x id rest; do [ "$n" = "$2" ] && { echo "$id"; return 0; }; done < "$R"
}
"#;

impl Fact for AccountIds {
    type Value = Ids;

    fn name(&self) -> String {
        format!(
            "account-ids user:{} group:{}",
            self.user.as_deref().unwrap_or(""),
            self.group.as_deref().unwrap_or("")
        )
    }

    fn script(&self, s: &mut Script) {
        s.code(ID_FN);
        if let Some(user) = &self.user {
            s.code("printf 'user %s\\n' \"$(vmup_id passwd");
            s.arg(user.as_bytes());
            s.code(")\"\n");
        }
        if let Some(group) = &self.group {
            s.code("printf 'group %s\\n' \"$(vmup_id group");
            s.arg(group.as_bytes());
            s.code(")\"\n");
        }
    }

    fn parse(&self, output: &CommandOutput) -> Result<Ids, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        let mut ids = Ids::default();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let (what, id) = line.split_once(' ').unwrap_or((line, ""));
            let id = match id.trim() {
                "" => None,
                n => Some(n.parse::<u32>().map_err(|_| FactError::Malformed {
                    fact: self.name(),
                    why: format!("{line:?}"),
                })?),
            };
            match what {
                "user" => ids.uid = id,
                "group" => ids.gid = id,
                _ => {}
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{facts_script, parse_facts};
    use crate::remote::frame::Boundary;
    use crate::transport::Transport;
    use crate::transport::local::LocalTransport;

    #[test]
    fn names_are_resolved_in_the_trees_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/bash\ndbus:x:81:81:System message bus:/:/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\ndbus:x:81:\n").unwrap();
        let fact = AccountIds {
            user: Some("dbus".into()),
            group: Some("nosuch".into()),
        };
        let keys = vec![fact.key()];
        let b = Boundary::random();
        let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
        assert_eq!(
            facts.get(&fact).unwrap(),
            Ids {
                uid: Some(81),
                gid: None
            }
        );
    }

    #[test]
    fn captured_output_parses() {
        let fact = AccountIds {
            user: Some("x".into()),
            group: None,
        };
        let out = CommandOutput {
            stdout: b"user 500\n".to_vec(),
            status: 0,
        };
        assert_eq!(fact.parse(&out).unwrap().uid, Some(500));
        let bad = CommandOutput {
            stdout: b"user abc\n".to_vec(),
            status: 0,
        };
        assert!(fact.parse(&bad).is_err());
    }
}
