//! The performance table in one run: every shape of issue 9, forward and forward + backward
//! through the public API, and sgemm, each at 1 and 2 threads, printed one line per
//! measurement. `benches/torch_compare.py` runs this binary and the same work in PyTorch,
//! interleaved, and prints the ratios; criterion's `benches/conv.rs` and `benches/matmul.rs`
//! are the places to dig into one shape.
//!
//! ```text
//! cargo bench --bench speed                          # every case, 1 and 2 threads
//! cargo bench --bench speed -- --threads 2 --runs 40 --filter 56x56
//! cargo bench --bench speed -- --algorithms          # also every forced conv algorithm
//! cargo bench --bench speed -- --list                # the case names, one a line
//! ```
//!
//! Output lines are tab-separated: `case  pass  variant  threads  median_seconds  GFLOP/s`.
//! `pass` is `fwd` or `fwd+bwd` (the loss is `sum(y)`; the gradients of input and weight);
//! `variant` is `api` (the algorithm the library picks) or a forced [`ConvAlgorithm`].
//! FLOPs: `2·B·O·H_out·W_out·C·KH·KW` per forward, three times that for forward + backward;
//! `2·n³` per matmul. Each median is over `--runs` timed runs (default 21) after a warm-up,
//! each run timed on its own.
//!
//! Rayon pools of each thread count are built in this process (`ThreadPool::install`), so one
//! run measures both thread counts with the same binary. Cases are built per thread count, so
//! only the tensors of the case being timed are alive.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shapetorch::ops::conv::ConvAlgorithm;
use shapetorch::prelude::*;

/// One benchmark: a name, its FLOPs, and the closure that runs it once.
struct Case {
    name: String,
    pass: &'static str,
    variant: String,
    flop: f64,
    run: Box<dyn FnMut()>,
}

/// The conv cases of one shape: forward and forward + backward through the public API, with
/// the algorithm the library picks and (with `--algorithms`) with each one forced.
macro_rules! conv_cases {
    ($cases:ident, $all:expr, $name:literal, $x:ty, $w:ty, $macs:expr, |$xi:ident, $wi:ident| $conv:expr) => {{
        let flop = 2.0 * ($macs) as f64;
        let variants: Vec<Option<ConvAlgorithm>> = if $all {
            std::iter::once(None)
                .chain(ConvAlgorithm::ALL.iter().copied().map(Some))
                .collect()
        } else {
            vec![None]
        };
        for variant in variants {
            let label = variant.map_or("api".to_string(), |a| format!("{a:?}"));
            let force = move |f: &mut dyn FnMut()| match variant {
                Some(a) => a.force(|| f()),
                None => f(),
            };
            let (x, w) = (<$x>::randn(1), <$w>::randn(2));
            $cases.push(Case {
                name: $name.to_string(),
                pass: "fwd",
                variant: label.clone(),
                flop,
                run: Box::new(move || {
                    force(&mut || {
                        let ($xi, $wi) = (black_box(&x), black_box(&w));
                        black_box($conv);
                    })
                }),
            });
            let (x, w) = (<$x>::randn(1), <$w>::randn(2));
            $cases.push(Case {
                name: $name.to_string(),
                pass: "fwd+bwd",
                variant: label,
                flop: 3.0 * flop,
                run: Box::new(move || {
                    force(&mut || {
                        let tape = Tape::new();
                        let ($xi, $wi) = (&x.trace(&tape), &w.trace(&tape));
                        let grads = $conv.sum_all().backward();
                        black_box(grads.get_raw($xi.id()));
                        black_box(grads.get_raw($wi.id()));
                    })
                }),
            });
        }
    }};
}

/// `B·O·OH·OW·C·KH·KW` for a stride-1, unpadded conv2d.
fn macs2d(b: usize, c: usize, h: usize, w: usize, o: usize, k: usize) -> usize {
    b * o * (h - k + 1) * (w - k + 1) * c * k * k
}

