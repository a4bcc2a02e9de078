//! The matrix multiply every kernel shares: a checked wrapper around the `gemm` crates' blocked,
//! vectorised kernels, and the crate's only `unsafe` block that touches memory through raw
//! pointers. (The others call the convolution kernels' AVX-512 copies, after asking the CPU:
//! `src/ops/conv/cpu.rs`, `blocked.rs`.)
//!
//! Crate-private on purpose: [`MatRef`] can only be built by its constructors, and
//! [`matmul_into`] validates every size it hands to the raw-pointer call (with overflow-checked
//! arithmetic), so no caller, however wrong its sizes, can make the kernel read or write outside
//! its slices.

use gemm_common::Parallelism;

use super::Element;

/// A row-major or transposed view of a matrix stored in a slice. Its fields are private so the
/// strides always come from a constructor; [`matmul_into`] still checks that the matrix fits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a, E> {
    data: &'a [E],
    row_stride: usize,
    col_stride: usize,
}

impl<'a, E> MatRef<'a, E> {
    /// The same strides over another slice (the same data seen as its concrete type).
    fn new(data: &'a [E], row_stride: usize, col_stride: usize) -> Self {
        MatRef {
            data,
            row_stride,
            col_stride,
        }
    }

    /// A row-major `rows x cols` matrix.
    pub(crate) fn row_major(data: &'a [E], cols: usize) -> Self {
        MatRef {
            data,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `cols x rows` matrix, seen as `rows x cols`.
    pub(crate) fn transposed(data: &'a [E], rows: usize) -> Self {
        MatRef {
            data,
            row_stride: 1,
            col_stride: rows,
        }
    }

    /// Whether a `rows x cols` matrix with these strides lies inside `data`: its last element,
    /// at `(rows-1)*row_stride + (cols-1)*col_stride`, computed without overflow, is in
    /// bounds, and both strides fit the `isize` the kernel takes.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        let strides_ok =
            isize::try_from(self.row_stride).is_ok() && isize::try_from(self.col_stride).is_ok();
        if rows == 0 || cols == 0 {
            return strides_ok;
        }
        let last = (rows - 1)
            .checked_mul(self.row_stride)
            .zip((cols - 1).checked_mul(self.col_stride))
            .and_then(|(r, c)| r.checked_add(c));
        strides_ok && last.is_some_and(|last| last < self.data.len())
    }
}

/// Work (m·n·k) above which a multiply is split across threads.
pub(crate) const PARALLEL_WORK: usize = 1 << 18;

/// `out (m x n) = a (m x k) · b (k x n)`, or `out += a · b` when `accumulate`; `out` is
/// row-major. Runs the `gemm` crate's blocked, vectorised kernel; splits large products across
/// rayon threads unless `single_thread` (use that when the caller is already parallel).
///
/// Panics, naming the sizes, when a matrix does not fit its slice (a bug in the caller: every
/// public op computes these sizes from its tensors' shapes).
///
/// Generic code is compiled in the crate that uses it, at that crate's opt-level; this hands
/// its slices to [`matmul_f32`] or [`matmul_f64`], compiled once in this crate.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_into<E: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, E>,
    b: MatRef<'_, E>,
    out: &mut [E],
    accumulate: bool,
    single_thread: bool,
) {
    const ONE_TYPE: &str = "matmul_into: the matrices share one element type";
    let view = |m: MatRef<'_, E>| (m.row_stride, m.col_stride);
    let ((ars, acs), (brs, bcs)) = (view(a), view(b));
    if let (Some(ad), Some(bd)) = (E::as_f32(a.data), E::as_f32(b.data)) {
        let (a, b) = (MatRef::new(ad, ars, acs), MatRef::new(bd, brs, bcs));
        let out = E::as_f32_mut(out).expect(ONE_TYPE);
        return matmul_f32(m, k, n, a, b, out, accumulate, single_thread);
    }
    let ad = E::as_f64(a.data).expect(ONE_TYPE);
    let bd = E::as_f64(b.data).expect(ONE_TYPE);
    let (a, b) = (MatRef::new(ad, ars, acs), MatRef::new(bd, brs, bcs));
    let out = E::as_f64_mut(out).expect(ONE_TYPE);
    matmul_f64(m, k, n, a, b, out, accumulate, single_thread)
}

/// [`matmul_into`] for `f32`. Never inlined: see `typed_entry_points` in `ops/conv`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn matmul_f32(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    out: &mut [f32],
    accumulate: bool,
    single_thread: bool,
) {
    checked_gemm(m, k, n, a, b, out, accumulate, single_thread)
}

