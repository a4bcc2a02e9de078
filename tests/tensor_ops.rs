//! Values and behaviour of every tensor op: hand-computed expected numbers (the arithmetic is
//! spelled out beside each), error and panic messages, autodiff behaviour, and matmul/bmm
//! against a plain triple loop. Gradient checks live in `tests/gradcheck.rs`.

use shapetorch::prelude::*;
use shapetorch::tensor::Rng;

/// Asserts `got` and `want` agree elementwise to `tol`, naming the first element that differs.
fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "lengths differ: {got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "element {i}: got {g}, want {w} (got {got:?})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------------------------

#[test]
fn zeros_ones_and_full_fill_every_element() {
    let z = Tensor2::<f32, 2, 3>::zeros();
    assert_eq!(z.dims(), [2, 3]);
    assert_eq!(z.numel(), 6);
    assert_eq!(z.to_vec(), vec![0.0; 6]);
    assert!(!z.is_traced());
    assert_eq!(Tensor3::<f64, 1, 2, 2>::ones().to_vec(), vec![1.0; 4]);
    assert_eq!(Tensor1::<f64, 3>::full(-2.5).to_vec(), vec![-2.5; 3]);
    assert_eq!(Tensor0::<f64>::scalar(4.0).item(), 4.0);
    // runtime-shaped versions
    let r = Tensor::<f64, (usize, Dim<2>)>::full_shaped((3, Dim), 7.0);
    assert_eq!(r.dims(), [3, 2]);
    assert_eq!(r.to_vec(), vec![7.0; 6]);
    assert_eq!(
        Tensor::<f64, (usize,)>::zeros_shaped((4,)).to_vec(),
        vec![0.0; 4]
    );
    assert_eq!(
        Tensor::<f64, (usize,)>::ones_shaped((2,)).to_vec(),
        vec![1.0; 2]
    );
}

