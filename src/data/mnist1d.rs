//! MNIST-1D (Greydanus & Kobak, ICML 2024): ten 12-point digit templates, each padded,
//! stretched, scaled, shifted, noised and sheared into a sequence of 40 values. With the default
//! [`Mnist1dArgs`] the generator reproduces the official data set bit for bit: 4000 training and
//! 1000 test sequences, the same labels and the same `f32` values as the authors' files.
//!
//! ```
//! use shapetorch::data::mnist1d::{Mnist1d, Mnist1dArgs};
//! let data = Mnist1d::generate(&Mnist1dArgs::default())?;
//! assert_eq!((data.train_len(), data.test_len(), data.length), (4000, 1000, 40));
//! assert_eq!(data.train_y[..10], [2, 6, 4, 5, 6, 6, 6, 0, 3, 1]);
//! let first: &[f32] = data.train(0); // 40 values, standardised over the whole set
//! assert_eq!(first[0], -0.33200566736939013f64 as f32);
//!
//! // Arguments outside what the recipe can make are an error naming the value:
//! let args = Mnist1dArgs { train_split: 1.5, ..Mnist1dArgs::default() };
//! let err = Mnist1d::generate(&args).unwrap_err();
//! assert_eq!(err.to_string(), "Mnist1dArgs: train_split is 1.5; it must lie in [0, 1]");
//! # Ok::<(), shapetorch::Error>(())
//! ```
//!
//! The recipe (`../shared/data/mnist1d/SPEC.md`, from the reference package `mnist1d`
//! 0.0.2.post1): one 32-bit Mersenne Twister seeded with `init_genrand(seed)` drives every draw,
//! through NumPy's legacy primitives ([`Mt19937`] below); every example is made in `f64`
//! ([`transform`]), the examples are shuffled, standardised with one mean and standard deviation
//! over the whole set, split, and only then rounded to `f32`. Sums run left to right, as the
//! specification's own check does; that order gives the official `f32` values exactly.

use crate::error::{Error, Result};

/// The ten digit templates as published, 12 points each (row = label); [`templates`] gives them
/// normalised.
pub const RAW_TEMPLATES: [[f64; 12]; 10] = [
    [5., 6., 6.5, 6.75, 7., 7., 7., 7., 6.75, 6.5, 6., 5.],
    [5., 3., 3., 3.4, 3.8, 4.2, 4.6, 5., 5.4, 5.8, 5., 5.],
    [5., 6., 6.5, 6.5, 6., 5.25, 4.75, 4., 3.5, 3.5, 4., 5.],
    [5., 6., 6.5, 6.5, 6., 5., 5., 6., 6.5, 6.5, 6., 5.],
    [5., 4.4, 3.8, 3.2, 2.6, 2.6, 5., 5., 5., 5., 5., 5.],
    [5., 3., 3., 3., 3., 5., 6., 6.5, 6.5, 6., 4.5, 5.],
    [5., 4., 3.5, 3.25, 3., 3., 3., 3., 3.25, 3.5, 4., 5.],
    [5., 7., 7., 6.6, 6.2, 5.8, 5.4, 5., 4.6, 4.2, 5., 5.],
    [5., 4., 3.5, 3.5, 4., 5., 5., 4., 3.5, 3.5, 4., 5.],
    [5., 4., 3.5, 3.5, 4., 5., 5., 5., 5., 4.7, 4.3, 5.],
];

/// Points per template.
pub const TEMPLATE_LEN: usize = 12;

/// The generator's arguments, named as in the reference package's `get_dataset_args()`;
/// `Mnist1dArgs::default()` gives the official data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist1dArgs {
    /// Examples in all, split evenly between the ten digits (rounded down to a multiple of 10).
    pub num_samples: usize,
    /// Fraction of the (shuffled) examples that go to the training set.
    pub train_split: f64,
    /// Zeros appended to a template: a uniform integer in `padding.0..=padding.1`.
    pub padding: (usize, usize),
    /// The amplitude factor is uniform in `[1 - scale_coeff/2, 1 + scale_coeff/2)`.
    pub scale_coeff: f64,
    /// Circular shift: a uniform integer in `0..max_translation`.
    pub max_translation: usize,
    /// Standard deviation of the Gaussian noise that is smoothed into the background.
    pub corr_noise_scale: f64,
    /// Standard deviation of the white noise added everywhere.
    pub iid_noise_scale: f64,
    /// The shear coefficient is uniform in `[-shear_scale/2, shear_scale/2)`.
    pub shear_scale: f64,
    /// Permute the positions of every sequence by one fixed random permutation.
    pub shuffle_seq: bool,
    /// Length of the output sequences.
    pub final_seq_length: usize,
    /// Seed of the Mersenne Twister (`np.random.seed`).
    pub seed: u32,
}

