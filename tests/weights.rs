//! Saving and loading weights (safetensors): a bit-exact round trip, and every bad file an
//! `Err` naming what is wrong, never a panic, with the model left as it was.

use std::panic::{catch_unwind, AssertUnwindSafe};

use shapetorch::nn::weights;
use shapetorch::prelude::*;
use shapetorch::tensor::Rng;

shapetorch::model! {
    /// The model the files come from.
    struct Net {
        fc1: Linear<f32, 6, 4>,
        fc2: Linear<f32, 4, 3>,
    }
}

shapetorch::model! {
    /// Same names, a different first layer: `fc1.weight` is [5, 6] here, [4, 6] in `Net`.
    struct Wider {
        fc1: Linear<f32, 6, 5>,
        fc2: Linear<f32, 5, 3>,
    }
}

shapetorch::model! {
    /// `Net` plus a layer the files do not have.
    struct Deeper {
        fc1: Linear<f32, 6, 4>,
        fc2: Linear<f32, 4, 3>,
        fc3: Linear<f32, 3, 2>,
    }
}

shapetorch::model! {
    /// `Net` without its second layer.
    struct Shallower {
        fc1: Linear<f32, 6, 4>,
    }
}

shapetorch::model! {
    /// `Net` in f64.
    struct Net64 {
        fc1: Linear<f64, 6, 4>,
        fc2: Linear<f64, 4, 3>,
    }
}

/// Every parameter's bits, in visiting order.
fn bits(model: &mut Net) -> Vec<u32> {
    let mut out = Vec::new();
    model.for_each_parameter(|_, p| out.extend(p.values().iter().map(|v: &f32| v.to_bits())));
    out
}

