//! The pooling kernels against plain loops written here (every tap tested against the padding,
//! no precomputed windows), on named edge cases and random geometries, in f64 and f32, forward
//! and backward (which must add into its buffer, not overwrite it); both sides of the rayon
//! threshold inside explicit 2- and 3-thread pools.

use super::kernels::{
    avg_backward, avg_forward, max_backward, max_forward, PoolGeometry, Window, NO_INPUT,
    PARALLEL_MIN_READS,
};
use crate::tensor::{Element, Rng};

/// A geometry with the output sizes PyTorch gives.
fn geometry(
    planes: usize,
    [in_h, in_w]: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
) -> PoolGeometry {
    let mut g = PoolGeometry {
        planes,
        in_h,
        in_w,
        out_h: 0,
        out_w: 0,
        kernel,
        stride,
        padding,
        dilation,
    };
    [g.out_h, g.out_w] = g.out_sizes().expect("a valid pooling");
    g
}

/// The input position `o*stride + k*dilation - padding` along one axis, if inside `0..n`.
fn tap(
    o: usize,
    k: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    n: usize,
) -> Option<usize> {
    (o * stride + k * dilation)
        .checked_sub(padding)
        .filter(|&i| i < n)
}

/// Every output's taps inside the input, as plane offsets, in row-major window order.
fn taps(g: &PoolGeometry, oy: usize, ox: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for ky in 0..g.kernel[0] {
        for kx in 0..g.kernel[1] {
            let iy = tap(oy, ky, g.stride[0], g.padding[0], g.dilation[0], g.in_h);
            let ix = tap(ox, kx, g.stride[1], g.padding[1], g.dilation[1], g.in_w);
            if let (Some(iy), Some(ix)) = (iy, ix) {
                out.push(iy * g.in_w + ix);
            }
        }
    }
    out
}

/// Plain max pooling: values and argmax (a plane offset, or `None` for a window of padding).
/// PyTorch's rule, spelled out: the first tap starts as the maximum; a later tap takes over when
/// it is larger or NaN (so the last NaN wins, and a number never replaces a NaN).
fn naive_max(g: &PoolGeometry, x: &[f64]) -> (Vec<f64>, Vec<Option<usize>>) {
    let (mut y, mut at) = (Vec::new(), Vec::new());
    for p in 0..g.planes {
        let plane = &x[p * g.in_plane()..][..g.in_plane()];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let mut best: Option<usize> = None;
                for i in taps(g, oy, ox) {
                    if best.is_none_or(|b| plane[i] > plane[b] || plane[i].is_nan()) {
                        best = Some(i);
                    }
                }
                y.push(best.map_or(f64::NEG_INFINITY, |b| plane[b]));
                at.push(best);
            }
        }
    }
    (y, at)
}

/// Plain average pooling (padding counted): values.
fn naive_avg(g: &PoolGeometry, x: &[f64]) -> Vec<f64> {
    let count = (g.kernel[0] * g.kernel[1]) as f64;
    let mut y = Vec::new();
    for p in 0..g.planes {
        let plane = &x[p * g.in_plane()..][..g.in_plane()];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                y.push(taps(g, oy, ox).iter().map(|&i| plane[i]).sum::<f64>() / count);
            }
        }
    }
    y
}

/// Plain gradients of both poolings for the upstream gradient `gy`: `[max, avg]`.
fn naive_grads(g: &PoolGeometry, x: &[f64], gy: &[f64]) -> [Vec<f64>; 2] {
    let (_, at) = naive_max(g, x);
    let count = (g.kernel[0] * g.kernel[1]) as f64;
    let (mut max, mut avg) = (vec![0.0; g.input_len()], vec![0.0; g.input_len()]);
    for p in 0..g.planes {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let o = (p * g.out_h + oy) * g.out_w + ox;
                if let Some(i) = at[o] {
                    max[p * g.in_plane() + i] += gy[o];
                }
                for i in taps(g, oy, ox) {
                    avg[p * g.in_plane() + i] += gy[o] / count;
                }
            }
        }
    }
    [max, avg]
}