/// The longest sequence [`Mnist1dArgs::validate`] accepts, for `final_seq_length` and for
/// the working length `12 + padding.1`: 2^20 points, far past any use of the recipe, so that a
/// typo fails with a message instead of exhausting memory.
pub const MAX_SEQ_LENGTH: usize = 1 << 20;

impl Mnist1dArgs {
    /// `Ok` when the generator can make a data set from these arguments, else an
    /// [`Error::InvalidArgument`] naming the first argument at fault, its value and the range
    /// it must lie in:
    /// - `num_samples` at least 10 (one example per digit; fewer gave no examples and NaN
    ///   statistics), and `num_samples * final_seq_length` values that fit a `usize`;
    /// - `train_split` in `[0, 1]` (1.5 panicked);
    /// - `padding.0 <= padding.1` (the other order panicked), `12 + padding.1` at most
    ///   [`MAX_SEQ_LENGTH`];
    /// - `final_seq_length` in `1..=MAX_SEQ_LENGTH`;
    /// - `max_translation` in `1..=2^32` (the shift is drawn as NumPy's `randint(max_translation)`
    ///   on 32 bits, which a larger value was silently truncated to; `randint(0)` raises);
    /// - every scale finite, the two noise scales at least 0 (NumPy's `normal` refuses a
    ///   negative one).
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| {
            Err(Error::InvalidArgument {
                op: "Mnist1dArgs",
                message,
            })
        };
        if self.num_samples < 10 {
            return bad(format!(
                "num_samples is {}; it must be at least 10 (one example of each digit)",
                self.num_samples
            ));
        }
        if !(0.0..=1.0).contains(&self.train_split) {
            return bad(format!(
                "train_split is {}; it must lie in [0, 1]",
                self.train_split
            ));
        }
        let (lo, hi) = self.padding;
        if lo > hi {
            return bad(format!(
                "padding is ({lo}, {hi}); the first must not exceed the second"
            ));
        }
        if hi > MAX_SEQ_LENGTH - TEMPLATE_LEN {
            return bad(format!(
                "padding.1 is {hi}; it must be at most {} (12 + padding.1 points at most \
                 {MAX_SEQ_LENGTH})",
                MAX_SEQ_LENGTH - TEMPLATE_LEN
            ));
        }
        if !(1..=MAX_SEQ_LENGTH).contains(&self.final_seq_length) {
            return bad(format!(
                "final_seq_length is {}; it must lie in 1..={MAX_SEQ_LENGTH}",
                self.final_seq_length
            ));
        }
        if self
            .num_samples
            .checked_mul(self.final_seq_length)
            .is_none()
        {
            return bad(format!(
                "num_samples x final_seq_length is {} x {}, more values than a usize counts",
                self.num_samples, self.final_seq_length
            ));
        }
        if !(1..=1 << 32).contains(&(self.max_translation as u64)) {
            return bad(format!(
                "max_translation is {}; it must lie in 1..=4294967296 (the shift is drawn \
                 from 0..max_translation on 32 bits)",
                self.max_translation
            ));
        }
        for (name, value, at_least_zero) in [
            ("scale_coeff", self.scale_coeff, false),
            ("corr_noise_scale", self.corr_noise_scale, true),
            ("iid_noise_scale", self.iid_noise_scale, true),
            ("shear_scale", self.shear_scale, false),
        ] {
            if !value.is_finite() || (at_least_zero && value < 0.0) {
                let range = if at_least_zero {
                    "a finite number at least 0"
                } else {
                    "a finite number"
                };
                return bad(format!("{name} is {value}; it must be {range}"));
            }
        }
        Ok(())
    }
}

