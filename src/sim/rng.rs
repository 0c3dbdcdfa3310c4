//! Seeded random streams, one per component.
//!
//! Each stream is ChaCha8 keyed by the scenario seed, with the ChaCha *stream id*
//! taken from a stable hash of the component's name. Adding a component or changing
//! one policy therefore never shifts the numbers another component draws, so two
//! policies under one seed see the same workload (common random numbers).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random generator every component uses.
pub type SimRng = ChaCha8Rng;

/// FNV-1a, 64 bit: stable across platforms and Rust versions (unlike `DefaultHasher`).
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The stream owned by `component` (e.g. `"scheduler"`, `"replicaset-controller"`).
pub fn stream(seed: u64, component: &str) -> SimRng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stable_hash(component));
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_seed_and_component_give_same_numbers() {
        let a: Vec<u32> = (0..8)
            .map(|_| 0)
            .scan(stream(7, "scheduler"), |r, _: u32| Some(r.random()))
            .collect();
        let b: Vec<u32> = (0..8)
            .map(|_| 0)
            .scan(stream(7, "scheduler"), |r, _: u32| Some(r.random()))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn streams_are_independent_of_each_other_and_of_the_seed() {
        let mut s = stream(7, "scheduler");
        let mut c = stream(7, "replicaset-controller");
        let mut s8 = stream(8, "scheduler");
        let x: u64 = s.random();
        assert_ne!(x, c.random::<u64>());
        assert_ne!(x, s8.random::<u64>());
    }

    #[test]
    fn stable_hash_is_fnv1a() {
        assert_eq!(stable_hash(""), 0xcbf29ce484222325);
        assert_eq!(stable_hash("a"), 0xaf63dc4c8601ec8c);
    }
}
