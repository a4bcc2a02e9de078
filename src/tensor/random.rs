//! Seeded random tensors: uniform and normal, reproducible from a `u64` seed on every platform.

use super::{Element, Tensor};
use crate::shape::{ConstShape, Shape};

/// A small, fast, seedable generator (SplitMix64): reproducible streams, not cryptography.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1], so ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n
    }
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Uniform values in `[low, high)`, from `seed`.
    pub fn rand_uniform_shaped(shape: S, seed: u64, low: E, high: E) -> Self {
        let mut rng = Rng::new(seed);
        let nonempty = low < high;
        let data: Vec<E> = (0..shape.numel())
            .map(|_| loop {
                // Rounding to `E` can land on `high` (a draw within 2^-25 of 1 is 1.0 in f32);
                // draw again then, so values stay in `[low, high)`.
                let v = low + (high - low) * E::of(rng.uniform());
                if v < high || !nonempty {
                    break v;
                }
            })
            .collect();
        Self::from_parts(shape, data)
    }

    /// Normal values with mean `mean` and standard deviation `std`, from `seed`.
    pub fn randn_shaped(shape: S, seed: u64, mean: E, std: E) -> Self {
        let mut rng = Rng::new(seed);
        let data: Vec<E> = (0..shape.numel())
            .map(|_| mean + std * E::of(rng.normal()))
            .collect();
        Self::from_parts(shape, data)
    }
}

impl<E: Element, S: ConstShape> Tensor<E, S> {
    /// Uniform values in `[low, high)`, from `seed` (like `torch.rand` scaled).
    pub fn rand_uniform(seed: u64, low: E, high: E) -> Self {
        Self::rand_uniform_shaped(S::default(), seed, low, high)
    }

    /// Standard normal values, from `seed` (like `torch.randn`).
    pub fn randn(seed: u64) -> Self {
        Self::randn_shaped(S::default(), seed, E::zero(), E::one())
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn seeded_streams_repeat_and_have_the_right_moments() {
        let a = Tensor1::<f64, 10000>::randn(7);
        assert_eq!(a.to_vec(), Tensor1::<f64, 10000>::randn(7).to_vec());
        let mean = a.as_slice().iter().sum::<f64>() / 10000.0;
        let var = a.as_slice().iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 10000.0;
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
            "mean {mean}, var {var}"
        );
        let u = Tensor1::<f32, 1000>::rand_uniform(3, -2.0, 2.0);
        assert!(u.as_slice().iter().all(|&x| (-2.0..2.0).contains(&x)));
        assert_ne!(
            u.to_vec(),
            Tensor1::<f32, 1000>::rand_uniform(4, -2.0, 2.0).to_vec()
        );
    }
}
