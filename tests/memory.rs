//! Memory kept per training step, counted by a global allocator that tracks live and peak bytes.
//!
//! Backward closures keep only what their gradient needs (an `add` keeps nothing, a product
//! keeps the other operand only when it is traced), so tensors the caller drops are freed
//! before `backward()`. Run with `--nocapture` to see the peak of a LeNet-size step.
//!
//! The tests in this file share the counting allocator, so they take a lock and run one at a
//! time; each turns the buffer pool off (`memory::set_pool_limit(0)`) so that freed memory is
//! really freed, except the one that measures the pool.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use shapetorch::memory;
use shapetorch::prelude::*;

/// The system allocator, counting the bytes it has handed out and not got back.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counters do not touch memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

/// Bytes live now.
fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Runs `f` and returns its result with the peak of live bytes above the start while it ran.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = live();
    PEAK.store(start, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed) - start)
}

/// The peak of a steady-state step: the least peak over enough runs that one of them is
/// sure to allocate nothing once-only.
///
/// The `gemm` crate gives each thread that packs a matrix a scratch slab the size of its L2
/// cache (2 MB on a typical Xeon), allocated on that thread's first such product and kept
/// for the thread's life. Which rayon thread packs first is up to the scheduler, so a warm-up
/// step cannot be sure to have made every slab. Each thread (the rayon workers and this one)
/// makes its slab once, so among `threads + 2` runs at least one makes none.
fn steady_peak(step: &Step) -> usize {
    let runs = rayon::current_num_threads() + 2;
    (0..runs)
        .map(|_| peak_during(|| step.run()).1)
        .min()
        .expect("at least one run")
}

const MB: f64 = 1024.0 * 1024.0;

#[test]
fn closures_keep_only_what_their_gradients_read() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    memory::set_pool_limit(0);
    const N: usize = 1 << 16; // 256 KiB of f32 per tensor
    let bytes = N * 4;
    let tape = Tape::new();
    let make = |seed| Tensor1::<f32, N>::randn(seed).trace(&tape);

    // add keeps nothing: once the caller drops a and b, only y is left.
    let base = live();
    let (a, b) = (make(1), make(2));
    let y = &a + &b;
    drop((a, b));
    let kept = live() - base;
    assert!(
        kept < bytes + bytes / 4,
        "add kept {kept} bytes for a {bytes}-byte output"
    );
    drop(y);
    tape.clear();

    // a * w with only w traced keeps a (for w's gradient), not w.
    let base = live();
    let a = Tensor1::<f32, N>::randn(3); // data, untraced
    let w = make(4);
    let y = &a * &w;
    drop((a, w));
    let kept = live() - base;
    assert!(
        (2 * bytes..2 * bytes + bytes / 4).contains(&kept),
        "mul kept {kept} bytes: expected its output and one operand ({} bytes)",
        2 * bytes
    );
    drop(y);
    tape.clear();

    // relu keeps its output only: a chain of 4 keeps 4 buffers, not 8.
    let base = live();
    let x = make(5);
    let mut h = x.relu();
    drop(x);
    for _ in 0..3 {
        h = h.relu();
    }
    let kept = live() - base;
    assert!(
        kept < 4 * bytes + bytes / 4,
        "4 relus kept {kept} bytes, more than their 4 outputs"
    );
    drop(h);
    tape.clear();
    assert!(
        live() - base < bytes / 4,
        "clear() freed what the closures held"
    );
}

/// A LeNet-size training step (two convolutions, two matrix products, a batch of 64) and its
/// backward pass; returns the loss.
struct Step {
    x: Tensor<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>,
    w1: Tensor4<f32, 6, 1, 5, 5>,
    b1: Tensor1<f32, 6>,
    w2: Tensor4<f32, 16, 6, 5, 5>,
    b2: Tensor1<f32, 16>,
    w3: Tensor2<f32, 1600, 120>,
    w4: Tensor2<f32, 120, 10>,
}

impl Step {
    fn new(tape: &Tape<f32>) -> Self {
        Step {
            x: Tensor::randn_shaped((64, Dim, Dim, Dim), 0, 0.0, 1.0),
            w1: Tensor4::randn(1).mul_scalar(0.2).trace(tape),
            b1: Tensor1::zeros().trace(tape),
            w2: Tensor4::randn(2).mul_scalar(0.08).trace(tape),
            b2: Tensor1::zeros().trace(tape),
            w3: Tensor2::randn(3).mul_scalar(0.025).trace(tape),
            w4: Tensor2::randn(4).mul_scalar(0.09).trace(tape),
        }
    }

    fn run(&self) -> f32 {
        let n = self.x.shape().0;
        let h1 = self
            .x
            .conv2d_bias(&self.w1, &self.b1, ConvParams::<1, 0, 1>)
            .relu(); // [64, 6, 24, 24]
        let h2 = h1
            .conv2d_bias(&self.w2, &self.b2, ConvParams::<2, 0, 1>)
            .relu(); // [64, 16, 10, 10]
        let flat = h2.reshape_to((n, Dim::<1600>));
        let h3 = flat.matmul(&self.w3).relu(); // [64, 120]
        let out = h3.matmul(&self.w4); // [64, 10]
        let loss = out.powi(2).mean_all();
        let value = loss.item();
        let grads = loss.backward();
        assert!(grads.get_raw(self.w1.id()).is_some());
        value
    }
}

#[test]
fn a_lenet_size_step_has_a_bounded_peak_and_the_pool_reuses_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tape = Tape::new();
    let step = Step::new(&tape);
    // Activations of one step: the input, 2 conv outputs and their relus, the flat view
    // (shared), 2 products and a relu, and the square: this is what a forward pass must hold.
    let activations = 4 * (64 * 784 + 2 * 64 * 6 * 576 + 2 * 64 * 1600 + 3 * 64 * 120 + 2 * 640);

    memory::set_pool_limit(0);
    step.run(); // warm-up: rayon's threads, lazily built statics
    let peak = steady_peak(&step);
    println!(
        "LeNet-size step, pool off: peak {:.2} MB above the parameters and input \
         (activations {:.2} MB)",
        peak as f64 / MB,
        activations as f64 / MB
    );
    // Forward values, the few kept for backward, and gradients flowing back: a step must not
    // hold much more than twice its activations.
    assert!(
        peak < 2 * activations + (1 << 20),
        "peak {peak} bytes for {activations} bytes of activations"
    );

    memory::set_pool_limit(memory::DEFAULT_POOL_LIMIT);
    step.run(); // fills the pool
    let before = live();
    let peak_pooled = steady_peak(&step);
    let pooled = memory::pooled_bytes::<f32>();
    println!(
        "LeNet-size step, pool on: peak {:.2} MB above the start (pool holds {:.2} MB \
         between steps)",
        peak_pooled as f64 / MB,
        pooled as f64 / MB
    );
    // From the second step on, the large buffers come from the pool: the step allocates
    // little beyond what the pool already holds.
    assert!(
        peak_pooled < peak / 2,
        "with the pool a step still allocated {peak_pooled} new bytes (without: {peak})"
    );
    assert!(live() - before <= pooled + (1 << 20));
    memory::set_pool_limit(0);
}
