//! Every op on legal zero-size shapes: a property test over random geometries in which about a
//! third of the sizes (batch, channels, height, width, length, classes, features) are 0, each
//! op's result against a plain loop written here and its gradient against central differences
//! (`gradcheck`, which also runs the backward pass on the empty tensors). The convolutions have
//! their own (`tests/conv.rs`); everything else is here.
//!
//! A size of 0 has to give the empty result PyTorch gives (or, for a reduction over an empty
//! axis, its value: 0 for a sum, NaN for a mean), never a panic, and a backward pass that adds
//! nothing anywhere.

use shapetorch::prelude::*;

/// Random sizes: 0 one time in three, else 1 to 3.
fn size(rng: &mut Rng) -> usize {
    match rng.below(6) {
        0 | 1 => 0,
        n => n - 1,
    }
}

/// Random values in `shape`.
fn random<S: Shape>(shape: S, rng: &mut Rng) -> Tensor<f64, S> {
    Tensor::randn_shaped(shape, rng.next_u64(), 0.0, 1.0)
}

/// `got == expected` value for value (NaN where NaN), within 1e-12; panics naming `what`.
fn assert_close(what: &str, expected: &[f64], got: &[f64]) {
    assert_eq!(expected.len(), got.len(), "{what}: lengths");
    for (i, (&e, &g)) in expected.iter().zip(got).enumerate() {
        let same =
            (e.is_nan() && g.is_nan()) || e == g || (e - g).abs() <= 1e-12 * e.abs().max(1.0);
        assert!(same, "{what}: [{i}] is {g}, expected {e}");
    }
}

/// The gradient check, with the op named; an empty input checks that backward runs.
fn grad_ok<S: Shape, O: Shape>(
    what: &str,
    x: &Tensor<f64, S>,
    f: impl Fn(&Tensor<f64, S>) -> Tensor<f64, O>,
) {
    gradcheck(what, x, f).unwrap_or_else(|e| panic!("{e}"));
}

/// `x[o, k, i]` of a tensor seen as `[outer, n, inner]`.
fn at3(x: &[f64], (n, inner): (usize, usize), o: usize, k: usize, i: usize) -> f64 {
    x[(o * n + k) * inner + i]
}

#[test]
fn reductions_on_empty_axes_and_empty_tensors() {
    let mut rng = Rng::new(1);
    for _ in 0..60 {
        let (a, n, b) = (size(&mut rng), size(&mut rng), size(&mut rng));
        let x = random::<(usize, usize, usize)>((a, n, b), &mut rng);
        let what = format!("[{a}, {n}, {b}]");
        let xs = x.as_slice();
        // sum over axis 1: 0 over an empty axis
        let mut sum = vec![0.0; a * b];
        let mut max = vec![f64::NEG_INFINITY; a * b];
        for o in 0..a {
            for i in 0..b {
                for k in 0..n {
                    sum[o * b + i] += at3(xs, (n, b), o, k, i);
                    max[o * b + i] = max[o * b + i].max(at3(xs, (n, b), o, k, i));
                }
            }
        }
        assert_close(&format!("sum {what}"), &sum, x.sum::<1>().as_slice());
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect(); // NaN when n = 0
        assert_close(&format!("mean {what}"), &mean, x.mean::<1>().as_slice());
        if n > 0 {
            assert_close(&format!("max {what}"), &max, x.max::<1>().as_slice());
            grad_ok(&format!("max {what}"), &x, |x| x.max::<1>());
        }
        grad_ok(&format!("sum {what}"), &x, |x| x.sum::<1>());
        if n > 0 {
            grad_ok(&format!("mean {what}"), &x, |x| x.mean::<1>());
        }
        let total: f64 = xs.iter().sum();
        assert_close(&format!("sum_all {what}"), &[total], &[x.sum_all().item()]);
        let numel = (a * n * b) as f64;
        assert_close(
            &format!("mean_all {what}"),
            &[total / numel],
            &[x.mean_all().item()],
        );
        grad_ok(&format!("sum_all {what}"), &x, |x| x.sum_all());
        // argmax along a static axis of 3, over a runtime batch
        let y = random::<(usize, Dim<3>)>((a, Dim), &mut rng);
        let expected: Vec<usize> = y
            .as_slice()
            .chunks(3)
            .map(|r| (0..3).fold(0, |b, k| if r[k] > r[b] { k } else { b }))
            .collect();
        assert_eq!(y.argmax::<1, 3>().to_vec(), expected, "argmax {what}");
    }
}

