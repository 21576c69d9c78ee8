//! A number of hosts, absolute or as a share of the fleet: `--serial`, `--max-fail` and a
//! lifecycle step's `serial`.

/// A number of hosts, absolute or as a share of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// An absolute number.
    Count(usize),
    /// A percentage of the hosts in the run (rounded down, at least 1 for batch sizes).
    Percent(u32),
}

impl Amount {
    /// Parses `N` or `N%`.
    pub fn parse(text: &str) -> Result<Amount, String> {
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            let n: u32 = p
                .trim()
                .parse()
                .map_err(|_| format!("{text:?} is not a percentage like 25%"))?;
            if n > 100 {
                return Err(format!("{text:?} is more than 100%"));
            }
            Ok(Amount::Percent(n))
        } else {
            t.parse()
                .map(Amount::Count)
                .map_err(|_| format!("{text:?} is not a number or a percentage"))
        }
    }

    /// The absolute number for a run of `total` hosts.
    pub fn of(self, total: usize) -> usize {
        match self {
            Amount::Count(n) => n,
            Amount::Percent(p) => total * p as usize / 100,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(Amount::parse("2"), Ok(Amount::Count(2)));
        assert_eq!(Amount::parse("25%").map(|a| a.of(10)), Ok(2));
        assert!(Amount::parse("x").is_err());
        assert!(Amount::parse("150%").is_err());
    }
}