#[test]
fn from_vec_and_from_slice_keep_row_major_order() {
    let x = Tensor2::<f64, 2, 3>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    // row 1, column 0 is the 4th element: 1*3 + 0 = 3
    assert_eq!(x[[1, 0]], 4.0);
    assert_eq!(x[[0, 2]], 3.0);
    let y = Tensor2::<f64, 3, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    // row 1, column 0 is the 3rd element: 1*2 + 0 = 2
    assert_eq!(y[[1, 0]], 3.0);
    assert_eq!(y.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn from_vec_length_error_names_shape_and_both_lengths() {
    let err = Tensor2::<f32, 2, 3>::from_vec(vec![1.0; 5]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_vec: shape [2, 3] needs 6 elements, but 5 were given"
    );
    assert_eq!(
        err,
        Error::Length {
            op: "from_vec",
            shape: vec![2, 3],
            expected: 6,
            found: 5
        }
    );
    let err = Tensor1::<f64, 2>::from_vec(vec![0.0; 3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_vec: shape [2] needs 2 elements, but 3 were given"
    );
}

#[test]
fn from_slice_length_error_names_from_slice() {
    let err = Tensor3::<f64, 2, 2, 2>::from_slice(&[1.0; 7]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_slice: shape [2, 2, 2] needs 8 elements, but 7 were given"
    );
}

#[test]
fn from_dims_takes_a_runtime_batch_dim() {
    let x =
        Tensor::<f64, (usize, Dim<3>)>::from_dims(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    assert_eq!(x.dims(), [2, 3]);
    assert_eq!(x.shape().0, 2);
    assert_eq!(x[[1, 1]], 5.0);
    let one = Tensor::<f64, (usize, Dim<3>)>::from_dims(&[1, 3], vec![0.0; 3]).unwrap();
    assert_eq!(one.dims(), [1, 3]);
}

#[test]
fn from_dims_errors_name_the_sizes_and_the_type() {
    type Batch3 = (usize, Dim<3>);
    // a static dim that disagrees
    let err = Tensor::<f64, Batch3>::from_dims(&[2, 4], vec![0.0; 8]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_dims: sizes [2, 4] do not fit the shape (usize, Dim<3>)"
    );
    // the wrong rank
    let err = Tensor::<f64, Batch3>::from_dims(&[6], vec![0.0; 6]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_dims: sizes [6] do not fit the shape (usize, Dim<3>)"
    );
    // sizes that fit, data of the wrong length: 2*3 = 6 needed
    let err = Tensor::<f64, Batch3>::from_dims(&[2, 3], vec![0.0; 5]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_dims: shape [2, 3] needs 6 elements, but 5 were given"
    );
}

#[test]
fn from_fn_gets_every_multi_index_in_row_major_order() {
    let x = Tensor3::<f64, 2, 3, 2>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
    #[rustfmt::skip]
    assert_eq!(x.to_vec(), vec![
          0.,   1.,  10.,  11.,  20.,  21.,
        100., 101., 110., 111., 120., 121.,
    ]);
    let mut calls = 0;
    let _ = Tensor1::<f32, 5>::from_fn(|_| {
        calls += 1;
        0.0
    });
    assert_eq!(calls, 5);
    let r = Tensor::<f64, (usize, Dim<2>)>::from_fn_shaped((2, Dim), |[i, j]| (2 * i + j) as f64);
    assert_eq!(r.to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
}

#[test]
fn rng_is_splitmix64() {
    // The reference SplitMix64 stream for seed 0 (Vigna's splitmix64.c): fixes the stream on
    // every platform.
    let mut rng = Rng::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
}

#[test]
fn rand_uniform_is_reproducible_and_scaled_from_the_stream() {
    let a = Tensor2::<f64, 3, 4>::rand_uniform(42, -1.0, 3.0);
    assert_eq!(
        a.to_vec(),
        Tensor2::<f64, 3, 4>::rand_uniform(42, -1.0, 3.0).to_vec()
    );
    assert_ne!(
        a.to_vec(),
        Tensor2::<f64, 3, 4>::rand_uniform(43, -1.0, 3.0).to_vec()
    );
    // element i is low + (high - low) * u_i = -1 + 4 * u_i
    let mut rng = Rng::new(42);
    let want: Vec<f64> = (0..12).map(|_| -1.0 + 4.0 * rng.uniform()).collect();
    assert_eq!(a.to_vec(), want);
    assert!(a.as_slice().iter().all(|v| (-1.0..3.0).contains(v)));
    // the runtime-shaped constructor draws the same stream
    let r = Tensor::<f64, (usize, Dim<4>)>::rand_uniform_shaped((3, Dim), 42, -1.0, 3.0);
    assert_eq!(r.to_vec(), a.to_vec());
}

#[test]
fn rand_uniform_f32_never_reaches_high() {
    // Seed 63433462's first draw is u = 0.99999998926..., which rounds to 1.0 in f32, so
    // -2 + 4 * u would be exactly 2.0 = high.
    let mut rng = Rng::new(63_433_462);
    assert_eq!(rng.uniform() as f32, 1.0);
    let x = Tensor1::<f32, 1>::rand_uniform(63_433_462, -2.0, 2.0);
    assert!(x.as_slice().iter().all(|v| (-2.0..2.0).contains(v)), "{x}");
    let x = Tensor1::<f32, 1>::rand_uniform(63_433_462, 0.0, 1.0);
    assert!(x.as_slice().iter().all(|v| (0.0..1.0).contains(v)), "{x}");
}

#[test]
fn randn_is_reproducible_and_matches_the_stream() {
    let a = Tensor3::<f64, 2, 2, 3>::randn(7);
    assert_eq!(a.to_vec(), Tensor3::<f64, 2, 2, 3>::randn(7).to_vec());
    assert_ne!(a.to_vec(), Tensor3::<f64, 2, 2, 3>::randn(8).to_vec());
    let mut rng = Rng::new(7);
    let want: Vec<f64> = (0..12).map(|_| rng.normal()).collect();
    assert_eq!(a.to_vec(), want);
    // f32 draws the same numbers, rounded
    let f: Vec<f32> = want.iter().map(|&v| v as f32).collect();
    assert_eq!(Tensor3::<f32, 2, 2, 3>::randn(7).to_vec(), f);
    // mean and std: mean + std * n_i = 1 + 2 * n_i
    let s = Tensor::<f64, (usize, Dim<3>)>::randn_shaped((4, Dim), 7, 1.0, 2.0);
    let want: Vec<f64> = want.iter().map(|n| 1.0 + 2.0 * n).collect();
    assert_eq!(s.to_vec(), want);
}

// ---------------------------------------------------------------------------------------------
// Indexing and printing
// ---------------------------------------------------------------------------------------------

#[test]
fn index_and_get_find_row_major_elements() {
    let x = Tensor2::<f64, 2, 3>::from_fn(|[i, j]| (10 * i + j) as f64);
    assert_eq!(x[[0, 0]], 0.0);
    assert_eq!(x[[1, 2]], 12.0);
    assert_eq!(x.get([1, 2]), Some(12.0));
    assert_eq!(x.get([2, 0]), None); // row out of bounds
    assert_eq!(x.get([0, 3]), None); // column out of bounds
    let y = Tensor4::<f64, 2, 2, 2, 2>::from_fn(|[a, b, c, d]| (8 * a + 4 * b + 2 * c + d) as f64);
    // [1, 0, 1, 1] lies at 8*1 + 4*0 + 2*1 + 1 = 11
    assert_eq!(y[[1, 0, 1, 1]], 11.0);
    let r =
        Tensor::<f64, (usize, Dim<2>)>::from_dims(&[3, 2], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    assert_eq!(r[[2, 1]], 6.0);
    assert_eq!(r.get([3, 0]), None);
}

#[test]
#[should_panic(expected = "index [2, 0] is out of bounds for shape [2, 3]")]
fn index_out_of_bounds_panics_naming_index_and_shape() {
    let x = Tensor2::<f64, 2, 3>::zeros();
    let _ = x[[2, 0]];
}

#[test]
#[should_panic(expected = "index [0, 0, 4] is out of bounds for shape [1, 2, 4]")]
fn index_out_of_bounds_in_the_last_dim_panics() {
    let x = Tensor3::<f32, 1, 2, 4>::zeros();
    let _ = x[[0, 0, 4]];
}

#[test]
fn display_prints_nested_brackets_for_rank_0_to_4() {
    assert_eq!(Tensor0::<f64>::scalar(2.5).to_string(), "2.5");
    let r1 = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(r1.to_string(), "[1, 2, 3]");
    let r2 = Tensor2::<f64, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f64);
    assert_eq!(r2.to_string(), "[[0, 1, 2],\n [3, 4, 5]]");
    // numpy style: one blank line between rank-2 blocks, indented by the open brackets
    let r3 = Tensor3::<f64, 2, 2, 2>::from_fn(|[a, b, c]| (4 * a + 2 * b + c) as f64);
    assert_eq!(
        r3.to_string(),
        "[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]"
    );
    // rank 4: two blank lines between rank-3 blocks; every cell padded to the widest ("15")
    let r4 = Tensor4::<f64, 2, 2, 2, 2>::from_fn(|[a, b, c, d]| (8 * a + 4 * b + 2 * c + d) as f64);
    assert_eq!(
        r4.to_string(),
        "[[[[ 0,  1],\n   [ 2,  3]],\n\n  [[ 4,  5],\n   [ 6,  7]]],\n\n\n \
         [[[ 8,  9],\n   [10, 11]],\n\n  [[12, 13],\n   [14, 15]]]]"
    );
}

#[test]
fn display_aligns_columns_and_honours_precision() {
    let x = Tensor1::<f64, 3>::from_slice(&[1.0, 10.0, 100.0]).unwrap();
    assert_eq!(x.to_string(), "[  1,  10, 100]");
    let y = Tensor1::<f64, 3>::from_slice(&[1.0, 2.5, -1.23456]).unwrap();
    // every cell printed with 2 decimals, padded to the widest ("-1.23", 5 characters)
    assert_eq!(format!("{y:.2}"), "[ 1.00,  2.50, -1.23]");
    assert_eq!(format!("{:.1}", Tensor1::<f32, 2>::ones()), "[1.0, 1.0]");
    let z = Tensor2::<f32, 2, 2>::from_slice(&[0.5, -1.0, 2.0, 0.25]).unwrap();
    assert_eq!(format!("{z:.3}"), "[[ 0.500, -1.000],\n [ 2.000,  0.250]]");
    assert_eq!(format!("{:.0}", Tensor0::<f64>::scalar(2.7)), "3");
    // Debug prefixes the dims
    assert_eq!(format!("{:?}", r(&[1.0, 2.0])), "Tensor[2] [1, 2]");
}

fn r(values: &[f64]) -> Tensor<f64, (usize,)> {
    Tensor::from_dims(&[values.len()], values.to_vec()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------------

/// `a op b` for all four combinations of owned and borrowed operands.
macro_rules! all_combos {
    ($a:expr, $op:tt, $b:expr) => {
        [
            (&$a $op &$b).to_vec(),
            ($a.clone() $op $b.clone()).to_vec(),
            ($a.clone() $op &$b).to_vec(),
            (&$a $op $b.clone()).to_vec(),
        ]
    };
}

#[test]
fn binary_ops_for_every_owned_and_borrowed_combination() {
    let a = Tensor2::<f64, 2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = Tensor2::<f64, 2, 2>::from_slice(&[0.5, 4.0, -1.0, 2.0]).unwrap();
    for got in all_combos!(a, +, b) {
        // 1+0.5, 2+4, 3-1, 4+2
        assert_eq!(got, vec![1.5, 6.0, 2.0, 6.0]);
    }
    for got in all_combos!(a, -, b) {
        // 1-0.5, 2-4, 3-(-1), 4-2
        assert_eq!(got, vec![0.5, -2.0, 4.0, 2.0]);
    }
    for got in all_combos!(a, *, b) {
        // 1*0.5, 2*4, 3*(-1), 4*2
        assert_eq!(got, vec![0.5, 8.0, -3.0, 8.0]);
    }
    for got in all_combos!(a, /, b) {
        // 1/0.5, 2/4, 3/(-1), 4/2
        assert_eq!(got, vec![2.0, 0.5, -3.0, 2.0]);
    }
}

#[test]
fn binary_ops_on_runtime_shapes() {
    let a = Tensor::<f32, (usize, Dim<2>)>::from_dims(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = Tensor::<f32, (usize, Dim<2>)>::full_shaped((2, Dim), 2.0);
    // (1+2)*2, (2+2)*2, (3+2)*2, (4+2)*2
    assert_eq!(((&a + &b) * &b).to_vec(), vec![6.0, 8.0, 10.0, 12.0]);
}

#[test]
#[should_panic(expected = "add: shapes differ: [2, 2] vs [3, 2]")]
fn binary_op_on_different_runtime_shapes_panics() {
    let a = Tensor::<f64, (usize, Dim<2>)>::zeros_shaped((2, Dim));
    let b = Tensor::<f64, (usize, Dim<2>)>::zeros_shaped((3, Dim));
    let _ = a + b;
}

#[test]
#[should_panic(expected = "div: shapes differ: [1] vs [2]")]
fn div_on_different_runtime_shapes_names_div() {
    let _ = &r(&[1.0]) / &r(&[1.0, 2.0]);
}

#[test]
fn neg_method_and_operator() {
    let x = Tensor1::<f64, 3>::from_slice(&[1.0, -2.0, 0.5]).unwrap();
    let want = vec![-1.0, 2.0, -0.5];
    assert_eq!(x.neg().to_vec(), want);
    assert_eq!((-&x).to_vec(), want);
    assert_eq!((-x.clone()).to_vec(), want);
    // --x = x
    assert_eq!((-(-&x)).to_vec(), x.to_vec());
}

#[test]
fn exp_and_log() {
    let e = std::f64::consts::E;
    let ln2 = std::f64::consts::LN_2;
    let x = Tensor1::<f64, 4>::from_slice(&[0.0, 1.0, -1.0, ln2]).unwrap();
    // e^0 = 1, e^1 = e, e^-1 = 1/e, e^ln2 = 2
    assert_close(&x.exp().to_vec(), &[1.0, e, 1.0 / e, 2.0], 1e-15);
    let y = Tensor1::<f64, 4>::from_slice(&[1.0, e, 0.5, 4.0]).unwrap();
    // ln 1 = 0, ln e = 1, ln 0.5 = -ln 2, ln 4 = 2 ln 2
    assert_close(&y.log().to_vec(), &[0.0, 1.0, -ln2, 2.0 * ln2], 1e-15);
    // f32 too: e^0 = 1 exactly, e^1 to f32 precision
    let z = Tensor1::<f32, 2>::from_slice(&[0.0, 1.0]).unwrap().exp();
    assert_eq!(z[[0]], 1.0);
    assert!((z[[1]] - std::f32::consts::E).abs() < 1e-6, "{z}");
}

#[test]
fn relu_sigmoid_tanh() {
    let x = Tensor1::<f64, 5>::from_slice(&[-2.0, -0.5, 0.0, 0.5, 3.0]).unwrap();
    assert_eq!(x.relu().to_vec(), vec![0.0, 0.0, 0.0, 0.5, 3.0]);
    let ln3 = 3f64.ln();
    let s = Tensor1::<f64, 3>::from_slice(&[0.0, ln3, -ln3]).unwrap();
    // 1/(1+e^0) = 1/2, 1/(1+1/3) = 3/4, 1/(1+3) = 1/4
    assert_close(&s.sigmoid().to_vec(), &[0.5, 0.75, 0.25], 1e-15);
    let ln2 = std::f64::consts::LN_2;
    let t = Tensor1::<f64, 3>::from_slice(&[0.0, ln2, -ln3]).unwrap();
    // tanh(ln a) = (a - 1/a)/(a + 1/a): (2 - 1/2)/(2 + 1/2) = 0.6, (1/3 - 3)/(1/3 + 3) = -0.8
    assert_close(&t.tanh().to_vec(), &[0.0, 0.6, -0.8], 1e-15);
    // sigmoid saturates without NaN: 1/(1+e^800) = 1/(1+inf) = 0
    let big = Tensor1::<f64, 2>::from_slice(&[-800.0, 800.0]).unwrap();
    assert_eq!(big.sigmoid().to_vec(), vec![0.0, 1.0]);
}

#[test]
fn powi_for_positive_negative_and_zero_exponents() {
    let x = Tensor1::<f64, 3>::from_slice(&[2.0, -3.0, 0.5]).unwrap();
    // 2^3 = 8, (-3)^3 = -27, 0.5^3 = 0.125
    assert_eq!(x.powi(3).to_vec(), vec![8.0, -27.0, 0.125]);
    // 2^-2 = 1/4, (-3)^-2 = 1/9, 0.5^-2 = 4
    assert_close(&x.powi(-2).to_vec(), &[0.25, 1.0 / 9.0, 4.0], 1e-15);
    assert_eq!(x.powi(0).to_vec(), vec![1.0; 3]);
    assert_eq!(x.powi(1).to_vec(), x.to_vec());
}

#[test]
fn scalar_ops() {
    let x = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(x.add_scalar(10.0).to_vec(), vec![11.0, 12.0, 13.0]);
    assert_eq!(x.sub_scalar(0.5).to_vec(), vec![0.5, 1.5, 2.5]);
    assert_eq!(x.mul_scalar(-2.0).to_vec(), vec![-2.0, -4.0, -6.0]);
    assert_eq!(x.div_scalar(4.0).to_vec(), vec![0.25, 0.5, 0.75]);
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

#[test]
fn reductions_rank_1() {
    let x = Tensor1::<f64, 4>::from_slice(&[1.0, -2.0, 4.0, 3.0]).unwrap();
    let s: Tensor0<f64> = x.sum::<0>();
    assert_eq!(s.item(), 6.0); // 1 - 2 + 4 + 3
    assert_eq!(x.mean::<0>().item(), 1.5); // 6 / 4
    assert_eq!(x.max::<0>().item(), 4.0);
    assert_eq!(x.sum_all().item(), 6.0);
    assert_eq!(x.mean_all().item(), 1.5);
}

#[test]
fn reductions_rank_2() {
    // [[3, -1,  2],
    //  [0,  5, -4]]
    let x = Tensor2::<f64, 2, 3>::from_slice(&[3.0, -1.0, 2.0, 0.0, 5.0, -4.0]).unwrap();
    let cols: Tensor1<f64, 3> = x.sum::<0>();
    assert_eq!(cols.to_vec(), vec![3.0, 4.0, -2.0]); // 3+0, -1+5, 2-4
    let rows: Tensor1<f64, 2> = x.sum::<1>();
    assert_eq!(rows.to_vec(), vec![4.0, 1.0]); // 3-1+2, 0+5-4
    assert_eq!(x.mean::<0>().to_vec(), vec![1.5, 2.0, -1.0]);
    assert_close(&x.mean::<1>().to_vec(), &[4.0 / 3.0, 1.0 / 3.0], 1e-15);
    assert_eq!(x.max::<0>().to_vec(), vec![3.0, 5.0, 2.0]);
    assert_eq!(x.max::<1>().to_vec(), vec![3.0, 5.0]);
    assert_eq!(x.sum_all().item(), 5.0); // 4 + 1
    assert_close(&[x.mean_all().item()], &[5.0 / 6.0], 1e-15);
}

#[test]
fn reductions_rank_3() {
    // [[[ 1, -2], [ 5,  0], [-3,  4]],
    //  [[ 2,  6], [-1, -5], [ 7,  3]]]
    #[rustfmt::skip]
    let x = Tensor3::<f64, 2, 3, 2>::from_slice(&[
        1.0, -2.0, 5.0, 0.0, -3.0, 4.0,
        2.0, 6.0, -1.0, -5.0, 7.0, 3.0,
    ])
    .unwrap();
    let s0: Tensor2<f64, 3, 2> = x.sum::<0>();
    // [[1+2, -2+6], [5-1, 0-5], [-3+7, 4+3]]
    assert_eq!(s0.to_vec(), vec![3.0, 4.0, 4.0, -5.0, 4.0, 7.0]);
    assert_eq!(x.mean::<0>().to_vec(), vec![1.5, 2.0, 2.0, -2.5, 2.0, 3.5]);
    assert_eq!(x.max::<0>().to_vec(), vec![2.0, 6.0, 5.0, 0.0, 7.0, 4.0]);
    let s1: Tensor2<f64, 2, 2> = x.sum::<1>();
    // [[1+5-3, -2+0+4], [2-1+7, 6-5+3]]
    assert_eq!(s1.to_vec(), vec![3.0, 2.0, 8.0, 4.0]);
    assert_close(
        &x.mean::<1>().to_vec(),
        &[1.0, 2.0 / 3.0, 8.0 / 3.0, 4.0 / 3.0],
        1e-15,
    );
    // [[max(1,5,-3), max(-2,0,4)], [max(2,-1,7), max(6,-5,3)]]
    assert_eq!(x.max::<1>().to_vec(), vec![5.0, 4.0, 7.0, 6.0]);
    let s2: Tensor2<f64, 2, 3> = x.sum::<2>();
    // [[1-2, 5+0, -3+4], [2+6, -1-5, 7+3]]
    assert_eq!(s2.to_vec(), vec![-1.0, 5.0, 1.0, 8.0, -6.0, 10.0]);
    assert_eq!(x.mean::<2>().to_vec(), vec![-0.5, 2.5, 0.5, 4.0, -3.0, 5.0]);
    assert_eq!(x.max::<2>().to_vec(), vec![1.0, 5.0, 4.0, 6.0, -1.0, 7.0]);
    assert_eq!(x.sum_all().item(), 17.0); // -1+5+1+8-6+10
}

#[test]
fn reductions_rank_4() {
    // x[a, b, c, d] = 8a + 4b + 2c + d (the flat index)
    let x = Tensor4::<f64, 2, 2, 2, 2>::from_fn(|[a, b, c, d]| (8 * a + 4 * b + 2 * c + d) as f64);
    let s0: Tensor3<f64, 2, 2, 2> = x.sum::<0>();
    // x[0,j] + x[1,j] = j + (8 + j) = 8 + 2j for j = 0..8
    assert_eq!(
        s0.to_vec(),
        vec![8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0]
    );
    let s1: Tensor3<f64, 2, 2, 2> = x.sum::<1>();
    // (8a + 2c + d) + (8a + 4 + 2c + d) = 16a + 4 + 4c + 2d
    assert_eq!(
        s1.to_vec(),
        vec![4.0, 6.0, 8.0, 10.0, 20.0, 22.0, 24.0, 26.0]
    );
    // (8a + 4b + d) + (8a + 4b + 2 + d) = 16a + 8b + 2 + 2d
    assert_eq!(
        x.sum::<2>().to_vec(),
        vec![2.0, 4.0, 10.0, 12.0, 18.0, 20.0, 26.0, 28.0]
    );
    // (8a + 4b + 2c) + (8a + 4b + 2c + 1) = 16a + 8b + 4c + 1
    assert_eq!(
        x.sum::<3>().to_vec(),
        vec![1.0, 5.0, 9.0, 13.0, 17.0, 21.0, 25.0, 29.0]
    );
    // every axis has 2 entries: mean = sum / 2
    assert_eq!(
        x.mean::<0>().to_vec(),
        vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    );
    assert_eq!(
        x.mean::<1>().to_vec(),
        vec![2.0, 3.0, 4.0, 5.0, 10.0, 11.0, 12.0, 13.0]
    );
    assert_eq!(
        x.mean::<2>().to_vec(),
        vec![1.0, 2.0, 5.0, 6.0, 9.0, 10.0, 13.0, 14.0]
    );
    assert_eq!(
        x.mean::<3>().to_vec(),
        vec![0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5]
    );
    assert_eq!(x.sum_all().item(), 120.0); // 0 + 1 + ... + 15 = 15*16/2
    assert_eq!(x.mean_all().item(), 7.5);

    // p[flat] = 5 * flat mod 16, so the maximum sits at different positions:
    // flat 0..16 -> 0 5 10 15 | 4 9 14 3 | 8 13 2 7 | 12 1 6 11
    let p = Tensor4::<f64, 2, 2, 2, 2>::from_fn(|[a, b, c, d]| {
        ((5 * (8 * a + 4 * b + 2 * c + d)) % 16) as f64
    });
    // pairs (j, j+8): (0,8) (5,13) (10,2) (15,7) (4,12) (9,1) (14,6) (3,11)
    assert_eq!(
        p.max::<0>().to_vec(),
        vec![8.0, 13.0, 10.0, 15.0, 12.0, 9.0, 14.0, 11.0]
    );
    // pairs (j, j+4) in each half: (0,4) (5,9) (10,14) (15,3) (8,12) (13,1) (2,6) (7,11)
    assert_eq!(
        p.max::<1>().to_vec(),
        vec![4.0, 9.0, 14.0, 15.0, 12.0, 13.0, 6.0, 11.0]
    );
    // pairs (j, j+2) in each quarter: (0,10) (5,15) (4,14) (9,3) (8,2) (13,7) (12,6) (1,11)
    assert_eq!(
        p.max::<2>().to_vec(),
        vec![10.0, 15.0, 14.0, 9.0, 8.0, 13.0, 12.0, 11.0]
    );
    // adjacent pairs: (0,5) (10,15) (4,9) (14,3) (8,13) (2,7) (12,1) (6,11)
    assert_eq!(
        p.max::<3>().to_vec(),
        vec![5.0, 15.0, 9.0, 14.0, 13.0, 7.0, 12.0, 11.0]
    );
}

#[test]
fn reductions_over_a_runtime_batch_dim() {
    let x =
        Tensor::<f64, (usize, Dim<2>)>::from_dims(&[3, 2], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    let s: Tensor1<f64, 2> = x.sum::<0>();
    assert_eq!(s.to_vec(), vec![9.0, 12.0]); // 1+3+5, 2+4+6
    assert_eq!(x.mean::<0>().to_vec(), vec![3.0, 4.0]); // 9/3, 12/3
    let per_row: Tensor<f64, (usize,)> = x.max::<1>();
    assert_eq!(per_row.dims(), [3]);
    assert_eq!(per_row.to_vec(), vec![2.0, 4.0, 6.0]);
}

#[test]
fn max_sends_the_gradient_to_the_first_maximum() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 4>::from_slice(&[1.0, 3.0, 3.0, -1.0])
        .unwrap()
        .trace(&tape);
    let grads = x.max::<0>().backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// matmul, bmm
// ---------------------------------------------------------------------------------------------

#[test]
fn matmul_hand_values() {
    let a = Tensor2::<f64, 2, 3>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let b = Tensor2::<f64, 3, 2>::from_slice(&[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]).unwrap();
    let c: Tensor2<f64, 2, 2> = a.matmul(&b);
    assert_eq!(
        c.to_vec(),
        vec![
            58.0,  // 1*7 + 2*9 + 3*11
            64.0,  // 1*8 + 2*10 + 3*12
            139.0, // 4*7 + 5*9 + 6*11
            154.0, // 4*8 + 5*10 + 6*12
        ]
    );
    // a row times a column: 1*4 + 2*5 + 3*6 = 32
    let row = Tensor2::<f32, 1, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
    let col = Tensor2::<f32, 3, 1>::from_slice(&[4.0, 5.0, 6.0]).unwrap();
    assert_eq!(row.matmul(&col).to_vec(), vec![32.0]);
    // a column times a row: the outer product
    assert_eq!(
        col.matmul(&row).to_vec(),
        vec![4.0, 8.0, 12.0, 5.0, 10.0, 15.0, 6.0, 12.0, 18.0]
    );
}

#[test]
fn matmul_with_runtime_dims() {
    let a =
        Tensor::<f64, (usize, Dim<2>)>::from_dims(&[3, 2], vec![1., 0., 0., 1., 1., 1.]).unwrap();
    let b = Tensor2::<f64, 2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let c: Tensor<f64, (usize, Dim<2>)> = a.matmul(&b);
    assert_eq!(c.dims(), [3, 2]);
    // [1 0]·b = [1 2], [0 1]·b = [3 4], [1 1]·b = [1+3 2+4]
    assert_eq!(c.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 4.0, 6.0]);
}

#[test]
#[should_panic(
    expected = "matmul: the left matrix's columns and the right matrix's rows differ: 3 vs 4"
)]
fn matmul_with_mismatched_runtime_inner_dims_panics() {
    let a = Tensor::<f64, (Dim<2>, usize)>::zeros_shaped((Dim, 3));
    let b = Tensor::<f64, (usize, Dim<2>)>::zeros_shaped((4, Dim));
    let _ = a.matmul(&b);
}

#[test]
fn bmm_hand_values() {
    #[rustfmt::skip]
    let a = Tensor3::<f64, 2, 2, 3>::from_slice(&[
        1.0, 2.0, 3.0,   4.0, 5.0, 6.0,   // batch 0
        1.0, 0.0, -1.0,  0.0, 2.0, 0.0,   // batch 1
    ])
    .unwrap();
    #[rustfmt::skip]
    let b = Tensor3::<f64, 2, 3, 2>::from_slice(&[
        7.0, 8.0,  9.0, 10.0,  11.0, 12.0, // batch 0
        1.0, 2.0,  3.0, 4.0,   5.0, 6.0,   // batch 1
    ])
    .unwrap();
    let c: Tensor3<f64, 2, 2, 2> = a.bmm(&b);
    assert_eq!(
        c.to_vec(),
        vec![
            58.0,  // 1*7 + 2*9 + 3*11
            64.0,  // 1*8 + 2*10 + 3*12
            139.0, // 4*7 + 5*9 + 6*11
            154.0, // 4*8 + 5*10 + 6*12
            -4.0,  // 1*1 + 0*3 + (-1)*5
            -4.0,  // 1*2 + 0*4 + (-1)*6
            6.0,   // 0*1 + 2*3 + 0*5
            8.0,   // 0*2 + 2*4 + 0*6
        ]
    );
}

#[test]
#[should_panic(expected = "bmm: the two operands hold different numbers of matrices: 2 vs 3")]
fn bmm_with_mismatched_runtime_batches_panics() {
    let a = Tensor::<f64, (usize, Dim<2>, Dim<2>)>::zeros_shaped((2, Dim, Dim));
    let b = Tensor::<f64, (usize, Dim<2>, Dim<2>)>::zeros_shaped((3, Dim, Dim));
    let _ = a.bmm(&b);
}

/// `a (m x k) · b (k x n)` by the definition.
fn naive_matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            for p in 0..k {
                c[i * n + j] += a[i * k + p] * b[p * n + j];
            }
        }
    }
    c
}

/// `aᵀ` for a row-major `rows x cols` matrix.
fn naive_transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = a[i * cols + j];
        }
    }
    t
}

/// Shapes to compare: fixed odd and edge sizes, one large enough for the threaded path
/// (67·65·63 > 2^18), and random ones.
fn matmul_shapes() -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (1, 1, 1),
        (1, 7, 1),
        (3, 5, 7),
        (7, 1, 9),
        (17, 13, 11),
        (31, 33, 1),
        (67, 65, 63),
    ];
    let mut rng = Rng::new(2024);
    for _ in 0..12 {
        shapes.push((1 + rng.below(40), 1 + rng.below(40), 1 + rng.below(40)));
    }
    shapes
}

