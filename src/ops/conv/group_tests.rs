//! Grouped, depthwise and transposed convolutions give one answer: a hand case each, then the
//! plans against plain loops written from PyTorch's definitions (not from the kernels they
//! test) on random geometries, in f64 and f32, forward and both gradients (which must add into
//! their buffers); the depthwise loops and the per-group plan both on `groups == C`; sizes
//! above the depthwise and convolution thread thresholds inside 1-, 2- and 3-thread pools.

use super::grouped::GroupKernel;
use super::{depthwise, ConvGeometry, GroupedPlan, TransposedPlan};
use crate::tensor::{Element, Rng};

// ---------------------------------------------------------------------------------------------
// The references: plain loops
// ---------------------------------------------------------------------------------------------

/// The input position read by output position `o` at tap `k`, or `None` in the padding.
fn read(o: usize, k: usize, stride: usize, dilation: usize, pad: usize, n: usize) -> Option<usize> {
    (o * stride + k * dilation)
        .checked_sub(pad)
        .filter(|&i| i < n)
}

/// `output[b, o, oy, ox] = sum_{c < C/G, ky, kx} weight[o, c, ky, kx]
///     * input[b, (o / (O/G))·(C/G) + c, iy, ix]` (PyTorch's `groups=`), overwriting.
fn naive_grouped_forward<E: Element>(
    g: &ConvGeometry,
    groups: usize,
    input: &[E],
    weight: &[E],
    output: &mut [E],
) {
    let (cg, og) = (g.in_channels / groups, g.out_channels / groups);
    let (kh, kw) = (g.kernel_h, g.kernel_w);
    for b in 0..g.batch {
        for o in 0..g.out_channels {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let mut sum = E::zero();
                    for c in 0..cg {
                        let channel = (o / og) * cg + c;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = read(oy, ky, g.stride_h, g.dilation_h, g.pad_top, g.in_h);
                                let ix = read(ox, kx, g.stride_w, g.dilation_w, g.pad_left, g.in_w);
                                if let (Some(iy), Some(ix)) = (iy, ix) {
                                    sum += weight[((o * cg + c) * kh + ky) * kw + kx]
                                        * input[g.input_at(b, channel, iy, ix)];
                                }
                            }
                        }
                    }
                    output[g.output_at(b, o, oy, ox)] = sum;
                }
            }
        }
    }
}

