//! The fast paths of the plan forced one at a time against `naive`: the AVX2 copies of the
//! blocked micro-kernels (every register blocking, both layouts, compile-time and run-time
//! kernel sizes) and Winograd's F(2x2, 3x3) (forward, input gradient, weight gradient; its
//! AVX2 and portable transforms; blocks cut small so that they split rows and span batch
//! entries), on shapes whose sizes leave remainders: widths that are not a multiple of a
//! block of positions, channel counts that are not multiples of 8, batch 1. Then each above
//! the size thresholds at which work is split, in pools of 1, 2 and 3 threads. Each test also
//! checks that the plan it runs really is the path it names, so that a change in the plan
//! cannot leave a path untested unnoticed.

use std::collections::BTreeSet;

use super::cpu::Isa;
use super::kernel_tests::{conv1d, conv2d, pool, teaching, with_isa, Reference};
use super::micro::{Blocking, Taps};
use super::{ConvAlgorithm, ConvGeometry, ConvOverride, ConvPass, ConvPlan, PassKernel};
use crate::tensor::{Element, Rng};

/// f32's tolerance relative to the largest value (`kernel_tests::assert_close`).
const F32_TOL: f64 = 1e-4;
/// f64's.
const F64_TOL: f64 = 1e-12;

/// What the blocked kernel of one pass runs with: `(pass, blocking, taps, layout)` as text.
fn blocked_path<E: Element>(g: &ConvGeometry, pass: ConvPass) -> (String, Isa) {
    match ConvPlan::with::<E>(g, ConvAlgorithm::Direct).kernel(pass) {
        PassKernel::Blocked(k) => (
            format!("{pass:?} {:?} {:?} {:?}", k.blocking, k.taps, k.layout),
            k.isa,
        ),
        other => panic!("forced direct on {g:?}, {pass:?} planned {other:?}"),
    }
}

/// Stride-1 geometries whose output (and input) channel counts take every AVX2 blocking of
/// both micro-kernels (`Blocking::planes`: 1, 2, 3 and 6, 4 and more; `Blocking::weights`: by
/// position under 6 channels past a multiple of 8, by channel one or two vectors), on planes
/// whose positions are not a multiple of a block (8 x 12, 8 x 6, ...), in both layouts,
/// with compile-time (3x3, 1x5, 1x1) and run-time (2x3, 4x4) kernel sizes, batch 1 and more.
fn avx2_geometries() -> Vec<ConvGeometry> {
    let mut geometries = Vec::new();
    for (i, &(in_channels, out_channels)) in [
        (1, 1),
        (2, 2),
        (3, 3),
        (6, 6),
        (9, 9),
        (5, 4),
        (4, 5),
        (7, 7),
        (3, 13),
        (2, 16),
        (11, 22),
        (5, 24),
        (1, 30),
    ]
    .iter()
    .enumerate()
    {
        let batch = 1 + i % 3;
        // wide: a 3x3 kernel, padding 1, on a 13-wide plane (15 padded, 13 out: 2 thrown away)
        geometries.push(conv2d(
            batch,
            in_channels,
            out_channels,
            [5, 13],
            [3, 3],
            1,
            [1, 1],
            1,
        ));
        // compact: a 4x4 kernel on an 11x7 plane (7 padded, 4 out)
        geometries.push(conv2d(
            batch,
            in_channels,
            out_channels,
            [11, 7],
            [4, 4],
            1,
            [0, 0],
            1,
        ));
        // conv1d with a compile-time 1x5 kernel, 37 long; a 2x3 and a 1x1 kernel
        geometries.push(conv1d(batch, in_channels, out_channels, 37, 5, 1, 2, 1));
        geometries.push(conv2d(
            batch,
            in_channels,
            out_channels,
            [6, 9],
            [2, 3],
            1,
            [1, 0],
            2,
        ));
        geometries.push(conv2d(
            batch,
            in_channels,
            out_channels,
            [3, 10],
            [1, 1],
            1,
            [0, 0],
            1,
        ));
    }
    geometries
}

