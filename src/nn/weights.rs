//! Saving and loading a model's weights as safetensors, the format PyTorch users share weights
//! in: one tensor per parameter and per buffer, named as [`Module::visit`] names it
//! (`conv1.weight`), as PyTorch's `state_dict()` names them. An integer buffer (a batch norm's
//! `num_batches_tracked`) is a 0-dim `I64` tensor, as PyTorch stores it.
//!
//! Loading checks everything before it changes anything: every parameter and buffer must be in
//! the file with the model's element type and shape, and the file must hold nothing else; a
//! truncated or corrupt file is an [`Error`], never a panic. On any error the model is left
//! untouched.
//!
//! Memory is bounded before the file is read: only a regular file is read (a FIFO or a device
//! such as `/dev/zero` is refused from its metadata: one blocked, the other grew the process
//! to gigabytes), and its length must not exceed what a safetensors file of the model's
//! weights can have: 8 bytes, a header of at most [`MAX_HEADER_BYTES`], and the values
//! (8 bytes for each integer buffer).
//! Running out of memory while reading is [`Error::OutOfMemory`], not a format error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, View};

use super::{Module, ModuleExt};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::files::{open_regular, read_error, read_expected};

/// One tensor's bytes, as safetensors serialises it. Checkpoints (`crate::optim::checkpoint`)
/// write theirs through it too.
pub(crate) struct Entry {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl Entry {
    /// The tensor of `shape` holding `values`, little-endian as safetensors stores them.
    pub(crate) fn of<E: Element>(shape: Vec<usize>, values: &[E]) -> Self {
        let mut bytes = Vec::with_capacity(values.len() * E::BYTES);
        for &v in values {
            v.write_le(&mut bytes);
        }
        Entry {
            dtype: E::DTYPE,
            shape,
            bytes,
        }
    }
}

impl Entry {
    /// A 0-dim `I64` tensor holding `value` (an integer buffer, as PyTorch stores one).
    fn int64(value: u64) -> Self {
        Entry {
            dtype: Dtype::I64,
            shape: Vec::new(),
            bytes: i64::try_from(value)
                .unwrap_or(i64::MAX)
                .to_le_bytes()
                .to_vec(),
        }
    }
}

impl View for &Entry {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Adds the model's tensors (parameters, buffers and integer buffers) to `entries`, each
/// named `prefix` + its name.
pub(crate) fn add_entries<E: Element, M: Module<E> + ?Sized>(
    model: &mut M,
    prefix: &str,
    entries: &mut BTreeMap<String, Entry>,
) {
    model.for_each_state_tensor(|name, p| {
        entries.insert(format!("{prefix}{name}"), Entry::of(p.dims(), p.values()));
    });
    model.for_each_int_buffer(|name, &mut value| {
        entries.insert(format!("{prefix}{name}"), Entry::int64(value));
    });
}

/// Why the tensor `key` of `tensors` cannot be loaded into an integer buffer: missing, not a
/// 0-dim `I64`, or negative (a count). `None` when it can.
fn int_buffer_problem(tensors: &SafeTensors<'_>, key: &str, file: &str) -> Option<Error> {
    let view = match tensors.tensor(key) {
        Err(_) => {
            return Some(Error::MissingWeight {
                file: file.into(),
                tensor: key.into(),
            })
        }
        Ok(view) => view,
    };
    if view.dtype() != Dtype::I64 {
        return Some(Error::WeightDtype {
            file: file.into(),
            tensor: key.into(),
            expected: format!("{:?}", Dtype::I64),
            found: format!("{:?}", view.dtype()),
        });
    }
    if !view.shape().is_empty() {
        return Some(Error::WeightShape {
            file: file.into(),
            tensor: key.into(),
            expected: Vec::new(),
            found: view.shape().to_vec(),
        });
    }
    match <[u8; 8]>::try_from(view.data()) {
        Ok(bytes) if i64::from_le_bytes(bytes) >= 0 => None,
        Ok(bytes) => Some(Error::WeightsFormat {
            file: file.into(),
            message: format!(
                "tensor `{key}` is a count but holds {}",
                i64::from_le_bytes(bytes)
            ),
        }),
        Err(_) => Some(Error::WeightsFormat {
            file: file.into(),
            message: format!("tensor `{key}` has {} bytes", view.data().len()),
        }),
    }
}

/// Checks, without changing anything, that `tensors` holds every tensor of the model under
/// `prefix` + its name, with the model's element type and shape (a 0-dim `I64` holding a
/// count for an integer buffer), and no other tensor whose name starts with `prefix`. Errors
/// name `file`.
pub(crate) fn check<E: Element, M: Module<E> + ?Sized>(
    model: &mut M,
    tensors: &SafeTensors<'_>,
    prefix: &str,
    file: &str,
) -> Result<()> {
    let mut problem = None;
    let mut wanted = BTreeSet::new();
    model.for_each_state_tensor(|name, p| {
        let key = format!("{prefix}{name}");
        if problem.is_none() {
            problem = match tensors.tensor(&key) {
                Err(_) => Some(Error::MissingWeight {
                    file: file.into(),
                    tensor: key.clone(),
                }),
                Ok(view) if view.dtype() != E::DTYPE => Some(Error::WeightDtype {
                    file: file.into(),
                    tensor: key.clone(),
                    expected: format!("{:?}", E::DTYPE),
                    found: format!("{:?}", view.dtype()),
                }),
                Ok(view) if view.shape() != p.dims() => Some(Error::WeightShape {
                    file: file.into(),
                    tensor: key.clone(),
                    expected: p.dims(),
                    found: view.shape().to_vec(),
                }),
                Ok(view) if view.data().len() != p.values().len() * E::BYTES => {
                    Some(Error::WeightsFormat {
                        file: file.into(),
                        message: format!("tensor `{key}` has {} bytes", view.data().len()),
                    })
                }
                Ok(_) => None,
            };
        }
        wanted.insert(key);
    });
    model.for_each_int_buffer(|name, _| {
        let key = format!("{prefix}{name}");
        if problem.is_none() {
            problem = int_buffer_problem(tensors, &key, file);
        }
        wanted.insert(key);
    });
    if let Some(e) = problem {
        return Err(e);
    }
    // The first extra tensor in name order (the file's own order is a hash map's).
    let mut names = tensors.names();
    names.sort_unstable();
    if let Some(extra) = names
        .into_iter()
        .find(|n| n.starts_with(prefix) && !wanted.contains(*n))
    {
        return Err(Error::UnexpectedWeight {
            file: file.into(),
            tensor: extra.to_string(),
        });
    }
    Ok(())
}

/// Copies the model's tensors from `tensors` in place; [`check`] must have passed.
pub(crate) fn copy<E: Element, M: Module<E> + ?Sized>(
    model: &mut M,
    tensors: &SafeTensors<'_>,
    prefix: &str,
) {
    model.for_each_state_tensor(|name, p| {
        let view = tensors
            .tensor(&format!("{prefix}{name}"))
            .expect("checked before");
        for (v, chunk) in p
            .values_mut()
            .iter_mut()
            .zip(view.data().chunks_exact(E::BYTES))
        {
            *v = E::from_le_slice(chunk);
        }
    });
    model.for_each_int_buffer(|name, value| {
        let view = tensors
            .tensor(&format!("{prefix}{name}"))
            .expect("checked before");
        let bytes = <[u8; 8]>::try_from(view.data()).expect("checked before");
        *value = u64::try_from(i64::from_le_bytes(bytes)).expect("checked before");
    });
}

/// The model's weights as the bytes of a safetensors file.
pub fn to_bytes<E: Element, M: Module<E> + ?Sized>(model: &mut M) -> Result<Vec<u8>> {
    let mut entries = BTreeMap::new();
    add_entries(model, "", &mut entries);
    safetensors::serialize(entries.iter(), None).map_err(|e| Error::WeightsFormat {
        file: "<bytes>".into(),
        message: e.to_string(),
    })
}

/// Loads weights from the bytes of a safetensors file (`file` names it in errors); see the
/// module docs for what is checked.
pub fn from_bytes<E: Element, M: Module<E> + ?Sized>(
    model: &mut M,
    bytes: &[u8],
    file: &str,
) -> Result<()> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| Error::WeightsFormat {
        file: file.into(),
        message: e.to_string(),
    })?;
    check(model, &tensors, "", file)?;
    copy(model, &tensors, "");
    Ok(())
}