fn random(rng: &mut Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.normal()).collect()
}

/// Random normal values with NaN, -inf and repeated values sprinkled in (about one in eight
/// each), so that windows hold NaNs first, in the middle, last, several, or only -inf.
fn random_special(rng: &mut Rng, len: usize) -> Vec<f64> {
    (0..len)
        .map(|_| match rng.below(8) {
            0 => f64::NAN,
            1 => f64::NEG_INFINITY,
            2 => 0.5,
            _ => rng.normal(),
        })
        .collect()
}

/// The mismatches of `got` against `expected`, with a tolerance for `E`.
fn compare<E: Element>(what: &str, g: &PoolGeometry, expected: &[f64], got: &[E]) -> Vec<String> {
    let tol = if size_of::<E>() == 4 { 1e-5 } else { 1e-12 };
    assert_eq!(expected.len(), got.len(), "{what}: lengths, {g:?}");
    expected
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (&e, &v))| {
            let v = v.to_f64().unwrap();
            !(e == v || (e.is_nan() && v.is_nan()) || (v - e).abs() <= tol * e.abs().max(1.0))
        })
        .take(3)
        .map(|(i, (e, v))| format!("{what} [{i}]: expected {e}, got {v} for {g:?}"))
        .collect()
}

/// Runs all four kernels in `E` on `g` and compares them with the plain loops.
fn check_kernels<E: Element>(g: &PoolGeometry, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let x = random(&mut rng, g.input_len());
    check_kernels_on::<E>(g, &x, seed)
}

/// [`check_kernels`] on the input `x`.
fn check_kernels_on<E: Element>(g: &PoolGeometry, x: &[f64], seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed ^ 0x9e37);
    let gy = random(&mut rng, g.output_len());
    let (xe, gye): (Vec<E>, Vec<E>) = (
        x.iter().map(|&v| E::of(v)).collect(),
        gy.iter().map(|&v| E::of(v)).collect(),
    );
    // f32 rounding may reorder near-ties: take the argmax from the f32 values themselves
    let x_rounded: Vec<f64> = xe.iter().map(|v| v.to_f64().unwrap()).collect();
    let mut failures = Vec::new();

    let (y_max, at) = naive_max(g, &x_rounded);
    let mut y = vec![E::of(7.0); g.output_len()];
    let mut argmax = vec![7u32; g.output_len()];
    max_forward(g, &xe, &mut y, &mut argmax);
    failures.extend(compare("max_forward", g, &y_max, &y));
    let expected_at: Vec<u32> = at
        .iter()
        .map(|a| a.map_or(NO_INPUT, |a| a as u32))
        .collect();
    if argmax != expected_at {
        failures.push(format!(
            "max_forward argmax: {argmax:?} vs {expected_at:?} for {g:?}"
        ));
    }
    let mut y = vec![E::of(7.0); g.output_len()];
    avg_forward(g, &xe, &mut y);
    failures.extend(compare("avg_forward", g, &naive_avg(g, x), &y));

    // backward adds into what is there
    let [grad_max, grad_avg] = naive_grads(g, &x_rounded, &gy);
    let plus_one = |v: Vec<f64>| v.into_iter().map(|v| v + 1.0).collect::<Vec<_>>();
    let mut grad = vec![E::one(); g.input_len()];
    max_backward(g, &gye, &argmax, &mut grad);
    failures.extend(compare("max_backward", g, &plus_one(grad_max), &grad));
    let mut grad = vec![E::one(); g.input_len()];
    avg_backward(g, &gye, &mut grad);
    failures.extend(compare("avg_backward", g, &plus_one(grad_avg), &grad));
    failures
}