fn cases(all_algorithms: bool) -> Vec<Case> {
    let mut cases = Vec::new();
    conv_cases!(cases, all_algorithms, "conv2d x=[64,1,28,28] w=[6,1,5,5]",
        Tensor4<f32, 64, 1, 28, 28>, Tensor4<f32, 6, 1, 5, 5>, macs2d(64, 1, 28, 28, 6, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[16,1,28,28] w=[4,1,3,3]",
        Tensor4<f32, 16, 1, 28, 28>, Tensor4<f32, 4, 1, 3, 3>, macs2d(16, 1, 28, 28, 4, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[64,6,12,12] w=[16,6,5,5]",
        Tensor4<f32, 64, 6, 12, 12>, Tensor4<f32, 16, 6, 5, 5>, macs2d(64, 6, 12, 12, 16, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[32,32,32,32] w=[64,32,3,3]",
        Tensor4<f32, 32, 32, 32, 32>, Tensor4<f32, 64, 32, 3, 3>, macs2d(32, 32, 32, 32, 64, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[8,64,56,56] w=[64,64,3,3]",
        Tensor4<f32, 8, 64, 56, 56>, Tensor4<f32, 64, 64, 3, 3>, macs2d(8, 64, 56, 56, 64, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv1d x=[64,8,128] w=[16,8,5]",
        Tensor3<f32, 64, 8, 128>, Tensor3<f32, 16, 8, 5>, 64 * 16 * 124 * 8 * 5,
        |x, w| x.conv1d(w, ConvParams::<1, 0, 1>));
    matmul_case::<256>(&mut cases);
    matmul_case::<1024>(&mut cases);
    matmul_case::<2048>(&mut cases);
    // Hooks for issue 9's other rows, which come with the nn layer (the PyTorch side is
    // ready in torch_compare.py): "max_pool2d x=[64,6,24,24] k=2" forward and forward +
    // backward, and "lenet5 step b=64" (forward, cross-entropy, backward, SGD update).
    cases
}

/// `sgemm n³`: `(n, n) x (n, n)` through `Tensor::matmul`, forward only.
fn matmul_case<const N: usize>(cases: &mut Vec<Case>) {
    let (a, b) = (
        Tensor2::<f32, N, N>::randn(1),
        Tensor2::<f32, N, N>::randn(2),
    );
    cases.push(Case {
        name: format!("sgemm {N}^3"),
        pass: "fwd",
        variant: "api".to_string(),
        flop: 2.0 * (N as f64).powi(3),
        run: Box::new(move || {
            black_box(black_box(&a).matmul(black_box(&b)));
        }),
    });
}

/// The median time of `runs` runs of `f`, after a warm-up of at least 3 runs and 0.2 s.
fn median_time(f: &mut dyn FnMut(), runs: usize) -> Duration {
    let start = Instant::now();
    let mut warm = 0;
    while warm < 3 || start.elapsed() < Duration::from_millis(200) {
        f();
        warm += 1;
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let threads: Vec<usize> = value("--threads")
        .unwrap_or_else(|| "1,2".into())
        .split(',')
        .map(|t| t.parse().expect("--threads takes a list like 1,2"))
        .collect();
    let runs: usize = value("--runs").map_or(21, |r| r.parse().expect("--runs takes a number"));
    let filter = value("--filter").unwrap_or_default();
    let all_algorithms = args.iter().any(|a| a == "--algorithms");
    let selected = || {
        let mut cases = cases(all_algorithms);
        cases.retain(|c| format!("{} {} {}", c.name, c.pass, c.variant).contains(&filter));
        cases
    };
    if args.iter().any(|a| a == "--list") {
        for c in selected() {
            println!("{}\t{}\t{}", c.name, c.pass, c.variant);
        }
        return;
    }
    for &t in &threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("a rayon pool");
        // The tensors are built and used on the pool's thread (a traced tensor is not `Send`).
        pool.install(|| {
            for mut case in selected() {
                let s = median_time(&mut case.run, runs).as_secs_f64();
                println!(
                    "{}\t{}\t{}\t{t}\t{s:.6e}\t{:.1}",
                    case.name,
                    case.pass,
                    case.variant,
                    case.flop / s / 1e9
                );
            }
        });
    }
}
