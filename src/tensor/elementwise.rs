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

use super::{Element, Tensor};
use crate::autodiff::Tape;
use crate::shape::{assert_same_dims, Shape};

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Applies `f` elementwise. The backward pass multiplies the upstream gradient by
    /// `df(x, y)`, the derivative at input `x` with output `y = f(x)`.
    fn unary(&self, f: impl Fn(E) -> E, df: impl Fn(E, E) -> E + Send + 'static) -> Self {
        let y: Arc<Vec<E>> = Arc::new(self.as_slice().iter().map(|&x| f(x)).collect());
        let (x, x_id, y_keep) = (self.data_arc(), self.id(), Arc::clone(&y));
        Tensor::from_op(
            *self.shape(),
            y,
            self.tape().cloned(),
            move |grad_y, grads| {
                let grad_x = grads.slot(x_id, x.len());
                for i in 0..x.len() {
                    grad_x[i] += grad_y[i] * df(x[i], y_keep[i]);
                }
            },
        )
    }

    /// `-x`.
    pub fn neg(&self) -> Self {
        self.unary(|x| -x, |_, _| -E::one())
    }

    /// `e^x`.
    pub fn exp(&self) -> Self {
        self.unary(E::exp, |_, y| y)
    }

    /// The natural logarithm, `ln x`.
    pub fn log(&self) -> Self {
        self.unary(E::ln, |x, _| E::one() / x)
    }

    /// `max(x, 0)`; its gradient at 0 is 0, as in PyTorch.
    pub fn relu(&self) -> Self {
        self.unary(
            |x| x.max(E::zero()),
            |x, _| if x > E::zero() { E::one() } else { E::zero() },
        )
    }

    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(&self) -> Self {
        self.unary(
            |x| E::one() / (E::one() + (-x).exp()),
            |_, y| y * (E::one() - y),
        )
    }

    /// The hyperbolic tangent.
    pub fn tanh(&self) -> Self {
        self.unary(E::tanh, |_, y| E::one() - y * y)
    }

    /// `x^n` for an integer `n`. The gradient of `x^0` is 0 everywhere, also at `x = 0`, as in
    /// PyTorch.
    pub fn powi(&self, n: i32) -> Self {
        self.unary(
            move |x| x.powi(n),
            // n = 0: 0 * x^-1 would be 0 * inf = NaN at x = 0
            move |x, _| {
                if n == 0 {
                    E::zero()
                } else {
                    E::of(n as f64) * x.powi(n - 1)
                }
            },
        )
    }

    /// `x + c`.
    pub fn add_scalar(&self, c: E) -> Self {
        self.unary(move |x| x + c, |_, _| E::one())
    }

    /// `x - c`.
    pub fn sub_scalar(&self, c: E) -> Self {
        self.unary(move |x| x - c, |_, _| E::one())
    }

    /// `x * c`.
    pub fn mul_scalar(&self, c: E) -> Self {
        self.unary(move |x| x * c, move |_, _| c)
    }

    /// `x / c`.
    pub fn div_scalar(&self, c: E) -> Self {
        self.unary(move |x| x / c, move |_, _| E::one() / c)
    }

    /// Combines two tensors of one shape elementwise with `f`. The backward pass adds
    /// `grad * da(a, b)` to `a`'s gradient and `grad * db(a, b)` to `b`'s.
    fn binary(
        &self,
        rhs: &Self,
        op: &str,
        f: impl Fn(E, E) -> E,
        da: impl Fn(E, E) -> E + Send + 'static,
        db: impl Fn(E, E) -> E + Send + 'static,
    ) -> Self {
        assert_same_dims(op, self.dims().as_ref(), rhs.dims().as_ref());
        let y: Vec<E> = self
            .as_slice()
            .iter()
            .zip(rhs.as_slice())
            .map(|(&a, &b)| f(a, b))
            .collect();
        let tape = Tape::join(&[&self.tape, &rhs.tape]);
        let (a, b) = (self.data_arc(), rhs.data_arc());
        let a_grad = self.is_traced().then_some(self.id());
        let b_grad = rhs.is_traced().then_some(rhs.id());
        Tensor::from_op(*self.shape(), y, tape, move |grad_y, grads| {
            if let Some(id) = a_grad {
                let grad_a = grads.slot(id, a.len());
                for i in 0..a.len() {
                    grad_a[i] += grad_y[i] * da(a[i], b[i]);
                }
            }
            if let Some(id) = b_grad {
                let grad_b = grads.slot(id, b.len());
                for i in 0..b.len() {
                    grad_b[i] += grad_y[i] * db(a[i], b[i]);
                }
            }
        })
    }
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $name:literal, $f:expr, $da:expr, $db:expr) => {
        #[diagnostic::do_not_recommend]
        impl<E: Element, S: Shape> std::ops::$trait<&Tensor<E, S>> for &Tensor<E, S> {
            type Output = Tensor<E, S>;
            fn $method(self, rhs: &Tensor<E, S>) -> Tensor<E, S> {
                self.binary(rhs, $name, $f, $da, $db)
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

binary_op!(Add, add, "add", |a, b| a + b, |_, _| E::one(), |_, _| {
    E::one()
});
binary_op!(Sub, sub, "sub", |a, b| a - b, |_, _| E::one(), |_, _| {
    -E::one()
});
binary_op!(Mul, mul, "mul", |a, b| a * b, |_, b| b, |a, _| a);
binary_op!(
    Div,
    div,
    "div",
    |a, b| a / b,
    |_, b| E::one() / b,
    |a, b| -a / (b * b)
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