impl Default for Mnist1dArgs {
    /// The official data set's arguments (SPEC.md §1).
    fn default() -> Self {
        Mnist1dArgs {
            num_samples: 5000,
            train_split: 0.8,
            padding: (36, 60),
            scale_coeff: 0.4,
            max_translation: 48,
            corr_noise_scale: 0.25,
            iid_noise_scale: 0.02,
            shear_scale: 0.75,
            shuffle_seq: false,
            final_seq_length: 40,
            seed: 42,
        }
    }
}

/// A generated MNIST-1D data set: sequences row-major `[n, length]`, standardised.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist1d {
    /// Training sequences, row-major `[train_len, length]`.
    pub train_x: Vec<f32>,
    /// Training labels, `0..=9`.
    pub train_y: Vec<u8>,
    /// Test sequences, row-major `[test_len, length]`.
    pub test_x: Vec<f32>,
    /// Test labels, `0..=9`.
    pub test_y: Vec<u8>,
    /// The auxiliary "time" axis, `length` values (for plots only).
    pub t: Vec<f32>,
    /// Values per sequence (`final_seq_length`).
    pub length: usize,
    /// The mean subtracted from every value (over all examples, before the split).
    pub mean: f64,
    /// The population standard deviation every value was divided by.
    pub std: f64,
}

impl Mnist1d {
    /// Generates the data set (SPEC.md §5): about 0.1 s for the default 5000 examples, in a
    /// release build or at opt-level 1.
    ///
    /// An error when the arguments are outside what the recipe can make (see
    /// [`Mnist1dArgs::validate`]), or when every generated value is the same up to rounding
    /// (no noise, no scaling, one point each: a standard deviation nothing can be divided by).
    pub fn generate(args: &Mnist1dArgs) -> Result<Mnist1d> {
        args.validate()?;
        let mut rng = Mt19937::new(args.seed);
        let templates = templates();
        let per_class = args.num_samples / 10;
        let mut xs: Vec<Vec<f64>> = Vec::with_capacity(10 * per_class);
        let mut ys: Vec<u8> = Vec::with_capacity(10 * per_class);
        for (label, template) in (0u8..).zip(&templates) {
            for _ in 0..per_class {
                xs.push(transform(template, args, &mut rng));
                ys.push(label);
            }
        }

        // Fisher-Yates from the end, as NumPy's legacy `shuffle` (SPEC.md §5.3).
        let perm = permutation(xs.len(), &mut rng);
        let mut xs: Vec<Vec<f64>> = perm.iter().map(|&i| std::mem::take(&mut xs[i])).collect();
        let ys: Vec<u8> = perm.iter().map(|&i| ys[i]).collect();
        if args.shuffle_seq {
            // `xs[..., seq_perm]`: position i of every sequence takes position seq_perm[i].
            let seq_perm = permutation(args.final_seq_length, &mut rng);
            for x in &mut xs {
                *x = seq_perm.iter().map(|&i| x[i]).collect();
            }
        }

        // One mean and one population std over every value of every example (§5.5).
        let count = (xs.len() * args.final_seq_length) as f64;
        let mean = xs.iter().flatten().sum::<f64>() / count;
        let var = xs
            .iter()
            .flatten()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>()
            / count;
        let std = var.sqrt();
        // (all equal up to rounding: a spread of 1e-24 around 1e-8 is no scale to divide by)
        if !(std > 1e-12 * mean.abs() && std.is_finite()) {
            return Err(Error::InvalidArgument {
                op: "Mnist1dArgs",
                message: format!(
                    "the generated values have standard deviation {std:e} around {mean:e}: \
                     every value is the same, nothing to standardise by"
                ),
            });
        }
        let standardise = |xs: &[Vec<f64>]| -> Vec<f32> {
            xs.iter()
                .flatten()
                .map(|v| ((v - mean) / std) as f32)
                .collect()
        };

        let t12: Vec<f64> = linspace(-5.0, 5.0, TEMPLATE_LEN)
            .iter()
            .map(|v| v / 6.0)
            .collect();
        let work_len = TEMPLATE_LEN + args.padding.1;
        let t = resample(&resample(&t12, work_len), args.final_seq_length);

        let train_len = (xs.len() as f64 * args.train_split) as usize;
        let (train, test) = xs.split_at(train_len);
        Ok(Mnist1d {
            train_x: standardise(train),
            train_y: ys[..train_len].to_vec(),
            test_x: standardise(test),
            test_y: ys[train_len..].to_vec(),
            t: t.iter().map(|v| (v / std) as f32).collect(),
            length: args.final_seq_length,
            mean,
            std,
        })
    }

