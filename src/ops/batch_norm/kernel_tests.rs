//! Batch norm (the op and its kernels) against plain loops written here: the statistics and
//! the output per channel as the formulas read, and the input's gradient from the Jacobian
//! entry by entry (`d y_j / d x_i`, no sums shared), on random `[B, C, spatial]` geometries, in
//! f64 and f32, training and evaluation, with and without a weight and a bias; and above the
//! rayon threshold inside 1-, 2- and 3-thread pools, where the results must agree with the
//! plain loops and with each other to the last bit (the sums' groups do not depend on the
//! threads).

use super::kernels::{NormGeometry, PARALLEL_MIN_ELEMENTS};
use super::{batch_norm_op, Statistics};
use crate::autodiff::Tape;
use crate::tensor::{Element, Rng, Tensor};

/// What one batch norm call gives: the output, the running statistics after it, and the
/// gradients of `sum(y * grad_y)` with respect to the input, the weight and the bias.
#[derive(Debug, Clone, PartialEq)]
struct Results {
    y: Vec<f64>,
    running_mean: Vec<f64>,
    running_var: Vec<f64>,
    grad_x: Vec<f64>,
    grad_w: Vec<f64>,
    grad_b: Vec<f64>,
}

/// One case: `[B, C, S]` values and the per-channel tensors (`None`: no weight and bias).
struct Case {
    g: NormGeometry,
    x: Vec<f64>,
    grad_y: Vec<f64>,
    affine: Option<(Vec<f64>, Vec<f64>)>,
    running_mean: Vec<f64>,
    running_var: Vec<f64>,
    mode: Mode,
}

/// Training or evaluation, and the numbers each takes.
#[derive(Clone, Copy, Debug)]
struct Mode {
    training: bool,
    momentum: f64,
    eps: f64,
}

impl Case {
    fn random(rng: &mut Rng, g: NormGeometry, training: bool, affine: bool) -> Self {
        let len = g.len();
        let c = g.channels;
        let mut normal = |n: usize, mean: f64, std: f64| -> Vec<f64> {
            (0..n).map(|_| mean + std * rng.normal()).collect()
        };
        let x = normal(len, 0.7, 1.8);
        let grad_y = normal(len, 0.0, 1.0);
        let affine = affine.then(|| (normal(c, 1.0, 0.5), normal(c, 0.0, 1.0)));
        let running_mean = normal(c, 0.0, 0.5);
        let running_var = normal(c, 0.0, 1.0).iter().map(|v| v.abs() + 0.3).collect();
        let mode = Mode {
            training,
            momentum: 0.1 + 0.3 * rng.uniform(),
            eps: 1e-5,
        };
        Case {
            g,
            x,
            grad_y,
            affine,
            running_mean,
            running_var,
            mode,
        }
    }

    fn weight(&self, c: usize) -> f64 {
        self.affine.as_ref().map_or(1.0, |(w, _)| w[c])
    }

    fn bias(&self, c: usize) -> f64 {
        self.affine.as_ref().map_or(0.0, |(_, b)| b[c])
    }

    /// The offsets of channel `c`'s values, batch entry by batch entry.
    fn channel(&self, c: usize) -> Vec<usize> {
        let NormGeometry {
            batch,
            channels,
            spatial,
        } = self.g;
        let mut at = Vec::new();
        for b in 0..batch {
            for s in 0..spatial {
                at.push((b * channels + c) * spatial + s);
            }
        }
        at
    }

    /// The op on tensors of element type `E`, every input traced.
    fn fused<E: Element>(&self) -> Results {
        let tape = Tape::new();
        let dims = (self.g.batch, self.g.channels, self.g.spatial);
        let of = |v: &[f64]| v.iter().map(|&v| E::of(v)).collect::<Vec<E>>();
        let back = |v: &[E]| v.iter().map(|v| v.to_f64().unwrap()).collect::<Vec<f64>>();
        let x = Tensor::<E, (usize, usize, usize)>::from_vec_shaped(dims, of(&self.x))
            .unwrap()
            .trace(&tape);
        let per_channel = |v: &[f64]| {
            Tensor::<E, (usize,)>::from_vec_shaped((self.g.channels,), of(v))
                .unwrap()
                .trace(&tape)
        };
        let affine = self
            .affine
            .as_ref()
            .map(|(w, b)| (per_channel(w), per_channel(b)));
        let (mut mean, mut var) = (of(&self.running_mean), of(&self.running_var));
        let statistics = if self.mode.training {
            Statistics::Batch {
                running_mean: Some(&mut mean),
                running_var: Some(&mut var),
                momentum: self.mode.momentum,
            }
        } else {
            Statistics::Running {
                mean: &mean,
                var: &var,
            }
        };
        let (w, b) = (affine.as_ref().map(|a| &a.0), affine.as_ref().map(|a| &a.1));
        let y = batch_norm_op("batch_norm", &x, statistics, w, b, self.mode.eps);
        let grad_y =
            Tensor::<E, (usize, usize, usize)>::from_vec_shaped(dims, of(&self.grad_y)).unwrap();
        let grads = (&y * &grad_y).sum_all().backward();
        let grad = |id| grads.get_raw(id).map(back).unwrap_or_default();
        Results {
            y: back(y.as_slice()),
            running_mean: back(&mean),
            running_var: back(&var),
            grad_x: grad(x.id()),
            grad_w: affine.as_ref().map(|a| grad(a.0.id())).unwrap_or_default(),
            grad_b: affine.as_ref().map(|a| grad(a.1.id())).unwrap_or_default(),
        }
    }

