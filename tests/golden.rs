//! Golden values: ops against PyTorch's float64 results in `tests/data/torch_reference.json`
//! (layout and semantics in `tests/data/README.md`), `tests/data/torch_reference_extra.json`,
//! `tests/data/pool_reference.json` and `tests/data/norm_reference.json` (the same layout;
//! written by `tests/data/torch_reference_extra.py`, `tests/data/pool_reference.py` and
//! `tests/data/norm_reference.py`, which say what they add). The batch norm layers' cases
//! (several training steps, then evaluation) have fields of their own and a runner of their
//! own ([`run_norm_layer`]).
//!
//! Every reference case is run with its concrete types written out below, once in f64 (to agree
//! within `1e-10 * max(1, |expected|)`) and once in f32 (`1e-4 * max(1, |expected|)`). The inputs
//! are built with `Tensor::from_dims(json_shape, data)`, so a wrong literal in a case's types
//! fails loudly against the file; the inputs are traced on one tape, the loss is
//! `sum(y * grad_out)` with `grad_out` from the file, and `y` and every `grad_<input>` the file
//! lists are compared. Integer inputs (`ids`, `target`) are read as `IndexTensor`s
//! (`indices { .. }` in a case), and float inputs the file does not differentiate as untraced
//! constants (`constants { .. }`).
//!
//! Adding an op: write a macro that turns a case name and its dims into a [`GoldenCase`] through
//! [`golden_case!`] (see `conv1d!` below), list every case in a table function, and add one test
//! that checks the table covers the files ([`reference::assert_table_covers`] for every op with a
//! prefix, [`reference::assert_table_covers_ops`] for a list of ops) and one test per op that runs
//! it ([`reference::run_op`]).

mod reference {
    //! Loading `torch_reference.json` and comparing results against it.

    use std::collections::{BTreeMap, BTreeSet};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::OnceLock;

    use serde_json::Value;
    use shapetorch::autodiff::TensorId;
    use shapetorch::prelude::*;

    /// An element type the golden tests run in, with its tolerance.
    pub trait Precision: Element {
        /// `f64` or `f32`, for messages.
        const NAME: &'static str;
        /// Agreement required: `|got - expected| <= TOL * max(1, |expected|)`.
        const TOL: f64;
        /// The value as an `f64`, to compare with the file.
        fn as_f64(self) -> f64;
    }

    impl Precision for f64 {
        const NAME: &'static str = "f64";
        const TOL: f64 = 1e-10;
        fn as_f64(self) -> f64 {
            self
        }
    }

    impl Precision for f32 {
        const NAME: &'static str = "f32";
        const TOL: f64 = 1e-4;
        fn as_f64(self) -> f64 {
            f64::from(self)
        }
    }

    /// One array of the file: its shape and its row-major values.
    #[derive(Debug)]
    pub struct Array {
        pub shape: Vec<usize>,
        pub data: Vec<f64>,
    }

    /// One case of the file.
    #[derive(Debug)]
    pub struct Case {
        pub name: String,
        pub op: String,
        pub params: Value,
        pub inputs: BTreeMap<String, Array>,
        pub grad_out: Option<Array>,
        pub outputs: BTreeMap<String, Array>,
    }