#[test]
fn matmul_matches_the_triple_loop_on_random_shapes() {
    for (s, &(m, k, n)) in matmul_shapes().iter().enumerate() {
        let a = Tensor::<f64, (usize, usize)>::randn_shaped((m, k), 100 + s as u64, 0.0, 1.0);
        let b = Tensor::<f64, (usize, usize)>::randn_shaped((k, n), 200 + s as u64, 0.0, 1.0);
        let c = a.matmul(&b);
        assert_eq!(c.dims(), [m, n]);
        let want = naive_matmul(a.as_slice(), b.as_slice(), m, k, n);
        for (i, (g, w)) in c.as_slice().iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12,
                "matmul {m}x{k}x{n}: element {i}: got {g}, want {w}"
            );
        }
        // a transposed operand (copied by `t`) gives the same product
        let at =
            Tensor::<f64, (usize, usize)>::from_dims(&[k, m], naive_transpose(a.as_slice(), m, k))
                .unwrap();
        assert_close(&at.t().matmul(&b).to_vec(), &want, 1e-12);
    }
}

#[test]
fn matmul_backward_matches_the_triple_loop() {
    // d/da sum(c * g) = g · bᵀ and d/db = aᵀ · g, on the threaded size and an odd one
    for (s, &(m, k, n)) in [(67, 65, 63), (5, 3, 7)].iter().enumerate() {
        let tape = Tape::new();
        let a = Tensor::<f64, (usize, usize)>::randn_shaped((m, k), 10 + s as u64, 0.0, 1.0)
            .trace(&tape);
        let b = Tensor::<f64, (usize, usize)>::randn_shaped((k, n), 20 + s as u64, 0.0, 1.0)
            .trace(&tape);
        let g = Tensor::<f64, (usize, usize)>::randn_shaped((m, n), 30 + s as u64, 0.0, 1.0);
        let grads = (a.matmul(&b) * &g).sum_all().backward();
        let want_a = naive_matmul(g.as_slice(), &naive_transpose(b.as_slice(), k, n), m, n, k);
        let want_b = naive_matmul(&naive_transpose(a.as_slice(), m, k), g.as_slice(), k, m, n);
        assert_close(&grads.get(&a).unwrap().to_vec(), &want_a, 1e-12);
        assert_close(&grads.get(&b).unwrap().to_vec(), &want_b, 1e-12);
    }
}

