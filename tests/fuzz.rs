//! Seeded fuzzing of every file format the crate reads: IDX (raw and gzip'd), safetensors,
//! GloVe text and the MR file. Each test starts from valid files, applies a few random
//! mutations at a time (bit flips, bytes set to edge values, big-endian sizes written over
//! header fields, cuts, insertions, repeated runs, tokens such as `nan` or a very long word)
//! and feeds the result to the reader, which must return `Ok` or an `Err` whose message stays
//! short: never panic, never hang, never allocate what the input only claims.
//!
//! The generator is seeded, so a failure repeats: the message names the case number, and
//! `FUZZ_CASES` sets how many cases each format gets (default [`CASES`]; the fuzzer
//! ran 20,000). Each test takes at most a few seconds in `cargo test`'s build (the times are
//! printed with `--nocapture`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use shapetorch::data::mnist::Mnist;
use shapetorch::nn::weights;
use shapetorch::prelude::*;
use shapetorch::text::{parse_mr, Glove};

/// Cases per format unless `FUZZ_CASES` says otherwise.
const CASES: usize = 10_000;

/// The longest error message allowed: a message quotes at most a few cut fields.
const MAX_MESSAGE: usize = 1000;

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES)
}

/// Sizes that break arithmetic: 0, 1, powers of two around the u32 edge, the largest.
const EDGE_U32: [u32; 8] = [0, 1, 2, 28, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, u32::MAX];

/// Tokens that break parsers of numbers and of tab-separated text.
const EDGE_TOKENS: [&str; 10] = [
    "nan", "inf", "-inf", "1e39", "", "\t", " ", "\n", "-0", "\u{feff}",
];

/// Applies one to four random mutations to `bytes`.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            // flip a bit
            0 if len > 0 => bytes[at.min(len - 1)] ^= 1 << rng.below(8),
            // a byte at an edge value
            1 if len > 0 => bytes[at.min(len - 1)] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)],
            // a big-endian u32 written over four bytes (an IDX size, a safetensors length)
            2 if len >= 4 => {
                let at = at.min(len - 4) & !3;
                let word = EDGE_U32[rng.below(EDGE_U32.len())].to_be_bytes();
                bytes[at..at + 4].copy_from_slice(&word);
            }
            // the same, little-endian (safetensors' header length is a u64 LE)
            3 if len >= 8 => {
                let at = at.min(len - 8);
                let word = [0u64, 1, 7, 1 << 32, 100_000_001, u64::MAX][rng.below(6)];
                bytes[at..at + 8].copy_from_slice(&word.to_le_bytes());
            }
            // cut
            4 => bytes.truncate(at),
            // insert random bytes
            5 => {
                let new: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| rng.below(256) as u8)
                    .collect();
                bytes.splice(at..at, new);
            }
            // repeat a run
            6 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let run = bytes[start..end].to_vec();
                bytes.splice(at..at, run);
            }
            // an edge token
            7 => {
                let token = EDGE_TOKENS[rng.below(EDGE_TOKENS.len())];
                bytes.splice(at..at, token.bytes());
            }
            // a very long word
            _ => {
                bytes.splice(at..at, std::iter::repeat_n(b'w', 4096 + rng.below(4096)));
            }
        }
    }
}

/// Runs `read` on `cases()` mutations of the inputs `make_valid` builds, asserting it never
/// panics and keeps its messages short; returns how many mutations were accepted and
/// rejected. `read` returns `Err(message)` for a rejected input.
fn fuzz(
    format: &str,
    seed: u64,
    valid: &[Vec<u8>],
    read: impl Fn(&[u8]) -> Result<(), String>,
) -> (usize, usize) {
    let start = Instant::now();
    let mut rng = Rng::new(seed);
    for (i, input) in valid.iter().enumerate() {
        assert_eq!(read(input), Ok(()), "{format}: valid input {i} is refused");
    }
    let (mut ok, mut err) = (0, 0);
    for case in 0..cases() {
        let mut bytes = valid[rng.below(valid.len())].clone();
        mutate(&mut bytes, &mut rng);
        match catch_unwind(AssertUnwindSafe(|| read(&bytes))) {
            Ok(Ok(())) => ok += 1,
            Ok(Err(message)) => {
                assert!(
                    message.len() <= MAX_MESSAGE,
                    "{format} case {case}: a message of {} bytes: {}...",
                    message.len(),
                    &message[..200]
                );
                err += 1;
            }
            Err(_) => panic!("{format} case {case} (seed {seed}): the reader panicked"),
        }
    }
    println!(
        "{format}: {} cases in {:.2} s, {ok} read, {err} refused",
        cases(),
        start.elapsed().as_secs_f64()
    );
    (ok, err)
}

