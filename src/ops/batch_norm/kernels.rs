//! Batch normalisation's kernels: the statistics per channel (sums over the batch and the
//! spatial positions, in `f64`) and the two passes that write a value per element (the output,
//! the input's gradient), each linear in the element with coefficients per channel.
//!
//! The input is seen as `[batch, channels, spatial]` ([`NormGeometry`]): element `[b, c, s]`
//! lies at `(b * channels + c) * spatial + s`, so one batch entry is `channels * spatial`
//! consecutive values and every kernel reads memory front to back, whatever the layout
//! (`[B, C]`, `[B, C, L]` or `[B, C, H, W]`).
//!
//! Threads: above [`PARALLEL_MIN_ELEMENTS`], the element passes run one rayon task per batch
//! entry and the sums one task per *group* of entries, each into its own accumulators, added
//! in group order at the end. The groups depend only on the sizes ([`NormGeometry::group`]),
//! never on the number of threads, so the statistics are the same to the last bit on 1, 2 or
//! 3 threads and on the calling thread.

use rayon::prelude::*;

use crate::tensor::Element;

/// Elements a batch norm pass touches before it goes to rayon's threads: handing work to the
/// pool costs some 10-40 µs, about what one core needs for 2^16 elements of these
/// memory-bound loops.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// Elements (at least) that one group of batch entries sums into its own accumulators.
pub const GROUP_MIN_ELEMENTS: usize = 1 << 14;

/// The sizes of a batch norm's input seen as `[batch, channels, spatial]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormGeometry {
    /// Batch entries (the first dim).
    pub batch: usize,
    /// Channels (the second dim).
    pub channels: usize,
    /// Positions per channel and entry: the product of the dims after the channels (1 for a
    /// `[B, C]` input).
    pub spatial: usize,
}

impl NormGeometry {
    /// The geometry of an input with these dims (`[B, C, ..]`, rank 2 or more); panics, naming
    /// the sizes, when their product overflows `usize` (no tensor of them exists).
    pub fn of(dims: &[usize]) -> Self {
        assert!(dims.len() >= 2, "batch norm: rank {} < 2", dims.len());
        let spatial = dims[2..].iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let g = NormGeometry {
            batch: dims[0],
            channels: dims[1],
            spatial: spatial
                .unwrap_or_else(|| panic!("batch norm: the sizes {dims:?} overflow usize")),
        };
        let _ = g.len();
        g
    }

    /// Elements in all (`batch * channels * spatial`).
    pub fn len(&self) -> usize {
        [self.channels, self.spatial]
            .iter()
            .try_fold(self.batch, |n, &d| n.checked_mul(d))
            .unwrap_or_else(|| panic!("batch norm: the sizes of {self:?} overflow usize"))
    }

    /// Whether the input holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values each channel's statistics are taken over: `batch * spatial`.
    pub fn per_channel(&self) -> usize {
        self.batch * self.spatial
    }

    /// Elements of one batch entry: `channels * spatial`.
    pub fn entry(&self) -> usize {
        self.channels * self.spatial
    }

    /// Whether a pass has enough work to pay for rayon's threads: at least
    /// [`PARALLEL_MIN_ELEMENTS`], two batch entries and two threads.
    pub fn worth_threads(&self) -> bool {
        rayon::current_num_threads() > 1 && self.batch > 1 && self.len() >= PARALLEL_MIN_ELEMENTS
    }

    /// Batch entries per group of the sums: enough for [`GROUP_MIN_ELEMENTS`] (at least 1).
    /// It depends on the sizes alone, so the sums do not depend on the threads.
    pub fn group(&self) -> usize {
        GROUP_MIN_ELEMENTS.div_ceil(self.entry().max(1)).max(1)
    }

    /// Panics unless `len` is this geometry's element count (a bug in the caller).
    fn check(&self, kernel: &str, what: &str, len: usize) {
        assert_eq!(
            self.len(),
            len,
            "{kernel}: {what} needs {} elements for {self:?}, found {len}",
            self.len()
        );
    }
}

/// `v` as an `f64` (exact for `f32` and `f64`).
#[inline(always)]
fn wide<E: Element>(v: E) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// `sum_i f(i)` for `i < n` in eight partial sums, added at the end: one running total makes
/// every addition wait for the one before, eight keep the vector units busy (and the rounding
/// error grows along chains eight times shorter).
#[inline(always)]
fn sum_lanes(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let full = n - n % 8;
    for i in (0..full).step_by(8) {
        for (k, lane) in lanes.iter_mut().enumerate() {
            *lane += f(i + k);
        }
    }
    let tail: f64 = (full..n).map(&f).sum();
    lanes.iter().sum::<f64>() + tail
}

