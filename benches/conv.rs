//! Convolution speed: forward, and forward + backward (grad of input and weight), in f32, on
//! the shapes of the performance table. Criterion's throughput is set in FLOPs, so its
//! "elem/s" column reads as FLOP/s: `2·B·O·H_out·W_out·C·KH·KW` per forward, three times that
//! for forward + backward.
//!
//! Run with 1 and 2 threads:
//! `RAYON_NUM_THREADS=1 cargo bench --bench conv` and `RAYON_NUM_THREADS=2 cargo bench --bench conv`.
//! Add `-- --algorithm direct` or `im2col` style filters by bench name, e.g. `cargo bench
//! --bench conv -- "conv2d 32x32"`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shapetorch::ops::conv::{ConvAlgorithm, ConvGeometry, ConvPlan};
use shapetorch::prelude::*;
use std::hint::black_box;
use std::time::Duration;

/// Threads rayon runs with (set by `RAYON_NUM_THREADS`), for the bench names.
fn threads() -> usize {
    rayon::current_num_threads()
}

/// Benchmarks the typed op (forward, forward + backward) and both kernels' forward passes for
/// one shape. `$x` and `$w` are the input and weight types; `$conv` calls the op.
macro_rules! bench_shape {
    ($c:expr, $label:literal, $x:ty, $w:ty, $geom:expr, |$xi:ident, $wi:ident| $conv:expr) => {{
        let geom: ConvGeometry = $geom;
        let flops = 2 * geom.macs() as u64;
        let mut group = $c.benchmark_group(format!("{} t{}", $label, threads()));
        let x = <$x>::randn(1);
        let w = <$w>::randn(2);

        group.throughput(Throughput::Elements(flops));
        group.bench_function("forward", |bench| {
            bench.iter(|| {
                let ($xi, $wi) = (black_box(&x), black_box(&w));
                black_box($conv)
            })
        });
        for (name, algorithm) in [
            ("forward direct", ConvAlgorithm::Direct),
            ("forward im2col", ConvAlgorithm::Im2col),
        ] {
            let plan = ConvPlan::with::<f32>(&geom, algorithm);
            let mut out = vec![0.0f32; geom.output_len()];
            group.bench_function(BenchmarkId::from_parameter(name), |bench| {
                bench.iter(|| {
                    plan.forward(black_box(x.as_slice()), black_box(w.as_slice()), &mut out)
                })
            });
        }

        group.throughput(Throughput::Elements(3 * flops));
        group.bench_function("forward+backward", |bench| {
            bench.iter(|| {
                let tape = Tape::new();
                let ($xi, $wi) = (&x.trace(&tape), &w.trace(&tape));
                let grads = $conv.sum_all().backward();
                black_box(grads.get($wi))
            })
        });
        group.finish();
    }};
}

/// A conv2d geometry with stride 1, no padding, dilation 1.
fn geom2d(b: usize, c: usize, h: usize, w: usize, o: usize, k: usize) -> ConvGeometry {
    ConvGeometry {
        batch: b,
        in_channels: c,
        out_channels: o,
        in_h: h,
        in_w: w,
        kernel_h: k,
        kernel_w: k,
        out_h: h - k + 1,
        out_w: w - k + 1,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        dilation_h: 1,
        dilation_w: 1,
    }
}

fn conv_benches(c: &mut Criterion) {
    bench_shape!(c, "conv2d x=[64,1,28,28] w=[6,1,5,5]", Tensor4<f32, 64, 1, 28, 28>,
        Tensor4<f32, 6, 1, 5, 5>, geom2d(64, 1, 28, 28, 6, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    bench_shape!(c, "conv2d x=[16,1,28,28] w=[4,1,3,3]", Tensor4<f32, 16, 1, 28, 28>,
        Tensor4<f32, 4, 1, 3, 3>, geom2d(16, 1, 28, 28, 4, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    bench_shape!(c, "conv2d x=[64,6,12,12] w=[16,6,5,5]", Tensor4<f32, 64, 6, 12, 12>,
        Tensor4<f32, 16, 6, 5, 5>, geom2d(64, 6, 12, 12, 16, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    bench_shape!(c, "conv2d x=[32,32,32,32] w=[64,32,3,3]", Tensor4<f32, 32, 32, 32, 32>,
        Tensor4<f32, 64, 32, 3, 3>, geom2d(32, 32, 32, 32, 64, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    bench_shape!(c, "conv2d x=[8,64,56,56] w=[64,64,3,3]", Tensor4<f32, 8, 64, 56, 56>,
        Tensor4<f32, 64, 64, 3, 3>, geom2d(8, 64, 56, 56, 64, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    let mut g1 = geom2d(64, 8, 1, 128, 16, 5);
    (g1.kernel_h, g1.out_h) = (1, 1);
    bench_shape!(c, "conv1d x=[64,8,128] w=[16,8,5]", Tensor3<f32, 64, 8, 128>,
        Tensor3<f32, 16, 8, 5>, g1,
        |x, w| x.conv1d(w, ConvParams::<1, 0, 1>));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = conv_benches
}
criterion_main!(benches);
