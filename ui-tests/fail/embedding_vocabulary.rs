// Ids below 500 looked up in a table of 1000 rows: the vocabulary sizes must agree.
use shapetorch::prelude::*;

fn main() {
    let table = Tensor2::<f32, 1000, 16>::zeros();
    let ids = IndexTensor::<Rank1<3>, 500>::from_slice(&[1, 2, 3]).unwrap();
    let _vectors = table.embedding(&ids);
}