#[test]
fn softmax_and_losses_on_empty_batches_axes_and_classes() {
    let mut rng = Rng::new(2);
    for _ in 0..60 {
        let (a, n, b) = (size(&mut rng), size(&mut rng), size(&mut rng));
        let x = random::<(usize, usize, usize)>((a, n, b), &mut rng);
        let what = format!("[{a}, {n}, {b}]");
        let xs = x.as_slice();
        let mut soft = vec![0.0; a * n * b];
        let mut log_soft = vec![0.0; a * n * b];
        for o in 0..a {
            for i in 0..b {
                let m = (0..n)
                    .map(|k| at3(xs, (n, b), o, k, i))
                    .fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = (0..n).map(|k| (at3(xs, (n, b), o, k, i) - m).exp()).sum();
                for k in 0..n {
                    let v = at3(xs, (n, b), o, k, i);
                    soft[(o * n + k) * b + i] = (v - m).exp() / z;
                    log_soft[(o * n + k) * b + i] = v - m - z.ln();
                }
            }
        }
        assert_close(
            &format!("softmax {what}"),
            &soft,
            x.softmax::<1>().as_slice(),
        );
        assert_close(
            &format!("log_softmax {what}"),
            &log_soft,
            x.log_softmax::<1>().as_slice(),
        );
        grad_ok(&format!("softmax {what}"), &x, |x| x.softmax::<1>());
        grad_ok(&format!("log_softmax {what}"), &x, |x| x.log_softmax::<1>());

        // the losses over a batch of `a` rows of 3 classes (NaN for an empty batch, as PyTorch)
        let logits = random::<(usize, Dim<3>)>((a, Dim), &mut rng);
        let labels: Vec<usize> = (0..a).map(|_| rng.below(3)).collect();
        let labels = IndexTensor::<(usize,), 3>::from_vec_shaped((a,), labels).unwrap();
        let rows = logits.as_slice().chunks(3);
        let ce: f64 = rows
            .clone()
            .zip(labels.as_slice())
            .map(|(r, &l)| {
                let m = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                m + r.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - r[l]
            })
            .sum::<f64>()
            / a as f64;
        let nll: f64 = -rows.zip(labels.as_slice()).map(|(r, &l)| r[l]).sum::<f64>() / a as f64;
        assert_close(
            &format!("cross_entropy {what}"),
            &[ce],
            &[logits.cross_entropy(&labels).item()],
        );
        assert_close(
            &format!("nll_loss {what}"),
            &[nll],
            &[logits.nll_loss(&labels).item()],
        );
        if a > 0 {
            grad_ok(&format!("cross_entropy {what}"), &logits, |x| {
                x.cross_entropy(&labels)
            });
            grad_ok(&format!("nll_loss {what}"), &logits, |x| {
                x.nll_loss(&labels)
            });
        } else {
            // backward of the NaN loss adds nothing: an empty gradient
            let tape = Tape::new();
            let t = logits.trace(&tape);
            let g = t.cross_entropy(&labels).backward().get(&t);
            assert_eq!(g.map_or(0, |g| g.numel()), 0);
        }
        // zero classes: only an empty batch can have labels below 0
        let none = Tensor::<f64, (usize, Dim<0>)>::zeros_shaped((0, Dim));
        let no_labels = IndexTensor::<(usize,), 0>::from_vec_shaped((0,), vec![]).unwrap();
        assert!(none.cross_entropy(&no_labels).item().is_nan());

        // mse and binary cross-entropy over [a, b]
        let p =
            Tensor::<f64, (usize, usize)>::rand_uniform_shaped((a, b), rng.next_u64(), 0.1, 0.9);
        let t =
            Tensor::<f64, (usize, usize)>::rand_uniform_shaped((a, b), rng.next_u64(), 0.0, 1.0);
        let count = (a * b) as f64;
        let mse: f64 = p
            .as_slice()
            .iter()
            .zip(t.as_slice())
            .map(|(p, t)| (p - t).powi(2))
            .sum::<f64>()
            / count;
        let bce: f64 = -p
            .as_slice()
            .iter()
            .zip(t.as_slice())
            .map(|(p, t)| t * p.ln() + (1.0 - t) * (1.0 - p).ln())
            .sum::<f64>()
            / count;
        assert_close(&format!("mse {what}"), &[mse], &[p.mse_loss(&t).item()]);
        assert_close(
            &format!("bce {what}"),
            &[bce],
            &[p.binary_cross_entropy(&t).item()],
        );
        if a * b > 0 {
            grad_ok(&format!("mse {what}"), &p, |p| p.mse_loss(&t));
            grad_ok(&format!("bce {what}"), &p, |p| p.binary_cross_entropy(&t));
        }
    }
}

