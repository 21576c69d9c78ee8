//! `rpm -qa` records (`KernelInventory::parse`, `release_from_image_name`): no panic; every
//! record line is kept (as many packages as `pkg` lines with six words); each package's
//! release and NEVRA can be formed; `versions_of` is in rpm order; an image name's release
//! is the tail of the name and starts with a digit.
//!
//! Input: the records, one a line (invalid UTF-8 replaced).

use std::cmp::Ordering;

use vmup::formats::rpmqa::{KernelInventory, release_from_image_name};

pub const CHECKS: &str = "no panic; pkg records counted; versions_of sorted; image-name \
                          releases are name tails";

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let inv = KernelInventory::parse(&text);
    let records = text
        .lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() == 6 && w[0] == "pkg"
        })
        .count();
    assert_eq!(inv.packages.len(), records, "pkg records lost or invented");
    assert!(!inv.modules.contains("*") && !inv.images.contains("*"));
    for p in &inv.packages {
        let _ = inv.release_of(p);
        let _ = p.nevra();
        let versions = inv.versions_of(&p.name);
        assert!(versions.iter().all(|v| v.name == p.name));
        for pair in versions.windows(2) {
            assert_ne!(
                pair[0].cmp_version(pair[1]),
                Ordering::Greater,
                "versions_of is not in rpm order"
            );
        }
    }
    for line in text.lines() {
        for word in line.split_whitespace().chain([line]) {
            if let Some(release) = release_from_image_name(word) {
                assert!(word.ends_with(&release), "release is not the name's tail");
                assert!(release.starts_with(|c: char| c.is_ascii_digit()));
            }
        }
    }
}