#[test]
fn the_avx2_copies_take_every_blocking_and_agree_with_naive() {
    if !Isa::Avx2.supported() {
        eprintln!("no AVX2 on this CPU: its copies cannot run here");
        return;
    }
    let mut paths = BTreeSet::new();
    with_isa(Isa::Avx2, || {
        for (seed, g) in avx2_geometries().into_iter().enumerate() {
            for pass in ConvPass::ALL {
                let (path, isa) = blocked_path::<f32>(&g, pass);
                assert_eq!(isa, Isa::Avx2, "{g:?} {pass:?}");
                paths.insert(path);
            }
            // every implementation (direct forced among them) against naive, in f32 and,
            // where the AVX2 plan falls back to the generic loops, f64
            Reference::<f32>::new(&g, seed as u64).check("avx2", &g, F32_TOL);
            Reference::<f64>::new(&g, seed as u64).check("avx2 (f64)", &g, F64_TOL);
        }
    });
    let reached = |pass: &str, blocking: Blocking| {
        paths
            .iter()
            .any(|p| p.starts_with(&format!("{pass} {blocking:?} ")))
    };
    for (planes, vectors) in [(1, 12), (2, 6), (3, 4), (4, 2)] {
        let blocking = Blocking::Planes { planes, vectors };
        assert!(
            reached("Forward", blocking),
            "forward {blocking:?}: {paths:#?}"
        );
        assert!(
            reached("GradInput", blocking),
            "grad_input {blocking:?}: {paths:#?}"
        );
    }
    for blocking in [
        Blocking::ByPosition {
            channels: 3,
            taps: 3,
        },
        Blocking::ByChannel {
            vectors: 1,
            taps: 12,
        },
        Blocking::ByChannel {
            vectors: 2,
            taps: 6,
        },
    ] {
        assert!(reached("GradWeight", blocking), "{blocking:?}: {paths:#?}");
    }
    for detail in [
        format!("{:?}", Taps::Fixed),
        format!("{:?}", Taps::RunTime),
        "Wide".to_string(),
        "Compact".to_string(),
    ] {
        assert!(
            paths.iter().any(|p| p.contains(&detail)),
            "{detail}: {paths:#?}"
        );
    }
}

/// A random geometry that Winograd's F(2x2, 3x3) computes (3x3 kernel, stride 1, dilation
/// 1): batch 1..=3, 1..=10 channels in and out, planes 1..=9 by 1..=13, padding 0..=3 per axis
/// (above 2, the input gradient's padding `2 - padding` is negative), or the teaching
/// convention one time in four.
fn random_winograd_geometry(rng: &mut Rng) -> ConvGeometry {
    loop {
        let (batch, in_channels, out_channels) =
            (1 + rng.below(3), 1 + rng.below(10), 1 + rng.below(10));
        let size = [1 + rng.below(9), 1 + rng.below(13)];
        if rng.below(4) == 0 {
            // (planned with padding 1 so that any size has an output; `teaching` drops it)
            return teaching(conv2d(
                batch,
                in_channels,
                out_channels,
                size,
                [3, 3],
                1,
                [1, 1],
                1,
            ));
        }
        let padding = [rng.below(4), rng.below(4)];
        if size.iter().zip(&padding).all(|(n, p)| n + 2 * p >= 3) {
            return conv2d(
                batch,
                in_channels,
                out_channels,
                size,
                [3, 3],
                1,
                padding,
                1,
            );
        }
    }
}

/// Panics unless every pass of `g` in `E` is planned as Winograd with blocks of `columns`
/// tiles (when given) and transforms for `isa`.
fn assert_winograd<E: Element>(g: &ConvGeometry, columns: Option<usize>, isa: Isa) {
    let plan = ConvPlan::new::<E>(g);
    for pass in ConvPass::ALL {
        match plan.kernel(pass) {
            PassKernel::Winograd {
                block_tiles,
                isa: planned,
            } => {
                assert_eq!(planned, isa, "{pass:?} of {g:?}");
                if let Some(columns) = columns {
                    assert_eq!(block_tiles, columns, "{pass:?} of {g:?}");
                }
            }
            other => panic!("forced winograd on {g:?}, {pass:?} planned {other:?}"),
        }
    }
}

/// The instruction set Winograd's transforms run with for `E` under an override `isa`: f32
/// gets the CPU's level (capped), f64 the portable copies.
fn winograd_isa<E: Element>(isa: Option<Isa>) -> Isa {
    let cpu = Isa::detected().min(isa.unwrap_or(Isa::Avx512));
    match cpu {
        Isa::Avx2 if size_of::<E>() != 4 => Isa::Portable,
        cpu => cpu,
    }
}

