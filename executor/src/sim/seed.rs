//! A simulation's source of choices: the seed, the random stream drawn from it,
//! and the `TICKTOCK_SEED` override.
//!
//! # What it owns
//! - [`SeedRng`]: SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom
//!   number generators", OOPSLA 2014), the one stream every choice of a simulation is
//!   drawn from: which step comes next, and the seeds of the workers' own steal RNGs.
//!   Any 64-bit seed, 0 included, gives a full-period stream.
//! - [`parse_seed_override`]: what a value of `TICKTOCK_SEED` means.
//! - [`SeedReport`]: the line that names the seed when a simulation panics.
//!
//! # Ground rules
//! Nothing here reads the clock, a thread's identity or an address: the stream is
//! a function of the seed alone. Only [`seed_from_env`] reads the environment, once
//! per `sim::Builder::build`.

/// The environment variable that overrides every simulation's seed.
pub(crate) const SEED_ENV: &str = "TICKTOCK_SEED";

/// SplitMix64: a 64-bit state advanced by a constant, then mixed.
#[derive(Clone, Debug)]
pub(crate) struct SeedRng {
    state: u64,
}

impl SeedRng {
    /// The stream of `seed`.
    pub(crate) fn new(seed: u64) -> SeedRng {
        SeedRng { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        // The golden-ratio increment and the two mixing multipliers of SplitMix64.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`; `bound` must not be 0. Lemire's multiply-shift: the
    /// bias is below 2^-32 for the small bounds a simulation draws from.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        debug_assert!(bound != 0, "ticktock::sim: drew from an empty choice");
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// What a `TICKTOCK_SEED` value asks for: `None` for unset or empty (the builder's
/// seed stands), the number for a decimal or `0x`-prefixed hexadecimal `u64`
/// (surrounding whitespace ignored), an error naming the value otherwise.
pub(crate) fn parse_seed_override(value: Option<&str>) -> Result<Option<u64>, String> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let parsed = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse::<u64>(),
    };
    parsed.map(Some).map_err(|_| {
        format!(
            "ticktock::sim: {SEED_ENV}={value:?} is not a seed: give a decimal or 0x-prefixed \
             hexadecimal u64"
        )
    })
}

/// The seed `TICKTOCK_SEED` asks for (see [`parse_seed_override`]); a value that is
/// not valid Unicode is an error too.
pub(crate) fn seed_from_env() -> Result<Option<u64>, String> {
    match std::env::var(SEED_ENV) {
        Ok(value) => parse_seed_override(Some(&value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(value)) => Err(format!(
            "ticktock::sim: {SEED_ENV}={value:?} is not a seed: give a decimal or 0x-prefixed \
             hexadecimal u64"
        )),
    }
}

/// The line a simulation prints when it panics, naming the seed that replays it.
pub(crate) fn seed_line(seed: u64) -> String {
    format!("ticktock::sim: seed = {seed} ({SEED_ENV}={seed} replays it)")
}

/// Prints [`seed_line`] to stderr if dropped while its thread panics: held across
/// `sim::Runtime::block_on`, so a panic of the main future, of a `JoinHandle` it
/// awaits, or of a deadlock report names the seed before it unwinds further.
pub(crate) struct SeedReport {
    pub(crate) seed: u64,
}

impl Drop for SeedReport {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", seed_line(self.seed));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{parse_seed_override, seed_line, SeedRng};

    #[test]
    fn the_stream_is_a_function_of_the_seed() {
        let draw = |seed| {
            let mut rng = SeedRng::new(seed);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // SplitMix64's published first output for seed 0.
        assert_eq!(draw(0)[0], 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_stays_in_bounds_and_reaches_every_value() {
        let mut rng = SeedRng::new(42);
        let mut seen = [false; 5];
        for _ in 0..200 {
            let value = rng.below(5);
            assert!(value < 5);
            seen[value] = true;
        }
        assert_eq!(seen, [true; 5]);
    }

    #[test]
    fn ticktock_seed_values() {
        assert_eq!(parse_seed_override(None), Ok(None));
        assert_eq!(parse_seed_override(Some("")), Ok(None));
        assert_eq!(parse_seed_override(Some("  ")), Ok(None));
        assert_eq!(parse_seed_override(Some("42")), Ok(Some(42)));
        assert_eq!(parse_seed_override(Some(" 42\n")), Ok(Some(42)));
        assert_eq!(parse_seed_override(Some("0xff")), Ok(Some(255)));
        assert_eq!(parse_seed_override(Some("0XFF")), Ok(Some(255)));
        assert_eq!(
            parse_seed_override(Some("18446744073709551615")),
            Ok(Some(u64::MAX))
        );
        for bad in ["-1", "12abc", "18446744073709551616", "0x", "seed"] {
            let error = parse_seed_override(Some(bad)).unwrap_err();
            assert!(
                error.contains("TICKTOCK_SEED") && error.contains(bad),
                "{error}"
            );
        }
    }

    #[test]
    fn the_seed_line_says_how_to_replay() {
        assert_eq!(
            seed_line(17),
            "ticktock::sim: seed = 17 (TICKTOCK_SEED=17 replays it)"
        );
    }
}