#[test]
fn bmm_matches_the_triple_loop_on_random_shapes() {
    let mut rng = Rng::new(77);
    let mut shapes = vec![(1, 1, 1, 1), (3, 5, 1, 7), (2, 9, 11, 3), (2, 67, 65, 63)];
    for _ in 0..6 {
        shapes.push((
            1 + rng.below(5),
            1 + rng.below(20),
            1 + rng.below(20),
            1 + rng.below(20),
        ));
    }
    for (s, &(bs, m, k, n)) in shapes.iter().enumerate() {
        let tape = Tape::new();
        let a = Tensor::<f64, (usize, usize, usize)>::randn_shaped((bs, m, k), s as u64, 0.0, 1.0)
            .trace(&tape);
        let b =
            Tensor::<f64, (usize, usize, usize)>::randn_shaped((bs, k, n), 50 + s as u64, 0.0, 1.0)
                .trace(&tape);
        let g =
            Tensor::<f64, (usize, usize, usize)>::randn_shaped((bs, m, n), 90 + s as u64, 0.0, 1.0);
        let c = a.bmm(&b);
        assert_eq!(c.dims(), [bs, m, n]);
        let (mut want, mut want_a, mut want_b) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..bs {
            let ai = &a.as_slice()[i * m * k..][..m * k];
            let bi = &b.as_slice()[i * k * n..][..k * n];
            let gi = &g.as_slice()[i * m * n..][..m * n];
            want.extend(naive_matmul(ai, bi, m, k, n));
            want_a.extend(naive_matmul(gi, &naive_transpose(bi, k, n), m, n, k));
            want_b.extend(naive_matmul(&naive_transpose(ai, m, k), gi, k, m, n));
        }
        assert_close(c.as_slice(), &want, 1e-12);
        let grads = (c * &g).sum_all().backward();
        assert_close(&grads.get(&a).unwrap().to_vec(), &want_a, 1e-12);
        assert_close(&grads.get(&b).unwrap().to_vec(), &want_b, 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Views: reshape, permute, broadcast, unroll
// ---------------------------------------------------------------------------------------------

#[test]
fn reshape_keeps_the_row_major_elements() {
    let x = Tensor2::<f64, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f64);
    let flat: Tensor1<f64, 6> = x.reshape();
    assert_eq!(flat.to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let y: Tensor3<f64, 3, 1, 2> = x.reshape();
    // element [2, 0, 1] of [3, 1, 2] is flat 2*2 + 0 + 1 = 5
    assert_eq!(y[[2, 0, 1]], 5.0);
    let back: Tensor2<f64, 2, 3> = y.reshape();
    assert_eq!(back.to_vec(), x.to_vec());
    let s: Tensor0<f64> = Tensor1::<f64, 1>::full(3.0).reshape();
    assert_eq!(s.item(), 3.0);
}

#[test]
fn reshape_to_a_runtime_dim() {
    let x = Tensor2::<f64, 2, 6>::from_fn(|[i, j]| (6 * i + j) as f64);
    let y: Tensor<f64, (usize, Dim<4>)> = x.reshape_to((3, Dim));
    assert_eq!(y.dims(), [3, 4]);
    // [2, 1] of [3, 4] is flat 2*4 + 1 = 9
    assert_eq!(y[[2, 1]], 9.0);
    let z: Tensor4<f64, 1, 2, 2, 3> = y.reshape_to(Default::default());
    assert_eq!(z.to_vec(), x.to_vec());
}

#[test]
#[should_panic(expected = "reshape: [2, 3] has 6 elements, [4, 2] has 8")]
fn reshape_to_the_wrong_element_count_panics() {
    let x = Tensor2::<f64, 2, 3>::zeros();
    let _: Tensor<f64, (usize, Dim<2>)> = x.reshape_to((4, Dim));
}

#[test]
fn transpose_and_permute_rank_2() {
    // [[0, 1, 2],
    //  [3, 4, 5]]
    let x = Tensor2::<f64, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f64);
    let xt: Tensor2<f64, 3, 2> = x.t();
    assert_eq!(xt.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert_eq!(x.permute::<1, 0>().to_vec(), xt.to_vec());
    assert_eq!(x.permute::<0, 1>().to_vec(), x.to_vec());
    assert_eq!(xt.t().to_vec(), x.to_vec());
    // runtime dims move with their axis
    let r =
        Tensor::<f64, (usize, Dim<2>)>::from_dims(&[3, 2], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    let rt: Tensor<f64, (Dim<2>, usize)> = r.t();
    assert_eq!(rt.dims(), [2, 3]);
    assert_eq!(rt.to_vec(), vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
}

/// Checks every element of a rank-3 permute: `y[i] = x[i permuted back]`.
macro_rules! check_permute3 {
    ($x:expr, $p0:literal, $p1:literal, $p2:literal) => {{
        let x = &$x;
        let y = x.permute::<$p0, $p1, $p2>();
        let (dx, dy) = (x.dims(), y.dims());
        assert_eq!(dy, [dx[$p0], dx[$p1], dx[$p2]]);
        for flat in 0..y.numel() {
            let (i, j, k) = (flat / (dy[1] * dy[2]), flat / dy[2] % dy[1], flat % dy[2]);
            // output axis n is input axis p_n
            let mut src = [0; 3];
            src[$p0] = i;
            src[$p1] = j;
            src[$p2] = k;
            assert_eq!(
                y[[i, j, k]],
                x[src],
                "permute {:?} at {:?}",
                [$p0, $p1, $p2],
                [i, j, k]
            );
        }
        y
    }};
}

#[test]
fn permute_rank_3() {
    let x = Tensor3::<f64, 2, 3, 4>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
    let y: Tensor3<f64, 4, 2, 3> = check_permute3!(x, 2, 0, 1);
    // y[3, 1, 2] = x[1, 2, 3] = 100 + 20 + 3
    assert_eq!(y[[3, 1, 2]], 123.0);
    let _: Tensor3<f64, 2, 3, 4> = check_permute3!(x, 0, 1, 2);
    let _: Tensor3<f64, 2, 4, 3> = check_permute3!(x, 0, 2, 1);
    let _: Tensor3<f64, 3, 2, 4> = check_permute3!(x, 1, 0, 2);
    let _: Tensor3<f64, 3, 4, 2> = check_permute3!(x, 1, 2, 0);
    let _: Tensor3<f64, 4, 3, 2> = check_permute3!(x, 2, 1, 0);
    // by hand: [[[0, 1, 2], [3, 4, 5]]] with <2, 0, 1> -> y[c, 0, b] = x[0, b, c]
    let small = Tensor3::<f64, 1, 2, 3>::from_fn(|[_, b, c]| (3 * b + c) as f64);
    let z: Tensor3<f64, 3, 1, 2> = small.permute::<2, 0, 1>();
    assert_eq!(z.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
}

#[test]
fn permute_rank_4() {
    // NCHW -> NHWC: x[n, c, h, w] = 4c + 2h + w; y[n, h, w, c] = x[n, c, h, w]
    let x = Tensor4::<f64, 1, 2, 2, 2>::from_fn(|[_, c, h, w]| (4 * c + 2 * h + w) as f64);
    let y: Tensor4<f64, 1, 2, 2, 2> = x.permute::<0, 2, 3, 1>();
    // (h, w, c) in row-major order: x at 4c + 2h + w
    assert_eq!(y.to_vec(), vec![0.0, 4.0, 1.0, 5.0, 2.0, 6.0, 3.0, 7.0]);
    // every element of a non-square permute
    let x = Tensor4::<f64, 2, 3, 4, 5>::from_fn(|[a, b, c, d]| {
        (1000 * a + 100 * b + 10 * c + d) as f64
    });
    let y: Tensor4<f64, 5, 3, 2, 4> = x.permute::<3, 1, 0, 2>();
    for d in 0..5 {
        for b in 0..3 {
            for a in 0..2 {
                for c in 0..4 {
                    assert_eq!(y[[d, b, a, c]], x[[a, b, c, d]]);
                }
            }
        }
    }
    // reversing twice is the identity
    let r = x.permute::<3, 2, 1, 0>().permute::<3, 2, 1, 0>();
    assert_eq!(r.to_vec(), x.to_vec());
}

#[test]
fn broadcast_rank_1_to_2_along_each_axis() {
    let v = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
    let rows: Tensor2<f64, 2, 3> = v.broadcast::<0, _>();
    assert_eq!(rows.to_vec(), vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    let cols: Tensor2<f64, 3, 2> = v.broadcast::<1, _>();
    assert_eq!(cols.to_vec(), vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    // a scalar to a vector
    let s: Tensor1<f64, 3> = Tensor0::<f64>::scalar(4.0).broadcast::<0, _>();
    assert_eq!(s.to_vec(), vec![4.0; 3]);
}

#[test]
fn broadcast_rank_2_to_3_along_each_axis() {
    // [[0, 1, 2],
    //  [3, 4, 5]]
    let x = Tensor2::<f64, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f64);
    let y0: Tensor3<f64, 2, 2, 3> = x.broadcast::<0, _>();
    assert_eq!(
        y0.to_vec(),
        vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    let y1: Tensor3<f64, 2, 2, 3> = x.broadcast::<1, _>();
    assert_eq!(
        y1.to_vec(),
        vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 3.0, 4.0, 5.0]
    );
    let y2: Tensor3<f64, 2, 3, 2> = x.broadcast::<2, _>();
    assert_eq!(
        y2.to_vec(),
        vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0]
    );
}

#[test]
fn broadcast_rank_3_to_4_along_each_axis() {
    let x = Tensor3::<f64, 2, 3, 4>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
    let y0: Tensor4<f64, 3, 2, 3, 4> = x.broadcast::<0, _>();
    let y1: Tensor4<f64, 2, 3, 3, 4> = x.broadcast::<1, _>();
    let y2: Tensor4<f64, 2, 3, 3, 4> = x.broadcast::<2, _>();
    let y3: Tensor4<f64, 2, 3, 4, 3> = x.broadcast::<3, _>();
    for n in 0..3 {
        for a in 0..2 {
            for b in 0..3 {
                for c in 0..4 {
                    let v = x[[a, b, c]];
                    assert_eq!(y0[[n, a, b, c]], v);
                    assert_eq!(y1[[a, n, b, c]], v);
                    assert_eq!(y2[[a, b, n, c]], v);
                    assert_eq!(y3[[a, b, c, n]], v);
                }
            }
        }
    }
}

#[test]
fn broadcast_to_a_runtime_batch() {
    let bias = Tensor1::<f64, 2>::from_slice(&[0.5, -1.0]).unwrap();
    let b: Tensor<f64, (usize, Dim<2>)> = bias.broadcast_to::<0, (usize, Dim<2>)>((3, Dim));
    assert_eq!(b.dims(), [3, 2]);
    assert_eq!(b.to_vec(), vec![0.5, -1.0, 0.5, -1.0, 0.5, -1.0]);
    // a runtime-sized vector along a new static axis
    let v = r(&[1.0, 2.0]);
    let c: Tensor<f64, (usize, Dim<3>)> = v.broadcast_to::<1, (usize, Dim<3>)>((2, Dim));
    assert_eq!(c.to_vec(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
}

#[test]
#[should_panic(expected = "broadcast: [2, 4] does not extend [3] along axis 0")]
fn broadcast_to_a_shape_that_does_not_extend_panics() {
    let v = r(&[1.0, 2.0, 3.0]);
    let _ = v.broadcast_to::<0, (Dim<2>, usize)>((Dim, 4));
}

#[test]
fn unroll_rank_1() {
    let x = Tensor1::<f64, 4>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let u: Tensor2<f64, 4, 2> = x.unroll::<2>();
    // row t = [x[t], x[t+1]], zero past the end
    #[rustfmt::skip]
    assert_eq!(u.to_vec(), vec![
        1.0, 2.0,
        2.0, 3.0,
        3.0, 4.0,
        4.0, 0.0,
    ]);
    // K = 1 is the column vector
    assert_eq!(x.unroll::<1>().to_vec(), x.to_vec());
    // unrolled · weight is the convolution: out[t] = 1*x[t] - 1*x[t+1]
    let w = Tensor2::<f64, 2, 1>::from_slice(&[1.0, -1.0]).unwrap();
    assert_eq!(u.matmul(&w).to_vec(), vec![-1.0, -1.0, -1.0, 4.0]);
    // a runtime length
    let ur: Tensor<f64, (usize, Dim<3>)> = r(&[5.0, 6.0]).unroll::<3>();
    assert_eq!(ur.dims(), [2, 3]);
    assert_eq!(ur.to_vec(), vec![5.0, 6.0, 0.0, 6.0, 0.0, 0.0]);
}

#[test]
fn unroll_channels() {
    // channel 0 = [1, 2, 3], channel 1 = [4, 5, 6]
    let x = Tensor2::<f64, 2, 3>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let u: Tensor2<f64, 3, 4> = x.unroll::<2>(); // C*K = 2*2 columns, computed by the compiler
                                                 // row t = [x0[t], x0[t+1], x1[t], x1[t+1]]
    #[rustfmt::skip]
    assert_eq!(u.to_vec(), vec![
        1.0, 2.0, 4.0, 5.0,
        2.0, 3.0, 5.0, 6.0,
        3.0, 0.0, 6.0, 0.0,
    ]);
    // a 2-channel, width-2 kernel with weights [1, 0 | 0, 2]: out[t] = x0[t] + 2*x1[t+1]
    let w = Tensor2::<f64, 4, 1>::from_slice(&[1.0, 0.0, 0.0, 2.0]).unwrap();
    // 1 + 2*5, 2 + 2*6, 3 + 2*0
    assert_eq!(u.matmul(&w).to_vec(), vec![11.0, 14.0, 3.0]);
}

// ---------------------------------------------------------------------------------------------
// Autodiff behaviour
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tensor_used_twice_accumulates_its_gradient() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0])
        .unwrap()
        .trace(&tape);
    // d/dx sum(x*x) = 2x
    let grads = (&x * &x).sum_all().backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![2.0, 4.0, 6.0]);
    // x used in three branches: d/dx sum(x*3 + exp(0*x) + x) = 3 + 0*e^0 + 1 = 4
    let grads = (x.mul_scalar(3.0) + x.mul_scalar(0.0).exp() + x.clone())
        .sum_all()
        .backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![4.0; 3]);
    // x·x for a square matrix: d/dx sum(x x) has both operands' terms
    let tape = Tape::new();
    let m = Tensor2::<f64, 2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0])
        .unwrap()
        .trace(&tape);
    let grads = m.matmul(&m).sum_all().backward();
    // = ones · mᵀ + mᵀ · ones: row sums of m as columns plus column sums of m as rows
    // row sums [3, 7], column sums [4, 6]: [[3+4, 7+4], [3+6, 7+6]]
    assert_eq!(grads.get(&m).unwrap().to_vec(), vec![7.0, 11.0, 9.0, 13.0]);
}

#[test]
fn untraced_and_unused_tensors_get_no_gradient() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 2>::from_slice(&[1.0, 2.0])
        .unwrap()
        .trace(&tape);
    let unused = Tensor1::<f64, 2>::ones().trace(&tape);
    let c = Tensor1::<f64, 2>::from_slice(&[5.0, -3.0]).unwrap();
    let y = &x * &c;
    assert!(y.is_traced());
    let grads = y.sum_all().backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![5.0, -3.0]);
    assert!(
        grads.get(&c).is_none(),
        "an untraced constant got a gradient"
    );
    assert!(
        grads.get(&unused).is_none(),
        "an unused tensor got a gradient"
    );
    // ops on untraced tensors record nothing and give untraced results
    let z = (&c * &c).exp();
    assert!(!z.is_traced() && z.tape().is_none());
    let grads = z.sum_all().backward();
    assert!(grads.get(&c).is_none());
}

