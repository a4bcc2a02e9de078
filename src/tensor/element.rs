//! Element types (`f32`, `f64`) and the matrix multiply every kernel shares.

use std::fmt::{Debug, Display};
use std::iter::Sum;

use num_traits::Float;

/// A tensor element: `f32` or `f64`.
pub trait Element:
    Float + Sum + Default + Debug + Display + Send + Sync + std::ops::AddAssign + 'static
{
    /// `value` converted to this type (for literals in kernels and tests).
    fn of(value: f64) -> Self;
}

impl Element for f32 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }
}

impl Element for f64 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }
}

/// A row-major or transposed view of a matrix stored in a slice.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, E> {
    /// The elements.
    pub data: &'a [E],
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a, E> MatRef<'a, E> {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [E], cols: usize) -> Self {
        MatRef {
            data,
            row_stride: cols,
            col_stride: 1,
        }
    }
    /// The transpose of a row-major `cols x rows` matrix, seen as `rows x cols`.
    pub fn transposed(data: &'a [E], rows: usize) -> Self {
        MatRef {
            data,
            row_stride: 1,
            col_stride: rows,
        }
    }
    /// Checks that a `rows x cols` matrix with these strides fits in `data`.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// Work (m·n·k) above which a multiply is split across threads.
const PARALLEL_WORK: usize = 1 << 18;

/// `out (m x n) = a (m x k) · b (k x n)`, or `out += a · b` when `accumulate`; `out` is
/// row-major. Runs the `gemm` crate's blocked, vectorised kernel; splits large products across
/// rayon threads unless `single_thread` (use that when the caller is already parallel).
///
/// Panics when a matrix does not fit its slice (a bug in the caller, not user data).
#[allow(clippy::too_many_arguments)]
pub fn matmul_into<E: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, E>,
    b: MatRef<'_, E>,
    out: &mut [E],
    accumulate: bool,
    single_thread: bool,
) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && out.len() >= m * n,
        "matmul_into: bad sizes"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out[..m * n].fill(E::zero());
        }
        return;
    }
    let threads = rayon::current_num_threads();
    let parallelism = if single_thread || threads < 2 || m * n * k < PARALLEL_WORK {
        gemm::Parallelism::None
    } else {
        gemm::Parallelism::Rayon(threads)
    };
    // SAFETY: the assert above proves every element the kernel reads lies inside `a.data` and
    // `b.data`, and every element it writes (m·n, row-major) inside `out`; `out` is borrowed
    // mutably, so it aliases neither input. `E` is f32 or f64, both supported by `gemm`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            E::one(),
            E::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_into_matches_hand_values() {
        // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1] = [4 5; 10 11]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut out = [0.0f64; 4];
        matmul_into(
            2,
            3,
            2,
            MatRef::row_major(&a, 3),
            MatRef::row_major(&b, 2),
            &mut out,
            false,
            false,
        );
        assert_eq!(out, [4.0, 5.0, 10.0, 11.0]);
        // accumulate, with a seen transposed: aᵀ (3x2) · [1 1; 1 1] (2x2)
        let ones = [1.0; 4];
        let mut out2 = [1.0f64; 6];
        matmul_into(
            3,
            2,
            2,
            MatRef::transposed(&a, 3),
            MatRef::row_major(&ones, 2),
            &mut out2,
            true,
            true,
        );
        assert_eq!(out2, [6.0, 6.0, 8.0, 8.0, 10.0, 10.0]);
    }
}