#[test]
fn products_and_lookups_with_empty_sides() {
    let mut rng = Rng::new(3);
    for _ in 0..60 {
        let (m, k, n, batch) = (
            size(&mut rng),
            size(&mut rng),
            size(&mut rng),
            size(&mut rng),
        );
        let what = format!("m {m} k {k} n {n} batch {batch}");
        let a = random::<(usize, usize)>((m, k), &mut rng);
        let b = random::<(usize, usize)>((k, n), &mut rng);
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    c[i * n + j] += a.as_slice()[i * k + l] * b.as_slice()[l * n + j];
                }
            }
        }
        assert_close(&format!("matmul {what}"), &c, a.matmul(&b).as_slice());
        grad_ok(&format!("matmul in a, {what}"), &a, |a| a.matmul(&b));
        grad_ok(&format!("matmul in b, {what}"), &b, |b| a.matmul(b));
        let ab = random::<(usize, usize, usize)>((batch, m, k), &mut rng);
        let bb = random::<(usize, usize, usize)>((batch, k, n), &mut rng);
        let c = ab.bmm(&bb);
        assert_eq!(c.dims(), [batch, m, n]);
        for e in 0..batch {
            let a1 = Tensor::<f64, (usize, usize)>::from_vec_shaped(
                (m, k),
                ab.as_slice()[e * m * k..][..m * k].to_vec(),
            )
            .unwrap();
            let b1 = Tensor::<f64, (usize, usize)>::from_vec_shaped(
                (k, n),
                bb.as_slice()[e * k * n..][..k * n].to_vec(),
            )
            .unwrap();
            assert_close(
                &format!("bmm {what}"),
                a1.matmul(&b1).as_slice(),
                &c.as_slice()[e * m * n..][..m * n],
            );
        }
        grad_ok(&format!("bmm {what}"), &ab, |a| a.bmm(&bb));

        // linear layers with 0 inputs or 0 outputs over a batch that may be empty
        let x0 = random::<(usize, Dim<0>)>((batch, Dim), &mut rng);
        let w0 = Tensor2::<f64, 3, 0>::zeros();
        let bias = random::<(Dim<3>,)>((Dim,), &mut rng);
        let y = x0.linear_bias(&w0, &bias);
        let expected: Vec<f64> = (0..batch).flat_map(|_| bias.to_vec()).collect();
        assert_close(&format!("linear 0 -> 3, {what}"), &expected, y.as_slice());
        grad_ok(&format!("linear 0 -> 3 in the bias, {what}"), &bias, |b| {
            x0.linear_bias(&w0, b)
        });
        let x2 = random::<(usize, Dim<2>)>((batch, Dim), &mut rng);
        let w_none = Tensor2::<f64, 0, 2>::zeros();
        assert_eq!(x2.linear(&w_none).dims(), [batch, 0]);
        grad_ok(&format!("linear 2 -> 0, {what}"), &x2, |x| {
            x.linear(&w_none)
        });
        let w = random::<(Dim<3>, Dim<2>)>((Dim, Dim), &mut rng);
        grad_ok(&format!("linear 2 -> 3 in x, {what}"), &x2, |x| {
            x.linear_bias(&w, &bias)
        });
        grad_ok(&format!("linear 2 -> 3 in w, {what}"), &w, |w| {
            x2.linear_bias(w, &bias)
        });

        // embedding lookups: no ids, or rows of width 0
        let ids: Vec<usize> = (0..m * n).map(|_| rng.below(4)).collect();
        let ids = IndexTensor::<(usize, usize), 4>::from_vec_shaped((m, n), ids).unwrap();
        let table = random::<(Dim<4>, Dim<2>)>((Dim, Dim), &mut rng);
        let expected: Vec<f64> = ids
            .as_slice()
            .iter()
            .flat_map(|&id| table.as_slice()[id * 2..][..2].to_vec())
            .collect();
        assert_close(
            &format!("embedding {what}"),
            &expected,
            table.embedding(&ids).as_slice(),
        );
        grad_ok(&format!("embedding {what}"), &table, |t| t.embedding(&ids));
        let narrow = Tensor2::<f64, 4, 0>::zeros();
        assert_eq!(narrow.embedding(&ids).dims(), [m, n, 0]);
        grad_ok(&format!("embedding of width 0, {what}"), &narrow, |t| {
            t.embedding(&ids)
        });
        assert_eq!(ids.one_hot::<f64, 4>().numel(), m * n * 4);
    }
}

