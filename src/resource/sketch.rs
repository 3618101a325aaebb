//! A small, order-independent estimate of how many distinct ARNs a collapsed node of the
//! scan's resource tree stood for (HyperLogLog, 512 one-byte registers: about 5% error).

/// log2 of the number of registers.
const BITS: u32 = 9;
const REGISTERS: usize = 1 << BITS;

/// Distinct-count sketch. Merging takes the larger register, so the result depends only on
/// the set of values added, never on their order or on how the work was split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sketch {
    registers: Box<[u8]>,
}

impl Default for Sketch {
    fn default() -> Self {
        Self {
            registers: vec![0; REGISTERS].into_boxed_slice(),
        }
    }
}

impl Sketch {
    /// Adds a value.
    pub fn add(&mut self, value: &str) {
        let hash = hash(value);
        let index = usize::try_from(hash >> (64 - BITS)).unwrap_or_default();
        // Rank of the first set bit in the remaining bits (capped by a sentinel bit).
        let rest = (hash << BITS) | (1 << (BITS - 1));
        let rank = u8::try_from(rest.leading_zeros() + 1).unwrap_or(u8::MAX);
        if let Some(register) = self.registers.get_mut(index)
            && *register < rank
        {
            *register = rank;
        }
    }

    /// Takes in another sketch's values.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.registers.iter_mut().zip(other.registers.iter()) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// The estimated number of distinct values added.
    #[must_use]
    pub fn estimate(&self) -> u64 {
        #[expect(clippy::cast_precision_loss, reason = "512 registers")]
        let m = REGISTERS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            .map(|r| 2_f64.powi(-i32::from(*r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self
            .registers
            .iter()
            .fold(0_usize, |n, r| n + usize::from(*r == 0));
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            // Few values: linear counting is exact enough and unbiased.
            #[expect(clippy::cast_precision_loss, reason = "at most 512")]
            let zeros = zeros as f64;
            m * (m / zeros).ln()
        } else {
            raw
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a positive estimate, rounded"
        )]
        let rounded = estimate.round() as u64;
        rounded
    }
}

/// FNV-1a, then a 64-bit finaliser (splitmix64) to spread the bits: fixed, so the estimate
/// is the same from run to run.
fn hash(value: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_are_close_and_order_free() {
        for n in [1_u64, 10, 100, 1_000, 20_000] {
            let mut forward = Sketch::default();
            let mut halves = (Sketch::default(), Sketch::default());
            for i in 0..n {
                let value = format!("arn:aws:s3:::app-data/k/{i:08x}");
                forward.add(&value);
                if i % 2 == 0 {
                    halves.0.add(&value);
                } else {
                    halves.1.add(&value);
                }
                // Repeats change nothing.
                forward.add(&value);
            }
            halves.1.merge(&halves.0);
            assert_eq!(halves.1, forward);
            #[expect(clippy::cast_precision_loss, reason = "test figures")]
            let error = (forward.estimate() as f64 - n as f64).abs() / n as f64;
            assert!(error < 0.1, "{n}: {}", forward.estimate());
        }
    }
}