/// Sums `K` quantities per channel over the whole batch: `add_entry(b, acc)` adds batch entry
/// `b`'s contributions into `acc[c]` for every channel `c`. Entries are summed in groups of
/// [`NormGeometry::group`], each into fresh accumulators, and the groups added in order: the
/// same result on any number of threads.
fn channel_sums<const K: usize>(
    g: &NormGeometry,
    add_entry: impl Fn(usize, &mut [[f64; K]]) + Sync,
) -> Vec<[f64; K]> {
    let group = g.group();
    let groups = g.batch.div_ceil(group);
    let partial = |i: usize| {
        let mut acc = vec![[0.0; K]; g.channels];
        for b in i * group..((i + 1) * group).min(g.batch) {
            add_entry(b, &mut acc);
        }
        acc
    };
    let partials: Vec<Vec<[f64; K]>> = if g.worth_threads() {
        (0..groups).into_par_iter().map(partial).collect()
    } else {
        (0..groups).map(partial).collect()
    };
    let mut total = vec![[0.0; K]; g.channels];
    for partial in partials {
        for (t, p) in total.iter_mut().zip(partial) {
            for k in 0..K {
                t[k] += p[k];
            }
        }
    }
    total
}

/// The mean and the biased variance of each channel, two passes over `x` (the mean first, then
/// the squares about it, which stays accurate when the mean is large against the spread):
///
/// `mean[c] = 1/n sum_{b, s} x[b, c, s]`, `var[c] = 1/n sum_{b, s} (x[b, c, s] - mean[c])^2`,
/// `n = batch * spatial` (at least 1).
pub fn mean_var<E: Element>(g: &NormGeometry, x: &[E]) -> (Vec<f64>, Vec<f64>) {
    g.check("mean_var", "x", x.len());
    assert!(g.per_channel() > 0, "mean_var: no value per channel");
    let n = g.per_channel() as f64;
    let (entry, spatial) = (g.entry(), g.spatial);
    let sums = channel_sums::<1>(g, |b, acc| {
        let x = &x[b * entry..][..entry];
        for (a, x) in acc.iter_mut().zip(x.chunks_exact(spatial)) {
            a[0] += sum_lanes(spatial, |s| wide(x[s]));
        }
    });
    let mean: Vec<f64> = sums.iter().map(|s| s[0] / n).collect();
    let squares = channel_sums::<1>(g, |b, acc| {
        let x = &x[b * entry..][..entry];
        for ((a, x), &m) in acc.iter_mut().zip(x.chunks_exact(spatial)).zip(&mean) {
            a[0] += sum_lanes(spatial, |s| {
                let d = wide(x[s]) - m;
                d * d
            });
        }
    });
    let var = squares.iter().map(|s| s[0] / n).collect();
    (mean, var)
}

/// The sums the backward pass needs, per channel, in one pass:
///
/// `sum_g[c] = sum_{b, s} grad_y[b, c, s]`, and when `x` is given
/// `sum_gx[c] = sum_{b, s} grad_y[b, c, s] * (x[b, c, s] - center[c])` (else zeros).
pub fn grad_sums<E: Element>(
    g: &NormGeometry,
    grad_y: &[E],
    x: Option<&[E]>,
    center: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    g.check("grad_sums", "grad_y", grad_y.len());
    if let Some(x) = x {
        g.check("grad_sums", "x", x.len());
    }
    assert_eq!(
        center.len(),
        g.channels,
        "grad_sums: one center per channel"
    );
    if g.is_empty() {
        return (vec![0.0; g.channels], vec![0.0; g.channels]);
    }
    let (entry, spatial) = (g.entry(), g.spatial);
    let sums = channel_sums::<2>(g, |b, acc| {
        let grad_y = &grad_y[b * entry..][..entry];
        match x {
            Some(x) => {
                let x = &x[b * entry..][..entry];
                let rows = x.chunks_exact(spatial).zip(grad_y.chunks_exact(spatial));
                for ((a, (x, gy)), &m) in acc.iter_mut().zip(rows).zip(center) {
                    a[0] += sum_lanes(spatial, |s| wide(gy[s]));
                    a[1] += sum_lanes(spatial, |s| wide(gy[s]) * (wide(x[s]) - m));
                }
            }
            None => {
                for (a, gy) in acc.iter_mut().zip(grad_y.chunks_exact(spatial)) {
                    a[0] += sum_lanes(spatial, |s| wide(gy[s]));
                }
            }
        }
    });
    sums.into_iter().map(|[s, sx]| (s, sx)).unzip()
}