#[test]
fn views_joins_unroll_and_dropout_with_empty_dims() {
    let mut rng = Rng::new(4);
    for _ in 0..60 {
        let (a, b, c, t) = (
            size(&mut rng),
            size(&mut rng),
            size(&mut rng),
            size(&mut rng),
        );
        let what = format!("[{a}, {b}, {c}] t {t}");
        let x = random::<(usize, usize, usize)>((a, b, c), &mut rng);
        // permute::<2, 0, 1>: y[k, i, j] = x[i, j, k]
        let mut p = Vec::new();
        for k in 0..c {
            for i in 0..a {
                for j in 0..b {
                    p.push(x.as_slice()[(i * b + j) * c + k]);
                }
            }
        }
        let y = x.permute::<2, 0, 1>();
        assert_eq!(y.dims(), [c, a, b], "permute {what}");
        assert_close(&format!("permute {what}"), &p, y.as_slice());
        grad_ok(&format!("permute {what}"), &x, |x| x.permute::<2, 0, 1>());
        // reshape and flatten
        let flat = x.reshape_to((a * b * c,));
        assert_close(&format!("reshape {what}"), x.as_slice(), flat.as_slice());
        grad_ok(&format!("reshape {what}"), &x, |x| {
            x.reshape_to((a * b * c,))
        });
        let s = random::<(usize, Dim<0>, Dim<3>)>((a, Dim, Dim), &mut rng);
        assert_eq!(s.flatten().dims(), [a, 0], "flatten {what}");
        grad_ok(&format!("flatten {what}"), &s, |s| s.flatten());
        let s = random::<(usize, Dim<2>, Dim<3>)>((a, Dim, Dim), &mut rng);
        assert_close(
            &format!("flatten {what}"),
            s.as_slice(),
            s.flatten().as_slice(),
        );
        // cat along axis 1: [a, b] and [a, c]
        let l = random::<(usize, usize)>((a, b), &mut rng);
        let r = random::<(usize, usize)>((a, c), &mut rng);
        let mut joined = Vec::new();
        for i in 0..a {
            joined.extend(&l.as_slice()[i * b..][..b]);
            joined.extend(&r.as_slice()[i * c..][..c]);
        }
        assert_close(
            &format!("cat {what}"),
            &joined,
            l.cat::<1, _>(&r).as_slice(),
        );
        grad_ok(&format!("cat in the left, {what}"), &l, |l| {
            l.cat::<1, _>(&r)
        });
        grad_ok(&format!("cat in the right, {what}"), &r, |r| {
            l.cat::<1, _>(r)
        });
        // broadcast a vector of c over a rows
        let v = random::<(usize,)>((c,), &mut rng);
        let bc = v.broadcast_to::<0, (usize, usize)>((a, c));
        let expected: Vec<f64> = (0..a).flat_map(|_| v.to_vec()).collect();
        assert_close(&format!("broadcast {what}"), &expected, bc.as_slice());
        grad_ok(&format!("broadcast {what}"), &v, |v| {
            v.broadcast_to::<0, (usize, usize)>((a, c))
        });
        // unroll: 2 channels of length t, kernel 3 (and 0), zero past the end
        let seq = random::<(Dim<2>, usize)>((Dim, t), &mut rng);
        let mut u = vec![0.0; t * 6];
        for pos in 0..t {
            for ch in 0..2 {
                for j in 0..3 {
                    if pos + j < t {
                        u[pos * 6 + ch * 3 + j] = seq.as_slice()[ch * t + pos + j];
                    }
                }
            }
        }
        assert_close(&format!("unroll {what}"), &u, seq.unroll::<3>().as_slice());
        grad_ok(&format!("unroll {what}"), &seq, |s| s.unroll::<3>());
        assert_eq!(seq.unroll::<0>().dims(), [t, 0]);
        let none = random::<(Dim<0>, usize)>((Dim, t), &mut rng);
        assert_eq!(none.unroll::<3>().dims(), [t, 0]);
        // dropout and an elementwise chain
        let d = x.dropout(0.5, &mut Rng::new(1), true);
        assert_eq!(d.dims(), x.dims());
        grad_ok(&format!("dropout {what}"), &x, |x| {
            x.dropout(0.5, &mut Rng::new(1), true)
        });
        grad_ok(&format!("elementwise {what}"), &x, |x| {
            (x.tanh() * x.sigmoid()).relu()
        });
    }
}