#[test]
fn save_then_load_round_trips_bit_exactly() {
    let dir = std::env::temp_dir().join(format!("shapetorch-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    let mut saved = Net::new(1);
    // include values whose bits matter: a negative zero, a subnormal, the extremes
    saved
        .fc2
        .bias
        .data_mut()
        .copy_from_slice(&[-0.0, f32::MIN_POSITIVE / 3.0, f32::MAX]);
    saved.save(&path).unwrap();
    let mut loaded = Net::new(2);
    assert_ne!(bits(&mut loaded), bits(&mut saved));
    loaded.load(&path).unwrap();
    assert_eq!(bits(&mut loaded), bits(&mut saved));
    // a traced model keeps its ids and its tape through a load
    let tape = Tape::new();
    loaded.trace(&tape);
    let id = loaded.fc1.weight.id();
    loaded.load(&path).unwrap();
    assert_eq!(loaded.fc1.weight.id(), id);
    assert!(loaded.fc1.weight.is_traced());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_model_saved_as_one_type_and_loaded_as_another_is_a_run_time_error() {
    let bytes = weights::to_bytes(&mut Net::new(1)).unwrap();
    let mut wider = Wider::new(2);
    let before = weights::to_bytes(&mut wider).unwrap();
    let err = weights::from_bytes(&mut wider, &bytes, "net.safetensors").unwrap_err();
    assert_eq!(
        err.to_string(),
        "net.safetensors: tensor `fc1.weight` has shape [4, 6], the model's has [5, 6]"
    );
    assert_eq!(
        weights::to_bytes(&mut wider).unwrap(),
        before,
        "the model is unchanged"
    );

    let err = weights::from_bytes(&mut Net64::new(0), &bytes, "net.safetensors").unwrap_err();
    assert_eq!(
        err.to_string(),
        "net.safetensors: tensor `fc1.weight` holds F32 values, the model holds F64"
    );
}

#[test]
fn missing_and_extra_tensors_are_errors() {
    let bytes = weights::to_bytes(&mut Net::new(1)).unwrap();
    let err = weights::from_bytes(&mut Deeper::new(0), &bytes, "f").unwrap_err();
    assert_eq!(
        err.to_string(),
        "f: no tensor `fc3.weight`, which the model needs"
    );
    let err = weights::from_bytes(&mut Shallower::new(0), &bytes, "f").unwrap_err();
    assert_eq!(
        err.to_string(),
        "f: tensor `fc2.bias` is not a parameter of the model"
    );
}

#[test]
fn truncated_corrupt_and_missing_files_are_errors() {
    let bytes = weights::to_bytes(&mut Net::new(1)).unwrap();
    let mut net = Net::new(3);
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        let err = weights::from_bytes(&mut net, &bytes[..cut], "cut").unwrap_err();
        assert!(
            matches!(err, Error::WeightsFormat { .. }),
            "cut at {cut}: {err}"
        );
    }
    let mut garbage = bytes.clone();
    garbage[8..16].copy_from_slice(b"not json");
    let err = weights::from_bytes(&mut net, &garbage, "garbage").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("garbage: not a valid safetensors file"),
        "{err}"
    );
    let err = net.load("/nonexistent/net.safetensors").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn random_mutations_of_a_good_file_load_correctly_or_give_an_error() {
    let good = weights::to_bytes(&mut Net::new(1)).unwrap();
    // The tensors' bytes start after the 8-byte header length and the JSON header.
    let data_start = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut rng = Rng::new(2024);
    let (mut errors, mut loads) = (0, 0);
    for trial in 0..3000 {
        let mut bytes = good.clone();
        match trial % 4 {
            // change 1-4 bytes of the tensors' data
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let i = data_start + rng.below(bytes.len() - data_start);
                    bytes[i] = rng.next_u64() as u8;
                }
            }
            // change 1-4 random bytes anywhere
            1 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next_u64() as u8;
                }
            }
            // flip a byte of the header (its length field or its JSON)
            2 => {
                let i = rng.below(8 + 64.min(bytes.len() - 8));
                bytes[i] ^= 1 << rng.below(8);
            }
            // truncate or extend
            _ => {
                let n = rng.below(bytes.len());
                bytes.truncate(n);
                bytes.extend((0..rng.below(16)).map(|_| rng.next_u64() as u8));
            }
        }
        let mut net = Net::new(9);
        let before = bits(&mut net);
        let result = catch_unwind(AssertUnwindSafe(|| {
            weights::from_bytes(&mut net, &bytes, "mutated")
        }))
        .unwrap_or_else(|_| panic!("trial {trial}: loading panicked"));
        match result {
            Err(_) => {
                errors += 1;
                assert_eq!(
                    bits(&mut net),
                    before,
                    "trial {trial}: a failed load changed the model"
                );
            }
            Ok(()) => {
                loads += 1;
                // A load that succeeds holds exactly what the mutated file says.
                let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
                net.for_each_parameter(|name, p| {
                    let file: Vec<u32> = st
                        .tensor(name)
                        .unwrap()
                        .data()
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                    let model: Vec<u32> = p.values().iter().map(|v: &f32| v.to_bits()).collect();
                    assert_eq!(file, model, "trial {trial}: {name}");
                });
            }
        }
    }
    // Both outcomes occur: changed data loads, a changed header mostly fails.
    assert!(
        errors > 500 && loads > 500,
        "{errors} errors, {loads} loads"
    );
}

/// Files are checked before they are read: a file longer than any safetensors file of the
/// model's weights (here a sparse file of 200 MB: no disk, but reading it took 200 MB of
/// memory) is refused from its length, and devices and FIFOs from their metadata (`/dev/zero`
/// grew the process to gigabytes; a FIFO blocked in `open`).
#[test]
fn oversized_files_devices_and_fifos_are_refused_before_they_are_read() {
    let dir = std::env::temp_dir().join(format!("shapetorch-weights-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.safetensors");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(200_000_000)
        .unwrap();
    let mut net = Net::new(1);
    let before = bits(&mut net);
    let err = net.load(&path).unwrap_err();
    // Net's values: (6*4 + 4 + 4*3 + 3) f32s = 172 bytes
    assert_eq!(
        err.to_string(),
        format!(
            "{}: not a valid safetensors file: the file has 200000000 bytes, more than a \
             safetensors file of this model's weights can have (172 bytes of values, 8 bytes \
             and a header of at most 100000000: 100000180)",
            path.display()
        )
    );
    assert_eq!(bits(&mut net), before);
    #[cfg(unix)]
    {
        let err = net.load("/dev/zero").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: cannot read: not a regular file but a character device"
        );
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = net.load(&fifo).unwrap_err();
            assert!(err.to_string().ends_with("a FIFO (named pipe)"), "{err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