#[test]
fn winograd_on_random_shapes_agrees_with_naive() {
    // default blocks; blocks of 1, 3 and 7 tiles (rounded up to whole rows of tiles: one row,
    // a few rows, rows of two batch entries); the AVX2 transforms and the portable ones
    let mut rng = Rng::new(16);
    let geometries: Vec<ConvGeometry> = (0..40)
        .map(|_| random_winograd_geometry(&mut rng))
        .collect();
    for columns in [None, Some(1), Some(3), Some(7)] {
        for isa in [None, Some(Isa::Portable)] {
            let settings = ConvOverride {
                algorithm: Some(ConvAlgorithm::Winograd),
                isa,
                gemm_columns: columns,
                ..ConvOverride::default()
            };
            let case = format!("winograd, blocks of {columns:?} tiles, isa {isa:?}");
            settings.run(|| {
                for (seed, g) in geometries.iter().enumerate() {
                    assert_winograd::<f32>(g, columns, winograd_isa::<f32>(isa));
                    assert_winograd::<f64>(g, columns, winograd_isa::<f64>(isa));
                    Reference::<f32>::new(g, seed as u64).check(&case, g, F32_TOL);
                    Reference::<f64>::new(g, seed as u64).check(&case, g, F64_TOL);
                }
            });
        }
    }
}

/// Winograd geometries above the threshold at which work is split (2^20 multiply-adds): a
/// batch of 1 (the GEMMs split instead of the batch), of 2 (split by entries on 2 threads, not
/// on 3), of 5 (runs of 2, 2 and 1 entries on 3 threads); 4x4 planes whose blocks span many
/// batch entries; odd planes with channel counts that are not multiples of 8; negative
/// input-gradient padding (padding 3).
fn winograd_parallel_geometries() -> Vec<(&'static str, ConvGeometry)> {
    vec![
        (
            "batch 1, 128 channels, 16x16",
            conv2d(1, 128, 128, [16, 16], [3, 3], 1, [1, 1], 1),
        ),
        (
            "batch 2, 64 channels, 8x8",
            conv2d(2, 64, 64, [8, 8], [3, 3], 1, [1, 1], 1),
        ),
        (
            "batch 5, 64 channels, 4x4",
            conv2d(5, 64, 64, [4, 4], [3, 3], 1, [1, 1], 1),
        ),
        (
            "batch 6, 13 -> 27 channels, 7x9",
            conv2d(6, 13, 27, [7, 9], [3, 3], 1, [1, 1], 1),
        ),
        (
            "batch 4, padding 3, 9 -> 20 channels, 11x10",
            conv2d(4, 9, 20, [11, 10], [3, 3], 1, [3, 3], 1),
        ),
        (
            "teaching, batch 4, 20 channels, 13x13",
            teaching(conv2d(4, 20, 20, [13, 13], [3, 3], 1, [0, 0], 1)),
        ),
    ]
}

#[test]
fn winograd_above_the_thresholds_agrees_with_naive_on_1_2_and_3_threads() {
    for (seed, (case, g)) in winograd_parallel_geometries().into_iter().enumerate() {
        assert!(g.macs() >= 1 << 20, "{case}: below the threshold");
        let reference = Reference::<f32>::new(&g, seed as u64);
        for threads in [1, 2, 3] {
            for columns in [None, Some(5)] {
                let settings = ConvOverride {
                    algorithm: Some(ConvAlgorithm::Winograd),
                    gemm_columns: columns,
                    ..ConvOverride::default()
                };
                pool(threads).install(|| {
                    assert_eq!(g.worth_threads(), threads > 1, "{case}");
                    settings.run(|| {
                        assert_winograd::<f32>(&g, columns, winograd_isa::<f32>(None));
                        let case = format!("{case}, {threads} threads, blocks of {columns:?}");
                        reference.check(&case, &g, F32_TOL);
                    });
                });
            }
        }
    }
    // f64 (the portable transforms) on the one that splits by entries unevenly
    let (case, g) = &winograd_parallel_geometries()[2];
    let reference = Reference::<f64>::new(g, 7);
    pool(3).install(|| {
        ConvAlgorithm::Winograd.force(|| reference.check(&format!("{case}, f64"), g, F64_TOL))
    });
}

#[test]
fn the_avx2_copies_above_the_thresholds_agree_with_naive_on_1_2_and_3_threads() {
    if !Isa::Avx2.supported() {
        eprintln!("no AVX2 on this CPU: its copies cannot run here");
        return;
    }
    // direct forced with the AVX2 copies: each blocking of the forward pass and both weight
    // blockings on shapes that split across threads, batch 1 and more
    let geometries = [
        conv2d(1, 3, 16, [64, 61], [3, 3], 1, [1, 1], 1),
        conv2d(3, 6, 6, [40, 37], [3, 3], 1, [1, 1], 1),
        conv2d(2, 2, 13, [50, 45], [5, 5], 1, [2, 2], 1),
        conv1d(6, 9, 2, 3000, 5, 1, 2, 1),
    ];
    for (seed, g) in geometries.into_iter().enumerate() {
        assert!(g.macs() >= 1 << 20, "{g:?}: below the threshold");
        let reference = Reference::<f32>::new(&g, seed as u64);
        for threads in [1, 2, 3] {
            pool(threads).install(|| {
                with_isa(Isa::Avx2, || {
                    for pass in ConvPass::ALL {
                        assert_eq!(blocked_path::<f32>(&g, pass).1, Isa::Avx2);
                    }
                    reference.check(&format!("avx2, {threads} threads"), &g, F32_TOL)
                })
            });
        }
    }
}

