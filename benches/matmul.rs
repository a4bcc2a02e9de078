//! sgemm speed through `Tensor::matmul`: `(n, n) x (n, n)` for n = 256, 1024, 2048, forward
//! only. Criterion's throughput is set in FLOPs (`2·n³`), so its "elem/s" column reads as
//! FLOP/s.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench matmul` and `RAYON_NUM_THREADS=2 ...`; the
//! PyTorch comparison is `benches/torch_compare.py`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shapetorch::prelude::*;
use std::hint::black_box;
use std::time::Duration;

fn bench<const N: usize>(c: &mut Criterion) {
    let threads = rayon::current_num_threads();
    let mut group = c.benchmark_group(format!("sgemm t{threads}"));
    group.throughput(Throughput::Elements(2 * (N as u64).pow(3)));
    let (a, b) = (
        Tensor2::<f32, N, N>::randn(1),
        Tensor2::<f32, N, N>::randn(2),
    );
    group.bench_function(format!("{N}^3"), |bench| {
        bench.iter(|| black_box(black_box(&a).matmul(black_box(&b))))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench::<256>, bench::<1024>, bench::<2048>
}
criterion_main!(benches);