    /// The number of training sequences.
    pub fn train_len(&self) -> usize {
        self.train_y.len()
    }

    /// The number of test sequences.
    pub fn test_len(&self) -> usize {
        self.test_y.len()
    }

    /// Training sequence `n`. Panics if `n >= train_len()`.
    pub fn train(&self, n: usize) -> &[f32] {
        &self.train_x[n * self.length..][..self.length]
    }

    /// Test sequence `n`. Panics if `n >= test_len()`.
    pub fn test(&self, n: usize) -> &[f32] {
        &self.test_x[n * self.length..][..self.length]
    }
}

/// The templates normalised (SPEC.md §2): each row centred, divided by its population standard
/// deviation, shifted to start at 0, divided by 6.
pub fn templates() -> [[f64; TEMPLATE_LEN]; 10] {
    RAW_TEMPLATES.map(|row| {
        let n = TEMPLATE_LEN as f64;
        let mean = row.iter().sum::<f64>() / n;
        let centred = row.map(|v| v - mean);
        let std = (centred.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
        let scaled = centred.map(|v| v / std);
        scaled.map(|v| (v - scaled[0]) / 6.0)
    })
}

/// One example from one normalised template (SPEC.md §4), before the data set's
/// standardisation: pad, stretch to `12 + padding.1` points, scale, shift, fill the background
/// with smoothed noise, add white noise, shear, resample to `final_seq_length`. The draws from
/// `rng` happen in exactly this order.
pub fn transform(
    template: &[f64; TEMPLATE_LEN],
    args: &Mnist1dArgs,
    rng: &mut Mt19937,
) -> Vec<f64> {
    let work_len = TEMPLATE_LEN + args.padding.1;
    // 1e-8 keeps every template point non-zero, so that only padding counts as background.
    let mut x: Vec<f64> = template.iter().map(|v| v + 1e-8).collect();
    let (lo, hi) = args.padding;
    let pad = lo + (rng.uniform() * (hi - lo + 1) as f64) as usize;
    x.resize(TEMPLATE_LEN + pad, 0.0);
    let mut x = resample(&x, work_len);

    let scale = 1.0 + args.scale_coeff * (rng.uniform() - 0.5);
    x.iter_mut().for_each(|v| *v *= scale);

    // Python's `x[-k:] + x[:-k]`: a right rotation by k, the identity for k = 0 or k >= len.
    let k = rng.bounded(args.max_translation.saturating_sub(1) as u32) as usize;
    if k < work_len {
        x.rotate_right(k);
    }

    let noise: Vec<f64> = (0..work_len)
        .map(|_| args.corr_noise_scale * rng.gauss())
        .collect();
    let background = gaussian_smooth(&noise);
    for (v, c) in x.iter_mut().zip(background) {
        if *v == 0.0 {
            *v = c;
        }
    }
    for v in &mut x {
        *v += args.iid_noise_scale * rng.gauss();
    }

    let shear = args.shear_scale * (rng.uniform() - 0.5);
    for (v, r) in x.iter_mut().zip(linspace(-0.5, 0.5, work_len)) {
        *v -= shear * r;
    }
    resample(&x, args.final_seq_length)
}

/// `0..n` shuffled by Fisher-Yates from the end, each swap partner drawn with `bounded(i)`:
/// NumPy's legacy `permutation(n)`.
fn permutation(n: usize, rng: &mut Mt19937) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.bounded(i as u32) as usize;
        perm.swap(i, j);
    }
    perm
}