/// [`matmul_into`] for `f64`. Never inlined: see `typed_entry_points` in `ops/conv`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn matmul_f64(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    out: &mut [f64],
    accumulate: bool,
    single_thread: bool,
) {
    checked_gemm(m, k, n, a, b, out, accumulate, single_thread)
}

/// The checks and the `gemm` call behind [`matmul_into`].
#[allow(clippy::too_many_arguments)]
fn checked_gemm<E: Kernel>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, E>,
    b: MatRef<'_, E>,
    out: &mut [E],
    accumulate: bool,
    single_thread: bool,
) {
    let out_len = m.checked_mul(n);
    assert!(
        a.fits(m, k)
            && b.fits(k, n)
            && out_len.is_some_and(|len| len <= out.len())
            && isize::try_from(n).is_ok(),
        "matmul_into: a {m}x{k} times {k}x{n} product does not fit its buffers \
         (lengths {}, {}, {})",
        a.data.len(),
        b.data.len(),
        out.len()
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
    let work = m.saturating_mul(n).saturating_mul(k);
    let parallelism = if single_thread || threads < 2 || work < PARALLEL_WORK {
        Parallelism::None
    } else {
        Parallelism::Rayon(threads)
    };
    // The kernels want the destination's columns contiguous: a row-major `out` is computed as
    // the transpose it is, outᵀ (n x m) = bᵀ (n x k) · aᵀ (k x m), as the `gemm` facade does.
    // Arguments: sizes, then each matrix as (pointer, column stride, row stride).
    // SAFETY: the assert above proves, with overflow-checked arithmetic, that every element
    // the kernel reads lies inside `a.data` (its last one at (m-1)*rs + (k-1)*cs) and
    // `b.data`, that every element it writes (m·n, row-major, row stride n) lies inside
    // `out`, and that every stride fits an `isize`. `out` is borrowed mutably, so it aliases
    // neither input. `E` is sealed to f32 and f64, each with its own crate's kernel.
    unsafe {
        E::kernel()(
            n,
            m,
            k,
            out.as_mut_ptr(),
            n as isize,
            1,
            accumulate,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            E::one(),
            E::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The signature of the `gemm` crates' kernels: `dst = alpha*dst + beta*lhs·rhs` (`dst` read
/// only when the flag says so), each matrix as a pointer, a column stride and a row stride.
type GemmFn<E> = unsafe fn(
    usize,
    usize,
    usize,
    *mut E,
    isize,
    isize,
    bool,
    *const E,
    isize,
    isize,
    *const E,
    isize,
    isize,
    E,
    E,
    bool,
    bool,
    bool,
    Parallelism,
);

/// The element types with a `gemm` kernel (the two of [`Element`]).
trait Kernel: Element {
    /// The crate's kernel for this CPU (picked on first use: AVX-512, AVX2+FMA or scalar).
    fn kernel() -> GemmFn<Self>;
}

impl Kernel for f32 {
    fn kernel() -> GemmFn<f32> {
        gemm_f32::gemm::f32::get_gemm_fn()
    }
}

impl Kernel for f64 {
    fn kernel() -> GemmFn<f64> {
        gemm_f64::gemm::f64::get_gemm_fn()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_rejects_overflowing_and_out_of_bounds_views() {
        let data = [0.0f32; 6];
        assert!(MatRef::row_major(&data, 3).fits(2, 3));
        assert!(!MatRef::row_major(&data, 3).fits(3, 3));
        assert!(MatRef::transposed(&data, 3).fits(3, 2));
        // (2^63 + 1) * 2 wraps to 2 in unchecked arithmetic; checked, it is rejected.
        let huge = (1usize << 63) + 1;
        assert!(!MatRef::row_major(&data, 2).fits(huge, 2));
        assert!(!MatRef::row_major(&data, huge).fits(2, 1));
        // A stride beyond isize::MAX is rejected even when only one row is read.
        assert!(!MatRef::row_major(&data, usize::MAX).fits(1, 1));
        assert!(MatRef::row_major(&data, 3).fits(0, 3));
    }

    #[test]
    #[should_panic(expected = "does not fit its buffers")]
    fn matmul_into_rejects_an_output_length_that_overflows() {
        let a = [1.0f64; 2];
        let mut out = [0.0f64; 4];
        let huge = (1usize << 63) + 1;
        // m * n = 2 * (2^63 + 1) wraps to 2 <= 4; the check must not be fooled.
        matmul_into(
            2,
            0,
            huge,
            MatRef::row_major(&a, 0),
            MatRef::transposed(&a, 0),
            &mut out,
            false,
            true,
        );
    }

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