    /// The reference files: the shared one, and the cases this project added (functional
    /// ops at large magnitudes, ties, lengths; pooling with padding, dilation and per-axis
    /// values, 1-D pooling, conv2d with per-axis stride, padding and dilation; batch norm and
    /// adaptive pooling; grouped, depthwise and transposed convolution; 3x3 stride-1 convolutions).
    const PATHS: [&str; 6] = [
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/torch_reference.json"
        ),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/conv3x3_reference.json"
        ),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/torch_reference_extra.json"
        ),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/pool_reference.json"
        ),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/norm_reference.json"
        ),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/conv_groups_reference.json"
        ),
    ];

    fn array(path: &str, case: &str, field: &str, v: &Value) -> Array {
        let fail = |what: &str| -> ! { panic!("{path}: case {case}, {field}: {what}") };
        let shape = v["shape"].as_array().unwrap_or_else(|| fail("no shape"));
        let data = v["data"].as_array().unwrap_or_else(|| fail("no data"));
        let array = Array {
            shape: shape
                .iter()
                .map(|d| d.as_u64().unwrap_or_else(|| fail("bad dim")) as usize)
                .collect(),
            data: data
                .iter()
                .map(|x| x.as_f64().unwrap_or_else(|| fail("non-numeric value")))
                .collect(),
        };
        if array.shape.iter().product::<usize>() != array.data.len() {
            fail("shape and data length disagree");
        }
        array
    }

    fn arrays(path: &str, case: &str, v: &Value) -> BTreeMap<String, Array> {
        let Some(map) = v.as_object() else {
            panic!("{path}: case {case}: expected an object of arrays");
        };
        map.iter()
            .map(|(k, v)| (k.clone(), array(path, case, k, v)))
            .collect()
    }

    /// The cases of one file.
    fn read(path: &str) -> Vec<Case> {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let cases = file["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no \"cases\" array"));
        cases
            .iter()
            .map(|c| {
                let name = c["name"]
                    .as_str()
                    .expect("a case without a name")
                    .to_string();
                Case {
                    op: c["op"].as_str().unwrap_or_default().to_string(),
                    params: c["params"].clone(),
                    inputs: arrays(path, &name, &c["inputs"]),
                    grad_out: (!c["grad_out"].is_null())
                        .then(|| array(path, &name, "grad_out", &c["grad_out"])),
                    outputs: arrays(path, &name, &c["outputs"]),
                    name,
                }
            })
            .collect()
    }

    /// Every case of the files, parsed once per test binary; panics if two share a name.
    pub fn cases() -> &'static [Case] {
        static CASES: OnceLock<Vec<Case>> = OnceLock::new();
        CASES.get_or_init(|| {
            let cases: Vec<Case> = PATHS.iter().flat_map(|path| read(path)).collect();
            let mut names = BTreeSet::new();
            for c in &cases {
                assert!(
                    names.insert(&c.name),
                    "two reference cases are named {}",
                    c.name
                );
            }
            cases
        })
    }

    /// The case called `name`.
    pub fn case(name: &str) -> &'static Case {
        cases()
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no reference file has a case {name}"))
    }

    /// A traced input's gradient to compare: the output field (`grad_x`), the tensor's id and
    /// dims.
    pub struct Wrt {
        field: &'static str,
        id: TensorId,
        dims: Vec<usize>,
    }

    impl Wrt {
        pub fn new<E: Element, S: Shape>(field: &'static str, tensor: &Tensor<E, S>) -> Self {
            Wrt {
                field,
                id: tensor.id(),
                dims: tensor.dims().as_ref().to_vec(),
            }
        }
    }

    impl Case {
        fn array(&self, name: &str) -> &Array {
            self.inputs
                .get(name)
                .unwrap_or_else(|| panic!("case {}: no input {name}", self.name))
        }

        /// Input `name` as a tensor of type `Tensor<E, S>` (the JSON shape must fit `S`), traced
        /// on `tape`.
        pub fn input<E: Precision, S: Shape>(&self, name: &str, tape: &Tape<E>) -> Tensor<E, S> {
            self.constant(name).trace(tape)
        }

        /// Input `name` as an untraced tensor of type `Tensor<E, S>`: an input the file gives
        /// no gradient for.
        pub fn constant<E: Precision, S: Shape>(&self, name: &str) -> Tensor<E, S> {
            let array = self.array(name);
            let data = array.data.iter().map(|&v| E::of(v)).collect();
            Tensor::<E, S>::from_dims(&array.shape, data)
                .unwrap_or_else(|e| panic!("case {}: input {name}: {e}", self.name))
        }

        /// Integer input `name` (ids, class labels) as an `IndexTensor<S, N>`: the JSON shape
        /// must fit `S`, and every value must be a whole number in `0..N`.
        pub fn indices<S: Shape, const N: usize>(&self, name: &str) -> IndexTensor<S, N> {
            let array = self.array(name);
            let values: Vec<i64> = array
                .data
                .iter()
                .map(|&v| {
                    assert!(
                        v.fract() == 0.0 && v.abs() < 2f64.powi(53),
                        "case {}: input {name} holds {v}, not an integer",
                        self.name
                    );
                    v as i64
                })
                .collect();
            let shape = S::from_dims(&array.shape).unwrap_or_else(|| {
                panic!(
                    "case {}: input {name} has shape {:?}, which does not fit {}",
                    self.name,
                    array.shape,
                    std::any::type_name::<S>()
                )
            });
            IndexTensor::from_ints_shaped(shape, &values)
                .unwrap_or_else(|e| panic!("case {}: input {name}: {e}", self.name))
        }

        /// Runs backward on `sum(y * grad_out)` and compares `y` and the gradients of `wrt` with
        /// the file; every output the file lists must be among them. `Ok`: the largest error
        /// `|got - expected| / max(1, |expected|)` over every field. The error lists every
        /// mismatch: case, precision, field, index, expected, got.
        pub fn compare<E: Precision, S: Shape>(
            &self,
            y: &Tensor<E, S>,
            wrt: &[Wrt],
        ) -> Result<f64, String> {
            let mut errors = Vec::new();
            let mut worst = 0.0;
            let g = self
                .grad_out
                .as_ref()
                .unwrap_or_else(|| panic!("case {}: no grad_out", self.name));
            let grad_out =
                Tensor::<E, S>::from_dims(&g.shape, g.data.iter().map(|&v| E::of(v)).collect())
                    .map_err(|e| {
                        format!(
                            "case {} ({}): grad_out does not fit y: {e}",
                            self.name,
                            E::NAME
                        )
                    })?;
            let grads = (y * &grad_out).sum_all().backward();

            let mut compared = BTreeSet::new();
            let y_dims = y.dims();
            let y_field = ("y", y_dims.as_ref(), Some(y.as_slice()));
            self.compare_field(y_field, &mut errors, &mut worst);
            compared.insert("y");
            for w in wrt {
                let field = (w.field, &w.dims[..], grads.get_raw(w.id));
                self.compare_field(field, &mut errors, &mut worst);
                compared.insert(w.field);
            }
            for field in self.outputs.keys() {
                if !compared.contains(field.as_str()) {
                    errors.push(format!(
                        "case {} ({}): the file has output {field}, which the test leaves out",
                        self.name,
                        E::NAME
                    ));
                }
            }
            if errors.is_empty() {
                Ok(worst)
            } else {
                Err(errors.join("\n"))
            }
        }

        /// Compares one `(field, dims, got)` (`got` of shape `dims`; `None`: not computed)
        /// with the file, pushing mismatches onto `errors` and raising `worst` to the field's
        /// largest error.
        pub fn compare_field<E: Precision>(
            &self,
            (field, dims, got): (&str, &[usize], Option<&[E]>),
            errors: &mut Vec<String>,
            worst: &mut f64,
        ) {
            let at = format!("case {} ({}) {field}", self.name, E::NAME);
            let Some(expected) = self.outputs.get(field) else {
                errors.push(format!("{at}: not in the file"));
                return;
            };
            let Some(got) = got else {
                errors.push(format!("{at}: backward gave no gradient"));
                return;
            };
            if expected.shape != dims || got.len() != expected.data.len() {
                errors.push(format!(
                    "{at}: shape {:?} in the file, {dims:?} computed",
                    expected.shape
                ));
                return;
            }
            for (&e, g) in expected.data.iter().zip(got) {
                *worst = f64::max(*worst, error(e, g.as_f64()));
            }
            let bad: Vec<usize> = (0..got.len())
                .filter(|&i| {
                    let (e, g) = (expected.data[i], got[i].as_f64());
                    !agrees(e, g, E::TOL)
                })
                .collect();
            for &i in bad.iter().take(5) {
                errors.push(format!(
                    "{at}{:?}: expected {:e}, got {:e}, difference {:.2e} (tolerance {:e})",
                    unravel(&expected.shape, i),
                    expected.data[i],
                    got[i].as_f64(),
                    got[i].as_f64() - expected.data[i],
                    E::TOL
                ));
            }
            if bad.len() > 5 {
                errors.push(format!(
                    "{at}: ... {} mismatches of {} in all",
                    bad.len(),
                    got.len()
                ));
            }
        }
    }

    /// `|got - expected| <= tol * max(1, |expected|)`; false when `got` is NaN.
    fn agrees(expected: f64, got: f64, tol: f64) -> bool {
        (got - expected).abs() <= tol * expected.abs().max(1.0)
    }

    /// `|got - expected| / max(1, |expected|)`: the error [`agrees`] bounds (NaN propagates).
    fn error(expected: f64, got: f64) -> f64 {
        (got - expected).abs() / expected.abs().max(1.0)
    }

    fn unravel(shape: &[usize], mut flat: usize) -> Vec<usize> {
        let mut index = vec![0; shape.len()];
        for (i, d) in index.iter_mut().zip(shape).rev() {
            *i = flat % d;
            flat /= d;
        }
        index
    }

    /// Runs one case in one precision.
    /// `Ok`: the largest error `|got - expected| / max(1, |expected|)`.
    pub type RunFn = fn(&Case) -> Result<f64, String>;

    /// One case as the tests run it: the op and params its types were written for, and its run
    /// in f64 and f32 (in that order).
    pub struct GoldenCase {
        pub name: &'static str,
        pub op: &'static str,
        pub params: Value,
        pub run: [RunFn; 2],
    }

    /// Panics unless `table` holds exactly the files' cases whose op starts with `prefix` (so a
    /// new case in a file cannot be skipped silently), each with the file's op and params,
    /// and every op of the table is one of `run_ops` (an op some test runs).
    pub fn assert_table_covers(prefix: &str, table: &[GoldenCase], run_ops: &[&str]) {
        covers(
            &format!("{prefix}*"),
            |op| op.starts_with(prefix),
            table,
            run_ops,
        );
    }

    /// Panics unless `table` holds exactly the files' cases whose op is one of `ops` (for ops
    /// whose name is the prefix of another's: `max` and `maxpool2d`), each with the file's op
    /// and params; every op of `ops` is run by some test.
    pub fn assert_table_covers_ops(ops: &[&str], table: &[GoldenCase]) {
        covers(&format!("{ops:?}"), |op| ops.contains(&op), table, ops);
    }

    fn covers(what: &str, selected: impl Fn(&str) -> bool, table: &[GoldenCase], run_ops: &[&str]) {
        let mut ours = BTreeSet::new();
        for c in table {
            assert!(ours.insert(c.name), "case {} is listed twice", c.name);
        }
        let file: BTreeSet<&str> = cases()
            .iter()
            .filter(|c| selected(&c.op))
            .map(|c| c.name.as_str())
            .collect();
        let missing: Vec<_> = file.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&file).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{what} cases: in the files but not tested: {missing:?}; tested but not {what} \
             cases of the files: {extra:?}"
        );
        for c in table {
            let reference = case(c.name);
            assert_eq!(c.op, reference.op, "case {}: op", c.name);
            assert_eq!(
                c.params, reference.params,
                "case {}: params of the test (left) and of the file (right)",
                c.name
            );
            assert!(
                run_ops.contains(&c.op),
                "case {}: no test runs op {}",
                c.name,
                c.op
            );
        }
    }

    /// Runs every case of `table` whose op is `op`, in f64 and f32, and panics listing every
    /// failure (a panic inside one case is reported and the others still run).
    pub fn run_op(op: &str, table: &[GoldenCase]) {
        let mut failures = Vec::new();
        let mut ran = 0;
        for c in table.iter().filter(|c| c.op == op) {
            let reference = case(c.name);
            for (run, precision) in c.run.into_iter().zip(["f64", "f32"]) {
                ran += 1;
                match catch_unwind(AssertUnwindSafe(|| run(reference))) {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => failures.push(e),
                    Err(panic) => failures.push(format!(
                        "case {} ({precision}): panicked: {}",
                        c.name,
                        panic
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| panic.downcast_ref::<&str>().copied())
                            .unwrap_or("(no message)")
                    )),
                }
            }
        }
        assert!(ran > 0, "no {op} case in the table");
        assert!(
            failures.is_empty(),
            "{} of {ran} {op} runs disagree with PyTorch:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

use reference::{Case, GoldenCase, Precision, Wrt};
use shapetorch::ops::conv::ConvAlgorithm;
use shapetorch::prelude::*;

/// A [`GoldenCase`]: `$name` of op `$op` with params `$params` (JSON, compared with the file's),
/// whose inputs have the given types (written with the element type `E`) and are traced, and
/// whose output is `$call`. Every input is differentiated: its gradient is compared with the
/// file's `grad_<input>`. Integer inputs are listed in `indices { .. }` (as `IndexTensor`s)
/// and float inputs without a gradient in `constants { .. }`, after the inputs.
macro_rules! golden_case {
    (
        $name:literal, $op:expr, $params:tt,
        inputs { $($input:ident: $ty:ty),+ $(,)? }
        $(indices { $($index:ident: $index_ty:ty),+ $(,)? })?
        $(constants { $($constant:ident: $constant_ty:ty),+ $(,)? })?,
        $call:expr
    ) => {
        GoldenCase {
            name: $name,
            op: $op,
            params: serde_json::json!($params),
            run: {
                fn run<E: Precision>(case: &Case) -> Result<f64, String> {
                    let tape = Tape::new();
                    $(let $input: $ty = case.input(stringify!($input), &tape);)+
                    $($(let $index: $index_ty = case.indices(stringify!($index));)+)?
                    $($(let $constant: $constant_ty = case.constant(stringify!($constant));)+)?
                    let y = $call;
                    let wrt = [$(Wrt::new(concat!("grad_", stringify!($input)), &$input)),+];
                    case.compare(&y, &wrt)
                }
                [run::<f64>, run::<f32>]
            },
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Convolution
// ---------------------------------------------------------------------------------------------

/// `conv1d!(name, x [B, C, W], w [O, C, K], stride S, padding P, dilation D, bias b)`:
/// `x.conv1d(&w, ConvParams::<S, P, D>)`, or `x.conv1d_bias(&w, &b, ..)` with `bias true`.
macro_rules! conv1d {
    ($name:literal, x [$b:literal, $c:literal, $w:literal], w [$o:literal, $wc:literal, $k:literal],
     stride $s:literal, padding $p:literal, dilation $d:literal, bias false) => {
        golden_case!(
            $name, "conv1d", {"stride": $s, "padding": $p, "dilation": $d, "bias": false},
            inputs { x: Tensor3<E, $b, $c, $w>, w: Tensor3<E, $o, $wc, $k> },
            x.conv1d(&w, ConvParams::<$s, $p, $d>)
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $w:literal], w [$o:literal, $wc:literal, $k:literal],
     stride $s:literal, padding $p:literal, dilation $d:literal, bias true) => {
        golden_case!(
            $name, "conv1d", {"stride": $s, "padding": $p, "dilation": $d, "bias": true},
            inputs { x: Tensor3<E, $b, $c, $w>, w: Tensor3<E, $o, $wc, $k>, b: Tensor1<E, $o> },
            x.conv1d_bias(&w, &b, ConvParams::<$s, $p, $d>)
        )
    };
}

/// `conv1d_minitorch!(name, x [B, C, W], w [O, C, K])`: `x.conv1d_minitorch(&w)`.
macro_rules! conv1d_minitorch {
    ($name:literal, x [$b:literal, $c:literal, $w:literal],
     w [$o:literal, $wc:literal, $k:literal]) => {
        golden_case!(
            $name, "conv1d_minitorch", {},
            inputs { x: Tensor3<E, $b, $c, $w>, w: Tensor3<E, $o, $wc, $k> },
            x.conv1d_minitorch(&w)
        )
    };
}

/// `conv2d!(name, x [B, C, H, W], w [O, C, KH, KW], stride S, padding P, dilation D, bias b)`:
/// `x.conv2d(&w, ConvParams::<S, P, D>)`, or `x.conv2d_bias(&w, &b, ..)` with `bias true`.
macro_rules! conv2d {
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $wc:literal, $kh:literal, $kw:literal],
     stride $s:literal, padding $p:literal, dilation $d:literal, bias false) => {
        golden_case!(
            $name, "conv2d", {"stride": $s, "padding": $p, "dilation": $d, "bias": false},
            inputs { x: Tensor4<E, $b, $c, $h, $w>, w: Tensor4<E, $o, $wc, $kh, $kw> },
            x.conv2d(&w, ConvParams::<$s, $p, $d>)
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $wc:literal, $kh:literal, $kw:literal],
     stride $s:literal, padding $p:literal, dilation $d:literal, bias true) => {
        golden_case!(
            $name, "conv2d", {"stride": $s, "padding": $p, "dilation": $d, "bias": true},
            inputs {
                x: Tensor4<E, $b, $c, $h, $w>,
                w: Tensor4<E, $o, $wc, $kh, $kw>,
                b: Tensor1<E, $o>,
            },
            x.conv2d_bias(&w, &b, ConvParams::<$s, $p, $d>)
        )
    };
}

/// `conv2d_axes!(name, x [B, C, H, W], w [O, C, KH, KW], stride [SH, SW], padding [PH, PW],
/// dilation [DH, DW], bias b)`: PyTorch's tuples, `x.conv2d(&w, ConvParams2d::<SH, SW, PH, PW,
/// DH, DW>)` (or `conv2d_bias`).
macro_rules! conv2d_axes {
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $wc:literal, $kh:literal, $kw:literal],
     stride [$sh:literal, $sw:literal], padding [$ph:literal, $pw:literal],
     dilation [$dh:literal, $dw:literal], bias false) => {
        golden_case!(
            $name, "conv2d",
            {"stride": [$sh, $sw], "padding": [$ph, $pw], "dilation": [$dh, $dw], "bias": false},
            inputs { x: Tensor4<E, $b, $c, $h, $w>, w: Tensor4<E, $o, $wc, $kh, $kw> },
            x.conv2d(&w, ConvParams2d::<$sh, $sw, $ph, $pw, $dh, $dw>)
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $wc:literal, $kh:literal, $kw:literal],
     stride [$sh:literal, $sw:literal], padding [$ph:literal, $pw:literal],
     dilation [$dh:literal, $dw:literal], bias true) => {
        golden_case!(
            $name, "conv2d",
            {"stride": [$sh, $sw], "padding": [$ph, $pw], "dilation": [$dh, $dw], "bias": true},
            inputs {
                x: Tensor4<E, $b, $c, $h, $w>,
                w: Tensor4<E, $o, $wc, $kh, $kw>,
                b: Tensor1<E, $o>,
            },
            x.conv2d_bias(&w, &b, ConvParams2d::<$sh, $sw, $ph, $pw, $dh, $dw>)
        )
    };
}