/// `n` points from `a` to `b`: `a + i * step`, the last exactly `b` (NumPy's `linspace`).
fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    let step = (b - a) / (n - 1) as f64;
    let mut out: Vec<f64> = (0..n).map(|i| a + i as f64 * step).collect();
    if let Some(last) = out.last_mut() {
        *last = b;
    }
    out
}

/// The piecewise-linear interpolant of `y` (given at `linspace(0, 1, y.len())`) evaluated at
/// `linspace(0, 1, n)`, as `np.interp` computes it: `slope * (u - xp[j]) + y[j]`, so that it is
/// exactly 0 between two zero samples.
fn resample(y: &[f64], n: usize) -> Vec<f64> {
    let xp = linspace(0.0, 1.0, y.len());
    let last = xp.len() - 1;
    linspace(0.0, 1.0, n)
        .into_iter()
        .map(|u| {
            if u >= xp[last] {
                return y[last];
            }
            // j with xp[j] <= u < xp[j + 1]
            let j = xp.partition_point(|&p| p <= u) - 1;
            if u == xp[j] {
                y[j]
            } else {
                let slope = (y[j + 1] - y[j]) / (xp[j + 1] - xp[j]);
                slope * (u - xp[j]) + y[j]
            }
        })
        .collect()
}

/// SciPy's `gaussian_filter1d(z, sigma=2)`: weights `exp(-k²/8)` for `k` in `-8..=8` (4 sigma),
/// normalised, and "reflect" borders (`z[-1] = z[0]`, `z[n] = z[n-1]`).
fn gaussian_smooth(z: &[f64]) -> Vec<f64> {
    const SIGMA: f64 = 2.0;
    const RADIUS: i64 = 8; // floor(4 * sigma + 0.5)
    let weights: Vec<f64> = (-RADIUS..=RADIUS)
        .map(|k| (-0.5 / (SIGMA * SIGMA) * k as f64 * k as f64).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let n = z.len() as i64;
    let reflect = |mut i: i64| {
        while i < 0 || i >= n {
            i = if i < 0 { -i - 1 } else { 2 * n - 1 - i };
        }
        z[i as usize]
    };
    (0..n)
        .map(|i| {
            (-RADIUS..=RADIUS)
                .zip(&weights)
                .map(|(k, w)| w * reflect(i + k))
                .sum()
        })
        .collect()
}

/// The 32-bit Mersenne Twister MT19937 with NumPy's legacy draws (`np.random.seed`,
/// `random_sample`, `normal`, `randint`); SPEC.md §3. A dozen lines do not need a crate, and
/// the exact primitives (53-bit uniform, polar Gaussian with a cached second value, masked
/// rejection for integers) are the part no crate provides.
#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; 624],
    index: usize,
    /// The second value of the last polar-method pair, returned by the next `gauss()`.
    cached_gauss: Option<f64>,
}

