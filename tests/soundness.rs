//! Attacks on the claims behind the crate's raw-pointer `unsafe` block (the GEMM call in
//! `src/tensor/gemm.rs`) and on every size product, through the public API. (The other
//! `unsafe` blocks call AVX2 and AVX-512 copies of kernels only on a CPU that has them; their
//! claim is attacked in `src/ops/conv/plan.rs`: an override can lower the instruction set,
//! never raise it.)
//!
//! Each attack must end in an `Err` or a panic with a message that names the problem: never a
//! wrapped size, a wrong result or an out-of-bounds write. CI runs this file in release mode too
//! (`cargo test --release --test soundness`), where integer overflow wraps silently instead of
//! panicking, so the checks it relies on must be explicit.

use std::panic::{catch_unwind, AssertUnwindSafe};

use shapetorch::ops::conv::{naive, ConvAlgorithm, ConvGeometry, ConvPlan};
use shapetorch::prelude::*;

/// `2^63 + 1`: times 2 it wraps to 2 in unchecked `usize` arithmetic.
const HUGE: usize = (1 << 63) + 1;

/// Runs `f`, which must panic; returns the panic message.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic, got a result");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn from_dims_rejects_sizes_whose_product_wraps() {
    // The reproduction: [2^63 + 1, 2] has "2" elements in wrapping arithmetic.
    let err = Tensor::<f64, (usize, usize)>::from_dims(&[HUGE, 2], vec![1.0, 2.0]).unwrap_err();
    assert_eq!(
        err,
        Error::TooLarge {
            op: "from_dims",
            dims: vec![HUGE, 2]
        }
    );
    assert!(err.to_string().contains("overflows"), "{err}");
    // Same through the shaped constructor.
    let err =
        Tensor::<f32, (usize, usize, usize)>::from_vec_shaped((1 << 32, 1 << 32, 4), vec![0.0])
            .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

#[test]
fn shaped_constructors_refuse_overflowing_shapes() {
    for msg in [
        panic_message(|| {
            Tensor::<f32, (usize, usize)>::zeros_shaped((HUGE, 2));
        }),
        panic_message(|| {
            Tensor::<f32, (usize, Dim<2>)>::full_shaped((HUGE, Dim), 1.0);
        }),
        panic_message(|| {
            Tensor::<f64, (usize, usize)>::randn_shaped((HUGE, 2), 0, 0.0, 1.0);
        }),
    ] {
        assert!(
            msg.contains("more elements than a usize can count"),
            "{msg}"
        );
    }
}

#[test]
fn matmul_of_empty_operands_with_a_huge_output_is_refused() {
    // [2^40, 0] x [0, 2^40]: both operands are empty, the output would have 2^80 elements.
    let a = Tensor::<f32, (usize, usize)>::zeros_shaped((1 << 40, 0));
    let b = Tensor::<f32, (usize, usize)>::zeros_shaped((0, 1 << 40));
    let msg = panic_message(|| {
        a.matmul(&b);
    });
    assert!(
        msg.contains("more elements than a usize can count"),
        "{msg}"
    );
    // The same for bmm.
    let a = Tensor::<f32, (usize, usize, usize)>::zeros_shaped((2, 1 << 40, 0));
    let b = Tensor::<f32, (usize, usize, usize)>::zeros_shaped((2, 0, 1 << 40));
    let msg = panic_message(|| {
        a.bmm(&b);
    });
    assert!(
        msg.contains("more elements than a usize can count"),
        "{msg}"
    );
}

#[test]
fn matmul_and_bmm_with_empty_dims_give_empty_or_zero_results() {
    // K = 0: the product is all zeros, as in PyTorch.
    let a = Tensor::<f64, (usize, usize)>::zeros_shaped((3, 0));
    let b = Tensor::<f64, (usize, usize)>::zeros_shaped((0, 2));
    assert_eq!(a.matmul(&b).to_vec(), vec![0.0; 6]);
    // M = 0 inside bmm: no matrices to fill (this used to be chunks_mut(0)).
    let a = Tensor::<f64, (usize, usize, usize)>::zeros_shaped((2, 0, 3));
    let b = Tensor::<f64, (usize, usize, usize)>::ones_shaped((2, 3, 4));
    let tape = Tape::new();
    let (a, b) = (a.trace(&tape), b.trace(&tape));
    let c = a.bmm(&b);
    assert_eq!(c.dims(), [2, 0, 4]);
    let grads = c.sum_all().backward();
    assert_eq!(grads.get(&b).unwrap().to_vec(), vec![0.0; 24]);
}