/// `conv2d_minitorch!(name, x [B, C, H, W], w [O, C, KH, KW])`: `x.conv2d_minitorch(&w)`.
macro_rules! conv2d_minitorch {
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $wc:literal, $kh:literal, $kw:literal]) => {
        golden_case!(
            $name, "conv2d_minitorch", {},
            inputs { x: Tensor4<E, $b, $c, $h, $w>, w: Tensor4<E, $o, $wc, $kh, $kw> },
            x.conv2d_minitorch(&w)
        )
    };
}

/// `conv_groups!(op, name, x [..], w [..], stride S, padding P, dilation D, groups G, bias b)`:
/// `x.conv1d(&w, ConvParams::<S, P, D, G>)` (or conv2d, or `_bias` with `bias true`).
macro_rules! conv_groups {
    ($op:ident, $name:literal, x $x:ty, w $w:ty,
     stride $s:literal, padding $p:literal, dilation $d:literal, groups $g:literal, bias false) => {
        golden_case!(
            $name, stringify!($op),
            {"stride": $s, "padding": $p, "dilation": $d, "groups": $g, "bias": false},
            inputs { x: $x, w: $w },
            x.$op(&w, ConvParams::<$s, $p, $d, $g>)
        )
    };
    ($op:ident, $name:literal, x $x:ty, w $w:ty, b $b:ty,
     stride $s:literal, padding $p:literal, dilation $d:literal, groups $g:literal, bias true) => {
        golden_case!(
            $name, stringify!($op),
            {"stride": $s, "padding": $p, "dilation": $d, "groups": $g, "bias": true},
            inputs { x: $x, w: $w, b: $b },
            conv_groups!(@bias $op x, w, b, ConvParams::<$s, $p, $d, $g>)
        )
    };
    (@bias conv1d $x:ident, $w:ident, $b:ident, $params:expr) => { $x.conv1d_bias(&$w, &$b, $params) };
    (@bias conv2d $x:ident, $w:ident, $b:ident, $params:expr) => { $x.conv2d_bias(&$w, &$b, $params) };
}

/// `conv_transpose!(op, name, x [..], w [..], stride S, padding P, output_padding OP,
/// dilation D, groups G)`: `x.conv_transpose1d(&w, ConvTransposeParams::<S, P, OP, D, G>)` (or
/// conv_transpose2d).
macro_rules! conv_transpose {
    ($op:ident, $name:literal, x $x:ty, w $w:ty, stride $s:literal, padding $p:literal,
     output_padding $op_:literal, dilation $d:literal, groups $g:literal) => {
        golden_case!(
            $name, stringify!($op),
            {"stride": $s, "padding": $p, "output_padding": $op_, "dilation": $d, "groups": $g,
             "bias": false},
            inputs { x: $x, w: $w },
            x.$op(&w, ConvTransposeParams::<$s, $p, $op_, $d, $g>)
        )
    };
}

const CONV_OPS: [&str; 6] = [
    "conv1d",
    "conv1d_minitorch",
    "conv2d",
    "conv2d_minitorch",
    "conv_transpose1d",
    "conv_transpose2d",
];