/// A random conv1d or conv2d geometry with about a third of its sizes 0: the batch, the input
/// and output channels, and the planes (where an output exists: an empty input plane needs
/// padding to reach the kernel's span, or the teaching convention). A third are 3x3, stride
/// 1, dilation 1, which Winograd computes; the others draw the kernel (1..=4), stride (1..=3)
/// and dilation (1..=2) per axis.
fn random_zero_size_geometry(rng: &mut Rng) -> ConvGeometry {
    loop {
        /// 0 one time in three, else 1..=max.
        fn size(rng: &mut Rng, max: usize) -> usize {
            if rng.below(3) == 0 {
                0
            } else {
                1 + rng.below(max)
            }
        }
        let (batch, in_channels, out_channels) = (size(rng, 3), size(rng, 4), size(rng, 4));
        let is_1d = rng.below(3) == 0;
        let in_h = if is_1d { 1 } else { size(rng, 6) };
        let in_w = size(rng, 9);
        let winograd = !is_1d && rng.below(3) == 0;
        // (kernel, stride, dilation, padding) along one axis
        let mut axis = |is_1d: bool| {
            if is_1d {
                (1, 1, 1, 0)
            } else if winograd {
                (3, 1, 1, rng.below(3))
            } else {
                let kernel = 1 + rng.below(4);
                (
                    kernel,
                    1 + rng.below(3),
                    1 + rng.below(2),
                    rng.below(kernel + 1),
                )
            }
        };
        let (kernel_h, stride_h, dilation_h, pad_top) = axis(is_1d);
        let (kernel_w, stride_w, dilation_w, pad_left) = axis(false);
        let mut g = ConvGeometry {
            batch,
            in_channels,
            out_channels,
            in_h,
            in_w,
            kernel_h,
            kernel_w,
            out_h: 0,
            out_w: 0,
            stride_h,
            stride_w,
            pad_top,
            pad_left,
            dilation_h,
            dilation_w,
        };
        if rng.below(4) == 0 {
            // teaching: as large as the input (one output per stride), zero past the end
            (g.pad_top, g.pad_left) = (0, 0);
            (g.out_h, g.out_w) = (in_h.div_ceil(stride_h), in_w.div_ceil(stride_w));
            return g;
        }
        let out_h = ConvGeometry::out_size(in_h, kernel_h, stride_h, g.pad_top, dilation_h);
        let out_w = ConvGeometry::out_size(in_w, kernel_w, stride_w, g.pad_left, dilation_w);
        if let (Some(out_h), Some(out_w)) = (out_h, out_w) {
            (g.out_h, g.out_w) = (out_h, out_w);
            return g;
        }
    }
}

#[test]
fn zero_sizes_run_every_algorithm_and_agree_with_naive() {
    // every implementation (naive, direct, im2col, winograd, the plan's own choice) forced
    // in turn by `Reference::check`, forward and both gradients, in f32 and f64; the blocked
    // kernels' AVX2 and portable copies; im2col's tiles and Winograd's blocks cut small
    let mut rng = Rng::new(17);
    let mut zeros = [0usize; 5];
    for seed in 0..300 {
        let g = random_zero_size_geometry(&mut rng);
        let sizes = [g.batch, g.in_channels, g.out_channels, g.in_h, g.in_w];
        for (count, &n) in zeros.iter_mut().zip(&sizes) {
            *count += usize::from(n == 0);
        }
        let settings = ConvOverride {
            isa: [None, Some(Isa::Portable)][seed % 2],
            gemm_columns: [None, Some(1), Some(4)][seed % 3],
            ..ConvOverride::default()
        };
        let case = format!("zero sizes {sizes:?}, {settings:?}");
        settings.run(|| {
            Reference::<f32>::new(&g, seed as u64).check(&case, &g, F32_TOL);
            Reference::<f64>::new(&g, seed as u64).check(&case, &g, F64_TOL);
        });
    }
    // each size was 0 in a fair share of the cases
    for (what, count) in ["batch", "in_channels", "out_channels", "in_h", "in_w"]
        .iter()
        .zip(zeros)
    {
        assert!(count >= 40, "{what} was 0 in {count} of 300 cases");
    }
}