#[test]
fn gradients_have_their_tensors_type() {
    let tape = Tape::new();
    let w = Tensor3::<f64, 2, 1, 3>::from_fn(|[a, _, c]| (a + c) as f64).trace(&tape);
    let x = Tensor::<f64, (usize, Dim<3>)>::ones_shaped((4, Dim)).trace(&tape);
    let loss = w.sum_all() + x.sum::<0>().sum_all().mul_scalar(2.0);
    let grads = loss.backward();
    let gw: Tensor3<f64, 2, 1, 3> = grads.get(&w).unwrap();
    assert_eq!(gw.dims(), [2, 1, 3]);
    assert_eq!(gw.to_vec(), vec![1.0; 6]);
    let gx: Tensor<f64, (usize, Dim<3>)> = grads.get(&x).unwrap();
    assert_eq!(gx.dims(), [4, 3]);
    assert_eq!(gx.to_vec(), vec![2.0; 12]);
    assert_eq!(grads.get_raw(w.id()), Some(&[1.0; 6][..]));
    // a gradient is a plain value, not traced
    assert!(!gw.is_traced());
}

#[test]
fn trace_shares_the_id_so_the_untraced_original_finds_the_gradient() {
    let x = Tensor1::<f64, 2>::from_slice(&[3.0, 4.0]).unwrap();
    let tape = Tape::new();
    let xt = x.trace(&tape);
    assert_eq!(x.id(), xt.id());
    assert!(xt.is_traced() && !x.is_traced());
    let grads = xt.powi(2).sum_all().backward();
    // d/dx x² = 2x
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![6.0, 8.0]);
}

