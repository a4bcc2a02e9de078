//! Running out of memory while reading a file is reported as that, never as a format error.
//!
//! A global allocator refuses every allocation above a cap while a test holds it (the way an
//! allocation fails when memory runs out: it returns null). Growing a buffer while reading
//! (`read_to_end`) then fails, which the standard library reports as
//! `ErrorKind::OutOfMemory`; the readers must pass that on as `Error::OutOfMemory`. The IDX
//! reader used to call it a corrupt gzip stream.
//!
//! One test per reader, run one at a time (the cap is global).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use shapetorch::data::mnist::Mnist;
use shapetorch::prelude::*;

/// The system allocator, refusing allocations larger than `CAP` bytes.
struct Capped;

static CAP: AtomicUsize = AtomicUsize::new(usize::MAX);

// SAFETY: every allocation is forwarded unchanged to `System` or refused with null, which
// `GlobalAlloc` allows ("returning a null pointer indicates that memory is exhausted").
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP.load(Ordering::Relaxed) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP.load(Ordering::Relaxed) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`; forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` with allocations above `cap` bytes refused.
fn with_cap<R>(cap: usize, f: impl FnOnce() -> R) -> R {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    CAP.store(cap, Ordering::Relaxed);
    let r = f();
    CAP.store(usize::MAX, Ordering::Relaxed);
    r
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// 64 MiB of images (zeros: 64 KiB gzip'd) that do not fit under a cap of 16 MiB.
#[test]
fn an_idx_file_too_large_for_memory_is_out_of_memory_not_a_gzip_error() {
    let count: u32 = 64 * 1024 * 1024 / 784 + 1;
    let mut images = Vec::new();
    for word in [0x803, count, 28, 28] {
        images.extend(u32::to_be_bytes(word));
    }
    images.resize(16 + count as usize * 784, 0);
    let gz = gzip(&images);
    let labels = [0u8, 0, 8, 1, 0, 0, 0, 0];
    assert!(gz.len() < 1 << 20, "{} bytes gzip'd", gz.len());
    let err = with_cap(16 << 20, || Mnist::read(&gz[..], &labels[..]).unwrap_err());
    assert_eq!(
        err,
        Error::OutOfMemory {
            file: "images".into()
        },
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "images: out of memory: its contents do not fit in the memory left"
    );
    // raw, from a reader of unknown length: the same
    let err = with_cap(16 << 20, || {
        Mnist::read(&images[..], &labels[..]).unwrap_err()
    });
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    // and both read fine without the cap (the labels say 0, so only the count differs)
    let err = Mnist::read(&gz[..], &labels[..]).unwrap_err();
    assert!(matches!(err, Error::CountMismatch { .. }), "{err}");
}

/// Weights larger than memory: out of memory, not "not a valid safetensors file".
#[test]
fn a_weights_file_too_large_for_memory_is_out_of_memory() {
    shapetorch::model! {
        struct Wide {
            fc: Linear<f32, 1024, 4096>,
        }
    }
    let dir = std::env::temp_dir().join(format!("shapetorch-oom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wide.safetensors");
    let mut model = Wide::new(0); // 16 MiB of weights
    model.save(&path).unwrap();
    let err = with_cap(4 << 20, || model.load(&path).unwrap_err());
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    model.load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
