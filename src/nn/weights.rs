//! Saving and loading a model's weights as safetensors, the format PyTorch users share weights
//! in: one tensor per parameter, named as [`Module::visit`] names it (`conv1.weight`).
//!
//! Loading checks everything before it changes anything: every parameter must be in the file
//! with the model's element type and shape, and the file must hold nothing else; a truncated
//! or corrupt file is an [`Error`], never a panic. On any error the model is left untouched.
//!
//! Memory is bounded before the file is read: only a regular file is read (a FIFO or a device
//! such as `/dev/zero` is refused from its metadata: one blocked, the other grew the process
//! to gigabytes), and its length must not exceed what a safetensors file of the model's
//! weights can have: 8 bytes, a header of at most [`MAX_HEADER_BYTES`], and the values.
//! Running out of memory while reading is [`Error::OutOfMemory`], not a format error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, View};

use super::{Module, ModuleExt};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::files::{open_regular, read_error, read_expected};

/// One parameter's bytes, as safetensors serialises it.
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
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

/// The model's weights as the bytes of a safetensors file.
pub fn to_bytes<E: Element, M: Module<E> + ?Sized>(model: &mut M) -> Result<Vec<u8>> {
    let mut entries = BTreeMap::new();
    model.for_each_parameter(|name, p| {
        let mut bytes = Vec::with_capacity(p.values().len() * E::BYTES);
        for &v in p.values() {
            v.write_le(&mut bytes);
        }
        entries.insert(
            name.to_string(),
            Entry {
                dtype: E::DTYPE,
                shape: p.dims(),
                bytes,
            },
        );
    });
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
    // First pass: check every parameter against the file, change nothing.
    let mut problem = None;
    let mut wanted = BTreeSet::new();
    model.for_each_parameter(|name, p| {
        wanted.insert(name.to_string());
        if problem.is_some() {
            return;
        }
        problem = match tensors.tensor(name) {
            Err(_) => Some(Error::MissingWeight {
                file: file.into(),
                tensor: name.into(),
            }),
            Ok(view) if view.dtype() != E::DTYPE => Some(Error::WeightDtype {
                file: file.into(),
                tensor: name.into(),
                expected: format!("{:?}", E::DTYPE),
                found: format!("{:?}", view.dtype()),
            }),
            Ok(view) if view.shape() != p.dims() => Some(Error::WeightShape {
                file: file.into(),
                tensor: name.into(),
                expected: p.dims(),
                found: view.shape().to_vec(),
            }),
            Ok(view) if view.data().len() != p.values().len() * E::BYTES => {
                Some(Error::WeightsFormat {
                    file: file.into(),
                    message: format!("tensor `{name}` has {} bytes", view.data().len()),
                })
            }
            Ok(_) => None,
        };
    });
    if let Some(e) = problem {
        return Err(e);
    }
    // The first extra tensor in name order (the file's own order is a hash map's).
    let mut names = tensors.names();
    names.sort_unstable();
    if let Some(extra) = names.into_iter().find(|n| !wanted.contains(*n)) {
        return Err(Error::UnexpectedWeight {
            file: file.into(),
            tensor: extra.to_string(),
        });
    }
    // Second pass: every check held; copy the values in place.
    model.for_each_parameter(|name, p| {
        let view = tensors.tensor(name).expect("checked above");
        for (v, chunk) in p
            .values_mut()
            .iter_mut()
            .zip(view.data().chunks_exact(E::BYTES))
        {
            *v = E::from_le_slice(chunk);
        }
    });
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
    model.for_each_parameter(|_, p| values += (p.values().len() * E::BYTES) as u64);
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