fn idx(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    sizes.iter().for_each(|s| bytes.extend(s.to_be_bytes()));
    bytes.extend(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Valid images files (raw): a few small sets, one 28 x 28.
fn images_files() -> Vec<Vec<u8>> {
    vec![
        idx(0x803, &[3, 2, 2], &(0..12).collect::<Vec<u8>>()),
        idx(0x803, &[1, 28, 28], &[7; 784]),
        idx(0x803, &[0, 5, 5], &[]),
    ]
}

#[test]
fn idx_raw_and_gzip() {
    let labels_for = |count: usize| idx(0x801, &[count as u32], &vec![3; count]);
    // each images file with matching labels, mutated together (one or the other or both)
    let pairs: Vec<Vec<u8>> = images_files()
        .into_iter()
        .map(|images| {
            let count = u32::from_be_bytes(images[4..8].try_into().unwrap()) as usize;
            // one buffer: u32 length of the images, the images, the labels
            let mut pair = (images.len() as u32).to_be_bytes().to_vec();
            pair.extend(&images);
            pair.extend(labels_for(count));
            pair
        })
        .collect();
    let split = |bytes: &[u8]| -> (Vec<u8>, Vec<u8>) {
        // the images' length may itself be mutated: clamp it
        let n = bytes
            .get(..4)
            .map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap()) as usize);
        let rest = bytes.get(4..).unwrap_or_default();
        let n = n.min(rest.len());
        (rest[..n].to_vec(), rest[n..].to_vec())
    };
    // raw
    let (ok, err) = fuzz("IDX raw", 1, &pairs, |bytes| {
        let (images, labels) = split(bytes);
        Mnist::read(&images[..], &labels[..])
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    assert!(ok > 0 && err > cases() / 2, "{ok} {err}");
    // gzip'd after mutation (the reader sees valid gzip of mutated IDX)
    fuzz("IDX gzip'd after mutation", 2, &pairs, |bytes| {
        let (images, labels) = split(bytes);
        Mnist::read(&gzip(&images)[..], &gzip(&labels)[..])
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // mutated gzip streams (headers, deflate blocks, CRC and length trailers)
    let gz_pairs: Vec<Vec<u8>> = pairs
        .iter()
        .map(|pair| {
            let (images, labels) = split(pair);
            let (images, labels) = (gzip(&images), gzip(&labels));
            let mut gz = (images.len() as u32).to_be_bytes().to_vec();
            gz.extend(images);
            gz.extend(labels);
            gz
        })
        .collect();
    let (_, err) = fuzz("IDX gzip stream", 3, &gz_pairs, |bytes| {
        let (images, labels) = split(bytes);
        Mnist::read(&images[..], &labels[..])
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    assert!(err > cases() / 2, "{err}");
}

shapetorch::model! {
    /// A small model whose weights file is fuzzed.
    struct Net {
        conv: Conv1d<f32, 2, 3, 2>,
        fc: Linear<f32, 4, 2>,
    }
}

#[test]
fn safetensors() {
    let mut model = Net::new(0);
    let valid = vec![weights::to_bytes(&mut model).unwrap()];
    let before = weights::to_bytes(&mut model).unwrap();
    let (_, err) = fuzz("safetensors", 4, &valid, |bytes| {
        let mut target = Net::new(1);
        let untouched = weights::to_bytes(&mut target).unwrap();
        match weights::from_bytes(&mut target, bytes, "fuzzed") {
            Ok(()) => Ok(()),
            Err(e) => {
                // on any error the model is left as it was
                assert_eq!(weights::to_bytes(&mut target).unwrap(), untouched);
                Err(e.to_string())
            }
        }
    });
    assert!(err > cases() / 2, "{err}");
    assert_eq!(weights::to_bytes(&mut model).unwrap(), before);
}

#[test]
fn glove() {
    let valid = vec![
        b"the 0.418 0.24968 -0.41242\n, 0.013441 0.23682 -0.16899\nfilm -0.5 1e-3 2\n".to_vec(),
        b"a 1\nb -2.5\n".to_vec(),
    ];
    let (ok, err) = fuzz("GloVe", 5, &valid, |bytes| {
        match Glove::from_reader(bytes, "fuzzed.txt") {
            Ok(glove) => {
                // what is read is usable: finite values, a standard deviation
                assert!(glove.std().is_finite());
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    });
    assert!(ok > 0 && err > 0, "{ok} {err}");
}

#[test]
fn mr() {
    let valid = vec![
        b"label\tfold\tsentence\n1\t3\tGood.\n0\t9\tBad, bad\tfilm.\n".to_vec(),
        b"label\tfold\tsentence\n0\t0\ta\n".to_vec(),
    ];
    let (ok, err) = fuzz("MR", 6, &valid, |bytes| {
        match parse_mr(bytes, "fuzzed.tsv") {
            Ok(rows) => {
                assert!(rows.iter().all(|r| r.label < 2 && r.fold < 10));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    });
    assert!(ok > 0 && err > 0, "{ok} {err}");
}
