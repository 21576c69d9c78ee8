//! `--shard K/N`: a stable part of the selected machines, so N controllers (a Slurm job
//! array, a Kubernetes Indexed Job) can share one fleet without a coordinator of vmup's own.
//!
//! Each machine's shard is chosen by rendezvous hashing of its anchor: the shard whose
//! SHA-256 of `anchor`, a NUL and the shard's number is highest. The anchor is the machine's
//! own name, or for a guest its host's, so a guest always lands with its dom0 (`recreate`
//! needs both). A machine's shard depends only on its anchor and N: adding machines moves
//! none of the others, and going from N to N+1 shards moves about 1/(N+1) of them.

use sha2::{Digest, Sha256};

use crate::inventory::Host;

/// Shard K of N (0-based, as `SLURM_ARRAY_TASK_ID` and `JOB_COMPLETION_INDEX` count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, below `of`.
    pub index: u32,
    /// How many shards there are.
    pub of: u32,
}

impl Shard {
    /// `K/N` as given on the command line.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("{text:?} is not K/N (shard K of N, 0 <= K < N, e.g. 0/4)");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, of): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if of == 0 || index >= of {
            return Err(bad());
        }
        Ok(Shard { index, of })
    }

    /// Whether `host` is in this shard.
    pub fn holds(&self, host: &Host) -> bool {
        shard_of(anchor(host), self.of) == self.index
    }
}

impl std::fmt::Display for Shard {
    /// `K/N`, as `--shard` takes it and a sharded run's JSON summary names it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

/// What decides a machine's shard: a guest's host, else the machine itself.
pub fn anchor(host: &Host) -> &str {
    host.parent.as_deref().unwrap_or(&host.name)
}

/// The shard (below `of`) that `anchor` falls in.
pub fn shard_of(anchor: &str, of: u32) -> u32 {
    (0..of)
        .max_by_key(|k| {
            let mut h = Sha256::new();
            h.update(anchor.as_bytes());
            h.update([0]);
            h.update(k.to_be_bytes());
            let digest = h.finalize();
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            (u64::from_be_bytes(first), *k)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_of_n_is_parsed_and_checked() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, of: 4 }));
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 3, of: 4 }));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3", ""] {
            let err = Shard::parse(bad).unwrap_err();
            assert!(err.contains("is not K/N"), "{bad}: {err}");
        }
    }

    fn names(n: usize, prefix: &str) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i:04}")).collect()
    }

    #[test]
    fn adding_machines_moves_none_and_one_more_shard_moves_about_its_share() {
        let old = names(1000, "ng");
        let before: Vec<u32> = old.iter().map(|h| shard_of(h, 4)).collect();
        // 10% more machines: none of the others moves.
        let mut grown = old.clone();
        grown.extend(names(100, "new"));
        let after: Vec<u32> = grown.iter().map(|h| shard_of(h, 4)).collect();
        assert_eq!(&after[..1000], &before[..]);
        // Balanced: each of 4 shards within 20% of a quarter.
        for k in 0..4 {
            let n = before.iter().filter(|s| **s == k).count();
            assert!((200..=300).contains(&n), "shard {k}: {n}");
        }
        // Five shards instead of four: about a fifth moves, never more than a quarter.
        let moved = old
            .iter()
            .zip(&before)
            .filter(|(h, s)| shard_of(h, 5) != **s)
            .count();
        assert!((150..=250).contains(&moved), "{moved} of 1000 moved");
    }

    #[test]
    fn a_guest_lands_in_its_hosts_shard() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!(
                "[hosts.xen{i}]\nrole = \"host\"\n[hosts.ng{i}]\nhost = \"xen{i}\"\n"
            ));
        }
        let inventory =
            crate::inventory::Inventory::parse(std::path::Path::new("i.toml"), &text).unwrap();
        let shards: Vec<Shard> = (0..8).map(|index| Shard { index, of: 8 }).collect();
        for i in 0..200 {
            let in_shards = |name: &str| -> Vec<bool> {
                let host = inventory.host(name).unwrap();
                shards.iter().map(|s| s.holds(host)).collect()
            };
            let dom0 = in_shards(&format!("xen{i}"));
            assert_eq!(dom0, in_shards(&format!("ng{i}")), "ng{i}");
            assert_eq!(dom0.iter().filter(|b| **b).count(), 1, "exactly one shard");
        }
    }
}
