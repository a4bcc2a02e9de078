//! Adaptive average pooling: `x.adaptive_avg_pool2d::<OH, OW>()`, like
//! `torch.nn.functional.adaptive_avg_pool2d(x, (OH, OW))`, with its gradient; `(1, 1)` is
//! global average pooling.
//!
//! Each output cell averages a *bin* of the input whose bounds PyTorch computes per axis: for
//! an input of `H` rows and `OH` output rows, output row `i` reads rows
//!
//! `floor(i * H / OH) <= iy < ceil((i + 1) * H / OH)`
//!
//! (the same for the columns), so the bins cover the input, overlap by at most one row when
//! `OH` does not divide `H`, and repeat rows when `OH > H`:
//!
//! `output[b, c, i, j] = mean over the bin (i, j) of input[b, c, iy, ix]`.
//!
//! Shapes in words: `[B, C, H, W]` → `[B, C, OH, OW]`, whatever `H` and `W` (runtime sizes
//! too), typed by the compiler ([`AdaptivePool2dOut`]).
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor4::<f32, 1, 1, 3, 3>::from_fn(|[_, _, i, j]| (3 * i + j) as f32);
//! // rows [0, 2) and [1, 3), columns [0, 3): means of 0..6 and 3..9
//! let y: Tensor4<f32, 1, 1, 2, 1> = x.adaptive_avg_pool2d::<2, 1>();
//! assert_eq!(y.to_vec(), vec![2.5, 5.5]);
//! // global average pooling
//! assert_eq!(x.adaptive_avg_pool2d::<1, 1>().to_vec(), vec![4.0]);
//! ```
//!
//! Backward: each output's gradient, divided by its bin's size, goes to every input element
//! of its bin (twice to an element of two overlapping bins). Both passes run one rayon task per
//! `(b, c)` plane when the work pays for it ([`PARALLEL_MIN_READS`], pooling's threshold).

use rayon::prelude::*;

use super::kernels::PARALLEL_MIN_READS;
use crate::memory::Buffer;
use crate::shape::{AdaptivePool2dOut, AdaptivePool2dShape, Shape};
use crate::tensor::{Element, Tensor};

/// The sizes of an adaptive pooling over `planes` planes `[in_h, in_w]`, giving
/// `[out_h, out_w]` per plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveGeometry {
    /// Independent planes: batch × channels.
    pub planes: usize,
    /// Input height (at least 1).
    pub in_h: usize,
    /// Input width (at least 1).
    pub in_w: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

/// PyTorch's bin of output `i` of `out` along an axis of `n` inputs:
/// `floor(i * n / out) .. ceil((i + 1) * n / out)` (in `u128`, so no product overflows).
pub fn bin(i: usize, n: usize, out: usize) -> (usize, usize) {
    let (i, n, out) = (i as u128, n as u128, out as u128);
    let start = i * n / out;
    let end = ((i + 1) * n).div_ceil(out);
    (start as usize, end as usize)
}

impl AdaptiveGeometry {
    /// Every output row's bin of input rows.
    pub fn rows(&self) -> Vec<(usize, usize)> {
        (0..self.out_h)
            .map(|i| bin(i, self.in_h, self.out_h))
            .collect()
    }

    /// Every output column's bin of input columns.
    pub fn cols(&self) -> Vec<(usize, usize)> {
        (0..self.out_w)
            .map(|j| bin(j, self.in_w, self.out_w))
            .collect()
    }

    /// Elements in one input plane.
    pub fn in_plane(&self) -> usize {
        self.in_h * self.in_w
    }

