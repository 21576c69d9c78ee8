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

/// `vmup_id WORD DB NAME` prints `WORD ID`, or `WORD ` alone when the host knows no such
/// name: on a real host one `getent` (its line taken apart by the shell, no pipe), in a
/// tree a read of its own file.
const ID_FN: &str = r#"vmup_id() {
  if [ -z "$VMUP_ROOT" ] && command -v getent >/dev/null 2>&1; then
    l=$(getent "$2" "$3"); r=${l#*:}; r=${r#*:}; printf '%s %s\n' "$1" "${l:+${r%%:*}}"; return 0
  fi
  vmup_under "/etc/$2" && [ -f "$R" ] || { printf '%s \n' "$1"; return 0; }
  while IFS=: read -r n x id rest; do [ "$n" = "$3" ] && { printf '%s %s\n' "$1" "$id"; return 0; }; done < "$R"
  printf '%s \n' "$1"
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
            s.code("vmup_id user passwd").arg(user.as_bytes()).newline();
        }
        if let Some(group) = &self.group {
            s.code("vmup_id group group")
                .arg(group.as_bytes())
                .newline();
        }
    }

    /// Built-ins and functions only, leaving with `return`.
    fn in_shell(&self) -> bool {
        true
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

/// Which account database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// `/etc/passwd` (users).
    Passwd,
    /// `/etc/group` (groups).
    Group,
}

impl Db {
    fn file(self) -> &'static str {
        match self {
            Db::Passwd => "passwd",
            Db::Group => "group",
        }
    }
}

/// The account entries a `user` or `group` step must know: the one with its name and the
/// one with its number (so a number taken by another name is found), as the host resolves
/// them (`getent`, or the tree's own file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEntries {
    /// Users or groups.
    pub db: Db,
    /// The name wanted.
    pub name: String,
    /// The number wanted, if any.
    pub id: Option<u32>,
}

/// One account entry: the fields of a passwd line (a group line fills name and id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The account's name.
    pub name: String,
    /// uid or gid.
    pub id: u32,
    /// passwd: the primary gid.
    pub gid: Option<u32>,
    /// passwd: the GECOS comment.
    pub comment: String,
    /// passwd: the home directory.
    pub home: String,
    /// passwd: the login shell.
    pub shell: String,
}

/// What the host has under the name and under the number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The entry with the name.
    pub by_name: Option<Entry>,
    /// The entry with the number.
    pub by_id: Option<Entry>,
}

/// `vmup_ent DB NAME [ID]` prints `name ENTRY` and, with an ID, `id ENTRY` (nothing after
/// the word when there is no such entry): on a real host one `getent` for both keys, whose
/// lines the shell sorts by their name and number fields (an entry with both is printed
/// for each key); in a tree its own file, read once.
const ENT_FN: &str = r#"vmup_ent() {
  vmup_n=; vmup_i=
  if [ -z "$VMUP_ROOT" ] && command -v getent >/dev/null 2>&1; then
    vmup_l=$(getent "$1" "$2" ${3:+"$3"})
    vmup_ifs=$IFS; IFS='