#[test]
fn detach_stops_the_gradient() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 2>::from_slice(&[1.0, 2.0])
        .unwrap()
        .trace(&tape);
    let d = x.detach();
    assert!(!d.is_traced());
    assert_ne!(d.id(), x.id());
    assert_eq!(d.to_vec(), x.to_vec());
    // d/dx sum(detach(x) * x) = detach(x) = x, not 2x
    let grads = (&d * &x).sum_all().backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![1.0, 2.0]);
    // through an op: d/dx sum(detach(exp x) * x) = exp x, without the x·exp x term
    let tape = Tape::new();
    let x = Tensor1::<f64, 2>::from_slice(&[0.0, 1.0])
        .unwrap()
        .trace(&tape);
    let e = x.exp().detach();
    let grads = (&e * &x).sum_all().backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), e.to_vec());
    // a loss of detached values only: no gradient for x at all
    let grads = x.exp().detach().sum_all().backward();
    assert!(grads.get(&x).is_none());
}

#[test]
#[should_panic(expected = "autodiff: add got tensors traced on two different tapes; \
                trace every tensor of one computation on the same tape")]
fn combining_tensors_from_two_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = Tensor1::<f64, 2>::ones().trace(&t1);
    let b = Tensor1::<f64, 2>::ones().trace(&t2);
    let _ = a + b;
}