/// Every `conv*` case of the file, with its types.
fn conv_cases() -> Vec<GoldenCase> {
    vec![
        conv1d!("conv1d_0", x [1, 1, 6], w [1, 1, 3], stride 1, padding 0, dilation 1, bias false),
        conv1d!("conv1d_1", x [2, 3, 10], w [4, 3, 3], stride 1, padding 0, dilation 1, bias true),
        conv1d!("conv1d_2", x [3, 2, 11], w [5, 2, 4], stride 2, padding 1, dilation 1, bias false),
        conv1d!("conv1d_3", x [2, 4, 16], w [3, 4, 3], stride 1, padding 2, dilation 2, bias true),
        conv1d!("conv1d_4", x [1, 3, 9], w [2, 3, 9], stride 1, padding 0, dilation 1, bias false),
        conv1d!("conv1d_5", x [4, 5, 20], w [6, 5, 5], stride 3, padding 2, dilation 1, bias true),
        conv1d_minitorch!("conv1d_minitorch_0", x [1, 1, 6], w [1, 1, 3]),
        conv1d_minitorch!("conv1d_minitorch_1", x [2, 2, 7], w [3, 2, 3]),
        conv1d_minitorch!("conv1d_minitorch_2", x [3, 4, 12], w [2, 4, 5]),
        conv2d!("conv2d_0", x [1, 1, 4, 4], w [1, 1, 2, 2],
            stride 1, padding 0, dilation 1, bias false),
        conv2d!("conv2d_1", x [2, 3, 8, 7], w [4, 3, 3, 2],
            stride 1, padding 0, dilation 1, bias true),
        conv2d!("conv2d_2", x [2, 2, 9, 9], w [3, 2, 3, 3],
            stride 2, padding 1, dilation 1, bias false),
        conv2d!("conv2d_3", x [1, 4, 10, 12], w [2, 4, 3, 3],
            stride 1, padding 2, dilation 2, bias true),
        conv2d!("conv2d_4", x [3, 1, 28, 28], w [4, 1, 5, 5],
            stride 1, padding 0, dilation 1, bias true),
        conv2d!("conv2d_5", x [2, 6, 12, 12], w [5, 6, 5, 5],
            stride 1, padding 0, dilation 1, bias false),
        conv2d!("conv2d_6", x [2, 3, 7, 9], w [2, 3, 1, 1],
            stride 1, padding 0, dilation 1, bias false),
        conv2d!("conv2d_7", x [1, 2, 11, 6], w [3, 2, 4, 2],
            stride 3, padding 1, dilation 1, bias true),
        // conv3x3_reference.json: what Winograd's F(2x2, 3x3) computes
        conv2d!("conv2d_3x3_0", x [2, 8, 7, 9], w [5, 8, 3, 3],
            stride 1, padding 1, dilation 1, bias false),
        conv2d!("conv2d_3x3_1", x [1, 32, 6, 6], w [8, 32, 3, 3],
            stride 1, padding 1, dilation 1, bias false),
        conv2d!("conv2d_3x3_2", x [3, 4, 5, 10], w [6, 4, 3, 3],
            stride 1, padding 0, dilation 1, bias false),
        conv2d!("conv2d_3x3_3", x [1, 64, 4, 4], w [4, 64, 3, 3],
            stride 1, padding 1, dilation 1, bias false),
        conv2d_axes!("conv2d_axes_0", x [2, 3, 6, 9], w [4, 3, 1, 5],
            stride [1, 1], padding [0, 2], dilation [1, 1], bias true),
        conv2d_axes!("conv2d_axes_1", x [1, 2, 7, 8], w [3, 2, 3, 2],
            stride [2, 2], padding [1, 0], dilation [2, 2], bias false),
        conv2d_axes!("conv2d_axes_2", x [2, 2, 7, 10], w [3, 2, 3, 2],
            stride [1, 2], padding [0, 0], dilation [1, 1], bias true),
        conv2d_axes!("conv2d_axes_3", x [1, 3, 9, 6], w [2, 3, 2, 3],
            stride [1, 1], padding [0, 0], dilation [3, 1], bias false),
        conv2d_axes!("conv2d_axes_4", x [2, 3, 8, 11], w [4, 3, 3, 2],
            stride [2, 1], padding [0, 2], dilation [1, 3], bias true),
        conv2d_axes!("conv2d_axes_5", x [1, 2, 10, 7], w [3, 2, 2, 4],
            stride [3, 2], padding [2, 1], dilation [2, 1], bias false),
        conv2d_minitorch!("conv2d_minitorch_0", x [1, 1, 5, 5], w [1, 1, 2, 2]),
        conv2d_minitorch!("conv2d_minitorch_1", x [2, 2, 6, 7], w [3, 2, 3, 2]),
        conv2d_minitorch!("conv2d_minitorch_2", x [2, 3, 8, 8], w [2, 3, 3, 3]),
        // groups (tests/data/conv_groups_reference.py)
        conv_groups!(conv1d, "conv1d_groups_0", x Tensor3<E, 2, 4, 10>, w Tensor3<E, 6, 2, 3>,
            b Tensor1<E, 6>, stride 1, padding 1, dilation 1, groups 2, bias true),
        conv_groups!(conv2d, "conv2d_groups_0", x Tensor4<E, 2, 6, 7, 8>,
            w Tensor4<E, 6, 2, 3, 3>, stride 2, padding 1, dilation 1, groups 3, bias false),
        conv_groups!(conv2d, "conv2d_groups_1", x Tensor4<E, 1, 8, 6, 6>,
            w Tensor4<E, 4, 2, 3, 2>, b Tensor1<E, 4>,
            stride 1, padding 0, dilation 1, groups 4, bias true),
        conv_groups!(conv1d, "conv1d_depthwise_0", x Tensor3<E, 2, 3, 12>,
            w Tensor3<E, 6, 1, 5>, stride 1, padding 2, dilation 1, groups 3, bias false),
        conv_groups!(conv2d, "conv2d_depthwise_0", x Tensor4<E, 2, 4, 9, 9>,
            w Tensor4<E, 4, 1, 3, 3>, b Tensor1<E, 4>,
            stride 1, padding 1, dilation 1, groups 4, bias true),
        conv_groups!(conv2d, "conv2d_depthwise_1", x Tensor4<E, 2, 3, 11, 10>,
            w Tensor4<E, 6, 1, 3, 3>, stride 2, padding 2, dilation 2, groups 3, bias false),
        conv_transpose!(conv_transpose1d, "conv_transpose1d_0", x Tensor3<E, 2, 4, 7>,
            w Tensor3<E, 4, 3, 3>, stride 2, padding 1, output_padding 1, dilation 1, groups 1),
        conv_transpose!(conv_transpose1d, "conv_transpose1d_1", x Tensor3<E, 1, 4, 5>,
            w Tensor3<E, 4, 2, 4>, stride 3, padding 2, output_padding 2, dilation 1, groups 2),
        conv_transpose!(conv_transpose2d, "conv_transpose2d_0", x Tensor4<E, 2, 3, 5, 6>,
            w Tensor4<E, 3, 2, 3, 3>, stride 2, padding 1, output_padding 1, dilation 1, groups 1),
        conv_transpose!(conv_transpose2d, "conv_transpose2d_1", x Tensor4<E, 1, 4, 4, 5>,
            w Tensor4<E, 4, 3, 2, 3>, stride 1, padding 0, output_padding 1, dilation 2, groups 2),
        golden_case!(
            "conv_transpose2d_2", "conv_transpose2d",
            {"stride": [2, 1], "padding": [1, 0], "output_padding": [1, 0], "dilation": [1, 2],
             "groups": 1, "bias": false},
            inputs { x: Tensor4<E, 2, 2, 4, 3>, w: Tensor4<E, 2, 3, 3, 2> },
            x.conv_transpose2d(&w, ConvTransposeParams2d::<2, 1, 1, 0, 1, 0, 1, 2>)
        ),
        conv_transpose!(conv_transpose2d, "conv_transpose2d_3", x Tensor4<E, 2, 3, 4, 4>,
            w Tensor4<E, 3, 1, 3, 3>, stride 2, padding 1, output_padding 0, dilation 1, groups 3),
        golden_case!(
            "conv_transpose2d_4", "conv_transpose2d",
            {"stride": 2, "padding": 0, "output_padding": 1, "dilation": 1, "groups": 2,
             "bias": true},
            inputs { x: Tensor4<E, 2, 4, 3, 5>, w: Tensor4<E, 4, 3, 3, 3>, b: Tensor1<E, 6> },
            x.conv_transpose2d_bias(&w, &b, ConvTransposeParams::<2, 0, 1, 1, 2>)
        ),
        golden_case!(
            "conv_transpose1d_2", "conv_transpose1d",
            {"stride": 1, "padding": 1, "output_padding": 0, "dilation": 1, "groups": 1,
             "bias": true},
            inputs { x: Tensor3<E, 2, 3, 6>, w: Tensor3<E, 3, 2, 4>, b: Tensor1<E, 2> },
            x.conv_transpose1d_bias(&w, &b, ConvTransposeParams::<1, 1>)
        ),
    ]
}

/// Runs the op's cases once with each convolution kernel forced, so that the direct, the
/// im2col and (on the 3x3, stride-1, dilation-1 cases; the others run what the plan picks) the
/// Winograd kernels are checked against PyTorch, whatever the shape would pick.
fn run_conv_op(op: &str) {
    for algorithm in ConvAlgorithm::ALL {
        let run =
            std::panic::catch_unwind(|| algorithm.force(|| reference::run_op(op, &conv_cases())));
        if let Err(panic) = run {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "(no message)".to_string());
            panic!("with the {algorithm:?} kernel: {message}");
        }
    }
}

