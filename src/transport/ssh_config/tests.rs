//! Unit tests of ssh_config reading and resolution, from config texts.

use super::*;

fn parse(text: &str) -> SshConfig {
    match SshConfig::parse(text, Path::new("/cfg")) {
        Ok(c) => c,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn parse_err(text: &str) -> String {
    match SshConfig::parse(text, Path::new("/cfg")) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn first_obtained_value_wins() {
    let c = parse(
        "Host web1\n  User alice\n  Port 2201\nHost web*\n  User bob\n  HostName %h.lan\n\
         Host *\n  User root\n  Port 22\n  ConnectTimeout 5\n",
    );
    let h = c.resolve("web1");
    assert_eq!(h.user.as_deref(), Some("alice"));
    assert_eq!(h.port, Some(2201));
    assert_eq!(h.hostname.as_deref(), Some("web1.lan"));
    assert_eq!(h.connect_timeout, Some(Duration::from_secs(5)));
    let h = c.resolve("db1");
    assert_eq!(h.user.as_deref(), Some("root"));
    assert_eq!(h.hostname, None);
}

#[test]
fn a_block_per_host_resolves_in_file_order_with_wildcard_blocks_around_it() {
    // A generated config: a literal block per host (found by name, not by trying each)
    // between wildcard blocks, which still apply in file order.
    let mut text = String::from("Host *.lan\n  User lan\n");
    for i in 0..50 {
        text.push_str(&format!(
            "Host G{i:02} alias{i:02}\n  HostName 10.0.0.{i}\n"
        ));
    }
    text.push_str("Host g0*\n  HostName wild\n  Port 2\nHost !g01 g01\n  Port 3\n");
    text.push_str("Host *\n  User root\n  Port 22\n");
    let c = parse(&text);
    let h = c.resolve("g01");
    assert_eq!(h.hostname.as_deref(), Some("10.0.0.1"));
    assert_eq!(h.port, Some(2));
    assert_eq!(h.user.as_deref(), Some("root"));
    let h = c.resolve("alias07");
    assert_eq!(h.hostname.as_deref(), Some("10.0.0.7"));
    assert_eq!(h.port, Some(22));
    let h = c.resolve("g99");
    assert_eq!(h.hostname, None);
    assert_eq!(h.port, Some(22));
    let h = c.resolve("g05.lan");
    assert_eq!(h.user.as_deref(), Some("lan"));
    assert_eq!(h.hostname.as_deref(), Some("wild"));
}

#[test]
fn global_lines_before_first_host_apply_everywhere() {
    let c = parse("User early\nHost x\n User late\n");
    assert_eq!(c.resolve("x").user.as_deref(), Some("early"));
}

#[test]
fn multiple_patterns_and_negation() {
    let c = parse("Host web* db? !web3\n  User ops\n");
    assert_eq!(c.resolve("web1").user.as_deref(), Some("ops"));
    assert_eq!(c.resolve("db1").user.as_deref(), Some("ops"));
    assert_eq!(c.resolve("db12").user, None);
    assert_eq!(c.resolve("web3").user, None);
    assert_eq!(c.resolve("WEB1").user.as_deref(), Some("ops"));
}

#[test]
fn equals_quotes_and_comments() {
    let c = parse(
        "Host=a\n  User = \"x y\"\n  Port=2222 # trailing comment\n  # full comment\n\n\
         IdentityFile \"/k/with space\"\n",
    );
    let h = c.resolve("a");
    assert_eq!(h.user.as_deref(), Some("x y"));
    assert_eq!(h.port, Some(2222));
    assert_eq!(h.identity_files, vec![PathBuf::from("/k/with space")]);
}

#[test]
fn identity_files_accumulate_and_expand_tokens() {
    let c = parse(
        "Host h1\n  HostName 10.0.0.1\n  User admin\n  Port 2022\n  IdentityFile ~/.ssh/%h_%r_%p\n\
         Host *\n  IdentityFile /keys/%n/%%id\n  IdentityFile ~/.ssh/%h_%r_%p\n",
    );
    let h = c.resolve("h1");
    let home = c.local.home.clone().unwrap_or_default();
    assert_eq!(
        h.identity_files,
        vec![
            home.join(".ssh/10.0.0.1_admin_2022"),
            PathBuf::from("/keys/h1/%id")
        ]
    );
}

#[test]
fn overrides_win_and_feed_tokens() {
    let c = parse("Host h1\n  HostName cfg\n  User cfguser\n  IdentityFile /k/%h-%r\n");
    let h = c.resolve_with(
        "h1",
        &Overrides {
            hostname: Some("10.1.1.1"),
            user: Some("inv"),
            port: Some(2200),
        },
    );
    assert_eq!(h.hostname.as_deref(), Some("10.1.1.1"));
    assert_eq!(h.user.as_deref(), Some("inv"));
    assert_eq!(h.port, Some(2200));
    assert_eq!(h.identity_files, vec![PathBuf::from("/k/10.1.1.1-inv")]);
}

#[test]
fn known_hosts_strict_and_agent() {
    let c = parse(
        "Host a\n  UserKnownHostsFile /kh1 ~/kh2\n  StrictHostKeyChecking accept-new\n\
         IdentityAgent none\n  IdentitiesOnly yes\nHost b\n  UserKnownHostsFile none\n\
         StrictHostKeyChecking off\n  IdentityAgent /run/agent.sock\nHost c\n\
         StrictHostKeyChecking ask\n",
    );
    let a = c.resolve("a");
    let home = c.local.home.clone().unwrap_or_default();
    assert_eq!(
        a.user_known_hosts_files,
        vec![PathBuf::from("/kh1"), home.join("kh2")]
    );
    assert_eq!(
        a.strict_host_key_checking,
        Some(StrictHostKeyChecking::AcceptNew)
    );
    assert_eq!(a.identity_agent, Some(IdentityAgent::Disabled));
    assert!(a.identities_only);
    let b = c.resolve("b");
    assert_eq!(b.user_known_hosts_files, vec![PathBuf::from("/dev/null")]);
    assert_eq!(b.strict_host_key_checking, Some(StrictHostKeyChecking::No));
    assert_eq!(
        b.identity_agent,
        Some(IdentityAgent::Socket(PathBuf::from("/run/agent.sock")))
    );
    assert!(!b.identities_only);
    assert_eq!(
        c.resolve("c").strict_host_key_checking,
        Some(StrictHostKeyChecking::Ask)
    );
}

#[test]
fn proxy_jump_and_none() {
    let c = parse("Host inner\n  ProxyJump none\nHost *\n  ProxyJump ops@bastion:2222\n");
    assert_eq!(c.resolve("inner").proxy_jump, None);
    assert_eq!(
        c.resolve("other").proxy_jump.as_deref(),
        Some("ops@bastion:2222")
    );
}

#[test]
fn proxy_command_and_host_key_alias_are_reported() {
    let c =
        parse("Host a\n  ProxyCommand nc %h %p\nHost b\n  ProxyCommand none\n  HostKeyAlias x\n");
    let a = c.resolve("a");
    assert_eq!(a.unsupported.len(), 1);
    assert!(a.unsupported[0].starts_with("/cfg:2: ProxyCommand (nc %h %p)"));
    let b = c.resolve("b");
    assert_eq!(b.unsupported.len(), 1);
    assert!(b.unsupported[0].contains("HostKeyAlias"));
}

#[test]
fn match_blocks_are_skipped_with_a_note() {
    let c = parse(
        "Match exec \"true\"\n  User fromMatch\nHost x\n  Port 2\nMatch all\n  User everyone\n",
    );
    let h = c.resolve("x");
    assert_eq!(h.user.as_deref(), Some("everyone"));
    assert_eq!(h.port, Some(2));
    assert_eq!(c.notes().len(), 1);
    assert!(c.notes()[0].starts_with("/cfg:1: Match blocks are not supported"));
}

#[test]
fn errors_name_file_and_line() {
    assert_eq!(
        parse_err("Host a\n  Port abc\n"),
        "/cfg:2: bad Port 'abc': expected a number from 1 to 65535"
    );
    assert!(parse_err("Host\n").starts_with("/cfg:1: Host needs"));
    assert!(parse_err("\n\nUser\n").starts_with("/cfg:3: User needs a value"));
    assert!(parse_err("StrictHostKeyChecking maybe\n").starts_with("/cfg:1: bad Strict"));
    assert!(parse_err("ConnectTimeout soon\n").starts_with("/cfg:1: bad ConnectTimeout"));
    assert!(parse_err("IdentitiesOnly perhaps\n").starts_with("/cfg:1: bad IdentitiesOnly"));
    assert!(parse_err("User \"open\n").starts_with("/cfg:1: unterminated quote"));
    assert!(parse_err("Port 22 23\n").starts_with("/cfg:1: Port takes one value"));
    assert!(parse_err("=x\n").starts_with("/cfg:1: missing keyword"));
}

#[test]
fn unknown_keywords_are_ignored() {
    let c = parse("Host *\n  SendEnv LANG LC_*\n  HashKnownHosts yes\n  User u\n");
    assert_eq!(c.resolve("z").user.as_deref(), Some("u"));
}

#[test]
fn include_with_glob_inside_host_block() {
    let dir = std::env::temp_dir().join(format!("vmup-sshcfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sub = dir.join("conf.d");
    assert!(std::fs::create_dir_all(&sub).is_ok());
    assert!(std::fs::write(sub.join("a.conf"), "User fromA\nPort 2001\n").is_ok());
    assert!(std::fs::write(sub.join("b.conf"), "User fromB\nHost other\n  Port 9\n").is_ok());
    assert!(std::fs::write(sub.join("skip.txt"), "User nope\n").is_ok());
    let main = dir.join("config");
    let text = format!(
        "Host web*\n  Include {}/*.conf\nHost *\n  User fallback\n  Include {}/missing\n",
        sub.display(),
        sub.display()
    );
    let c = match SshConfig::parse(&text, &main) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let web = c.resolve("web1");
    assert_eq!(web.user.as_deref(), Some("fromA"));
    assert_eq!(web.port, Some(2001));
    // The included files' lines stay under the enclosing `Host web*`.
    let db = c.resolve("db1");
    assert_eq!(db.user.as_deref(), Some("fallback"));
    assert_eq!(db.port, None);
    assert_eq!(c.resolve("other").port, None);
    assert_eq!(c.resolve("webother").port, Some(2001));
    // Errors inside an included file name that file.
    assert!(std::fs::write(sub.join("c.conf"), "\nPort x\n").is_ok());
    match SshConfig::parse(&text, &main) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert_eq!(
            e.to_string(),
            format!(
                "{}:2: bad Port 'x': expected a number from 1 to 65535",
                sub.join("c.conf").display()
            )
        ),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_missing_explicit_file_is_an_error() {
    match SshConfig::load(Some(Path::new("/nonexistent/vmup/ssh_config"))) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert!(
            e.to_string()
                .starts_with("cannot read ssh config /nonexistent/vmup/ssh_config:")
        ),
    }
}
