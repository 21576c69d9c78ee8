//! Config conflicts: the `.rpmnew`, `.rpmsave` and `.rpmorig` files beside the config files
//! of installed packages (`rpm -qac`), as the seed's update printed them.

use crate::remote::pkg::RPM_FN;
use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// One leftover file beside a package's config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// `rpmnew`, `rpmsave` or `rpmorig`.
    pub kind: String,
    /// The config file it belongs to.
    pub file: String,
}

/// Lists every config file of an installed package that has a leftover beside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfigConflicts;

const FIND: &str = "vmup_rpm -qac 2>/dev/null | sort -u | while IFS= read -r f; do\n  for s in rpmnew rpmsave rpmorig; do [ -f \"$VMUP_ROOT$f.$s\" ] && printf '%s %s\\n' \"$s\" \"$f\"; done\ndone\n:";

impl Fact for ConfigConflicts {
    type Value = Vec<Leftover>;

    fn name(&self) -> String {
        "conflicts".into()
    }

    fn script(&self, s: &mut Script) {
        s.code(RPM_FN);
        s.code(FIND);
    }

    fn parse(&self, output: &CommandOutput) -> Result<Vec<Leftover>, FactError> {
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(kind, file)| Leftover {
                kind: kind.to_string(),
                file: file.to_string(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_listing_parses() {
        let found = ConfigConflicts
            .parse(&CommandOutput {
                stdout: b"rpmnew /etc/yum.conf\nrpmsave /etc/mail/submit.cf\n".to_vec(),
                status: 0,
            })
            .unwrap();
        assert_eq!(
            found,
            [
                Leftover {
                    kind: "rpmnew".into(),
                    file: "/etc/yum.conf".into()
                },
                Leftover {
                    kind: "rpmsave".into(),
                    file: "/etc/mail/submit.cf".into()
                }
            ]
        );
    }
}