#[test]
fn conv_cases_cover_the_reference_files() {
    reference::assert_table_covers("conv", &conv_cases(), &CONV_OPS);
}

/// The golden cases Winograd's F(2x2, 3x3) computes: 3x3 kernels, stride 1, dilation 1.
const WINOGRAD_CASES: [&str; 5] = [
    "conv2d_minitorch_2",
    "conv2d_3x3_0",
    "conv2d_3x3_1",
    "conv2d_3x3_2",
    "conv2d_3x3_3",
];

/// Winograd's f32 error against PyTorch's float64, the largest `|got - expected| / max(1,
/// |expected|)` over `y`, `grad_x` and `grad_w` of each case, within a fifth of the f32
/// tolerance (1e-4), printed next to the direct kernel's (`cargo test --test golden winograd
/// -- --nocapture`). Measured on the Zen 3 EPYC (AVX2), Winograd / direct in f32:
/// `conv2d_minitorch_2` 9.7e-7 / 4.9e-7, `conv2d_3x3_0` 3.3e-6 / 1.9e-6, `conv2d_3x3_1`
/// (32 channels) 5.1e-6 / 6.2e-6, `conv2d_3x3_2` 2.9e-6 / 1.7e-6, `conv2d_3x3_3` (64
/// channels) 7.7e-6 / 1.1e-5: within 2x of the direct loops'. In f64 at most 2.6e-14.
#[test]
fn winograd_f32_error_against_float64() {
    let table = conv_cases();
    let mut worst = 0.0f64;
    for name in WINOGRAD_CASES {
        let case = table.iter().find(|c| c.name == name).expect("a table case");
        let reference = reference::case(name);
        let [f64_run, f32_run] = case.run;
        let error_of = |algorithm: ConvAlgorithm, run: reference::RunFn| {
            algorithm
                .force(|| run(reference))
                .unwrap_or_else(|e| panic!("{algorithm:?}: {e}"))
        };
        let winograd = error_of(ConvAlgorithm::Winograd, f32_run);
        let direct = error_of(ConvAlgorithm::Direct, f32_run);
        let winograd_f64 = error_of(ConvAlgorithm::Winograd, f64_run);
        println!(
            "{name}: f32 winograd {winograd:.2e}, direct {direct:.2e}; f64 winograd \
             {winograd_f64:.2e}"
        );
        assert!(
            winograd_f64 <= 1e-12,
            "{name}: f64 winograd error {winograd_f64:e}"
        );
        worst = worst.max(winograd);
    }
    assert!(worst <= 2e-5, "winograd's f32 error {worst:e}");
}

#[test]
fn conv1d_matches_pytorch() {
    run_conv_op("conv1d");
}

#[test]
fn conv1d_minitorch_matches_pytorch() {
    run_conv_op("conv1d_minitorch");
}

#[test]
fn conv2d_matches_pytorch() {
    run_conv_op("conv2d");
}

#[test]
fn conv2d_minitorch_matches_pytorch() {
    run_conv_op("conv2d_minitorch");
}

#[test]
fn conv_transpose1d_matches_pytorch() {
    run_conv_op("conv_transpose1d");
}

#[test]
fn conv_transpose2d_matches_pytorch() {
    run_conv_op("conv_transpose2d");
}

// ---------------------------------------------------------------------------------------------
// Functional ops: softmax, log-softmax, max and mean along an axis, embedding, losses, linear
// ---------------------------------------------------------------------------------------------

/// The ops of [`functional_cases`]. `max` keeps the reduced dim in the files (`keepdim=True`):
/// the tests reshape `x.max::<I>()` to add it back. `mean` does not keep it.
const FUNCTIONAL_OPS: [&str; 10] = [
    "softmax",
    "logsoftmax",
    "max",
    "mean",
    "embedding",
    "nll_mean",
    "cross_entropy_mean",
    "mse_mean",
    "bce_mean",
    "linear",
];