/// One channel's coefficients of the forward pass: `y = (x - center) * scale + shift`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine<E> {
    /// The mean subtracted (the batch's, or the running mean).
    pub center: E,
    /// `weight / sqrt(var + eps)`.
    pub scale: E,
    /// The bias.
    pub shift: E,
}

/// Runs `pass(entry_index, entry)` over each batch entry of `data` (one rayon task per entry
/// when [`NormGeometry::worth_threads`]); each entry is `channels * spatial` values.
fn for_each_entry<E: Element>(
    g: &NormGeometry,
    data: &mut [E],
    pass: impl Fn(usize, &mut [E]) + Send + Sync,
) {
    let entry = g.entry();
    if entry == 0 {
        return;
    }
    if g.worth_threads() {
        data.par_chunks_mut(entry)
            .enumerate()
            .for_each(|(b, e)| pass(b, e));
    } else {
        data.chunks_mut(entry)
            .enumerate()
            .for_each(|(b, e)| pass(b, e));
    }
}

/// Overwrites `y` with the normalised input:
///
/// `y[b, c, s] = (x[b, c, s] - center[c]) * scale[c] + shift[c]`.
///
/// Centred first, so that an input far from 0 keeps its precision (`x * scale + (shift -
/// center * scale)` would subtract two large numbers).
pub fn normalise<E: Element>(g: &NormGeometry, x: &[E], affine: &[Affine<E>], y: &mut [E]) {
    g.check("normalise", "x", x.len());
    g.check("normalise", "y", y.len());
    assert_eq!(
        affine.len(),
        g.channels,
        "normalise: one affine per channel"
    );
    let (entry, spatial) = (g.entry(), g.spatial);
    for_each_entry(g, y, |b, y| {
        let x = &x[b * entry..][..entry];
        for ((y, x), a) in y
            .chunks_exact_mut(spatial)
            .zip(x.chunks_exact(spatial))
            .zip(affine)
        {
            for (y, &x) in y.iter_mut().zip(x) {
                *y = (x - a.center) * a.scale + a.shift;
            }
        }
    });
}

/// One channel's coefficients of the input's gradient:
/// `grad_x += grad_y * a + (x - center) * beta + k`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCoefficients<E> {
    /// Multiplies the upstream gradient: `weight / sqrt(var + eps)`.
    pub a: E,
    /// Multiplies the centred input (0 in evaluation mode, where the statistics are constants).
    pub beta: E,
    /// The mean subtracted.
    pub center: E,
    /// Added to every element.
    pub k: E,
}

/// Adds the input's gradient into `grad_x`:
///
/// `grad_x[b, c, s] += grad_y[b, c, s] * a[c] + (x[b, c, s] - center[c]) * beta[c] + k[c]`,
///
/// or only `grad_y * a` when `x` is `None` (evaluation mode).
pub fn add_grad_input<E: Element>(
    g: &NormGeometry,
    grad_y: &[E],
    x: Option<&[E]>,
    coefficients: &[GradCoefficients<E>],
    grad_x: &mut [E],
) {
    g.check("add_grad_input", "grad_y", grad_y.len());
    g.check("add_grad_input", "grad_x", grad_x.len());
    assert_eq!(
        coefficients.len(),
        g.channels,
        "add_grad_input: one per channel"
    );
    let (entry, spatial) = (g.entry(), g.spatial);
    if let Some(x) = x {
        g.check("add_grad_input", "x", x.len());
    }
    for_each_entry(g, grad_x, |b, grad_x| {
        let grad_y = &grad_y[b * entry..][..entry];
        let rows = grad_x
            .chunks_exact_mut(spatial)
            .zip(grad_y.chunks_exact(spatial))
            .zip(coefficients);
        match x {
            Some(x) => {
                let x = &x[b * entry..][..entry];
                for (((gx, gy), c), x) in rows.zip(x.chunks_exact(spatial)) {
                    for ((gx, &gy), &x) in gx.iter_mut().zip(gy).zip(x) {
                        *gx += gy * c.a + (x - c.center) * c.beta + c.k;
                    }
                }
            }
            None => {
                for ((gx, gy), c) in rows {
                    for (gx, &gy) in gx.iter_mut().zip(gy) {
                        *gx += gy * c.a;
                    }
                }
            }
        }
    });
}