    /// Plain loops, in f64. `jacobian`: the input's gradient from every `d y_j / d x_i` (the
    /// cost is `n^2` per channel: small cases only); else from the textbook formula.
    fn naive(&self, jacobian: bool) -> Results {
        let len = self.g.len();
        let c_len = self.g.channels;
        let mut r = Results {
            y: vec![0.0; len],
            running_mean: self.running_mean.clone(),
            running_var: self.running_var.clone(),
            grad_x: vec![0.0; len],
            grad_w: vec![0.0; if self.affine.is_some() { c_len } else { 0 }],
            grad_b: vec![0.0; if self.affine.is_some() { c_len } else { 0 }],
        };
        let Mode {
            training,
            momentum,
            eps,
        } = self.mode;
        for c in 0..c_len {
            let at = self.channel(c);
            let n = at.len() as f64;
            let (mean, var) = if training {
                let mean = at.iter().map(|&i| self.x[i]).sum::<f64>() / n;
                let var = at.iter().map(|&i| (self.x[i] - mean).powi(2)).sum::<f64>() / n;
                r.running_mean[c] = (1.0 - momentum) * r.running_mean[c] + momentum * mean;
                r.running_var[c] =
                    (1.0 - momentum) * r.running_var[c] + momentum * var * n / (n - 1.0);
                (mean, var)
            } else {
                (self.running_mean[c], self.running_var[c])
            };
            let sd = (var + eps).sqrt();
            let (w, b) = (self.weight(c), self.bias(c));
            let xhat = |i: usize| (self.x[i] - mean) / sd;
            for &i in &at {
                r.y[i] = xhat(i) * w + b;
            }
            if self.affine.is_some() {
                r.grad_w[c] = at.iter().map(|&i| self.grad_y[i] * xhat(i)).sum();
                r.grad_b[c] = at.iter().map(|&i| self.grad_y[i]).sum();
            }
            // the textbook formula's means, once per channel
            let mean_g = at.iter().map(|&j| self.grad_y[j]).sum::<f64>() / n;
            let mean_gx = at.iter().map(|&j| self.grad_y[j] * xhat(j)).sum::<f64>() / n;
            for &i in &at {
                r.grad_x[i] = if !training {
                    self.grad_y[i] * w / sd
                } else if jacobian {
                    // d y_j / d x_i = w / sd * ([i == j] - 1/n - xhat_i xhat_j / n)
                    at.iter()
                        .map(|&j| {
                            let delta = if i == j { 1.0 } else { 0.0 };
                            self.grad_y[j] * w / sd * (delta - 1.0 / n - xhat(i) * xhat(j) / n)
                        })
                        .sum()
                } else {
                    w / sd * (self.grad_y[i] - mean_g - xhat(i) * mean_gx)
                };
            }
        }
        r
    }
}

/// The first value that disagrees beyond `tol * max(1, |expected|)`, as a message.
fn compare(what: &str, got: &Results, expected: &Results, tol: f64) -> Option<String> {
    let fields = [
        ("y", &got.y, &expected.y),
        ("running_mean", &got.running_mean, &expected.running_mean),
        ("running_var", &got.running_var, &expected.running_var),
        ("grad_x", &got.grad_x, &expected.grad_x),
        ("grad_w", &got.grad_w, &expected.grad_w),
        ("grad_b", &got.grad_b, &expected.grad_b),
    ];
    for (field, got, expected) in fields {
        if got.len() != expected.len() {
            return Some(format!(
                "{what} {field}: {} values, expected {}",
                got.len(),
                expected.len()
            ));
        }
        for (i, (g, e)) in got.iter().zip(expected.iter()).enumerate() {
            // negated so that a NaN is a mismatch
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            if !((g - e).abs() <= tol * e.abs().max(1.0)) {
                return Some(format!("{what} {field}[{i}]: got {g}, expected {e}"));
            }
        }
    }
    None
}

