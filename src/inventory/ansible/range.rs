//! Ansible host patterns: `web[01:10]`, `db[a:c]`, `h[0:20:5]`, and `name:port`.
//!
//! Ranges expand as Ansible's `expand_hostname_range` does (a leading zero fixes the
//! width, letters are ranges of ASCII letters, an optional step, several ranges in one
//! name expand left to right). Anything else with a `[` (IPv6 in brackets included) is
//! refused, since vmup names cannot hold one.

/// The host names a pattern stands for, and the port it names (`host:2222`).
pub fn expand(pattern: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let (name, port) = split_port(pattern)?;
    if name.is_empty() {
        return Err(format!("{pattern:?} is not a host name"));
    }
    Ok((expand_ranges(name)?, port))
}

/// Separates `name:port`: one colon followed by digits only (an IPv6 address, with
/// several colons, is a name).
fn split_port(pattern: &str) -> Result<(&str, Option<u16>), String> {
    if pattern.starts_with('[') {
        return Err(format!(
            "{pattern:?}: bracketed addresses are not supported; name the host and set ansible_host"
        ));
    }
    if pattern.ends_with(':') {
        return Err(format!(
            "{pattern:?} ends with `:`, which is reserved for a port: remove it or add the port"
        ));
    }
    // Colons inside a range (`web[1:3]`) are not a port separator.
    let outside: Vec<usize> = colons_outside_brackets(pattern);
    match outside.as_slice() {
        [i] => {
            let digits = &pattern[i + 1..];
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                let port = digits
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("{pattern:?}: port {digits} is not in 1-65535"))?;
                Ok((&pattern[..*i], Some(port)))
            } else {
                Ok((pattern, None))
            }
        }
        _ => Ok((pattern, None)),
    }
}

fn colons_outside_brackets(s: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let mut found = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => found.push(i),
            _ => {}
        }
    }
    found
}

/// The most names one pattern may stand for: a typo (`[1:1000000]`) must not exhaust memory.
const MAX_HOSTS: usize = 100_000;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Expands the first `[begin:end(:step)]` and recurses on the rest.
fn expand_ranges(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        if name.contains(']') {
            return Err(format!("{name:?} has a `]` without `[`"));
        }
        return Ok(vec![name.to_string()]);
    };
    let close = name[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(|| format!("{name:?} has a `[` without `]`"))?;
    let (head, spec, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let bounds: Vec<&str> = spec.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(format!(
            "{name:?}: a host range is [begin:end] or [begin:end:step]"
        ));
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(format!("{name:?}: the host range needs an end"));
    }
    let step: usize = match bounds.get(2) {
        Some(s) => s
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| format!("{name:?}: the step {s:?} must be a positive number"))?,
        None => 1,
    };
    let items: Vec<String> = match (LETTERS.find(begin), LETTERS.find(end)) {
        (Some(b), Some(e)) if begin.len() == 1 && end.len() == 1 => {
            if b > e {
                return Err(format!("{name:?}: the host range must have begin <= end"));
            }
            LETTERS[b..=e]
                .chars()
                .step_by(step)
                .map(String::from)
                .collect()
        }
        _ => {
            let width = if begin.len() > 1 && begin.starts_with('0') {
                if begin.len() != end.len() {
                    return Err(format!(
                        "{name:?}: a zero-padded range needs begin and end of equal length"
                    ));
                }
                begin.len()
            } else {
                0
            };
            let number = |s: &str| {
                s.parse::<u64>()
                    .map_err(|_| format!("{name:?}: {s:?} is neither a number nor a letter"))
            };
            let (b, e) = (number(begin)?, number(end)?);
            if e.saturating_sub(b) / step as u64 >= MAX_HOSTS as u64 {
                return Err(format!(
                    "{name:?}: more than {MAX_HOSTS} hosts in one pattern"
                ));
            }
            (b..=e)
                .step_by(step)
                .map(|n| format!("{n:0width$}"))
                .collect()
        }
    };
    let mut out = Vec::new();
    for item in items {
        out.extend(expand_ranges(&format!("{head}{item}{tail}"))?);
        // Several ranges multiply: `a[0:99999]b[0:99999]` would be 10^10 names.
        if out.len() > MAX_HOSTS {
            return Err(format!(
                "{name:?}: more than {MAX_HOSTS} hosts in one pattern"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<String> {
        expand(p).expect(p).0
    }

    #[test]
    fn numeric_letter_stepped_and_nested_ranges() {
        assert_eq!(names("web[01:03]"), ["web01", "web02", "web03"]);
        assert_eq!(names("db[a:c].x"), ["dba.x", "dbb.x", "dbc.x"]);
        assert_eq!(names("h[0:10:5]"), ["h0", "h5", "h10"]);
        assert_eq!(names("h[:1]"), ["h0", "h1"]);
        assert_eq!(names("r[1:2]c[a:b]"), ["r1ca", "r1cb", "r2ca", "r2cb"]);
        assert_eq!(names("plain"), ["plain"]);
    }

    #[test]
    fn ports_and_refusals() {
        assert_eq!(
            expand("w[1:2]:2222").unwrap(),
            (vec!["w1".into(), "w2".into()], Some(2222))
        );
        assert_eq!(expand("fe80::1").unwrap().1, None);
        for bad in [
            "h[1:]", "h[01:9]", "h[1]", "h[1:3", "[::1]:22", "h:", "h:0", "h[c:a]",
        ] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }
}