    /// Elements in one output plane.
    pub fn out_plane(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Input reads of one pass: every bin's size, over every plane (saturating: it only picks
    /// threads).
    pub fn reads(&self) -> usize {
        let span = |bins: Vec<(usize, usize)>| -> usize { bins.iter().map(|(s, e)| e - s).sum() };
        self.planes
            .saturating_mul(span(self.rows()))
            .saturating_mul(span(self.cols()))
    }

    /// Whether a pass has enough work to pay for rayon's threads (pooling's rule: at least
    /// [`PARALLEL_MIN_READS`] reads, two planes and two threads).
    pub fn worth_threads(&self) -> bool {
        rayon::current_num_threads() > 1 && self.planes > 1 && self.reads() >= PARALLEL_MIN_READS
    }

    /// Panics unless the slices have this geometry's lengths and the input is not empty (a bug
    /// in the caller: the typed API checks both).
    fn check(&self, kernel: &str, input: usize, output: usize) {
        assert!(
            self.in_h > 0 && self.in_w > 0,
            "{kernel}: an input plane of {} x {}",
            self.in_h,
            self.in_w
        );
        assert_eq!(
            input,
            self.planes * self.in_plane(),
            "{kernel}: input length"
        );
        assert_eq!(
            output,
            self.planes * self.out_plane(),
            "{kernel}: output length"
        );
    }
}

/// Runs `plane(output_plane, input_plane)` over every plane pair of `output` and `input` (one
/// rayon task per plane when `parallel`). `output` is cut in `out_plane`s, `input` in
/// `in_plane`s.
fn for_each_plane<E: Element>(
    parallel: bool,
    output: &mut [E],
    out_plane: usize,
    input: &[E],
    in_plane: usize,
    plane: impl Fn(&mut [E], &[E]) + Send + Sync,
) {
    if out_plane == 0 || in_plane == 0 {
        return;
    }
    if parallel {
        output
            .par_chunks_mut(out_plane)
            .zip(input.par_chunks(in_plane))
            .for_each(|(o, i)| plane(o, i));
    } else {
        output
            .chunks_mut(out_plane)
            .zip(input.chunks(in_plane))
            .for_each(|(o, i)| plane(o, i));
    }
}

/// Overwrites `output` with the adaptive average pooling of `input`:
///
/// `output[p, i, j] = 1 / |bin| * sum over iy in rows[i], ix in cols[j] of input[p, iy, ix]`.
pub fn adaptive_avg_forward<E: Element>(g: &AdaptiveGeometry, input: &[E], output: &mut [E]) {
    g.check("adaptive_avg_forward", input.len(), output.len());
    let (rows, cols) = (g.rows(), g.cols());
    for_each_plane(
        g.worth_threads(),
        output,
        g.out_plane(),
        input,
        g.in_plane(),
        |output, input| {
            for (output, &(y0, y1)) in output.chunks_exact_mut(g.out_w).zip(&rows) {
                for (y, &(x0, x1)) in output.iter_mut().zip(&cols) {
                    let mut sum = E::zero();
                    for row in input[y0 * g.in_w..y1 * g.in_w].chunks_exact(g.in_w) {
                        sum += row[x0..x1].iter().copied().sum::<E>();
                    }
                    *y = sum / E::of(((y1 - y0) * (x1 - x0)) as f64);
                }
            }
        },
    );
}

/// Adds the gradient of adaptive average pooling into `grad_input`: each output's gradient,
/// divided by its bin's size, goes to every element of its bin,
///
/// `grad_input[p, iy, ix] += grad_output[p, i, j] / |bin (i, j)|` for `(iy, ix)` in the bin.
pub fn adaptive_avg_backward<E: Element>(
    g: &AdaptiveGeometry,
    grad_output: &[E],
    grad_input: &mut [E],
) {
    g.check("adaptive_avg_backward", grad_input.len(), grad_output.len());
    let (rows, cols) = (g.rows(), g.cols());
    for_each_plane(
        g.worth_threads(),
        grad_input,
        g.in_plane(),
        grad_output,
        g.out_plane(),
        |grad_input, grad_output| {
            for (grad_output, &(y0, y1)) in grad_output.chunks_exact(g.out_w).zip(&rows) {
                for (&gy, &(x0, x1)) in grad_output.iter().zip(&cols) {
                    let share = gy / E::of(((y1 - y0) * (x1 - x0)) as f64);
                    for row in grad_input[y0 * g.in_w..y1 * g.in_w].chunks_exact_mut(g.in_w) {
                        row[x0..x1].iter_mut().for_each(|v| *v += share);
                    }
                }
            }
        },
    );
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Adaptive average pooling to `OH x OW`: `[B, C, H, W] → [B, C, OH, OW]`, each output the
    /// mean of its bin (see [the module docs](self)), like
    /// `torch.nn.functional.adaptive_avg_pool2d(input, (OH, OW))`. `::<1, 1>()` is global
    /// average pooling. `H` and `W` may be any size, runtime ones too; generic code over
    /// `(B, C, H, W)` writes no bound (the output is [`AdaptivePool2dOut`]).
    ///
    /// Panics when the input's height or width is 0 (PyTorch raises). Compile error: the input
    /// is not 4-D.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn adaptive_avg_pool2d<const OH: usize, const OW: usize>(&self) -> Tensor<E, AdaptivePool2dOut<S, OH, OW>>
    where S: AdaptivePool2dShape<OH, OW>,
    {
        let out_shape = AdaptivePool2dShape::<OH, OW>::adaptive_pool2d_shape(self.shape());
        let dims = self.dims();
        let &[b, c, in_h, in_w] = dims.as_ref() else {
            unreachable!("adaptive_avg_pool2d: rank checked at compile time")
        };
        assert!(
            in_h > 0 && in_w > 0,
            "adaptive_avg_pool2d: the input has sizes {:?}; its height and width must be at least 1",
            dims.as_ref()
        );
        let g = AdaptiveGeometry {
            planes: b
                .checked_mul(c)
                .unwrap_or_else(|| panic!("adaptive_avg_pool2d: the sizes {dims:?} overflow")),
            in_h,
            in_w,
            out_h: OH,
            out_w: OW,
        };
        let mut output = Buffer::for_overwrite(out_shape.numel());
        adaptive_avg_forward(&g, self.as_slice(), &mut output);
        let x_id = self.id();
        Tensor::from_op("adaptive_avg_pool2d", out_shape, output, &[self], move |grad_out, grads| {
            let grad_input = grads.accumulator(x_id, g.planes * g.in_plane());
            adaptive_avg_backward(&g, grad_out, grad_input);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::tensor::Rng;

    #[test]
    fn bins_are_pytorchs() {
        // 7 rows into 3: [0, 3), [2, 5), [4, 7) (floor(7/3) = 2, ceil(14/3) = 5)
        assert_eq!(
            (0..3).map(|i| bin(i, 7, 3)).collect::<Vec<_>>(),
            [(0, 3), (2, 5), (4, 7)]
        );
        // 5 into 7: every output one or two rows, all rows covered
        let bins: Vec<_> = (0..7).map(|i| bin(i, 5, 7)).collect();
        assert_eq!(
            bins,
            [(0, 1), (0, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 5)]
        );
        // divisible: plain windows; one output: the whole axis
        assert_eq!(
            (0..2).map(|i| bin(i, 8, 2)).collect::<Vec<_>>(),
            [(0, 4), (4, 8)]
        );
        assert_eq!(bin(0, 9, 1), (0, 9));
    }

    /// The hand case: 3 x 3 into 2 x 2, every bin 2 x 2 (the middle row and column shared).
    #[test]
    fn hand_case_with_overlapping_bins() {
        let tape = Tape::new();
        #[rustfmt::skip]
        let x = Tensor4::<f64, 1, 1, 3, 3>::from_slice(&[
            1., 2., 3.,
            4., 5., 6.,
            7., 8., 9.,
        ]).unwrap().trace(&tape);
        let y = x.adaptive_avg_pool2d::<2, 2>();
        // (1 + 2 + 4 + 5)/4, (2 + 3 + 5 + 6)/4, (4 + 5 + 7 + 8)/4, (5 + 6 + 8 + 9)/4
        assert_eq!(y.to_vec(), vec![3.0, 4.0, 6.0, 7.0]);
        let grads = y.sum_all().backward();
        // each bin sends 1/4 to its elements: the centre is in four bins, edges in two
        #[rustfmt::skip]
        assert_eq!(grads.get(&x).unwrap().to_vec(), vec![
            0.25, 0.5, 0.25,
            0.5,  1.0, 0.5,
            0.25, 0.5, 0.25,
        ]);
    }

    #[test]
    fn gradients_match_central_differences() {
        let x = Tensor4::<f64, 2, 3, 7, 5>::randn(3);
        gradcheck("adaptive_avg_pool2d 7x5 -> 3x3", &x, |x| {
            x.adaptive_avg_pool2d::<3, 3>()
        })
        .unwrap();
        gradcheck("adaptive_avg_pool2d 7x5 -> 9x6", &x, |x| {
            x.adaptive_avg_pool2d::<9, 6>()
        })
        .unwrap();
        gradcheck("global average pooling", &x, |x| {
            x.adaptive_avg_pool2d::<1, 1>()
        })
        .unwrap();
        let runtime =
            Tensor::<f64, (usize, Dim<2>, usize, usize)>::randn_shaped((3, Dim, 4, 6), 4, 0.0, 1.0);
        gradcheck("runtime sizes", &runtime, |x| {
            x.adaptive_avg_pool2d::<3, 4>()
        })
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "adaptive_avg_pool2d: the input has sizes [2, 3, 0, 4]")]
    fn an_empty_plane_panics_as_pytorch_raises() {
        let x = Tensor::<f32, (usize, Dim<3>, usize, Dim<4>)>::zeros_shaped((2, Dim, 0, Dim));
        let _ = x.adaptive_avg_pool2d::<1, 1>();
    }

    /// Plain loops: every output position tests every input position against its bin.
    fn naive(g: &AdaptiveGeometry, x: &[f64], grad_y: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut y = vec![0.0; g.planes * g.out_plane()];
        let mut grad_x = vec![0.0; g.planes * g.in_plane()];
        for p in 0..g.planes {
            for i in 0..g.out_h {
                for j in 0..g.out_w {
                    let start_h = (i * g.in_h) / g.out_h;
                    let end_h = ((i + 1) * g.in_h).div_ceil(g.out_h);
                    let start_w = (j * g.in_w) / g.out_w;
                    let end_w = ((j + 1) * g.in_w).div_ceil(g.out_w);
                    let inside = |iy: usize, ix: usize| {
                        (start_h..end_h).contains(&iy) && (start_w..end_w).contains(&ix)
                    };
                    let count = ((end_h - start_h) * (end_w - start_w)) as f64;
                    let o = (p * g.out_h + i) * g.out_w + j;
                    for iy in 0..g.in_h {
                        for ix in 0..g.in_w {
                            if inside(iy, ix) {
                                let at = (p * g.in_h + iy) * g.in_w + ix;
                                y[o] += x[at] / count;
                                grad_x[at] += grad_y[o] / count;
                            }
                        }
                    }
                }
            }
        }
        (y, grad_x)
    }

    /// The kernels on `g`, in `E`: the output, and the gradient added onto a buffer of ones
    /// (the backward pass must add, not overwrite).
    fn kernels<E: Element>(
        g: &AdaptiveGeometry,
        x: &[f64],
        grad_y: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let of = |v: &[f64]| v.iter().map(|&v| E::of(v)).collect::<Vec<E>>();
        let mut y = vec![E::zero(); grad_y.len()];
        adaptive_avg_forward(g, &of(x), &mut y);
        let mut grad_x = vec![E::one(); x.len()];
        adaptive_avg_backward(g, &of(grad_y), &mut grad_x);
        let back = |v: &[E]| v.iter().map(|v| v.to_f64().unwrap()).collect::<Vec<f64>>();
        (back(&y), back(&grad_x).iter().map(|v| v - 1.0).collect())
    }

    fn agree(what: &str, got: &[f64], expected: &[f64], tol: f64) {
        assert_eq!(got.len(), expected.len(), "{what}");
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(
                (g - e).abs() <= tol * e.abs().max(1.0),
                "{what}[{i}]: {g} vs {e}"
            );
        }
    }

    fn check(g: &AdaptiveGeometry, seed: u64) {
        let mut rng = Rng::new(seed);
        let x: Vec<f64> = (0..g.planes * g.in_plane()).map(|_| rng.normal()).collect();
        let grad_y: Vec<f64> = (0..g.planes * g.out_plane())
            .map(|_| rng.normal())
            .collect();
        let (y, grad_x) = naive(g, &x, &grad_y);
        let (y64, gx64) = kernels::<f64>(g, &x, &grad_y);
        agree(&format!("{g:?} f64 y"), &y64, &y, 1e-12);
        agree(&format!("{g:?} f64 grad_x"), &gx64, &grad_x, 1e-12);
        let (y32, gx32) = kernels::<f32>(g, &x, &grad_y);
        agree(&format!("{g:?} f32 y"), &y32, &y, 1e-5);
        agree(&format!("{g:?} f32 grad_x"), &gx32, &grad_x, 1e-5);
    }

    #[test]
    fn kernels_match_plain_loops_on_random_geometries() {
        let mut rng = Rng::new(4);
        for seed in 0..40 {
            let g = AdaptiveGeometry {
                planes: 1 + rng.below(4),
                in_h: 1 + rng.below(9),
                in_w: 1 + rng.below(9),
                out_h: rng.below(10),
                out_w: 1 + rng.below(9),
            };
            check(&g, seed);
        }
    }

    /// Above the threshold in 2- and 3-thread pools (an odd plane count too), and below it.
    #[test]
    fn threaded_and_single_threaded_runs_match_plain_loops() {
        let geometry = |planes, in_h, in_w, out_h, out_w| AdaptiveGeometry {
            planes,
            in_h,
            in_w,
            out_h,
            out_w,
        };
        let large = [
            geometry(32, 56, 56, 1, 1),
            geometry(7, 120, 99, 6, 5),
            geometry(3, 150, 150, 7, 9),
        ];
        let small = [geometry(4, 7, 7, 1, 1), geometry(1, 300, 300, 3, 3)];
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                for (i, g) in large.iter().enumerate() {
                    assert!(g.reads() >= PARALLEL_MIN_READS, "{g:?}");
                    assert_eq!(g.worth_threads(), threads > 1, "{g:?}");
                    check(g, i as u64);
                }
                for (i, g) in small.iter().enumerate() {
                    assert!(!g.worth_threads(), "{g:?}");
                    check(g, 10 + i as u64);
                }
            });
        }
    }
}
