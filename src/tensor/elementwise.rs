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

/// What a unary op's backward pass keeps, and so how it computes `dy/dx`.
enum Derivative<E> {
    /// `dy/dx = c` everywhere: keeps nothing (`neg`, the scalar ops).
    Constant(E),
    /// `dy/dx = d(x)`: keeps the input (`log`, `powi`).
    OfInput(fn(E, i32) -> E, i32),
    /// `dy/dx = d(y)`: keeps the output (`exp`, `sigmoid`, `tanh`, `relu`), which the next op
    /// usually holds anyway.
    OfOutput(fn(E) -> E),
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Applies `f` elementwise and records the backward pass `grad_x += grad_y * dy/dx`,
    /// keeping only what `derivative` needs.
    fn unary(&self, op: &str, f: impl Fn(E) -> E, derivative: Derivative<E>) -> Self {
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
            Derivative::OfInput(d, n) => {
                let x = self.storage();
                Tensor::from_op(op, *self.shape(), y, &[self], move |grad_y, grads| {
                    let grad_x = grads.accumulator(x_id, len);
                    for i in 0..len {
                        grad_x[i] += grad_y[i] * d(x[i], n);
                    }
                })
            }
            Derivative::OfOutput(d) => {
                let y_kept = Arc::clone(&y);
                Tensor::from_op(op, *self.shape(), y, &[self], move |grad_y, grads| {
                    let grad_x = grads.accumulator(x_id, len);
                    for i in 0..len {
                        grad_x[i] += grad_y[i] * d(y_kept[i]);
                    }
                })
            }
        }
    }

    /// `-x`.
    pub fn neg(&self) -> Self {
        self.unary("neg", |x| -x, Derivative::Constant(-E::one()))
    }

    /// `e^x`.
    pub fn exp(&self) -> Self {
        self.unary("exp", E::exp, Derivative::OfOutput(|y| y))
    }

    /// The natural logarithm, `ln x`.
    pub fn log(&self) -> Self {
        self.unary("log", E::ln, Derivative::OfInput(|x, _| E::one() / x, 0))
    }

    /// `max(x, 0)`; its gradient at 0 is 0, as in PyTorch. The backward pass keeps the output
    /// (`y > 0` exactly where `x > 0`).
    pub fn relu(&self) -> Self {
        self.unary(
            "relu",
            |x| x.max(E::zero()),
            Derivative::OfOutput(|y| if y > E::zero() { E::one() } else { E::zero() }),
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
            Derivative::OfInput(
                |x, n| {
                    if n == 0 {
                        E::zero()
                    } else {
                        E::of(n as f64) * x.powi(n - 1)
                    }
                },
                n,
            ),
        )
    }

    /// `x + c`.
    pub fn add_scalar(&self, c: E) -> Self {
        self.unary("add_scalar", move |x| x + c, Derivative::Constant(E::one()))
    }

    /// `x - c`.
    pub fn sub_scalar(&self, c: E) -> Self {
        self.unary("sub_scalar", move |x| x - c, Derivative::Constant(E::one()))
    }

    /// `x * c`.
    pub fn mul_scalar(&self, c: E) -> Self {
        self.unary("mul_scalar", move |x| x * c, Derivative::Constant(c))
    }

    /// `x / c`.
    pub fn div_scalar(&self, c: E) -> Self {
        self.unary(
            "div_scalar",
            move |x| x / c,
            Derivative::Constant(E::one() / c),
        )
    }

    /// Combines two tensors of one shape elementwise with `f`. The backward pass adds
    /// `grad * da(a, b)` to `a`'s gradient and `grad * db(a, b)` to `b`'s; it keeps `a` only
    /// when `keep_a` says a traced operand's derivative reads it, and `b` likewise (so `add`
    /// keeps nothing, and `a * w` with only `w` traced keeps only `a`).
    fn binary(
        &self,
        rhs: &Self,
        op: &'static str,
        f: impl Fn(E, E) -> E,
        derivatives: BinaryDerivatives<E>,
    ) -> Self {
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
            let at = |v: &Option<Arc<Buffer<E>>>, i: usize| v.as_ref().map_or(E::zero(), |v| v[i]);
            if let Some(id) = a_id {
                let grad_a = grads.accumulator(id, len);
                for i in 0..len {
                    grad_a[i] += grad_y[i] * da(at(&a, i), at(&b, i));
                }
            }
            if let Some(id) = b_id {
                let grad_b = grads.accumulator(id, len);
                for i in 0..len {
                    grad_b[i] += grad_y[i] * db(at(&a, i), at(&b, i));
                }
            }
        })
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
struct BinaryDerivatives<E> {
    da: fn(E, E) -> E,
    db: fn(E, E) -> E,
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
        db: |a, b| -a / (b * b),
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