impl Mt19937 {
    /// Seeded with the standard integer routine `init_genrand(seed)` (not `init_by_array`).
    pub fn new(seed: u32) -> Mt19937 {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 {
            state,
            index: 624,
            cached_gauss: None,
        }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C_5680;
        y ^= (y << 15) & 0xEFC6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % 624] & 0x7FFF_FFFF);
            let mag = if y & 1 == 1 { 0x9908_B0DF } else { 0 };
            self.state[i] = self.state[(i + 397) % 624] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// Uniform in `[0, 1)` with 53 random bits, from two draws.
    pub fn uniform(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// Standard normal by Marsaglia's polar method; each pair's second value is kept for the
    /// next call.
    pub fn gauss(&mut self) -> f64 {
        if let Some(cached) = self.cached_gauss.take() {
            return cached;
        }
        let (x1, x2, r2) = loop {
            let x1 = 2.0 * self.uniform() - 1.0;
            let x2 = 2.0 * self.uniform() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                break (x1, x2, r2);
            }
        };
        let f = (-2.0 * r2.ln() / r2).sqrt();
        self.cached_gauss = Some(f * x1);
        f * x2
    }

    /// Uniform integer in `0..=max`: draws masked to the smallest `2^k - 1 >= max`, rejected
    /// until one is `<= max`.
    pub fn bounded(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mt19937")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checkpoints from SPEC.md §3 and §6 (values NumPy gives for seed 42).

    #[test]
    fn mersenne_twister_matches_numpy() {
        let mut rng = Mt19937::new(42);
        let first: Vec<u32> = (0..5).map(|_| rng.next_u32()).collect();
        assert_eq!(
            first,
            [1608637542, 3421126067, 4083286876, 787846414, 3143890026]
        );
        let mut rng = Mt19937::new(42);
        let u: Vec<f64> = (0..3).map(|_| rng.uniform()).collect();
        assert_eq!(
            u,
            [0.3745401188473625, 0.9507143064099162, 0.7319939418114051]
        );
        let mut rng = Mt19937::new(42);
        let g: Vec<f64> = (0..3).map(|_| rng.gauss()).collect();
        assert_eq!(
            g,
            [0.4967141530112327, -0.13826430117118466, 0.6476885381006925]
        );
    }

    #[test]
    fn bounded_stays_in_range_and_uses_the_mask() {
        let mut rng = Mt19937::new(7);
        for max in [1, 2, 5, 47, 4999] {
            assert!((0..1000).all(|_| rng.bounded(max) <= max));
        }
        assert_eq!(rng.bounded(0), 0);
        // max = 4: mask 7, so a draw is the low 3 bits of next_u32, kept if <= 4.
        let (mut a, mut b) = (Mt19937::new(1), Mt19937::new(1));
        let v = a.bounded(4);
        let expected = loop {
            let bits = b.next_u32() & 7;
            if bits <= 4 {
                break bits;
            }
        };
        assert_eq!(v, expected);
    }

    #[test]
    fn templates_match_the_spec() {
        let t = templates();
        // SPEC.md §2, rows 0, 4 and 9 (others in tests/mnist1d.rs against templates_x.f32).
        assert_eq!(t[0][1], 0.23693955110363696);
        assert_eq!(t[0][4], 0.4738791022072739);
        assert_eq!(t[4][4], -0.42399915200254396);
        assert_eq!(t[9][9], -0.08574929257125435);
        assert!(t.iter().all(|row| row[0] == 0.0 && row[11] == 0.0));
    }

    #[test]
    fn linspace_and_resample() {
        assert_eq!(linspace(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(-0.5, 0.5, 1), [-0.5]);
        // [0, 2, 4] at 0, 0.5, 1 read at 0, 0.25, 0.5, 0.75, 1
        assert_eq!(resample(&[0.0, 2.0, 4.0], 5), [0.0, 1.0, 2.0, 3.0, 4.0]);
        // Exactly zero between zero samples, whatever the grid.
        assert!(resample(&[1.0, 0.0, 0.0, 0.0], 7)[3..]
            .iter()
            .all(|&v| v == 0.0));
    }

    #[test]
    fn smoothing_keeps_constants_and_mass() {
        let smooth = gaussian_smooth(&[3.0; 20]);
        assert!(smooth.iter().all(|v| (v - 3.0).abs() < 1e-12));
        // An impulse in the middle spreads into the normalised weights.
        let mut z = [0.0; 30];
        z[15] = 1.0;
        let smooth = gaussian_smooth(&z);
        assert!((smooth.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(smooth[15 - 3], smooth[15 + 3]);
        assert_eq!(smooth[15 - 9], 0.0);
    }

    #[test]
    fn first_example_matches_the_spec_checkpoint() {
        // SPEC.md §6: the first generated example (label 0), before standardisation.
        let mut rng = Mt19937::new(42);
        let x = transform(&templates()[0], &Mnist1dArgs::default(), &mut rng);
        let expected = [
            -0.042093114187260694,
            -0.12469535166425322,
            -0.22765596534224036,
            -0.21409546988571704,
            -0.13762737093142885,
        ];
        assert_eq!(x[..5], expected);
    }

    #[test]
    fn small_sets_split_and_standardise() {
        let args = Mnist1dArgs {
            num_samples: 105, // 10 per digit: 100 examples
            train_split: 0.75,
            final_seq_length: 16,
            shuffle_seq: true,
            ..Mnist1dArgs::default()
        };
        let data = Mnist1d::generate(&args).unwrap();
        assert_eq!(
            (data.train_len(), data.test_len(), data.length),
            (75, 25, 16)
        );
        assert_eq!(data.train_x.len(), 75 * 16);
        assert_eq!(data.t.len(), 16);
        let mut counts = [0; 10];
        data.train_y
            .iter()
            .chain(&data.test_y)
            .for_each(|&y| counts[y as usize] += 1);
        assert_eq!(counts, [10; 10]);
        let all: Vec<f64> = data
            .train_x
            .iter()
            .chain(&data.test_x)
            .map(|&v| v as f64)
            .collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64;
        assert!(
            mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5,
            "{mean} {var}"
        );
        // Same seed, same set.
        assert_eq!(Mnist1d::generate(&args).unwrap(), data);
    }

    /// The issue's cases and the other arguments the recipe cannot use: each an error naming
    /// the argument and its value (they panicked, gave NaN statistics or were truncated).
    #[test]
    fn arguments_outside_the_recipe_are_errors_naming_the_value() {
        let with = |change: &dyn Fn(&mut Mnist1dArgs)| {
            let mut args = Mnist1dArgs {
                num_samples: 100,
                ..Mnist1dArgs::default()
            };
            change(&mut args);
            Mnist1d::generate(&args).unwrap_err().to_string()
        };
        /// A change to the arguments and the message it must give.
        type Case<'a> = (&'a dyn Fn(&mut Mnist1dArgs), &'a str);
        let cases: [Case; 12] = [
            (
                &|a| a.train_split = 1.5,
                "train_split is 1.5; it must lie in [0, 1]",
            ),
            (
                &|a| a.train_split = f64::NAN,
                "train_split is NaN; it must lie in [0, 1]",
            ),
            (
                &|a| a.padding = (60, 36),
                "padding is (60, 36); the first must not exceed",
            ),
            (
                &|a| a.final_seq_length = 0,
                "final_seq_length is 0; it must lie in 1..=",
            ),
            (
                &|a| a.num_samples = 9,
                "num_samples is 9; it must be at least 10",
            ),
            (
                &|a| a.max_translation = 0,
                "max_translation is 0; it must lie in 1..=4294967296",
            ),
            (
                &|a| a.max_translation = (1 << 32) + 1,
                "max_translation is 4294967297; it must lie in 1..=4294967296",
            ),
            (
                &|a| a.padding = (0, 1 << 40),
                "padding.1 is 1099511627776; it must be at most",
            ),
            (
                &|a| a.final_seq_length = 1 << 21,
                "final_seq_length is 2097152",
            ),
            (
                &|a| a.iid_noise_scale = -0.1,
                "iid_noise_scale is -0.1; it must be a finite",
            ),
            (
                &|a| a.shear_scale = f64::INFINITY,
                "shear_scale is inf; it must be a finite",
            ),
            (&|a| a.scale_coeff = f64::NAN, "scale_coeff is NaN"),
        ];
        for (change, expected) in cases {
            let message = with(change);
            assert!(
                message.starts_with(&format!("Mnist1dArgs: {expected}")),
                "{message}"
            );
        }
        // the edges themselves are fine
        for change in [
            &(|a: &mut Mnist1dArgs| a.train_split = 1.0) as &dyn Fn(&mut Mnist1dArgs),
            &|a| a.train_split = 0.0,
            &|a| a.num_samples = 10,
            &|a| a.max_translation = 1,
            &|a| a.final_seq_length = 1,
            &|a| a.padding = (0, 0),
        ] {
            let mut args = Mnist1dArgs {
                num_samples: 100,
                ..Mnist1dArgs::default()
            };
            change(&mut args);
            Mnist1d::generate(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
        // nothing to divide by: every value equal (no noise, no scaling, one point each,
        // every template starting at 0)
        let flat = Mnist1dArgs {
            num_samples: 10,
            final_seq_length: 1,
            padding: (0, 0),
            scale_coeff: 0.0,
            corr_noise_scale: 0.0,
            iid_noise_scale: 0.0,
            shear_scale: 0.0,
            max_translation: 1,
            ..Mnist1dArgs::default()
        };
        let message = Mnist1d::generate(&flat).unwrap_err().to_string();
        assert!(message.contains("every value is the same"), "{message}");
    }
}
