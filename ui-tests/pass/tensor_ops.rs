// Every op of the tensor foundation with its shapes checked by the compiler, and a runtime batch
// dim where a model needs one; each result is checked, so this case tests values too.
use shapetorch::prelude::*;

fn main() {
    // matmul: [2, 3] x [3, 2] -> [2, 2]
    let a = Tensor2::<f32, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f32); // [[0, 1, 2], [3, 4, 5]]
    let b = Tensor2::<f32, 3, 2>::from_fn(|[i, j]| (i + j) as f32); // [[0, 1], [1, 2], [2, 3]]
    let c: Tensor2<f32, 2, 2> = a.matmul(&b);
    // [0*0 + 1*1 + 2*2, 0*1 + 1*2 + 2*3], [3*0 + 4*1 + 5*2, 3*1 + 4*2 + 5*3]
    assert_eq!(c.to_vec(), vec![5.0, 8.0, 14.0, 26.0]);

    // matmul with a runtime number of rows (a batch of 4 rows of 3 features)
    let rows = Tensor::<f32, (usize, Dim<3>)>::ones_shaped((4, Dim));
    let out: Tensor<f32, (usize, Dim<2>)> = rows.matmul(&b);
    assert_eq!(out.dims(), [4, 2]);
    assert_eq!(out.to_vec(), [3.0, 6.0].repeat(4));

    // a runtime inner dim against a static one is checked when the op runs
    let wide = Tensor::<f32, (Dim<2>, usize)>::ones_shaped((Dim, 3));
    let v: Tensor2<f32, 2, 2> = wide.matmul(&b);
    assert_eq!(v.to_vec(), vec![3.0, 6.0, 3.0, 6.0]);

    // bmm with a runtime batch dim: 5 x ([2, 3] x [3, 1])
    let x = Tensor::<f32, (usize, Dim<2>, Dim<3>)>::from_fn_shaped((5, Dim, Dim), |[n, i, j]| {
        (n * 6 + 3 * i + j) as f32
    });
    let w = Tensor::<f32, (usize, Dim<3>, Dim<1>)>::ones_shaped((5, Dim, Dim));
    let y: Tensor<f32, (usize, Dim<2>, Dim<1>)> = x.bmm(&w);
    assert_eq!(y.dims(), [5, 2, 1]);
    // batch n, row i: the sum of n*6 + 3*i + {0, 1, 2}
    let expected: Vec<f32> = (0..5)
        .flat_map(|n| (0..2).map(move |i| (3 * (n * 6 + 3 * i) + 3) as f32))
        .collect();
    assert_eq!(y.to_vec(), expected);

    // static bmm: the batch dim is checked too
    let s = Tensor3::<f32, 2, 2, 3>::ones().bmm(&Tensor3::<f32, 2, 3, 4>::ones());
    let s: Tensor3<f32, 2, 2, 4> = s;
    assert_eq!(s.to_vec(), vec![3.0; 16]);

    // reshape: [2, 3] -> [3, 2] -> [6]; the element count is compared by the compiler
    let r: Tensor2<f32, 3, 2> = a.reshape();
    assert_eq!(r.to_vec(), a.to_vec());
    let flat: Tensor1<f32, 6> = r.reshape();
    assert_eq!(flat.to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    // a large static reshape: 64 * 28 * 28 = 50176 elements, compared as typenum numbers
    let big: Tensor3<f32, 64, 28, 28> = Tensor2::<f32, 64, 784>::zeros().reshape();
    assert_eq!(big.dims(), [64, 28, 28]);

    // permute: [2, 3, 4] -> [4, 2, 3]
    let p = Tensor3::<f32, 2, 3, 4>::from_fn(|[i, j, k]| (100 * i + 10 * j + k) as f32);
    let q: Tensor3<f32, 4, 2, 3> = p.permute::<2, 0, 1>();
    assert_eq!(q[[3, 1, 2]], p[[1, 2, 3]]);
    assert_eq!(q[[3, 1, 2]], 123.0);
    let at: Tensor2<f32, 3, 2> = a.t();
    assert_eq!(at.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);

    // broadcast: a bias [3] repeated over 2 rows, then added
    let bias = Tensor1::<f32, 3>::from_slice(&[10.0, 20.0, 30.0]).unwrap();
    let rows: Tensor2<f32, 2, 3> = bias.broadcast::<0, _>();
    assert_eq!(
        (&a + &rows).to_vec(),
        vec![10.0, 21.0, 32.0, 13.0, 24.0, 35.0]
    );

    // sum over an axis: [2, 3] -> [3] and -> [2]
    let cols: Tensor1<f32, 3> = a.sum::<0>();
    assert_eq!(cols.to_vec(), vec![3.0, 5.0, 7.0]);
    let per_row: Tensor1<f32, 2> = a.sum::<1>();
    assert_eq!(per_row.to_vec(), vec![3.0, 12.0]);

    // unroll: 2 channels of a runtime length 4, kernel 2 -> [4, 2*2] (2*2 computed)
    let seq = Tensor::<f32, (Dim<2>, usize)>::from_fn_shaped((Dim, 4), |[c, t]| {
        ((t + 1) * if c == 0 { 1 } else { 10 }) as f32
    });
    let u: Tensor<f32, (usize, Dim<4>)> = seq.unroll::<2>();
    #[rustfmt::skip]
    assert_eq!(u.to_vec(), vec![
        1.0, 2.0, 10.0, 20.0,
        2.0, 3.0, 20.0, 30.0,
        3.0, 4.0, 30.0, 40.0,
        4.0, 0.0, 40.0, 0.0,
    ]);
    // a convolution as unroll + matmul, output [T, 1] with T known only at run time
    let kernel = Tensor2::<f32, 4, 1>::from_slice(&[1.0, -1.0, 0.5, 0.0]).unwrap();
    let conv: Tensor<f32, (usize, Dim<1>)> = u.matmul(&kernel);
    assert_eq!(conv.to_vec(), vec![4.0, 9.0, 14.0, 24.0]);
}
