//! The simulated network's random draws: a counter-based generator, so that a
//! draw depends only on the seed and on what it is for, never on the order in
//! which tasks happen to look at the network.
//!
//! # What it owns
//! [`draw`]: a number in `[0, 1)` from `(seed, stream, index)`, by SplitMix64's
//! finaliser applied three times. A stream is one connection direction, one
//! connect attempt or one UDP socket; the index is a segment's transmission
//! number, a SYN's try or a datagram's sequence number.
//!
//! # Invariants
//! - Pure: the same arguments give the same number, on every platform.
//! - Different streams and indices give independent-looking numbers: each input
//!   goes through the full finaliser before the next is mixed in.

/// SplitMix64's increment (the golden ratio in 64 bits): consecutive inputs land
/// far apart before the finaliser scrambles them.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser (Steele, Lea and Flood, 2014): a bijection on `u64`
/// whose output bits each depend on every input bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `[0, 1)` for the `index`-th draw of `stream` under `seed`.
pub(crate) fn draw(seed: u64, stream: u64, index: u64) -> f64 {
    let bits = mix(mix(mix(seed) ^ stream) ^ index);
    // The top 53 bits: every value is an exact `f64` in [0, 1).
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::draw;

    #[test]
    fn draws_are_pure_and_in_range() {
        for index in 0..1000 {
            let x = draw(7, 3, index);
            assert!((0.0..1.0).contains(&x), "{x}");
            assert_eq!(x.to_bits(), draw(7, 3, index).to_bits());
        }
    }

    #[test]
    fn draws_look_uniform_and_differ_by_seed_and_stream() {
        let below_half = (0..10_000).filter(|&i| draw(1, 0, i) < 0.5).count();
        assert!((4_700..5_300).contains(&below_half), "{below_half}");
        assert_ne!(draw(1, 0, 0).to_bits(), draw(2, 0, 0).to_bits());
        assert_ne!(draw(1, 0, 0).to_bits(), draw(1, 1, 0).to_bits());
    }
}
