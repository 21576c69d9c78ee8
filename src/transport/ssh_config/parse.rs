//! Reading ssh_config text into entries: tokenizing lines, validating the keywords that are
//! read, `Host` and `Match` blocks, and `Include` (with globs in the file name).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::super::pattern::glob_match;
use super::tokens::expand_tilde;
use super::{Entry, MAX_INCLUDE_DEPTH, Setting, SshConfig, SshConfigError, StrictHostKeyChecking};

impl SshConfig {
    /// Adds the entries of one file's text; `outer` holds the `Host` patterns of the blocks
    /// that `Include`d it, `depth` the nesting.
    pub(super) fn parse_text(
        &mut self,
        text: &str,
        origin: &Path,
        outer: &[Arc<[String]>],
        depth: usize,
    ) -> Result<(), SshConfigError> {
        let file: Arc<Path> = Arc::from(origin);
        let syntax = |line: usize, message: String| SshConfigError::Syntax {
            path: origin.to_path_buf(),
            line,
            message,
        };
        // The current `Host` block's patterns; `None` before the first Host line.
        let mut block: Option<Arc<[String]>> = None;
        let mut in_match = false;
        for (index, raw_line) in text.lines().enumerate() {
            let line = index + 1;
            let Some((keyword, args)) = tokenize(raw_line).map_err(|m| syntax(line, m))? else {
                continue;
            };
            let lower = keyword.to_ascii_lowercase();
            match lower.as_str() {
                "host" => {
                    if args.is_empty() {
                        return Err(syntax(line, "Host needs at least one pattern".into()));
                    }
                    block = Some(Arc::from(args));
                    in_match = false;
                    continue;
                }
                "match" => {
                    if args.len() == 1 && args[0].eq_ignore_ascii_case("all") {
                        block = Some(Arc::from(vec!["*".to_string()]));
                        in_match = false;
                    } else {
                        in_match = true;
                        self.notes.push(format!(
                            "{}:{line}: Match blocks are not supported by the in-process ssh \
                             transport; the lines up to the next Host or Match are ignored \
                             (transport = openssh honours them)",
                            origin.display()
                        ));
                    }
                    continue;
                }
                _ => {}
            }
            if in_match {
                continue;
            }
            let mut conditions = outer.to_vec();
            if let Some(block) = &block {
                conditions.push(Arc::clone(block));
            }
            if lower == "include" {
                if args.is_empty() {
                    return Err(syntax(line, "Include needs a file name".into()));
                }
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(syntax(
                        line,
                        format!("Include nested deeper than {MAX_INCLUDE_DEPTH} levels (a loop?)"),
                    ));
                }
                for arg in &args {
                    for path in self
                        .include_paths(arg, origin)
                        .map_err(|m| syntax(line, m))?
                    {
                        let text = match std::fs::read_to_string(&path) {
                            Ok(text) => text,
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => continue,
                            Err(source) => return Err(SshConfigError::Read { path, source }),
                        };
                        self.parse_text(&text, &path, &conditions, depth + 1)?;
                    }
                }
                continue;
            }
            if let Some(setting) =
                parse_setting(&keyword, &lower, &args).map_err(|m| syntax(line, m))?
            {
                self.entries.push(Entry {
                    conditions,
                    setting,
                    file: Arc::clone(&file),
                    line,
                });
            }
        }
        Ok(())
    }

    /// The files an `Include` argument names, sorted like glob(3) returns them.
    fn include_paths(&self, arg: &str, origin: &Path) -> Result<Vec<PathBuf>, String> {
        let expanded = expand_tilde(arg, self.local.home.as_deref());
        let path = if expanded.is_absolute() {
            expanded
        } else if origin.starts_with("/etc/ssh") {
            Path::new("/etc/ssh").join(expanded)
        } else {
            match &self.local.home {
                Some(home) => home.join(".ssh").join(expanded),
                None => return Err(format!("cannot resolve Include {arg}: no home directory")),
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.to_string_lossy().contains(['*', '?']) {
            return Err(format!(
                "Include {arg}: wildcards are supported in the file name only"
            ));
        }
        if !name.contains(['*', '?']) {
            return Ok(vec![path]);
        }
        let mut found: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| glob_match(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect(),
            Err(_) => Vec::new(),
        };
        found.sort();
        Ok(found)
    }
}

/// Validates one keyword line; `Ok(None)` for keywords this transport does not read.
fn parse_setting(keyword: &str, lower: &str, args: &[String]) -> Result<Option<Setting>, String> {
    const READ: &[&str] = &[
        "hostname",
        "user",
        "port",
        "identityfile",
        "userknownhostsfile",
        "stricthostkeychecking",
        "connecttimeout",
        "proxyjump",
        "identitiesonly",
        "identityagent",
        "proxycommand",
        "hostkeyalias",
    ];
    if !READ.contains(&lower) {
        return Ok(None);
    }
    let Some(first) = args.first() else {
        return Err(format!("{keyword} needs a value"));
    };
    let multi = matches!(lower, "userknownhostsfile" | "proxycommand");
    if !multi && args.len() > 1 {
        return Err(format!(
            "{keyword} takes one value, got {}: {}",
            args.len(),
            args.join(" ")
        ));
    }
    let value = first.as_str();
    Ok(Some(match lower {
        "hostname" => Setting::HostName(value.to_string()),
        "user" => Setting::User(value.to_string()),
        "port" => match value.parse::<u16>() {
            Ok(port) if port > 0 => Setting::Port(port),
            _ => {
                return Err(format!(
                    "bad Port '{value}': expected a number from 1 to 65535"
                ));
            }
        },
        "identityfile" => Setting::IdentityFile(value.to_string()),
        "userknownhostsfile" => Setting::UserKnownHostsFile(args.to_vec()),
        "stricthostkeychecking" => {
            Setting::StrictHostKeyChecking(match value.to_ascii_lowercase().as_str() {
                "yes" | "true" => StrictHostKeyChecking::Yes,
                "accept-new" => StrictHostKeyChecking::AcceptNew,
                "no" | "off" | "false" => StrictHostKeyChecking::No,
                "ask" => StrictHostKeyChecking::Ask,
                _ => {
                    return Err(format!(
                        "bad StrictHostKeyChecking '{value}': expected yes, accept-new, no, off \
                         or ask"
                    ));
                }
            })
        }
        "connecttimeout" => Setting::ConnectTimeout(if value.eq_ignore_ascii_case("none") {
            None
        } else {
            match parse_time(value) {
                Some(d) if d.is_zero() => None,
                Some(d) => Some(d),
                None => {
                    return Err(format!(
                        "bad ConnectTimeout '{value}': expected seconds or a time like 1m30s"
                    ));
                }
            }
        }),
        "proxyjump" => Setting::ProxyJump(if value.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(value.to_string())
        }),
        "identitiesonly" => Setting::IdentitiesOnly(match value.to_ascii_lowercase().as_str() {
            "yes" | "true" => true,
            "no" | "false" => false,
            _ => return Err(format!("bad IdentitiesOnly '{value}': expected yes or no")),
        }),
        "identityagent" => Setting::IdentityAgent(value.to_string()),
        "proxycommand" => {
            Setting::ProxyCommand(if args.len() == 1 && value.eq_ignore_ascii_case("none") {
                None
            } else {
                Some(args.join(" "))
            })
        }
        _ => Setting::HostKeyAlias(value.to_string()),
    }))
}

