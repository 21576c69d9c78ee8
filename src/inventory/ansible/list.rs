//! `-i host1,host2,`: a quick list of hosts on the command line, as Ansible's `host_list`
//! plugin reads it (names split at commas, blanks ignored, `name:port` allowed, no ranges).

use super::{Model, ParseError, Pos, Var, VarMap, range};

/// Whether `arg` (an `-i` value that is not an existing file) is a host list: it holds a
/// comma, Ansible's convention.
pub fn is_host_list(arg: &str) -> bool {
    arg.contains(',')
}

/// The hosts of a list, each in `ungrouped` with default settings.
pub fn parse(arg: &str) -> Result<Model, ParseError> {
    let mut model = Model::new();
    let mut offset = 0;
    for item in arg.split(',') {
        let start = offset + (item.len() - item.trim_start().len());
        offset += item.len() + 1;
        let name = item.trim();
        if name.is_empty() {
            continue;
        }
        let pos = Pos {
            line: 1,
            column: arg[..start].chars().count() + 1,
        };
        if name.contains('[') {
            return Err(ParseError::new(
                pos,
                format!(
                    "{name:?}: a host list takes no ranges; write the names out or use an inventory file"
                ),
            ));
        }
        let (hosts, port) = range::expand(name).map_err(|m| ParseError::new(pos, m))?;
        let mut vars = VarMap::new();
        if let Some(port) = port {
            vars.insert(
                "ansible_port".into(),
                Var {
                    value: toml::Value::Integer(port.into()),
                    pos,
                },
            );
        }
        for host in hosts {
            model.add_host("ungrouped", &host, pos, vars.clone());
        }
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports_in_order() {
        let m = parse("a, b:2222,,a,").unwrap();
        let names: Vec<&str> = m.hosts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            m.hosts[1].1.vars["ansible_port"].value,
            toml::Value::Integer(2222)
        );
        let e = parse("ok,web[1:2]").unwrap_err();
        assert_eq!(e.pos.column, 4);
    }
}
