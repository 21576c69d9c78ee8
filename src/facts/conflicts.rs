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

const FIND: &str = "vmup_rpmdb || exit 3\n\
fs=$(vmup_rpm -qac) || { st=$?; echo \"vmup: rpm -qac failed with exit status $st\"; exit $st; }\n\
printf '%s\\n' \"$fs\" | sort -u | while IFS= read -r f; do\n\
  [ -n \"$f\" ] || continue\n\
  for s in rpmnew rpmsave rpmorig; do vmup_under \"$f.$s\" && [ -f \"$R\" ] && printf '%s %s\\n' \"$s\" \"$f\"; done\n\
done\n:";

impl Fact for ConfigConflicts {
    type Value = Vec<Leftover>;

    fn name(&self) -> String {
        "conflicts".into()
    }

    fn script(&self, s: &mut Script) {
        s.code(RPM_FN);
        s.code(FIND);
    }

    /// A failed `rpm -qac` is an error, never "no conflicts".
    fn parse(&self, output: &CommandOutput) -> Result<Vec<Leftover>, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
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
        assert!(
            ConfigConflicts
                .parse(&CommandOutput {
                    stdout: b"vmup: rpm -qac failed with exit status 1\n".to_vec(),
                    status: 1,
                })
                .is_err()
        );
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