fn assert_none(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn window_taps_match_the_per_tap_test() {
    for (n, k, s, p, d) in [
        (4, 2, 2, 0, 1),
        (7, 3, 2, 1, 1),
        (8, 3, 1, 1, 2),
        (3, 2, 1, 1, 4), // output 0 reads positions -1 and 3: only padding
        (1, 3, 1, 1, 1),
        (10, 5, 3, 2, 2),
    ] {
        let out = PoolGeometry::out_size(n, k, s, p, d).unwrap();
        for o in 0..out {
            let expected: Vec<usize> = (0..k).filter_map(|t| tap(o, t, s, p, d, n)).collect();
            let w = Window::new(n, k, s, p, d, o);
            assert_eq!(
                w.positions().collect::<Vec<_>>(),
                expected,
                "n {n} k {k} s {s} p {p} d {d} o {o}"
            );
        }
    }
}

#[test]
fn out_size_follows_pytorch() {
    assert_eq!(PoolGeometry::out_size(28, 2, 2, 0, 1), Some(14));
    assert_eq!(PoolGeometry::out_size(9, 3, 2, 0, 1), Some(4)); // overlapping windows
    assert_eq!(PoolGeometry::out_size(7, 3, 2, 1, 1), Some(4)); // (7 + 2 - 3)/2 + 1
    assert_eq!(PoolGeometry::out_size(8, 3, 1, 1, 2), Some(6)); // span 5
    assert_eq!(PoolGeometry::out_size(4, 5, 1, 0, 1), None); // window taller than the input
    assert_eq!(PoolGeometry::out_size(9, 3, 1, 2, 1), None); // padding above half the window
    assert_eq!(PoolGeometry::out_size(9, 3, 0, 0, 1), None);
    assert_eq!(PoolGeometry::out_size(9, 0, 1, 0, 1), None);
}

#[test]
fn named_edge_cases_match_plain_loops() {
    let cases = [
        geometry(1, [4, 4], [2, 2], [2, 2], [0, 0], [1, 1]),
        geometry(2, [6, 8], [3, 2], [3, 2], [0, 0], [1, 1]), // the golden case's windows
        geometry(3, [9, 9], [3, 3], [2, 2], [0, 0], [1, 1]), // overlapping
        geometry(2, [7, 7], [3, 3], [2, 2], [1, 1], [1, 1]), // padding
        geometry(1, [5, 10], [1, 5], [1, 2], [0, 2], [1, 1]), // per-axis padding and stride
        geometry(2, [8, 9], [2, 3], [1, 2], [1, 0], [2, 3]), // per-axis dilation
        geometry(1, [1, 3], [1, 2], [1, 1], [0, 1], [1, 4]), // a window of padding only
        geometry(2, [0, 4], [2, 2], [1, 1], [1, 1], [1, 1]), // an empty input, padded
        geometry(4, [1, 11], [1, 3], [1, 2], [0, 1], [1, 2]), // 1-D
        geometry(0, [4, 4], [2, 2], [2, 2], [0, 0], [1, 1]), // a batch of 0
    ];
    for (i, g) in cases.iter().enumerate() {
        assert_none(check_kernels::<f64>(g, i as u64));
        assert_none(check_kernels::<f32>(g, i as u64));
    }
}

/// A random valid geometry: window up to 4 x 4, stride up to 3, dilation up to 2, padding up
/// to half the window, input from the smallest that fits (0 when the padding alone holds the
/// window) to 6 more, 0 to 4 planes.
fn random_geometry(rng: &mut Rng) -> PoolGeometry {
    let mut axis = || {
        let k = 1 + rng.below(4);
        let (s, d, p) = (1 + rng.below(3), 1 + rng.below(2), rng.below(k / 2 + 1));
        let span = d * (k - 1) + 1;
        let n = span.saturating_sub(2 * p) + rng.below(7);
        (n, k, s, p, d)
    };
    let (h, w) = (axis(), axis());
    geometry(
        rng.below(5),
        [h.0, w.0],
        [h.1, w.1],
        [h.2, w.2],
        [h.3, w.3],
        [h.4, w.4],
    )
}

#[test]
fn random_geometries_match_plain_loops() {
    let mut rng = Rng::new(2024);
    let (mut empty_inputs, mut empty_batches) = (0, 0);
    for i in 0..300 {
        let g = random_geometry(&mut rng);
        empty_inputs += usize::from(g.in_plane() == 0);
        empty_batches += usize::from(g.planes == 0);
        assert!(!g.worth_threads() || rayon::current_num_threads() > 1);
        assert_none(check_kernels::<f64>(&g, i));
        assert_none(check_kernels::<f32>(&g, i));
        // NaN, -inf and ties in the windows: PyTorch's rule, on both the dense and the
        // general path
        let x = random_special(&mut rng, g.input_len());
        assert_none(check_kernels_on::<f64>(&g, &x, i));
        assert_none(check_kernels_on::<f32>(&g, &x, i));
    }
    // the zero sizes were drawn
    assert!(
        empty_inputs > 5 && empty_batches > 30,
        "{empty_inputs} {empty_batches}"
    );
}

/// Both sides of the threshold inside explicit 2- and 3-thread pools: the planes split between
/// threads (an uneven count, too) give the single-threaded answer.
#[test]
fn threaded_and_single_threaded_runs_match_plain_loops() {
    let large = [
        geometry(8, [32, 32], [3, 3], [1, 1], [1, 1], [1, 1]),
        geometry(15, [40, 40], [2, 3], [2, 1], [1, 1], [1, 2]),
        geometry(5, [1, 4096], [1, 4], [1, 1], [0, 2], [1, 3]), // 1-D
    ];
    let small = [
        geometry(8, [8, 8], [2, 2], [2, 2], [0, 0], [1, 1]),
        geometry(1, [64, 64], [4, 4], [1, 1], [2, 2], [1, 1]), // one plane: no threads
    ];
    for threads in [2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            assert_eq!(rayon::current_num_threads(), threads);
            for (i, g) in large.iter().enumerate() {
                assert!(
                    g.reads() >= PARALLEL_MIN_READS && g.worth_threads(),
                    "{g:?}"
                );
                assert_none(check_kernels::<f64>(g, i as u64));
                assert_none(check_kernels::<f32>(g, i as u64));
            }
            for (i, g) in small.iter().enumerate() {
                assert!(!g.worth_threads(), "{g:?}");
                assert_none(check_kernels::<f64>(g, i as u64));
            }
        });
    }
}