#[test]
fn reshape_and_broadcast_refuse_overflowing_targets() {
    let x = Tensor::<f32, (usize,)>::zeros_shaped((2,));
    let msg = panic_message(|| {
        x.reshape_to((HUGE, 2usize));
    });
    assert!(
        msg.contains("more elements than a usize can count"),
        "{msg}"
    );
    let msg = panic_message(|| {
        x.broadcast_to::<0, _>((HUGE, 2usize));
    });
    assert!(
        msg.contains("more elements than a usize can count"),
        "{msg}"
    );
}

/// A geometry whose element counts wrap in unchecked arithmetic: input `[2^63+1, 1, 1, 2]`.
fn wrapping_geometry() -> ConvGeometry {
    ConvGeometry {
        batch: HUGE,
        in_channels: 1,
        out_channels: 1,
        in_h: 1,
        in_w: 2,
        kernel_h: 1,
        kernel_w: 1,
        out_h: 1,
        out_w: 2,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        dilation_h: 1,
        dilation_w: 1,
    }
}

#[test]
fn public_conv_kernels_refuse_geometries_whose_sizes_wrap() {
    let g = wrapping_geometry();
    // Slices sized as the wrapped products would be: 2 inputs, 1 weight, 2 outputs.
    let (input, weight) = (vec![1.0f32; 2], vec![1.0f32; 1]);
    let mut output = vec![0.0f32; 2];
    let msg = panic_message(|| naive::forward(&g, &input, &weight, &mut output));
    assert!(msg.contains("overflow usize"), "{msg}");
    for algorithm in ConvAlgorithm::ALL {
        let plan = || ConvPlan::with::<f32>(&g, algorithm);
        let msg = panic_message(|| plan().forward(&input, &weight, &mut output));
        assert!(msg.contains("overflow usize"), "{algorithm:?}: {msg}");
        let mut grad_input = vec![0.0f32; 2];
        let msg = panic_message(|| plan().grad_input(&[0.0; 2], &weight, &mut grad_input));
        assert!(msg.contains("overflow usize"), "{algorithm:?}: {msg}");
        let mut grad_weight = vec![0.0f32; 1];
        let msg = panic_message(|| plan().grad_weight(&[0.0; 2], &input, &mut grad_weight));
        assert!(msg.contains("overflow usize"), "{algorithm:?}: {msg}");
    }
}

#[test]
fn public_conv_kernels_refuse_slices_shorter_than_the_geometry() {
    let g = ConvGeometry {
        batch: 2,
        in_channels: 3,
        out_channels: 4,
        in_h: 5,
        in_w: 6,
        kernel_h: 3,
        kernel_w: 3,
        out_h: 3,
        out_w: 4,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        dilation_h: 1,
        dilation_w: 1,
    };
    let input = vec![1.0f64; g.input_len() - 1]; // one short
    let weight = vec![1.0f64; g.weight_len()];
    let mut output = vec![0.0f64; g.output_len()];
    let msg = panic_message(|| naive::forward(&g, &input, &weight, &mut output));
    assert!(msg.contains("input needs"), "{msg}");
    for algorithm in ConvAlgorithm::ALL {
        let plan = ConvPlan::with::<f64>(&g, algorithm);
        let msg = panic_message(|| plan.forward(&input, &weight, &mut output));
        assert!(msg.contains("input needs"), "{algorithm:?}: {msg}");
    }
    // An output buffer too short for the GEMM to write into.
    let input = vec![1.0f64; g.input_len()];
    let mut short = vec![0.0f64; g.output_len() - 1];
    let plan = ConvPlan::with::<f64>(&g, ConvAlgorithm::Im2col);
    let msg = panic_message(|| plan.forward(&input, &weight, &mut short));
    assert!(msg.contains("output needs"), "{msg}");
}
