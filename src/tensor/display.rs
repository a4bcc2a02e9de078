//! Printing tensors as nested brackets, numpy style, with aligned columns.

use std::fmt;

use super::{Element, Tensor};
use crate::shape::{fmt_dims, Shape};

/// Writes `data` (row-major, sizes `dims`) as nested brackets; `depth` is the bracket depth
/// already open, used to indent continuation lines.
fn write_nested(
    f: &mut fmt::Formatter<'_>,
    dims: &[usize],
    data: &[String],
    width: usize,
    depth: usize,
) -> fmt::Result {
    let Some((&n, inner)) = dims.split_first() else {
        return write!(f, "{:>width$}", data[0]);
    };
    let chunk: usize = inner.iter().product();
    write!(f, "[")?;
    for i in 0..n {
        if i > 0 {
            if inner.is_empty() {
                write!(f, ", ")?;
            } else {
                // One line break per remaining dim below this one, as numpy does.
                write!(
                    f,
                    ",{}{:indent$}",
                    "\n".repeat(inner.len()),
                    "",
                    indent = depth + 1
                )?;
            }
        }
        write_nested(
            f,
            inner,
            &data[i * chunk..(i + 1) * chunk],
            width,
            depth + 1,
        )?;
    }
    write!(f, "]")
}

impl<E: Element, S: Shape> fmt::Display for Tensor<E, S> {
    /// `[[0, 1, 2],\n [3, 4, 5]]`; honours a precision (`{:.2}`) for every element.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells: Vec<String> = match f.precision() {
            Some(p) => self.as_slice().iter().map(|x| format!("{x:.p$}")).collect(),
            None => self.as_slice().iter().map(|x| format!("{x}")).collect(),
        };
        let width = cells.iter().map(|c| c.len()).max().unwrap_or(0);
        if cells.is_empty() {
            return write!(f, "[]");
        }
        write_nested(f, self.dims().as_ref(), &cells, width, 0)
    }
}

impl<E: Element, S: Shape> fmt::Debug for Tensor<E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{} ", fmt_dims(self.dims().as_ref()))?;
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn prints_nested_brackets_aligned() {
        let x = Tensor3::<f64, 2, 2, 2>::from_fn(|[a, b, c]| (4 * a + 2 * b + c) as f64 * 1.5);
        assert_eq!(
            x.to_string(),
            "[[[   0,  1.5],\n  [   3,  4.5]],\n\n [[   6,  7.5],\n  [   9, 10.5]]]"
        );
        assert_eq!(format!("{:.1}", Tensor1::<f32, 2>::ones()), "[1.0, 1.0]");
        assert_eq!(Tensor0::<f32>::scalar(2.5).to_string(), "2.5");
    }
}
