//! Scenarios only the `openssh` transport (system ssh client with ControlMaster) has, against
//! real sshd servers. What both ssh transports promise is in `transport_contract.rs`.

use std::time::{Duration, Instant};

use crate::sshd_fixture::keys;
use crate::transport_harness::{Client, Openssh, run_ok, simple};

#[test]
fn openssh_three_runs_authenticate_once_and_masters_exit_on_drop() {
    let (sshd, context) = simple::<Openssh>(&keys().ed25519, None);
    let dir = context.socket_dir().to_path_buf();
    let t = Openssh::transport(&context, "t");
    for i in 0..3 {
        let out = run_ok(&t, format!("echo run {i}\n").as_bytes());
        assert_eq!(out.stdout, format!("run {i}\n").into_bytes());
    }
    assert_eq!(sshd.wait_accepted(1), 1, "{}", sshd.log_text());
    let sockets = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(sockets, 1, "one ControlMaster socket expected");
    drop(context);
    assert!(!dir.exists());
    // The master went away: sshd logs the disconnect of that one connection.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sshd.log_text().contains("Disconnected from user root") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        sshd.log_text().contains("Disconnected from user root"),
        "{}",
        sshd.log_text()
    );
}