#[test]
#[should_panic(expected = "autodiff: matmul got tensors traced on two different tapes")]
fn matmul_of_tensors_from_two_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = Tensor2::<f64, 2, 2>::ones().trace(&t1);
    let b = Tensor2::<f64, 2, 2>::ones().trace(&t2);
    let _ = a.matmul(&b);
}

#[test]
fn backward_replays_and_empties_the_tape() {
    let tape = Tape::new();
    assert!(tape.is_empty());
    let x = Tensor1::<f64, 3>::ones().trace(&tape);
    let loss = x.exp().mul_scalar(2.0).sum_all();
    assert_eq!(tape.len(), 3); // exp, mul_scalar, sum_all
    let grads = loss.backward();
    assert!(tape.is_empty());
    // d/dx sum(2 e^x) = 2 e^x = 2e at x = 1
    assert_close(
        &grads.get(&x).unwrap().to_vec(),
        &[2.0 * std::f64::consts::E; 3],
        1e-15,
    );
}

#[test]
fn intermediate_gradients_are_freed() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 2>::ones().trace(&tape);
    let hidden = x.mul_scalar(2.0);
    let grads = hidden.sum_all().backward();
    assert!(grads.get(&hidden).is_none());
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![2.0, 2.0]);
}

#[test]
fn powi_zero_has_zero_gradient_even_at_zero() {
    // d/dx x^0 = 0 everywhere, as in PyTorch (0 * x^-1 would be 0 * inf = NaN at x = 0)
    let tape = Tape::new();
    let x = Tensor1::<f64, 2>::from_slice(&[0.0, 2.0])
        .unwrap()
        .trace(&tape);
    let grads = x.powi(0).sum_all().backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![0.0, 0.0]);
}