/// Splits a line into keyword and arguments: `Keyword value`, `Keyword=value`, double quotes
/// around arguments with spaces, and `#` starting a comment. `Ok(None)` for blank lines.
fn tokenize(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let keyword_end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = &line[..keyword_end];
    if keyword.is_empty() {
        return Err("missing keyword before '='".into());
    }
    let mut rest = line[keyword_end..].trim_start();
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start();
    }
    let mut args = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        if c == '"' {
            chars.next();
            let mut arg = String::new();
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                arg.push(c);
            }
            if !closed {
                return Err(format!("unterminated quote in: {line}"));
            }
            args.push(arg);
            continue;
        }
        let mut end = rest.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == '"' {
                end = i;
                break;
            }
            chars.next();
        }
        args.push(rest[start..end].to_string());
    }
    Ok(Some((keyword.to_string(), args)))
}

/// Parses an ssh time value: plain seconds, or numbers with `s m h d w` suffixes (`1m30s`).
fn parse_time(value: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in value.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if let Some(n) = number {
        total = total.checked_add(n)?;
    } else if value.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_values() {
        assert_eq!(parse_time("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_time("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_time("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time("5x"), None);
    }

    #[test]
    fn tokenizer_edge_cases() {
        assert_eq!(tokenize("   ").ok().flatten(), None);
        assert_eq!(
            tokenize("Host a \"b c\" d").ok().flatten(),
            Some((
                "Host".to_string(),
                vec!["a".into(), "b c".into(), "d".into()]
            ))
        );
        assert_eq!(
            tokenize("User=x").ok().flatten(),
            Some(("User".to_string(), vec!["x".into()]))
        );
    }
}