/// Plain pooling of `x` `[b, c, h, w]`: `(max, avg)` with padding as `-inf` / counted zero.
#[allow(clippy::too_many_arguments)]
fn naive_pool(
    x: &[f64],
    [b, c, h, w]: [usize; 4],
    [kh, kw]: [usize; 2],
    [sh, sw]: [usize; 2],
    [ph, pw]: [usize; 2],
    [dh, dw]: [usize; 2],
    [oh, ow]: [usize; 2],
) -> (Vec<f64>, Vec<f64>) {
    let (mut max, mut avg) = (Vec::new(), Vec::new());
    for plane in 0..b * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut m, mut s) = (f64::NEG_INFINITY, 0.0);
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * sh + ky * dh).checked_sub(ph).filter(|&i| i < h);
                        let ix = (ox * sw + kx * dw).checked_sub(pw).filter(|&i| i < w);
                        if let (Some(iy), Some(ix)) = (iy, ix) {
                            let v = x[(plane * h + iy) * w + ix];
                            m = m.max(v);
                            s += v;
                        }
                    }
                }
                max.push(m);
                avg.push(s / (kh * kw) as f64);
            }
        }
    }
    (max, avg)
}

/// Random batch and channels (0 included) through 2-D pooling of a static `H x W` plane with
/// `Pool2d<KH, KW, SH, SW, PH, PW>`, max and average, against [`naive_pool`], and `tile`
/// where the tile divides the plane.
macro_rules! pool2d_case {
    ($rng:expr, $h:literal, $w:literal, $kh:literal, $kw:literal, $sh:literal, $sw:literal, $ph:literal, $pw:literal) => {{
        let (b, c) = (size($rng), size($rng));
        let what = format!(
            "[{b}, {c}, {}, {}] window {}x{} stride {}x{} padding {}x{}",
            $h, $w, $kh, $kw, $sh, $sw, $ph, $pw
        );
        let x = random::<(usize, usize, Dim<$h>, Dim<$w>)>((b, c, Dim, Dim), $rng);
        let p = Pool2d::<$kh, $kw, $sh, $sw, $ph, $pw>;
        let max = x.max_pool2d_with(p);
        let avg = x.avg_pool2d_with(p);
        let d = max.dims();
        let (em, ea) = naive_pool(
            x.as_slice(),
            [b, c, $h, $w],
            [$kh, $kw],
            [$sh, $sw],
            [$ph, $pw],
            [1, 1],
            [d[2], d[3]],
        );
        assert_close(&format!("max_pool2d {what}"), &em, max.as_slice());
        assert_close(&format!("avg_pool2d {what}"), &ea, avg.as_slice());
        if em.iter().all(|v| v.is_finite()) {
            grad_ok(&format!("max_pool2d {what}"), &x, |x| x.max_pool2d_with(p));
        }
        grad_ok(&format!("avg_pool2d {what}"), &x, |x| x.avg_pool2d_with(p));
    }};
}

