//! Elementwise ops with their gradients: `+ - * /` between tensors of one shape, scalar ops,
//! and the unary functions (`neg exp log relu sigmoid tanh powi`).
//!
//! Both operands of a binary op have the same shape type, so `[2, 3] + [3, 2]` does not compile;
//! to combine different shapes, [`broadcast`](Tensor::broadcast) one first.
//!
//! ```
//! use shapetorch::prelude::*;
//! let a = Tensor1::<f32, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
//! let b = Tensor1::<f32, 3>::from_slice(&[4.0, 5.0, 6.0]).unwrap();
//! assert_eq!((&a * &b).to_vec(), vec![4.0, 10.0, 18.0]);
//! assert_eq!(a.mul_scalar(2.0).relu().to_vec(), vec![2.0, 4.0, 6.0]);
//! ```

use std::sync::Arc;

use super::{Element, IntoStorage, Tensor};
use crate::memory::Buffer;
use crate::shape::{assert_same_dims, Shape};

/// What a unary op's backward pass keeps, and so how it computes `dy/dx`. `D` is the
/// derivative's own closure type, so the backward loop inlines it and vectorises (through a
/// `fn` pointer, each element cost an indirect call: the ReLUs' backward passes were 8 % of a
/// LeNet training step).
enum Derivative<E, D> {
    /// `dy/dx = c` everywhere: keeps nothing (`neg`, the scalar ops).
    Constant(E),
    /// `dy/dx = d(x)`: keeps the input (`log`, `powi`).
    OfInput(D),
    /// `dy/dx = d(y)`: keeps the output (`exp`, `sigmoid`, `tanh`, `relu`), which the next op
    /// usually holds anyway.
    OfOutput(D),
}