'; set -f
    for l in $vmup_l; do vmup_ent_line "$2" "$3"; done
    IFS=$vmup_ifs; set +f
  else
    vmup_under "/etc/$1" || return 1
    if [ -f "$R" ]; then while IFS= read -r l; do vmup_ent_line "$2" "$3"; done < "$R"; fi
  fi
  printf 'name %s\n' "$vmup_n"
  [ -z "$3" ] || printf 'id %s\n' "$vmup_i"
}
vmup_ent_line() {
  n=${l%%:*}; r=${l#*:}; r=${r#*:}; id=${r%%:*}
  [ -z "$vmup_n" ] && [ "$n" = "$1" ] && vmup_n=$l
  [ -n "$2" ] && [ -z "$vmup_i" ] && [ "$id" = "$2" ] && vmup_i=$l
  return 0
}
"#;

impl Fact for AccountEntries {
    type Value = Found;

    fn name(&self) -> String {
        format!(
            "account-entries {} {} {}",
            self.db.file(),
            self.name,
            self.id.map(|i| i.to_string()).unwrap_or_default()
        )
    }

    fn script(&self, s: &mut Script) {
        s.code(ENT_FN);
        s.code(&format!("vmup_ent {}", self.db.file()));
        s.arg(self.name.as_bytes());
        if let Some(id) = self.id {
            s.code(&format!(" {id}"));
        }
        s.newline();
    }

    /// Built-ins and functions only, leaving with `return`.
    fn in_shell(&self) -> bool {
        true
    }

    fn parse(&self, output: &CommandOutput) -> Result<Found, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        let mut found = Found::default();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let (which, entry) = line.split_once(' ').unwrap_or((line, ""));
            let entry = entry.trim_end();
            if entry.is_empty() {
                continue;
            }
            let f: Vec<&str> = entry.split(':').collect();
            let parsed = f
                .get(2)
                .and_then(|id| id.parse::<u32>().ok())
                .map(|id| Entry {
                    name: f[0].to_string(),
                    id,
                    gid: f
                        .get(3)
                        .and_then(|g| g.parse().ok())
                        .filter(|_| self.db == Db::Passwd),
                    comment: f.get(4).map(|c| c.to_string()).unwrap_or_default(),
                    home: f.get(5).map(|c| c.to_string()).unwrap_or_default(),
                    shell: f.get(6).map(|c| c.to_string()).unwrap_or_default(),
                });
            let Some(parsed) = parsed else {
                return Err(FactError::Malformed {
                    fact: self.name(),
                    why: format!("{entry:?} is not an account entry"),
                });
            };
            match which {
                "name" => found.by_name = Some(parsed),
                "id" => found.by_id = Some(parsed),
                _ => {}
            }
        }
        Ok(found)
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
    fn entries_by_name_and_by_number_in_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/bash\nhaldaemon:x:81:81:HAL daemon:/:/sbin/nologin\n",
        )
        .unwrap();
        let fact = AccountEntries {
            db: Db::Passwd,
            name: "dbus".into(),
            id: Some(81),
        };
        let keys = vec![fact.key()];
        let b = Boundary::random();
        let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        let found = parse_facts(&keys, &b, &out.stdout)
            .unwrap()
            .get(&fact)
            .unwrap();
        assert_eq!(found.by_name, None);
        let taken = found.by_id.unwrap();
        assert_eq!(
            (taken.name.as_str(), taken.id, taken.shell.as_str()),
            ("haldaemon", 81, "/sbin/nologin")
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

    /// On a real host each lookup is one `getent`: both keys of an entries fact in one
    /// call, whose lines the shell sorts out, and a name's id without a pipe. A stand-in
    /// getent (answering as glibc's does: a number is looked up as an id) logs each start.
    #[test]
    fn one_getent_per_lookup_on_a_running_host() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path();
        std::fs::write(
            db.join("passwd"),
            "root:x:0:0:root:/root:/bin/bash\ndbus:x:81:81:System message bus:/:/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(db.join("group"), "root:x:0:\nhaldaemon:x:81:\n").unwrap();
        let log = db.join("log");
        let getent = db.join("getent");
        std::fs::write(
            &getent,
            format!(
                "#!/bin/sh\necho getent >> '{log}'\ndb=$1; shift\nfor k; do\n  while IFS= read -r l; do\n    n=${{l%%:*}}; r=${{l#*:}}; r=${{r#*:}}; id=${{r%%:*}}\n    case $k in *[!0-9]*) [ \"$n\" = \"$k\" ] && {{ echo \"$l\"; break; }} ;; *) [ \"$id\" = \"$k\" ] && {{ echo \"$l\"; break; }} ;; esac\n  done < '{dir}'/\"$db\"\ndone\n",
                log = log.display(),
                dir = db.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&getent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let user = AccountEntries {
            db: Db::Passwd,
            name: "dbus".into(),
            id: Some(81),
        };
        let group = AccountEntries {
            db: Db::Group,
            name: "dbus".into(),
            id: Some(81),
        };
        let ids = AccountIds {
            user: Some("dbus".into()),
            group: Some("nosuch".into()),
        };
        let keys = vec![user.key(), group.key(), ids.key()];
        let facts = crate::facts::gather::run_with_path(&keys, "", db.to_str());
        let found = facts.get(&user).unwrap();
        let (by_name, by_id) = (found.by_name.unwrap(), found.by_id.unwrap());
        assert_eq!((by_name.name.as_str(), by_name.id), ("dbus", 81));
        assert_eq!(by_name.comment, "System message bus");
        assert_eq!(by_id, by_name);
        let found = facts.get(&group).unwrap();
        assert_eq!(found.by_name, None);
        assert_eq!(found.by_id.map(|e| e.name), Some("haldaemon".to_string()));
        assert_eq!(
            facts.get(&ids).unwrap(),
            Ids {
                uid: Some(81),
                gid: None
            }
        );
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "getent\n".repeat(4));
    }
}