/// The same for 1-D pooling of a static length `W` with `Pool1d<K, S, P>`.
macro_rules! pool1d_case {
    ($rng:expr, $w:literal, $k:literal, $s:literal, $p:literal) => {{
        let (b, c) = (size($rng), size($rng));
        let what = format!(
            "[{b}, {c}, {}] window {} stride {} padding {}",
            $w, $k, $s, $p
        );
        let x = random::<(usize, usize, Dim<$w>)>((b, c, Dim), $rng);
        let p = Pool1d::<$k, $s, $p>;
        let max = x.max_pool1d_with(p);
        let avg = x.avg_pool1d_with(p);
        let (em, ea) = naive_pool(
            x.as_slice(),
            [b, c, 1, $w],
            [1, $k],
            [1, $s],
            [0, $p],
            [1, 1],
            [1, max.dims()[2]],
        );
        assert_close(&format!("max_pool1d {what}"), &em, max.as_slice());
        assert_close(&format!("avg_pool1d {what}"), &ea, avg.as_slice());
        if em.iter().all(|v| v.is_finite()) {
            grad_ok(&format!("max_pool1d {what}"), &x, |x| x.max_pool1d_with(p));
        }
        grad_ok(&format!("avg_pool1d {what}"), &x, |x| x.avg_pool1d_with(p));
    }};
}

#[test]
fn pooling_and_tile_over_empty_batches_channels_and_planes() {
    let mut rng = Rng::new(5);
    for _ in 0..12 {
        let rng = &mut rng;
        pool2d_case!(rng, 4, 4, 2, 2, 2, 2, 0, 0);
        pool2d_case!(rng, 3, 5, 3, 2, 1, 2, 1, 1);
        // an empty plane, padded: every window holds only padding
        pool2d_case!(rng, 0, 0, 2, 2, 1, 1, 1, 1);
        pool2d_case!(rng, 0, 3, 2, 3, 1, 1, 1, 0);
        pool2d_case!(rng, 2, 0, 1, 2, 1, 2, 0, 1);
        pool1d_case!(rng, 5, 2, 2, 0);
        pool1d_case!(rng, 0, 2, 1, 1);
        pool1d_case!(rng, 0, 2, 2, 1);
        pool1d_case!(rng, 1, 3, 1, 1);
        // tile: an empty batch, empty channels, an empty plane
        let (b, c) = (size(rng), size(rng));
        let x = random::<(usize, usize, Dim<4>, Dim<2>)>((b, c, Dim, Dim), rng);
        let tiled = x.tile::<2, 2>();
        assert_eq!(tiled.dims(), [b, c, 2, 1, 4]);
        assert_close(
            "tile then max",
            x.max_pool2d::<2, 2>().as_slice(),
            tiled.max::<4>().as_slice(),
        );
        grad_ok(&format!("tile [{b}, {c}, 4, 2]"), &x, |x| x.tile::<2, 2>());
        let e = random::<(usize, usize, Dim<0>, Dim<2>)>((b, c, Dim, Dim), rng);
        assert_eq!(e.tile::<2, 2>().dims(), [b, c, 0, 1, 4]);
        grad_ok(&format!("tile [{b}, {c}, 0, 2]"), &e, |x| x.tile::<2, 2>());
    }
}