#[test]
fn a_window_of_padding_only_is_minus_infinity_and_sends_no_gradient() {
    // width 3, window 2, dilation 4, padding 1: output 0 reads positions -1 and 3
    let g = geometry(1, [1, 3], [1, 2], [1, 1], [0, 1], [1, 4]);
    assert_eq!([g.out_h, g.out_w], [1, 1]);
    let (mut y, mut at) = ([0.0f64], [0u32]);
    max_forward(&g, &[1.0, 2.0, 3.0], &mut y, &mut at);
    assert_eq!((y[0], at[0]), (f64::NEG_INFINITY, NO_INPUT));
    let mut grad = [0.0; 3];
    max_backward(&g, &[1.0], &at, &mut grad);
    assert_eq!(grad, [0.0; 3]);
}

/// The cases and PyTorch's answers (`F.max_pool1d(x, 3)` and `F.max_pool2d(x, 2)` in
/// PyTorch 2.15; the argmax is where `backward()` sends the gradient): a NaN anywhere in the
/// window wins, and of several NaNs the last; a number after a NaN does not replace it.
#[test]
fn a_nan_wins_the_window_as_in_pytorch() {
    let nan = f64::NAN;
    // 1-D, windows of 3: NaN first, in the middle, last; two NaNs
    let g = geometry(1, [1, 3], [1, 3], [1, 3], [0, 0], [1, 1]);
    for (x, at) in [
        ([9.0, nan, 1.0], 1),
        ([nan, 9.0, 1.0], 0),
        ([9.0, 1.0, nan], 2),
        ([nan, nan, 1.0], 1),
        ([1.0, nan, nan], 2),
        ([nan, 1.0, nan], 2),
    ] {
        let (mut y, mut argmax) = ([0.0f64], [0u32]);
        max_forward(&g, &x, &mut y, &mut argmax);
        assert!(
            y[0].is_nan() && argmax[0] == at,
            "{x:?}: {y:?} at {argmax:?}"
        );
        // the general path (padding 1, one 5-wide window over the padded input) agrees
        let padded = geometry(1, [1, 3], [1, 5], [1, 5], [0, 2], [1, 1]);
        let (mut y, mut argmax) = ([0.0f64], [0u32]);
        max_forward(&padded, &x, &mut y, &mut argmax);
        assert!(
            y[0].is_nan() && argmax[0] == at,
            "padded {x:?}: {y:?} at {argmax:?}"
        );
    }
    // 2-D, one 2 x 2 window: [1, NaN, 0, 0] gave 0 (its gradient went to a 0)
    let g = geometry(1, [2, 2], [2, 2], [2, 2], [0, 0], [1, 1]);
    for (x, at) in [
        ([1.0, nan, 0.0, 0.0], 1),
        ([nan, 1.0, 0.0, 0.0], 0),
        ([1.0, 0.0, 0.0, nan], 3),
        ([nan, nan, 0.0, 0.0], 1),
        ([0.0, nan, nan, 0.0], 2),
    ] {
        let (mut y, mut argmax) = ([0.0f32], [0u32]);
        max_forward(&g, &x.map(|v| v as f32), &mut y, &mut argmax);
        assert!(
            y[0].is_nan() && argmax[0] == at,
            "{x:?}: {y:?} at {argmax:?}"
        );
        let mut grad = [0.0f32; 4];
        max_backward(&g, &[1.0], &argmax, &mut grad);
        let mut expected = [0.0; 4];
        expected[at as usize] = 1.0;
        assert_eq!(grad, expected, "{x:?}");
    }
}

