//! The data sets against their published facts: MNIST from `data/mnist/` (counts, label
//! histograms, mean pixel, as in `data/mnist/README.md`), and the MNIST-1D generator against
//! the official files in `tests/data/mnist1d/` (labels identical, `f32` values bit-identical).

use std::path::{Path, PathBuf};

use shapetorch::data::mnist::{Mnist, Split};
use shapetorch::data::mnist1d::{templates, Mnist1d, Mnist1dArgs};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn histogram(labels: &[u8]) -> [usize; 10] {
    let mut counts = [0; 10];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    counts
}

#[test]
fn mnist_in_the_repository() {
    let (train, test) = Mnist::load_dir(repo("data/mnist")).unwrap();
    for (set, count, hist, first, mean) in [
        (
            &train,
            60_000,
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
            [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
            33.318,
        ),
        (
            &test,
            10_000,
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
            [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
            33.791,
        ),
    ] {
        assert_eq!((set.count, set.rows, set.cols), (count, 28, 28));
        assert_eq!(set.images.len(), count * 28 * 28);
        assert_eq!(histogram(&set.labels), hist);
        assert_eq!(set.labels[..10], first);
        let sum: u64 = set.images.iter().map(|&p| p as u64).sum();
        let got = sum as f64 / set.images.len() as f64;
        assert!(
            (got - mean).abs() < 5e-4,
            "mean pixel {got}, expected {mean}"
        );
    }
    // The first training digit (a 5) has ink in its middle rows, none in its corners.
    let five = train.image(0);
    assert_eq!((five[0], five[27], five[27 * 28 + 27]), (0, 0, 0));
    assert!(five[14 * 28..15 * 28].iter().any(|&p| p > 200));
    // One split alone reads the same.
    assert_eq!(Mnist::load(repo("data/mnist"), Split::Test).unwrap(), test);
}

fn read_f32(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(repo("tests/data/mnist1d").join(name)).unwrap();
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn read_u8(name: &str) -> Vec<u8> {
    std::fs::read(repo("tests/data/mnist1d").join(name)).unwrap()
}

/// Every value of `got` has the bits of `expected`; on failure, the first index that differs.
fn assert_bits_eq(what: &str, got: &[f32], expected: &[f32]) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    let differ = got
        .iter()
        .zip(expected)
        .filter(|(g, e)| g.to_bits() != e.to_bits())
        .count();
    if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != expected[i].to_bits()) {
        panic!(
            "{what}: {differ} of {} values differ; first at {i}: got {}, expected {}",
            got.len(),
            got[i],
            expected[i]
        );
    }
}

#[test]
fn mnist1d_reproduces_the_official_files() {
    let data = Mnist1d::generate(&Mnist1dArgs::default()).unwrap();
    assert_eq!(data.train_y, read_u8("train_y.u8"));
    assert_eq!(data.test_y, read_u8("test_y.u8"));
    assert_bits_eq("train_x", &data.train_x, &read_f32("train_x.f32"));
    assert_bits_eq("test_x", &data.test_x, &read_f32("test_x.f32"));
    assert_bits_eq("t", &data.t, &read_f32("t.f32"));
    // SPEC.md §5.5: the standardisation's mean and std (NumPy's pairwise sums round a little
    // differently from our left-to-right ones; the f32 values above are identical all the same).
    assert!(
        (data.mean - -0.0055075064312771795).abs() < 1e-15,
        "{}",
        data.mean
    );
    assert!(
        (data.std - 0.15467803420593054).abs() < 1e-15,
        "{}",
        data.std
    );
    assert_eq!(
        histogram(&data.train_y),
        [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
    );
}

#[test]
fn mnist1d_templates_match_the_official_file() {
    let ours: Vec<f32> = templates().iter().flatten().map(|&v| v as f32).collect();
    assert_bits_eq("templates", &ours, &read_f32("templates_x.f32"));
}