impl<E> Derivative<E, fn(E) -> E> {
    /// `dy/dx = c` (names a derivative type that is never called).
    fn constant(c: E) -> Self {
        Derivative::Constant(c)
    }
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Applies `f` elementwise and records the backward pass `grad_x += grad_y * dy/dx`,
    /// keeping only what `derivative` needs.
    fn unary<D>(&self, op: &'static str, f: impl Fn(E) -> E, derivative: Derivative<E, D>) -> Self
    where
        D: Fn(E) -> E + Send + 'static,
    {
        let mut y = Buffer::for_overwrite(self.numel());
        for (y, &x) in y.iter_mut().zip(self.as_slice()) {
            *y = f(x);
        }
        let y = y.into_storage();
        let (x_id, len) = (self.id(), self.numel());
        // Each closure captures only what its derivative reads.
        match derivative {
            Derivative::Constant(c) => {
                Tensor::from_op(op, *self.shape(), y, &[self], move |grad_y, grads| {
                    for (g, &gy) in grads.accumulator(x_id, len).iter_mut().zip(grad_y) {
                        *g += gy * c;
                    }
                })
            }
            Derivative::OfInput(d) => {
                let x = self.storage();
                Tensor::from_op(op, *self.shape(), y, &[self], move |grad_y, grads| {
                    let grad_x = grads.accumulator(x_id, len);
                    for ((g, &gy), &x) in grad_x.iter_mut().zip(grad_y).zip(x.iter()) {
                        *g += gy * d(x);
                    }
                })
            }
            Derivative::OfOutput(d) => {
                let y_kept = Arc::clone(&y);
                Tensor::from_op(op, *self.shape(), y, &[self], move |grad_y, grads| {
                    let grad_x = grads.accumulator(x_id, len);
                    for ((g, &gy), &y) in grad_x.iter_mut().zip(grad_y).zip(y_kept.iter()) {
                        *g += gy * d(y);
                    }
                })
            }
        }
    }

    /// `-x`.
    pub fn neg(&self) -> Self {
        self.unary("neg", |x| -x, Derivative::constant(-E::one()))
    }

    /// `e^x`.
    pub fn exp(&self) -> Self {
        self.unary("exp", E::exp, Derivative::OfOutput(|y| y))
    }

    /// The natural logarithm, `ln x`.
    pub fn log(&self) -> Self {
        self.unary("log", E::ln, Derivative::OfInput(|x| E::one() / x))
    }

    /// `max(x, 0)`, as PyTorch computes it: `0` where `x < 0`, else `x`, so NaN stays NaN
    /// (and `-0.0` stays `-0.0`). Its gradient is PyTorch's `threshold_backward`: 0 where the
    /// output is `<= 0` (at 0 too), else the upstream gradient, which a NaN passes. The
    /// backward pass keeps the output.
    ///
    /// (`Float::max(x, 0)` returns the number when one operand is NaN: it made `relu(NaN)` 0.)
    pub fn relu(&self) -> Self {
        self.unary(
            "relu",
            |x| if x < E::zero() { E::zero() } else { x },
            Derivative::OfOutput(|y| if y <= E::zero() { E::zero() } else { E::one() }),
        )
    }

    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(&self) -> Self {
        self.unary(
            "sigmoid",
            |x| E::one() / (E::one() + (-x).exp()),
            Derivative::OfOutput(|y| y * (E::one() - y)),
        )
    }

    /// The hyperbolic tangent.
    pub fn tanh(&self) -> Self {
        self.unary("tanh", E::tanh, Derivative::OfOutput(|y| E::one() - y * y))
    }

    /// `x^n` for an integer `n`. The gradient of `x^0` is 0 everywhere, also at `x = 0`, as in
    /// PyTorch.
    pub fn powi(&self, n: i32) -> Self {
        self.unary(
            "powi",
            move |x| x.powi(n),
            // n = 0: 0 * x^-1 would be 0 * inf = NaN at x = 0
            Derivative::OfInput(move |x: E| {
                if n == 0 {
                    E::zero()
                } else {
                    E::of(n as f64) * x.powi(n - 1)
                }
            }),
        )
    }

    /// `x + c`.
    pub fn add_scalar(&self, c: E) -> Self {
        self.unary("add_scalar", move |x| x + c, Derivative::constant(E::one()))
    }

    /// `x - c`.
    pub fn sub_scalar(&self, c: E) -> Self {
        self.unary("sub_scalar", move |x| x - c, Derivative::constant(E::one()))
    }

    /// `x * c`.
    pub fn mul_scalar(&self, c: E) -> Self {
        self.unary("mul_scalar", move |x| x * c, Derivative::constant(c))
    }

    /// `x / c`.
    pub fn div_scalar(&self, c: E) -> Self {
        self.unary(
            "div_scalar",
            move |x| x / c,
            Derivative::constant(E::one() / c),
        )
    }

    /// Combines two tensors of one shape elementwise with `f`. The backward pass adds
    /// `grad * da(a, b)` to `a`'s gradient and `grad * db(a, b)` to `b`'s; it keeps `a` only
    /// when `keep_a` says a traced operand's derivative reads it, and `b` likewise (so `add`
    /// keeps nothing, and `a * w` with only `w` traced keeps only `a`).
    fn binary<DA, DB>(
        &self,
        rhs: &Self,
        op: &'static str,
        f: impl Fn(E, E) -> E,
        derivatives: BinaryDerivatives<DA, DB>,
    ) -> Self
    where
        DA: Fn(E, E) -> E + Send + 'static,
        DB: Fn(E, E) -> E + Send + 'static,
    {
        assert_same_dims(op, self.dims().as_ref(), rhs.dims().as_ref());
        let mut y = Buffer::for_overwrite(self.numel());
        for ((y, &a), &b) in y.iter_mut().zip(self.as_slice()).zip(rhs.as_slice()) {
            *y = f(a, b);
        }
        let (a_id, b_id) = (self.grad_id(), rhs.grad_id());
        let BinaryDerivatives { da, db, reads } = derivatives;
        // What the traced operands' derivatives read, and nothing else.
        let needs = |operand: Operand| {
            (a_id.is_some() && reads(Operand::A).contains(&operand))
                || (b_id.is_some() && reads(Operand::B).contains(&operand))
        };
        let a = needs(Operand::A).then(|| self.storage());
        let b = needs(Operand::B).then(|| rhs.storage());
        let len = self.numel();
        Tensor::from_op(op, *self.shape(), y, &[self, rhs], move |grad_y, grads| {
            let (a, b) = (a.as_deref().map(|a| &a[..]), b.as_deref().map(|b| &b[..]));
            if let Some(id) = a_id {
                accumulate(grads.accumulator(id, len), grad_y, a, b, &da);
            }
            if let Some(id) = b_id {
                accumulate(grads.accumulator(id, len), grad_y, a, b, &db);
            }
        })
    }
}

/// `grad[i] += grad_y[i] * d(a[i], b[i])`, with 0 for an operand not kept. One loop per case,
/// each over plain slices, so `d` inlines and the loop vectorises.
fn accumulate<E: Element>(
    grad: &mut [E],
    grad_y: &[E],
    a: Option<&[E]>,
    b: Option<&[E]>,
    d: &impl Fn(E, E) -> E,
) {
    let zero = E::zero();
    let grad = grad.iter_mut().zip(grad_y);
    match (a, b) {
        (Some(a), Some(b)) => {
            for ((g, &gy), (&a, &b)) in grad.zip(a.iter().zip(b)) {
                *g += gy * d(a, b);
            }
        }
        (Some(a), None) => {
            for ((g, &gy), &a) in grad.zip(a) {
                *g += gy * d(a, zero);
            }
        }
        (None, Some(b)) => {
            for ((g, &gy), &b) in grad.zip(b) {
                *g += gy * d(zero, b);
            }
        }
        (None, None) => {
            for (g, &gy) in grad {
                *g += gy * d(zero, zero);
            }
        }
    }
}

/// An operand of a binary op.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operand {
    A,
    B,
}