#[test]
fn linear_layer_hand_gradients() {
    // y = sum(x·w + b), x = [[1, 2]], w = [[3], [4]], b = [5]
    let tape = Tape::new();
    let x = Tensor2::<f64, 1, 2>::from_slice(&[1.0, 2.0])
        .unwrap()
        .trace(&tape);
    let w = Tensor2::<f64, 2, 1>::from_slice(&[3.0, 4.0])
        .unwrap()
        .trace(&tape);
    let b = Tensor1::<f64, 1>::from_slice(&[5.0]).unwrap().trace(&tape);
    let y = (x.matmul(&w) + b.broadcast::<0, _>()).sum_all();
    assert_eq!(y.item(), 16.0); // 1*3 + 2*4 + 5
    let grads = y.backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![3.0, 4.0]); // wᵀ
    assert_eq!(grads.get(&w).unwrap().to_vec(), vec![1.0, 2.0]); // xᵀ
    assert_eq!(grads.get(&b).unwrap().to_vec(), vec![1.0]);
}

#[test]
fn runtime_batch_through_matmul_broadcast_and_sum() {
    // x: a batch of 4 rows of 3 features, at run time; w: 3 -> 2; b: 2
    let tape = Tape::new();
    #[rustfmt::skip]
    let x = Tensor::<f64, (usize, Dim<3>)>::from_dims(&[4, 3], vec![
        1.0, 0.0, 2.0,
        0.0, 1.0, 0.0,
        -1.0, 1.0, 1.0,
        2.0, 2.0, 0.0,
    ])
    .unwrap()
    .trace(&tape);
    let w = Tensor2::<f64, 3, 2>::from_slice(&[1.0, 2.0, 0.0, 1.0, -1.0, 3.0])
        .unwrap()
        .trace(&tape);
    let b = Tensor1::<f64, 2>::from_slice(&[0.5, -0.5])
        .unwrap()
        .trace(&tape);
    let n = x.shape().0;
    let h: Tensor<f64, (usize, Dim<2>)> = x.matmul(&w) + b.broadcast_to::<0, _>((n, Dim));
    assert_eq!(h.dims(), [4, 2]);
    // rows: [1*1 + 0*0 + 2*(-1), 1*2 + 0*1 + 2*3] + b = [-1, 8] + b
    //       [0, 1] + b; [-1 + 0 - 1, -2 + 1 + 3] + b = [-2, 2] + b; [2, 4 + 2] + b = [2, 6] + b
    assert_eq!(h.to_vec(), vec![-0.5, 7.5, 0.5, 0.5, -1.5, 1.5, 2.5, 5.5]);
    let per_feature: Tensor1<f64, 2> = h.sum::<0>();
    // -0.5 + 0.5 - 1.5 + 2.5, 7.5 + 0.5 + 1.5 + 5.5
    assert_eq!(per_feature.to_vec(), vec![1.0, 15.0]);
    let grads = per_feature.sum_all().backward();
    // d/dw[k, j] = sum over the batch of x[n, k]: column sums of x [2, 4, 3], for both j
    let gw: Tensor2<f64, 3, 2> = grads.get(&w).unwrap();
    assert_eq!(gw.to_vec(), vec![2.0, 2.0, 4.0, 4.0, 3.0, 3.0]);
    // d/db = the batch size
    assert_eq!(grads.get(&b).unwrap().to_vec(), vec![4.0, 4.0]);
    // d/dx[n, k] = sum_j w[k, j]: [1+2, 0+1, -1+3] for every row
    let gx: Tensor<f64, (usize, Dim<3>)> = grads.get(&x).unwrap();
    assert_eq!(gx.dims(), [4, 3]);
    assert_eq!(gx.to_vec(), [3.0, 1.0, 2.0].repeat(4));
}