fn random_geometry(rng: &mut Rng) -> NormGeometry {
    NormGeometry {
        batch: 1 + rng.below(5),
        channels: 1 + rng.below(4),
        spatial: 1 + rng.below(9),
    }
}

#[test]
fn fused_kernels_match_plain_loops_on_random_geometries() {
    let mut rng = Rng::new(15);
    for i in 0..60 {
        let g = random_geometry(&mut rng);
        let training = i % 3 != 2 && g.per_channel() > 1;
        let case = Case::random(&mut rng, g, training, i % 4 != 3);
        let what = format!("case {i} {g:?} training {training}");
        let naive = case.naive(true);
        // the textbook gradient is the Jacobian's
        if let Some(e) = compare(&what, &case.naive(false), &naive, 1e-12) {
            panic!("the plain loops disagree: {e}");
        }
        if let Some(e) = compare(&what, &case.fused::<f64>(), &naive, 1e-11) {
            panic!("f64: {e}");
        }
        if let Some(e) = compare(&what, &case.fused::<f32>(), &naive, 2e-4) {
            panic!("f32: {e}");
        }
    }
}

/// Geometries above the threshold (one with `spatial = 1`, one with an odd batch), run in
/// pools of 1, 2 and 3 threads: each agrees with the plain loops, and all to the last bit.
#[test]
fn threaded_and_single_threaded_runs_match_plain_loops_bit_for_bit() {
    let large = [
        NormGeometry {
            batch: 8,
            channels: 4,
            spatial: 2048,
        },
        NormGeometry {
            batch: 256,
            channels: 257,
            spatial: 1,
        },
        NormGeometry {
            batch: 5,
            channels: 3,
            spatial: 4400,
        },
    ];
    let mut rng = Rng::new(16);
    for (i, &g) in large.iter().enumerate() {
        assert!(
            g.len() >= PARALLEL_MIN_ELEMENTS && g.group() < g.batch,
            "{g:?}"
        );
        for training in [true, false] {
            let case = Case::random(&mut rng, g, training, true);
            let naive = case.naive(false);
            let mut runs = Vec::new();
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let run = pool.install(|| {
                    assert_eq!(g.worth_threads(), threads > 1);
                    (case.fused::<f64>(), case.fused::<f32>())
                });
                let what = format!("case {i} {g:?} training {training}, {threads} threads");
                if let Some(e) = compare(&what, &run.0, &naive, 1e-10) {
                    panic!("f64: {e}");
                }
                if let Some(e) = compare(&what, &run.1, &naive, 2e-4) {
                    panic!("f32: {e}");
                }
                runs.push(run);
            }
            assert!(
                runs.windows(2).all(|r| r[0] == r[1]),
                "case {i}: threads change bits"
            );
        }
    }
}

#[test]
fn a_small_pass_stays_on_the_calling_thread() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    pool.install(|| {
        for g in [
            NormGeometry {
                batch: 64,
                channels: 16,
                spatial: 63,
            }, // just below the threshold
            NormGeometry {
                batch: 1,
                channels: 64,
                spatial: 4096,
            }, // one entry
        ] {
            assert!(!g.worth_threads(), "{g:?}");
            let case = Case::random(&mut Rng::new(3), g, true, true);
            assert_eq!(
                compare("small", &case.fused::<f64>(), &case.naive(false), 1e-10),
                None
            );
        }
    });
}

#[test]
fn zero_channels_or_positions_give_empty_results() {
    for g in [
        NormGeometry {
            batch: 3,
            channels: 0,
            spatial: 4,
        },
        NormGeometry {
            batch: 0,
            channels: 2,
            spatial: 4,
        },
        NormGeometry {
            batch: 3,
            channels: 2,
            spatial: 0,
        },
    ] {
        let case = Case::random(
            &mut Rng::new(4),
            g,
            g.per_channel() != 0 && g.channels > 0,
            true,
        );
        let got = case.fused::<f64>();
        assert!(got.y.is_empty() && got.grad_x.is_empty(), "{g:?}");
        assert_eq!(
            got.running_mean, case.running_mean,
            "{g:?}: an empty batch changes nothing"
        );
        assert!(
            got.grad_w.iter().chain(&got.grad_b).all(|&v| v == 0.0),
            "{g:?}"
        );
    }
}