/// The two partial derivatives of a binary op `y = f(a, b)`, and which operands each reads
/// (an operand not read is not kept for the backward pass; the derivative sees 0 for it).
struct BinaryDerivatives<DA, DB> {
    da: DA,
    db: DB,
    reads: fn(Operand) -> &'static [Operand],
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $name:literal, $f:expr, $derivatives:expr) => {
        #[diagnostic::do_not_recommend]
        impl<E: Element, S: Shape> std::ops::$trait<&Tensor<E, S>> for &Tensor<E, S> {
            type Output = Tensor<E, S>;
            fn $method(self, rhs: &Tensor<E, S>) -> Tensor<E, S> {
                self.binary(rhs, $name, $f, $derivatives)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<E: Element, S: Shape> std::ops::$trait<Tensor<E, S>> for Tensor<E, S> {
            type Output = Tensor<E, S>;
            fn $method(self, rhs: Tensor<E, S>) -> Tensor<E, S> {
                (&self).$method(&rhs)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<E: Element, S: Shape> std::ops::$trait<&Tensor<E, S>> for Tensor<E, S> {
            type Output = Tensor<E, S>;
            fn $method(self, rhs: &Tensor<E, S>) -> Tensor<E, S> {
                (&self).$method(rhs)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<E: Element, S: Shape> std::ops::$trait<Tensor<E, S>> for &Tensor<E, S> {
            type Output = Tensor<E, S>;
            fn $method(self, rhs: Tensor<E, S>) -> Tensor<E, S> {
                self.$method(&rhs)
            }
        }
    };
}

binary_op!(
    Add,
    add,
    "add",
    |a, b| a + b,
    BinaryDerivatives {
        da: |_, _| E::one(),
        db: |_, _| E::one(),
        reads: |_| &[],
    }
);
binary_op!(
    Sub,
    sub,
    "sub",
    |a, b| a - b,
    BinaryDerivatives {
        da: |_, _| E::one(),
        db: |_, _| -E::one(),
        reads: |_| &[],
    }
);
binary_op!(
    Mul,
    mul,
    "mul",
    |a, b| a * b,
    BinaryDerivatives {
        // d(ab)/da = b, d(ab)/db = a
        da: |_, b| b,
        db: |a, _| a,
        reads: |operand| match operand {
            Operand::A => &[Operand::B],
            Operand::B => &[Operand::A],
        },
    }
);
binary_op!(
    Div,
    div,
    "div",
    |a, b| a / b,
    BinaryDerivatives {
        // d(a/b)/da = 1/b, d(a/b)/db = -a/b²
        da: |_, b| E::one() / b,
        db: |a: E, b: E| -a / (b * b),
        reads: |operand| match operand {
            Operand::A => &[Operand::B],
            Operand::B => &[Operand::A, Operand::B],
        },
    }
);

impl<E: Element, S: Shape> std::ops::Neg for Tensor<E, S> {
    type Output = Tensor<E, S>;
    fn neg(self) -> Tensor<E, S> {
        Tensor::neg(&self)
    }
}

impl<E: Element, S: Shape> std::ops::Neg for &Tensor<E, S> {
    type Output = Tensor<E, S>;
    fn neg(self) -> Tensor<E, S> {
        Tensor::neg(self)
    }
}