/// A window whose taps are all `-inf` gives `-inf` and sends its gradient to its first tap, as
/// PyTorch's kernel (which starts from that tap); before, it sent no gradient at all.
#[test]
fn a_window_of_minus_infinity_sends_its_gradient_to_the_first_tap() {
    let inf = f64::INFINITY;
    for padding in [0, 1] {
        // width 4, windows of 2 (stride 2): [-inf, -inf], [-inf, 3]; padded: [pad, -inf], ...
        let g = geometry(1, [1, 4], [1, 2], [1, 2], [0, padding], [1, 1]);
        let x = [-inf, -inf, -inf, 3.0];
        let (mut y, mut at) = (vec![0.0; g.out_w], vec![0u32; g.out_w]);
        max_forward(&g, &x, &mut y, &mut at);
        let expected: &[u32] = if padding == 0 { &[0, 3] } else { &[0, 1, 3] };
        assert_eq!(at, expected, "padding {padding}");
        assert_eq!(y[0], -inf);
    }
}

#[test]
fn ties_go_to_the_first_tap_on_both_paths() {
    // All equal values: every window's maximum is its first tap, in row-major order, whether
    // the window is a plain block (the dense path) or crosses the padding (the general one).
    for padding in [[0, 0], [1, 1]] {
        let g = geometry(2, [6, 6], [2, 3], [2, 2], padding, [1, 1]);
        let x = vec![1.5f32; g.input_len()];
        let (mut y, mut at) = (vec![0.0f32; g.output_len()], vec![0u32; g.output_len()]);
        max_forward(&g, &x, &mut y, &mut at);
        let (_, expected) = naive_max(&g, &vec![1.5f64; g.input_len()]);
        let expected: Vec<u32> = expected
            .iter()
            .map(|a| a.map_or(NO_INPUT, |a| a as u32))
            .collect();
        assert_eq!(at, expected, "padding {padding:?}");
    }
}

#[test]
fn each_dense_window_copy_agrees_with_plain_loops() {
    // 2x2 and 3x3 have a copy with the size as a constant; 2x3 takes the run-time loops; the
    // stride may differ from the window. All without padding or dilation: the dense path.
    for (kernel, stride) in [
        ([2, 2], [2, 2]),
        ([3, 3], [2, 1]),
        ([2, 3], [1, 2]),
        ([3, 3], [3, 3]),
    ] {
        let g = geometry(3, [9, 11], kernel, stride, [0, 0], [1, 1]);
        assert_none(check_kernels::<f32>(&g, 5));
        assert_none(check_kernels::<f64>(&g, 6));
    }
}