/// Both gradients of [`naive_grouped_forward`], added: every product `weight * input` of the
/// forward pass sends `grad_output * weight` to the input and `grad_output * input` to the
/// weight.
fn naive_grouped_grads<E: Element>(
    g: &ConvGeometry,
    groups: usize,
    (input, weight, grad_output): (&[E], &[E], &[E]),
    grad_input: &mut [E],
    grad_weight: &mut [E],
) {
    let (cg, og) = (g.in_channels / groups, g.out_channels / groups);
    let (kh, kw) = (g.kernel_h, g.kernel_w);
    for b in 0..g.batch {
        for o in 0..g.out_channels {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let upstream = grad_output[g.output_at(b, o, oy, ox)];
                    for c in 0..cg {
                        let channel = (o / og) * cg + c;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = read(oy, ky, g.stride_h, g.dilation_h, g.pad_top, g.in_h);
                                let ix = read(ox, kx, g.stride_w, g.dilation_w, g.pad_left, g.in_w);
                                if let (Some(iy), Some(ix)) = (iy, ix) {
                                    let w = ((o * cg + c) * kh + ky) * kw + kx;
                                    let x = g.input_at(b, channel, iy, ix);
                                    grad_input[x] += upstream * weight[w];
                                    grad_weight[w] += upstream * input[x];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A transposed convolution as PyTorch defines it: every input element spreads the weight over
/// the output, `output[b, g·O/G + o, iy*S + ky*D - P, ix*S + kx*D - P] +=
/// input[b, c, iy, ix] * weight[c, o, ky, kx]`, with the output's sizes given (`out`:
/// `[B, O, OH, OW]`), positions outside it dropped. Overwrites.
#[allow(clippy::too_many_arguments)]
fn naive_transposed<E: Element>(
    x_dims: [usize; 4],
    out: [usize; 4],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    (input, weight): (&[E], &[E]),
    output: &mut [E],
) {
    let [batch, in_channels, h, w] = x_dims;
    let [_, out_channels, oh, ow] = out;
    let (cg, og) = (in_channels / groups, out_channels / groups);
    output.iter_mut().for_each(|y| *y = E::zero());
    for b in 0..batch {
        for c in 0..in_channels {
            let group = c / cg;
            for iy in 0..h {
                for ix in 0..w {
                    let x = input[((b * in_channels + c) * h + iy) * w + ix];
                    for o in 0..og {
                        for ky in 0..kernel[0] {
                            for kx in 0..kernel[1] {
                                let oy =
                                    (iy * stride[0] + ky * dilation[0]).checked_sub(padding[0]);
                                let ox =
                                    (ix * stride[1] + kx * dilation[1]).checked_sub(padding[1]);
                                if let (Some(oy), Some(ox)) = (oy, ox) {
                                    if oy < oh && ox < ow {
                                        let channel = group * og + o;
                                        output
                                            [((b * out_channels + channel) * oh + oy) * ow + ox] +=
                                            x * weight
                                                [((c * og + o) * kernel[0] + ky) * kernel[1] + kx];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn random_vec<E: Element>(rng: &mut Rng, len: usize) -> Vec<E> {
    (0..len).map(|_| E::of(rng.normal())).collect()
}

/// Panics unless `max |got - expected| <= tol * max(1, max |expected|)`, naming the worst
/// element.
fn assert_close<E: Element>(what: &str, got: &[E], expected: &[E], tol: f64) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths differ");
    let scale = expected
        .iter()
        .map(|e| e.abs().to_f64().unwrap())
        .fold(1.0, f64::max);
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let err = (*g - *e).abs().to_f64().unwrap();
        assert!(
            err <= tol * scale,
            "{what}: element {i}: expected {e}, got {g} (error {err:e}, scale {scale:e})"
        );
    }
}

/// A geometry with `groups` dividing both channel counts: `per_in` input and `per_out`
/// output channels a group, random sizes, stride, padding and dilation per axis (conv1d one
/// time in four).
fn random_geometry(rng: &mut Rng, groups: usize, per_in: usize, per_out: usize) -> ConvGeometry {
    loop {
        let is_1d = rng.below(4) == 0;
        let (in_h, kernel_h) = if is_1d {
            (1, 1)
        } else {
            (1 + rng.below(9), 1 + rng.below(4))
        };
        let (in_w, kernel_w) = (1 + rng.below(12), 1 + rng.below(4));
        let (stride_h, dilation_h) = if is_1d {
            (1, 1)
        } else {
            (1 + rng.below(3), 1 + rng.below(2))
        };
        let (stride_w, dilation_w) = (1 + rng.below(3), 1 + rng.below(3));
        let pad_top = if is_1d { 0 } else { rng.below(kernel_h + 1) };
        let pad_left = rng.below(kernel_w + 1);
        let out_h = ConvGeometry::out_size(in_h, kernel_h, stride_h, pad_top, dilation_h);
        let out_w = ConvGeometry::out_size(in_w, kernel_w, stride_w, pad_left, dilation_w);
        if let (Some(out_h), Some(out_w)) = (out_h, out_w) {
            return ConvGeometry {
                batch: 1 + rng.below(3),
                in_channels: groups * per_in,
                out_channels: groups * per_out,
                in_h,
                in_w,
                kernel_h,
                kernel_w,
                out_h,
                out_w,
                stride_h,
                stride_w,
                pad_top,
                pad_left,
                dilation_h,
                dilation_w,
            };
        }
    }
}

/// The plan (`depthwise` or per group) against the naive loops on `g` in `groups` groups,
/// forward and both gradients, each gradient added into a buffer that is not zero.
fn check_grouped<E: Element>(
    g: &ConvGeometry,
    groups: usize,
    depthwise: bool,
    seed: u64,
    tol: f64,
) {
    let mut rng = Rng::new(seed);
    let weight_len = g.out_channels * (g.in_channels / groups) * g.kernel_h * g.kernel_w;
    let x = random_vec::<E>(&mut rng, g.input_len());
    let w = random_vec::<E>(&mut rng, weight_len);
    let gy = random_vec::<E>(&mut rng, g.output_len());
    let start_gx = random_vec::<E>(&mut rng, g.input_len());
    let start_gw = random_vec::<E>(&mut rng, weight_len);
    let mut y = vec![E::zero(); g.output_len()];
    naive_grouped_forward(g, groups, &x, &w, &mut y);
    let (mut gx, mut gw) = (start_gx.clone(), start_gw.clone());
    naive_grouped_grads(g, groups, (&x, &w, &gy), &mut gx, &mut gw);

    let plan = GroupedPlan::with_kernel::<E>(g, groups, depthwise);
    assert_eq!(matches!(plan.kernel(), GroupKernel::Depthwise), depthwise);
    assert_eq!(plan.weight_len(), weight_len);
    let what = |pass: &str| format!("{pass}, groups {groups}, depthwise {depthwise}, {g:?}");
    // a stale value in the output must be overwritten
    let mut got_y = vec![E::of(7.0); g.output_len()];
    plan.forward(&x, &w, &mut got_y);
    assert_close(&what("forward"), &got_y, &y, tol);
    let mut got_gx = start_gx.clone();
    plan.grad_input(&gy, &w, &mut got_gx);
    assert_close(&what("grad_input"), &got_gx, &gx, tol);
    let mut got_gw = start_gw.clone();
    plan.grad_weight(&gy, &x, &mut got_gw);
    assert_close(&what("grad_weight"), &got_gw, &gw, tol);
}

// ---------------------------------------------------------------------------------------------
// Grouped and depthwise
// ---------------------------------------------------------------------------------------------

/// Two groups, by hand: input `[1, 2, 3]` (channel 0: 1 2 3, channel 1: 4 5 6), weight
/// `[2, 1, 2]` (filter 0: 1 -1 for channel 0, filter 1: 2 1 for channel 1).
#[test]
fn two_groups_by_hand() {
    let g = ConvGeometry {
        batch: 1,
        in_channels: 2,
        out_channels: 2,
        in_h: 1,
        in_w: 3,
        kernel_h: 1,
        kernel_w: 2,
        out_h: 1,
        out_w: 2,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        dilation_h: 1,
        dilation_w: 1,
    };
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let w = [1.0, -1.0, 2.0, 1.0];
    let expected = [
        1.0 * 1.0 - 2.0 * 1.0, // group 0, position 0: weight 1, -1
        2.0 * 1.0 - 3.0 * 1.0,
        4.0 * 2.0 + 5.0 * 1.0, // group 1 reads channel 1 only
        5.0 * 2.0 + 6.0 * 1.0,
    ];
    for depthwise in [false, true] {
        let mut y = [0.0f64; 4];
        GroupedPlan::with_kernel::<f64>(&g, 2, depthwise).forward(&x, &w, &mut y);
        assert_eq!(y, expected, "depthwise {depthwise}");
    }
}

#[test]
fn random_grouped_geometries_agree_with_naive() {
    let mut rng = Rng::new(15);
    for seed in 0..150 {
        let groups = 1 + rng.below(4);
        let (per_in, per_out) = (1 + rng.below(3), 1 + rng.below(3));
        let g = random_geometry(&mut rng, groups, per_in, per_out);
        check_grouped::<f64>(&g, groups, false, seed, 1e-12);
        check_grouped::<f32>(&g, groups, false, seed, 1e-4);
        if per_in == 1 {
            // groups == in_channels: the depthwise loops too
            check_grouped::<f64>(&g, groups, true, seed, 1e-12);
            check_grouped::<f32>(&g, groups, true, seed, 1e-4);
        }
    }
}

#[test]
fn random_depthwise_geometries_agree_with_naive() {
    let mut rng = Rng::new(16);
    for seed in 0..150 {
        let channels = 1 + rng.below(5);
        let multiplier = 1 + rng.below(3);
        let g = random_geometry(&mut rng, channels, 1, multiplier);
        for depthwise in [true, false] {
            check_grouped::<f64>(&g, channels, depthwise, seed, 1e-12);
            check_grouped::<f32>(&g, channels, depthwise, seed, 1e-4);
        }
    }
}

#[test]
fn new_picks_depthwise_when_every_group_has_one_input_channel() {
    let mut rng = Rng::new(3);
    let g = random_geometry(&mut rng, 4, 1, 2);
    assert_eq!(
        GroupedPlan::new::<f32>(&g, 4).kernel(),
        GroupKernel::Depthwise
    );
    let g = random_geometry(&mut rng, 2, 2, 1);
    assert!(matches!(
        GroupedPlan::new::<f32>(&g, 2).kernel(),
        GroupKernel::PerGroup(_)
    ));
    // one input channel, one group: an ordinary convolution
    let g = random_geometry(&mut rng, 1, 1, 3);
    assert!(matches!(
        GroupedPlan::new::<f32>(&g, 1).kernel(),
        GroupKernel::PerGroup(_)
    ));
}

/// A rayon pool of `threads` threads.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// Geometries above the thresholds at which work is split across threads (the depthwise
/// loops' [`depthwise::THREADS_FROM`] multiply-adds; 2^20 for a group's convolution), in 1-,
/// 2- and 3-thread pools: a MobileNet-like depthwise 3x3 (stride 1 and 2, multiplier 1 and 2),
/// and a grouped 3x3 of 4 groups.
#[test]
fn thread_pools_above_the_thresholds_agree_with_naive() {
    let conv = |batch: usize, groups: usize, per_in: usize, per_out, size: usize, stride| {
        let out = ConvGeometry::out_size(size, 3, stride, 1, 1).unwrap();
        ConvGeometry {
            batch,
            in_channels: groups * per_in,
            out_channels: groups * per_out,
            in_h: size,
            in_w: size,
            kernel_h: 3,
            kernel_w: 3,
            out_h: out,
            out_w: out,
            stride_h: stride,
            stride_w: stride,
            pad_top: 1,
            pad_left: 1,
            dilation_h: 1,
            dilation_w: 1,
        }
    };
    let cases = [
        (conv(2, 16, 1, 1, 40, 1), 16, true),
        (conv(4, 16, 1, 2, 65, 2), 16, true),
        (conv(4, 4, 4, 8, 36, 1), 4, false),
    ];
    for (g, groups, depthwise) in cases {
        let work = g.output_len() * 9 * (g.in_channels / groups);
        assert!(work >= depthwise::THREADS_FROM, "{g:?}");
        if !depthwise {
            // each group's plan splits its work across threads
            assert!(work / groups >= 1 << 20, "{g:?}");
        }
        for threads in [1, 2, 3] {
            pool(threads).install(|| check_grouped::<f32>(&g, groups, depthwise, 5, 1e-4));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Transposed
// ---------------------------------------------------------------------------------------------

/// A random transposed convolution: input `[B, C, H, W]`, `groups`, its hyper-parameters with
/// `output_padding < stride` or `< dilation`, and the geometry of the convolution it
/// transposes (whose output has the input's sizes).
struct Transposed {
    x_dims: [usize; 4],
    out: [usize; 4],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    conv: ConvGeometry,
}

fn random_transposed(rng: &mut Rng) -> Transposed {
    loop {
        let is_1d = rng.below(4) == 0;
        let groups = 1 + rng.below(3);
        let (in_channels, out_channels) =
            (groups * (1 + rng.below(3)), groups * (1 + rng.below(3)));
        // (input, kernel, stride, padding, output padding, dilation, output) along one axis
        type Axis = (usize, usize, usize, usize, usize, usize, usize);
        let axis = |rng: &mut Rng, one: bool| -> Option<Axis> {
            if one {
                return Some((1, 1, 1, 0, 0, 1, 1));
            }
            let (n, k) = (1 + rng.below(7), 1 + rng.below(4));
            let (s, d) = (1 + rng.below(3), 1 + rng.below(3));
            let p = rng.below(k + 1);
            let op = rng.below(s.max(d));
            let full = (n - 1) * s + d * (k - 1) + op + 1;
            let out = full.checked_sub(2 * p).filter(|&o| o >= 1)?;
            Some((n, k, s, p, op, d, out))
        };
        let (Some(h), Some(w)) = (axis(rng, is_1d), axis(rng, false)) else {
            continue;
        };
        let batch = 1 + rng.below(2);
        let conv = ConvGeometry {
            batch,
            in_channels: out_channels,
            out_channels: in_channels,
            in_h: h.6,
            in_w: w.6,
            kernel_h: h.1,
            kernel_w: w.1,
            out_h: h.0,
            out_w: w.0,
            stride_h: h.2,
            stride_w: w.2,
            pad_top: h.3,
            pad_left: w.3,
            dilation_h: h.5,
            dilation_w: w.5,
        };
        return Transposed {
            x_dims: [batch, in_channels, h.0, w.0],
            out: [batch, out_channels, h.6, w.6],
            kernel: [h.1, w.1],
            stride: [h.2, w.2],
            padding: [h.3, w.3],
            dilation: [h.5, w.5],
            groups,
            conv,
        };
    }
}

/// The transposed plan against [`naive_transposed`]; its gradients against the naive loops of
/// the definition through central differences would be slow here, so they are checked
/// against the naive grouped convolution's (their definitions, `tests/conv_groups.rs` checks
/// them by central differences through the typed API).
fn check_transposed<E: Element>(t: &Transposed, seed: u64, tol: f64) {
    let mut rng = Rng::new(seed);
    let numel = |d: [usize; 4]| d.iter().product::<usize>();
    let weight_len = t.x_dims[1] * (t.out[1] / t.groups) * t.kernel[0] * t.kernel[1];
    let x = random_vec::<E>(&mut rng, numel(t.x_dims));
    let w = random_vec::<E>(&mut rng, weight_len);
    let gy = random_vec::<E>(&mut rng, numel(t.out));
    let mut y = vec![E::zero(); numel(t.out)];
    naive_transposed(
        t.x_dims,
        t.out,
        t.kernel,
        t.stride,
        t.padding,
        t.dilation,
        t.groups,
        (&x, &w),
        &mut y,
    );
    let plan = TransposedPlan::new::<E>(&t.conv, t.groups);
    let what = |pass: &str| format!("transposed {pass}, groups {}, {:?}", t.groups, t.conv);
    let mut got = vec![E::of(3.0); y.len()];
    plan.forward(&x, &w, &mut got);
    assert_close(&what("forward"), &got, &y, tol);
    // d/dx of sum(gy * y) and d/dw: the transposed op is linear in each, so its gradients
    // are the adjoint maps; the naive grouped convolution's loops give them directly
    let (mut gx, mut gw) = (vec![E::zero(); x.len()], vec![E::zero(); w.len()]);
    let mut conv_forward = vec![E::zero(); x.len()];
    naive_grouped_forward(&t.conv, t.groups, &gy, &w, &mut conv_forward);
    // grad_x = conv(gy, w): the transposed op's adjoint in x
    gx.iter_mut().zip(&conv_forward).for_each(|(g, &c)| *g += c);
    // grad_w: sum over products of x (as the conv's upstream gradient) and gy (its input)
    let mut unused = vec![E::zero(); gy.len()];
    naive_grouped_grads(&t.conv, t.groups, (&gy, &w, &x), &mut unused, &mut gw);
    let mut got_gx = vec![E::zero(); x.len()];
    plan.grad_input(&gy, &w, &mut got_gx);
    assert_close(&what("grad_input"), &got_gx, &gx, tol);
    let mut got_gw = vec![E::zero(); w.len()];
    plan.grad_weight(&gy, &x, &mut got_gw);
    assert_close(&what("grad_weight"), &got_gw, &gw, tol);
    // the adjoint identity ties them to the definition: <gy, T(x)> = <T*(gy), x>
    let lhs: f64 = gy
        .iter()
        .zip(&y)
        .map(|(a, b)| (*a * *b).to_f64().unwrap())
        .sum();
    let rhs: f64 = gx
        .iter()
        .zip(&x)
        .map(|(a, b)| (*a * *b).to_f64().unwrap())
        .sum();
    let scale = 1.0 + lhs.abs();
    assert!(
        (lhs - rhs).abs() <= tol * 100.0 * scale,
        "adjoint: {lhs} vs {rhs}, {:?}",
        t.conv
    );
}

#[test]
fn random_transposed_geometries_agree_with_naive() {
    let mut rng = Rng::new(17);
    for seed in 0..200 {
        let t = random_transposed(&mut rng);
        check_transposed::<f64>(&t, seed, 1e-12);
        check_transposed::<f32>(&t, seed, 1e-4);
    }
}