/// Saves the model's weights to `path` (safetensors).
pub fn save<E: Element, M: Module<E> + ?Sized>(model: &mut M, path: &Path) -> Result<()> {
    let bytes = to_bytes(model)?;
    std::fs::write(path, bytes).map_err(|e| Error::Io {
        file: path.display().to_string(),
        message: format!("cannot write: {e}"),
    })
}

/// The largest header the safetensors reader accepts (its `MAX_HEADER_SIZE`, 100 MB): a file
/// longer than 8 bytes, this and the model's values cannot be the model's weights.
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Loads the model's weights from `path` (safetensors); see the module docs for what is
/// checked, before the file is read and after.
pub fn load<E: Element, M: Module<E> + ?Sized>(model: &mut M, path: &Path) -> Result<()> {
    let file = path.display().to_string();
    let (opened, len) = open_regular(path, &file)?;
    let mut values = 0u64;
    model.for_each_state_tensor(|_, p| values += (p.values().len() * E::BYTES) as u64);
    // an integer buffer is a 0-dim I64 tensor: 8 bytes of values
    model.for_each_int_buffer(|_, _| values += 8);
    let max = 8 + MAX_HEADER_BYTES + values;
    let too_long = |len: u64| Error::WeightsFormat {
        file: file.clone(),
        message: format!(
            "the file has {len} bytes, more than a safetensors file of this model's weights can \
             have ({values} bytes of values, 8 bytes and a header of at most {MAX_HEADER_BYTES}: \
             {max})"
        ),
    };
    if len > max {
        return Err(too_long(len));
    }
    // at most `max` bytes, should the file grow while it is read
    let (bytes, more) = read_expected(opened, len, max).map_err(|e| read_error(&file, e))?;
    if more {
        return Err(too_long(max + 1));
    }
    from_bytes(model, &bytes, &file)
}