/// Every case of the files for [`FUNCTIONAL_OPS`], with its types. Some use a runtime batch
/// (`usize`), as a training loop does.
fn functional_cases() -> Vec<GoldenCase> {
    vec![
        // softmax, log_softmax: x.softmax::<dim>()
        golden_case!("softmax_0", "softmax", {"dim": 1},
            inputs { x: Tensor2<E, 3, 5> }, x.softmax::<1>()),
        golden_case!("softmax_1", "softmax", {"dim": 0},
            inputs { x: Tensor3<E, 2, 3, 4> }, x.softmax::<0>()),
        golden_case!("softmax_2", "softmax", {"dim": 1},
            inputs { x: Tensor<E, (usize, Dim<10>)> }, x.softmax::<1>()),
        golden_case!("softmax_3", "softmax", {"dim": 2},
            inputs { x: Tensor4<E, 2, 3, 4, 5> }, x.softmax::<2>()),
        golden_case!("softmax_stable_0", "softmax", {"dim": 1},
            inputs { x: Tensor2<E, 4, 6> }, x.softmax::<1>()),
        golden_case!("softmax_stable_1", "softmax", {"dim": 0},
            inputs { x: Tensor2<E, 6, 4> }, x.softmax::<0>()),
        golden_case!("logsoftmax_0", "logsoftmax", {"dim": 1},
            inputs { x: Tensor2<E, 3, 5> }, x.log_softmax::<1>()),
        golden_case!("logsoftmax_1", "logsoftmax", {"dim": 0},
            inputs { x: Tensor3<E, 2, 3, 4> }, x.log_softmax::<0>()),
        golden_case!("logsoftmax_2", "logsoftmax", {"dim": 1},
            inputs { x: Tensor<E, (usize, Dim<10>)> }, x.log_softmax::<1>()),
        golden_case!("logsoftmax_3", "logsoftmax", {"dim": 2},
            inputs { x: Tensor4<E, 2, 3, 4, 5> }, x.log_softmax::<2>()),
        golden_case!("logsoftmax_stable_0", "logsoftmax", {"dim": 1},
            inputs { x: Tensor2<E, 4, 6> }, x.log_softmax::<1>()),
        // max along an axis, the reduced dim kept as size 1 (torch.max(x, dim, keepdim=True))
        golden_case!("max_0", "max", {"dim": 1},
            inputs { x: Tensor2<E, 3, 5> }, x.max::<1>().reshape::<Rank2<3, 1>>()),
        golden_case!("max_1", "max", {"dim": 0},
            inputs { x: Tensor3<E, 2, 3, 4> }, x.max::<0>().reshape::<Rank3<1, 3, 4>>()),
        golden_case!("max_2", "max", {"dim": 1},
            inputs { x: Tensor2<E, 4, 10> }, x.max::<1>().reshape::<Rank2<4, 1>>()),
        golden_case!("max_3", "max", {"dim": 2},
            inputs { x: Tensor4<E, 2, 3, 4, 5> }, x.max::<2>().reshape::<Rank4<2, 3, 1, 5>>()),
        golden_case!("max_ties_0", "max", {"dim": 1},
            inputs { x: Tensor2<E, 3, 4> }, x.max::<1>().reshape::<Rank2<3, 1>>()),
        // the lecture's sentence reduction [B, C, T] -> [B, C], over the length T
        golden_case!("max_length_0", "max", {"dim": 2},
            inputs { x: Tensor<E, (usize, Dim<3>, Dim<7>)> },
            x.max::<2>().reshape_to((x.dims()[0], Dim::<3>, Dim::<1>))),
        golden_case!("mean_length_0", "mean", {"dim": 2},
            inputs { x: Tensor<E, (usize, Dim<3>, Dim<7>)> }, x.mean::<2>()),
        // embedding: w.embedding(&ids), ids of rank 2, 1 and 3
        golden_case!("embedding_0", "embedding", {},
            inputs { w: Tensor2<E, 5, 6> } indices { ids: IndexTensor<Rank2<2, 4>, 5> },
            w.embedding(&ids)),
        golden_case!("embedding_1", "embedding", {},
            inputs { w: Tensor2<E, 7, 4> } indices { ids: IndexTensor<Rank1<5>, 7> },
            w.embedding(&ids)),
        golden_case!("embedding_2", "embedding", {},
            inputs { w: Tensor2<E, 5, 3> }
            indices { ids: IndexTensor<(usize, Dim<3>, Dim<2>), 5> },
            w.embedding(&ids)),
        // nll_loss(log_softmax(x, 1), target) and cross_entropy(x, target), means
        golden_case!("nll_0", "nll_mean", {},
            inputs { x: Tensor2<E, 4, 5> } indices { target: IndexTensor<Rank1<4>, 5> },
            x.log_softmax::<1>().nll_loss(&target)),
        golden_case!("nll_1", "nll_mean", {},
            inputs { x: Tensor<E, (usize, Dim<7>)> }
            indices { target: IndexTensor<(usize,), 7> },
            x.log_softmax::<1>().nll_loss(&target)),
        golden_case!("cross_entropy_0", "cross_entropy_mean", {},
            inputs { x: Tensor2<E, 4, 5> } indices { target: IndexTensor<Rank1<4>, 5> },
            x.cross_entropy(&target)),
        golden_case!("cross_entropy_1", "cross_entropy_mean", {},
            inputs { x: Tensor<E, (usize, Dim<7>)> }
            indices { target: IndexTensor<(usize,), 7> },
            x.cross_entropy(&target)),
        golden_case!("cross_entropy_stable_0", "cross_entropy_mean", {},
            inputs { x: Tensor2<E, 4, 5> } indices { target: IndexTensor<Rank1<4>, 5> },
            x.cross_entropy(&target)),
        // mse_loss and binary_cross_entropy, means
        golden_case!("mse_0", "mse_mean", {},
            inputs { x: Tensor2<E, 3, 4>, target: Tensor2<E, 3, 4> }, x.mse_loss(&target)),
        golden_case!("bce_0", "bce_mean", {},
            inputs { x: Tensor2<E, 4, 3>, target: Tensor2<E, 4, 3> },
            x.binary_cross_entropy(&target)),
        golden_case!("bce_clamp_0", "bce_mean", {},
            inputs { x: Tensor2<E, 2, 3> } constants { target: Tensor2<E, 2, 3> },
            x.binary_cross_entropy(&target)),
        // linear (the op of src/ops/linear.rs)
        golden_case!("linear_0", "linear", {"bias": true},
            inputs { x: Tensor2<E, 4, 7>, w: Tensor2<E, 3, 7>, b: Tensor1<E, 3> },
            x.linear_bias(&w, &b)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

/// `max_pool!(name, x [B, C, H, W], kernel [KH, KW], ..)`: 2-D max pooling, with the stride
/// the kernel's (`x.max_pool2d::<KH, KW>()`), a stride (`Pool2d<KH, KW, SH, SW>`), or all
/// hyper-parameters (`Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>`); `max_pool!(name, x [B, C, W],
/// kernel K, stride S, padding P, dilation D)`: 1-D.
macro_rules! max_pool {
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     kernel [$kh:literal, $kw:literal], stride kernel) => {
        golden_case!(
            $name, "maxpool2d", {"kernel": [$kh, $kw], "stride": [$kh, $kw]},
            inputs { x: Tensor4<E, $b, $c, $h, $w> },
            x.max_pool2d::<$kh, $kw>()
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     kernel [$kh:literal, $kw:literal], stride [$sh:literal, $sw:literal]) => {
        golden_case!(
            $name, "maxpool2d", {"kernel": [$kh, $kw], "stride": [$sh, $sw]},
            inputs { x: Tensor4<E, $b, $c, $h, $w> },
            x.max_pool2d_with(Pool2d::<$kh, $kw, $sh, $sw>)
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     kernel [$kh:literal, $kw:literal], stride [$sh:literal, $sw:literal],
     padding [$ph:literal, $pw:literal], dilation [$dh:literal, $dw:literal]) => {
        golden_case!(
            $name, "maxpool2d",
            {"kernel": [$kh, $kw], "stride": [$sh, $sw], "padding": [$ph, $pw], "dilation": [$dh, $dw]},
            inputs { x: Tensor4<E, $b, $c, $h, $w> },
            x.max_pool2d_with(Pool2d::<$kh, $kw, $sh, $sw, $ph, $pw, $dh, $dw>)
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $w:literal],
     kernel $k:literal, stride $s:literal, padding $p:literal, dilation $d:literal) => {
        golden_case!(
            $name, "maxpool1d", {"kernel": $k, "stride": $s, "padding": $p, "dilation": $d},
            inputs { x: Tensor3<E, $b, $c, $w> },
            x.max_pool1d_with(Pool1d::<$k, $s, $p, $d>)
        )
    };
}

/// `avg_pool!(..)`: as [`max_pool!`], for average pooling (no dilation).
macro_rules! avg_pool {
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     kernel [$kh:literal, $kw:literal], stride kernel) => {
        golden_case!(
            $name, "avgpool2d", {"kernel": [$kh, $kw], "stride": [$kh, $kw]},
            inputs { x: Tensor4<E, $b, $c, $h, $w> },
            x.avg_pool2d::<$kh, $kw>()
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     kernel [$kh:literal, $kw:literal], stride [$sh:literal, $sw:literal],
     padding [$ph:literal, $pw:literal]) => {
        golden_case!(
            $name, "avgpool2d", {"kernel": [$kh, $kw], "stride": [$sh, $sw], "padding": [$ph, $pw]},
            inputs { x: Tensor4<E, $b, $c, $h, $w> },
            x.avg_pool2d_with(Pool2d::<$kh, $kw, $sh, $sw, $ph, $pw>)
        )
    };
    ($name:literal, x [$b:literal, $c:literal, $w:literal],
     kernel $k:literal, stride $s:literal, padding $p:literal) => {
        golden_case!(
            $name, "avgpool1d", {"kernel": $k, "stride": $s, "padding": $p},
            inputs { x: Tensor3<E, $b, $c, $w> },
            x.avg_pool1d_with(Pool1d::<$k, $s, $p>)
        )
    };
}

/// Every `maxpool*` case of the files, with its types.
fn max_pool_cases() -> Vec<GoldenCase> {
    vec![
        max_pool!("maxpool2d_0", x [1, 1, 4, 4], kernel [2, 2], stride kernel),
        max_pool!("maxpool2d_1", x [2, 3, 6, 8], kernel [3, 2], stride kernel),
        max_pool!("maxpool2d_2", x [2, 2, 28, 28], kernel [4, 4], stride kernel),
        max_pool!("maxpool2d_overlap", x [2, 2, 9, 9], kernel [3, 3], stride [2, 2]),
        max_pool!("maxpool2d_pad", x [2, 2, 7, 7], kernel [3, 3], stride [2, 2],
            padding [1, 1], dilation [1, 1]),
        max_pool!("maxpool2d_axes", x [1, 3, 6, 9], kernel [2, 3], stride [1, 2],
            padding [1, 0], dilation [1, 2]),
        max_pool!("maxpool2d_dilation", x [2, 1, 8, 8], kernel [2, 2], stride [1, 1],
            padding [1, 1], dilation [2, 2]),
        max_pool!("maxpool1d_0", x [2, 3, 10], kernel 2, stride 2, padding 0, dilation 1),
        max_pool!("maxpool1d_1", x [2, 2, 11], kernel 3, stride 2, padding 1, dilation 2),
    ]
}

/// Every `avgpool*` case of the files, with its types.
fn avg_pool_cases() -> Vec<GoldenCase> {
    vec![
        avg_pool!("avgpool2d_0", x [1, 1, 4, 4], kernel [2, 2], stride kernel),
        avg_pool!("avgpool2d_1", x [2, 3, 6, 8], kernel [3, 2], stride kernel),
        avg_pool!("avgpool2d_2", x [2, 2, 28, 28], kernel [4, 4], stride kernel),
        avg_pool!("avgpool2d_pad", x [2, 2, 7, 7], kernel [3, 3], stride [2, 2], padding [1, 1]),
        avg_pool!("avgpool2d_axes", x [1, 2, 5, 10], kernel [1, 5], stride [1, 2],
            padding [0, 2]),
        avg_pool!("avgpool2d_overlap", x [2, 1, 6, 6], kernel [3, 3], stride [1, 1],
            padding [0, 0]),
        avg_pool!("avgpool1d_0", x [2, 3, 10], kernel 3, stride 1, padding 0),
        avg_pool!("avgpool1d_1", x [1, 2, 9], kernel 4, stride 3, padding 2),
    ]
}

#[test]
fn functional_cases_cover_the_reference_files() {
    reference::assert_table_covers_ops(&FUNCTIONAL_OPS, &functional_cases());
}

#[test]
fn softmax_matches_pytorch() {
    reference::run_op("softmax", &functional_cases());
}

#[test]
fn log_softmax_matches_pytorch() {
    reference::run_op("logsoftmax", &functional_cases());
}

#[test]
fn max_along_an_axis_matches_pytorch() {
    reference::run_op("max", &functional_cases());
}

#[test]
fn mean_along_an_axis_matches_pytorch() {
    reference::run_op("mean", &functional_cases());
}

#[test]
fn embedding_matches_pytorch() {
    reference::run_op("embedding", &functional_cases());
}

#[test]
fn nll_loss_matches_pytorch() {
    reference::run_op("nll_mean", &functional_cases());
}

#[test]
fn cross_entropy_matches_pytorch() {
    reference::run_op("cross_entropy_mean", &functional_cases());
}

#[test]
fn mse_loss_matches_pytorch() {
    reference::run_op("mse_mean", &functional_cases());
}

#[test]
fn binary_cross_entropy_matches_pytorch() {
    reference::run_op("bce_mean", &functional_cases());
}

#[test]
fn linear_matches_pytorch() {
    reference::run_op("linear", &functional_cases());
}

#[test]
fn pool_cases_cover_the_reference_files() {
    reference::assert_table_covers("maxpool", &max_pool_cases(), &["maxpool2d", "maxpool1d"]);
    reference::assert_table_covers("avgpool", &avg_pool_cases(), &["avgpool2d", "avgpool1d"]);
}

#[test]
fn maxpool2d_matches_pytorch() {
    reference::run_op("maxpool2d", &max_pool_cases());
}

#[test]
fn maxpool1d_matches_pytorch() {
    reference::run_op("maxpool1d", &max_pool_cases());
}

#[test]
fn avgpool2d_matches_pytorch() {
    reference::run_op("avgpool2d", &avg_pool_cases());
}

#[test]
fn avgpool1d_matches_pytorch() {
    reference::run_op("avgpool1d", &avg_pool_cases());
}

// ---------------------------------------------------------------------------------------------
// Batch norm (functional) and adaptive average pooling
// ---------------------------------------------------------------------------------------------

/// The functional ops of `norm_reference.json`.
const NORM_OPS: [&str; 3] = ["batchnorm_train", "batchnorm_eval", "adaptive_avgpool2d"];

/// `bn_train!(name, x type, C, eps)`: `x.batch_norm(None, None, Some(&w), Some(&b), true, 0.1,
/// eps)` (`affine false`: no weight and bias).
macro_rules! bn_train {
    ($name:literal, $x:ty, $c:literal, eps $eps:literal) => {
        golden_case!(
            $name, "batchnorm_train", {"affine": true, "momentum": 0.1, "eps": $eps},
            inputs { x: $x, w: Tensor1<E, $c>, b: Tensor1<E, $c> },
            x.batch_norm(None, None, Some(&w), Some(&b), true, 0.1, $eps)
        )
    };
    ($name:literal, $x:ty, $c:literal, eps $eps:literal, affine false) => {
        golden_case!(
            $name, "batchnorm_train", {"affine": false, "momentum": 0.1, "eps": $eps},
            inputs { x: $x },
            x.batch_norm::<$c>(None, None, None, None, true, 0.1, $eps)
        )
    };
}

/// `bn_eval!(name, x type, C)`: `x.batch_norm(Some(&mut running_mean), Some(&mut
/// running_var), Some(&w), Some(&b), false, 0.1, 1e-5)`, the running statistics constants.
macro_rules! bn_eval {
    ($name:literal, $x:ty, $c:literal) => {
        golden_case!(
            $name, "batchnorm_eval", {"affine": true, "eps": 1e-5},
            inputs { x: $x, w: Tensor1<E, $c>, b: Tensor1<E, $c> }
            constants { running_mean: Tensor1<E, $c>, running_var: Tensor1<E, $c> },
            {
                let (mut mean, mut var) = (running_mean, running_var);
                x.batch_norm(Some(&mut mean), Some(&mut var), Some(&w), Some(&b), false, 0.1, 1e-5)
            }
        )
    };
    ($name:literal, $x:ty, $c:literal, affine false) => {
        golden_case!(
            $name, "batchnorm_eval", {"affine": false, "eps": 1e-5},
            inputs { x: $x }
            constants { running_mean: Tensor1<E, $c>, running_var: Tensor1<E, $c> },
            {
                let (mut mean, mut var) = (running_mean, running_var);
                x.batch_norm(Some(&mut mean), Some(&mut var), None, None, false, 0.1, 1e-5)
            }
        )
    };
}

/// `adaptive!(name, x [B, C, H, W] -> [OH, OW])`: `x.adaptive_avg_pool2d::<OH, OW>()`.
macro_rules! adaptive {
    ($name:literal, $x:ty, output [$oh:literal, $ow:literal]) => {
        golden_case!(
            $name, "adaptive_avgpool2d", {"output_size": [$oh, $ow]},
            inputs { x: $x },
            x.adaptive_avg_pool2d::<$oh, $ow>()
        )
    };
}

/// Every functional case of `norm_reference.json`, with its types (runtime batches in most:
/// a training loop's last batch is smaller).
fn norm_cases() -> Vec<GoldenCase> {
    type Img<E, const C: usize, const H: usize, const W: usize> =
        Tensor<E, (usize, Dim<C>, Dim<H>, Dim<W>)>;
    vec![
        bn_train!("bn_train_2d", Img<E, 3, 5, 6>, 3, eps 1e-5),
        bn_train!("bn_train_1d", Tensor<E, (usize, Dim<4>)>, 4, eps 1e-5),
        bn_train!("bn_train_1d_length", Tensor3<E, 3, 5, 7>, 5, eps 1e-5),
        bn_train!("bn_train_batch_1", Img<E, 3, 4, 4>, 3, eps 1e-5),
        bn_train!("bn_train_two_values", Tensor4<E, 2, 2, 1, 1>, 2, eps 1e-5),
        bn_train!("bn_train_3d", Tensor5<E, 2, 3, 2, 2, 3>, 3, eps 1e-5),
        bn_train!("bn_train_offset", Img<E, 2, 3, 3>, 2, eps 1e-5),
        bn_train!("bn_train_no_affine", Img<E, 4, 2, 5>, 4, eps 1e-5, affine false),
        bn_train!("bn_train_eps", Img<E, 3, 2, 2>, 3, eps 1e-3),
        bn_eval!("bn_eval_2d", Img<E, 4, 3, 5>, 4),
        bn_eval!("bn_eval_1d", Tensor<E, (usize, Dim<3>)>, 3),
        bn_eval!("bn_eval_batch_1", Img<E, 3, 1, 1>, 3),
        bn_eval!("bn_eval_batch_1_1d", Tensor<E, (usize, Dim<4>)>, 4),
        bn_eval!("bn_eval_no_affine", Tensor<E, (usize, Dim<3>, Dim<4>)>, 3, affine false),
        adaptive!("adaptive_7x5_to_3x3", Tensor4<E, 2, 3, 7, 5>, output [3, 3]),
        adaptive!("adaptive_5x7_to_7x5", Tensor4<E, 1, 2, 5, 7>, output [7, 5]),
        adaptive!("adaptive_global", Tensor4<E, 2, 4, 6, 6>, output [1, 1]),
        adaptive!("adaptive_divisible", Tensor4<E, 1, 2, 8, 8>, output [4, 4]),
        adaptive!("adaptive_identity", Tensor4<E, 3, 2, 4, 6>, output [4, 6]),
        adaptive!("adaptive_9x4_to_2x3", Tensor4<E, 1, 1, 9, 4>, output [2, 3]),
        adaptive!("adaptive_global_batch", Img<E, 3, 7, 7>, output [1, 1]),
        adaptive!("adaptive_1x1_to_2x3", Tensor<E, (usize, Dim<2>, usize, usize)>, output [2, 3]),
        adaptive!("adaptive_5x7_to_3x2", Img<E, 3, 5, 7>, output [3, 2]),
        adaptive!("adaptive_7x5_to_4x4", Tensor4<E, 2, 2, 7, 5>, output [4, 4]),
    ]
}

#[test]
fn norm_cases_cover_the_reference_files() {
    reference::assert_table_covers_ops(&NORM_OPS, &norm_cases());
}

#[test]
fn batch_norm_in_training_matches_pytorch() {
    reference::run_op("batchnorm_train", &norm_cases());
}

#[test]
fn batch_norm_in_evaluation_matches_pytorch() {
    reference::run_op("batchnorm_eval", &norm_cases());
}

#[test]
fn adaptive_avg_pool2d_matches_pytorch() {
    reference::run_op("adaptive_avgpool2d", &norm_cases());
}

// ---------------------------------------------------------------------------------------------
// BatchNorm1d and BatchNorm2d over several steps
// ---------------------------------------------------------------------------------------------

/// What [`run_norm_layer`] needs of `BatchNorm1d<E, C>` and `BatchNorm2d<E, C>`.
trait NormLayer<E: Element, const C: usize>: Module<E> + Init {
    fn weight(&mut self) -> &mut Tensor1<E, C>;
    fn bias(&mut self) -> &mut Tensor1<E, C>;
    fn set_momentum(&mut self, momentum: Option<f64>);
    fn eps(&self) -> f64;
    /// The running mean, the running variance and the count of training batches.
    fn running(&self) -> (Tensor1<E, C>, Tensor1<E, C>, u64);
}

macro_rules! norm_layer {
    ($layer:ident) => {
        impl<E: Element, const C: usize> NormLayer<E, C> for $layer<E, C> {
            fn weight(&mut self) -> &mut Tensor1<E, C> {
                &mut self.weight
            }
            fn bias(&mut self) -> &mut Tensor1<E, C> {
                &mut self.bias
            }
            fn set_momentum(&mut self, momentum: Option<f64>) {
                self.momentum = momentum;
            }
            fn eps(&self) -> f64 {
                self.eps
            }
            fn running(&self) -> (Tensor1<E, C>, Tensor1<E, C>, u64) {
                (
                    self.running_mean(),
                    self.running_var(),
                    self.num_batches_tracked(),
                )
            }
        }
    };
}
norm_layer!(BatchNorm1d);
norm_layer!(BatchNorm2d);

/// Runs a layer case (`tests/data/norm_reference.py` describes its fields) on the layer `L`
/// (PyTorch's defaults, then the file's momentum, weight and bias, traced) with inputs of type
/// `Tensor<E, S>`: each training step's output, gradients of the input, weight and bias, and
/// running statistics after it, then an evaluation step's output and gradients, all compared
/// with the file; every output of the file must be compared.
fn run_norm_layer<E, S, L, const C: usize>(case: &Case) -> Result<f64, String>
where
    E: Precision,
    S: Shape,
    L: NormLayer<E, C> + Forward<Tensor<E, S>, Output = Tensor<E, S>>,
{
    let mut layer = L::new(0);
    assert_eq!(
        Some(layer.eps()),
        case.params["eps"].as_f64(),
        "PyTorch's eps"
    );
    layer.set_momentum(case.params["momentum"].as_f64()); // null: None, the cumulative average
    *layer.weight() = case.constant("weight");
    *layer.bias() = case.constant("bias");
    let tape = Tape::new();
    layer.trace(&tape);
    let steps = case.params["steps"].as_u64().expect("steps") as usize;
    let mut errors = Vec::new();
    let mut worst = 0.0;
    let mut compared = std::collections::BTreeSet::new();
    let mut check = |field: String, dims: &[usize], got: Option<&[E]>| {
        case.compare_field((&field, dims, got), &mut errors, &mut worst);
        compared.insert(field);
    };
    for step in (0..steps).map(Some).chain([None]) {
        let suffix = step.map_or("eval".to_string(), |k| k.to_string());
        if step.is_none() {
            layer.eval();
        }
        let x: Tensor<E, S> = case.input(&format!("x_{suffix}"), &tape);
        let g: Tensor<E, S> = case.constant(&format!("g_{suffix}"));
        let y = Forward::forward(&layer, x.clone());
        let grads = (&y * &g).sum_all().backward();
        check(format!("y_{suffix}"), y.dims().as_ref(), Some(y.as_slice()));
        check(
            format!("grad_x_{suffix}"),
            x.dims().as_ref(),
            grads.get_raw(x.id()),
        );
        let (w, b) = (layer.weight().id(), layer.bias().id());
        check(format!("grad_weight_{suffix}"), &[C], grads.get_raw(w));
        check(format!("grad_bias_{suffix}"), &[C], grads.get_raw(b));
        if let Some(k) = step {
            let (mean, var, count) = layer.running();
            check(format!("running_mean_{k}"), &[C], Some(mean.as_slice()));
            check(format!("running_var_{k}"), &[C], Some(var.as_slice()));
            check(
                format!("num_batches_tracked_{k}"),
                &[],
                Some(&[E::of(count as f64)]),
            );
        }
    }
    for field in case.outputs.keys() {
        if !compared.contains(field) {
            errors.push(format!("case {}: output {field} not compared", case.name));
        }
    }
    if errors.is_empty() {
        Ok(worst)
    } else {
        Err(errors.join("\n"))
    }
}

/// `bn_layer!(name, op, params, Layer<C>, input type)`: a [`GoldenCase`] run by
/// [`run_norm_layer`].
macro_rules! bn_layer {
    ($name:literal, $op:literal, $params:tt, $layer:ident<$c:literal>, $x:ty) => {
        GoldenCase {
            name: $name,
            op: $op,
            params: serde_json::json!($params),
            run: {
                fn run<E: Precision>(case: &Case) -> Result<f64, String> {
                    run_norm_layer::<E, $x, $layer<E, $c>, $c>(case)
                }
                [run::<f64>, run::<f32>]
            },
        }
    };
}

/// Every layer case of `norm_reference.json`, with its types.
fn norm_layer_cases() -> Vec<GoldenCase> {
    type Img<const C: usize, const H: usize, const W: usize> = (usize, Dim<C>, Dim<H>, Dim<W>);
    vec![
        bn_layer!("bn2d_layer_0", "batchnorm2d_layer",
            {"momentum": 0.1, "eps": 1e-5, "steps": 3}, BatchNorm2d<3>, Img<3, 5, 5>),
        bn_layer!("bn2d_layer_cumulative", "batchnorm2d_layer",
            {"momentum": null, "eps": 1e-5, "steps": 4}, BatchNorm2d<2>, Img<2, 4, 4>),
        bn_layer!("bn2d_layer_momentum", "batchnorm2d_layer",
            {"momentum": 0.3, "eps": 1e-5, "steps": 2}, BatchNorm2d<4>, Img<4, 3, 3>),
        bn_layer!("bn1d_layer_0", "batchnorm1d_layer",
            {"momentum": 0.1, "eps": 1e-5, "steps": 3}, BatchNorm1d<4>, (usize, Dim<4>)),
        bn_layer!("bn1d_layer_length", "batchnorm1d_layer",
            {"momentum": 0.1, "eps": 1e-5, "steps": 2}, BatchNorm1d<4>, (usize, Dim<4>, Dim<6>)),
    ]
}

#[test]
fn norm_layer_cases_cover_the_reference_files() {
    reference::assert_table_covers_ops(
        &["batchnorm1d_layer", "batchnorm2d_layer"],
        &norm_layer_cases(),
    );
}

#[test]
fn batch_norm_layers_match_pytorch_step_by_step() {
    reference::run_op("batchnorm2d_layer", &norm_layer_cases());
    reference::run_op("batchnorm1d_layer", &norm_layer_cases());
}

shapetorch::model! {
    /// A model holding one batch norm layer as `bn`, as the PyTorch file's keys are prefixed.
    struct WithBatchNorm {
        bn: BatchNorm2d<f32, 3>,
    }
}

/// The state PyTorch saved (`batchnorm2d_state.safetensors`: `bn2d_layer_0`'s layer after its
/// three training steps, in float32, with `safetensors.torch.save_file(state_dict)`) loads,
/// with its values; and the file this library saves has the same tensors, dtypes and shapes.
#[test]
fn batch_norm_state_loads_from_and_saves_as_pytorchs_state_dict() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/batchnorm2d_state.safetensors"
    );
    let mut model = WithBatchNorm::new(0);
    model.load(path).unwrap();
    let case = reference::case("bn2d_layer_0");
    let expect = |field: &str, got: &[f32]| {
        let expected = &case.outputs[field].data;
        assert_eq!(got.len(), expected.len(), "{field}");
        for (g, e) in got.iter().zip(expected) {
            assert!(
                (f64::from(*g) - e).abs() <= 1e-6 * e.abs().max(1.0),
                "{field}: {g} vs {e}"
            );
        }
    };
    expect("running_mean_2", model.bn.running_mean().as_slice());
    expect("running_var_2", model.bn.running_var().as_slice());
    assert_eq!(model.bn.num_batches_tracked(), 3);
    let weight: Vec<f32> = case.inputs["weight"]
        .data
        .iter()
        .map(|&v| v as f32)
        .collect();
    assert_eq!(model.bn.weight.to_vec(), weight);
    // The loaded layer in evaluation mode gives PyTorch's evaluation output.
    model.eval();
    let x: Tensor<f32, (usize, Dim<3>, Dim<5>, Dim<5>)> = case.constant("x_eval");
    let y = model.bn.forward(x);
    let y_eval = &case.outputs["y_eval"].data;
    for (g, e) in y.as_slice().iter().zip(y_eval) {
        assert!(
            (f64::from(*g) - e).abs() <= 1e-4 * e.abs().max(1.0),
            "{g} vs {e}"
        );
    }

    // Saved here: the same names, dtypes and shapes as PyTorch's file.
    let ours = shapetorch::nn::weights::to_bytes(&mut model).unwrap();
    let theirs = std::fs::read(path).unwrap();
    let header = |bytes: &[u8]| -> Vec<(String, String, Vec<usize>)> {
        let tensors = safetensors::SafeTensors::deserialize(bytes).unwrap();
        let mut entries: Vec<_> = tensors
            .tensors()
            .into_iter()
            .map(|(name, view)| (name, format!("{:?}", view.dtype()), view.shape().to_vec()))
            .collect();
        entries.sort();
        entries
    };
    assert_eq!(header(&ours), header(&theirs));
    // and what was saved loads back into a fresh model, the count included
    let mut again = WithBatchNorm::new(1);
    shapetorch::nn::weights::from_bytes(&mut again, &ours, "<ours>").unwrap();
    assert_eq!(again.bn.num_batches_tracked(), 3);
    assert_eq!(
        again.bn.running_var().to_vec(),
        model.bn.running_var().to_vec()
    );
}
