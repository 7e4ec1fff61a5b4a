//! Tables: growable arrays of references.
//!
//! A funcref element is a `*const VMFuncRef` and an externref element is a
//! store-local token (index + 1 into the store's externref list); 0 is null
//! for both. Tables are filled eagerly at instantiation, so compiled code
//! never needs a lazy-initialisation check.

use super::VMTableDefinition;
use crate::abi::TableType;

/// Largest table the runtime will create, in elements.
pub(crate) const MAX_TABLE_ELEMS: u64 = 10_000_000;

/// One table.
pub(crate) struct Table {
    pub def: VMTableDefinition,
    pub elements: Vec<usize>,
    pub ty: TableType,
    /// The most elements its store lets it have
    /// (`Store::limit_table_elements`).
    limit: u64,
}

// SAFETY: `def.base` points into `elements`, owned by this table.
unsafe impl Send for Table {}

impl Table {
    /// Creates a table of `ty.limits.min` copies of `init`, which never
    /// grows past `limit` elements.
    pub(crate) fn new(ty: TableType, init: usize, limit: u64) -> Result<Table, String> {
        if ty.limits.min > MAX_TABLE_ELEMS {
            return Err(format!(
                "table minimum of {} elements is over the limit of {MAX_TABLE_ELEMS}",
                ty.limits.min
            ));
        }
        if ty.limits.min > limit {
            return Err(format!(
                "table minimum of {} elements is over the store's limit of {limit}",
                ty.limits.min
            ));
        }
        let mut table = Table {
            def: VMTableDefinition {
                base: std::ptr::null_mut(),
                length: 0,
            },
            elements: vec![init; ty.limits.min as usize],
            ty,
            limit,
        };
        table.sync();
        Ok(table)
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.length = self.elements.len() as u32;
    }

    /// Current size in elements.
    pub(crate) fn len(&self) -> u32 {
        self.elements.len() as u32
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or
    /// `None` past the maximum.
    pub(crate) fn grow(&mut self, delta: u32, init: usize) -> Option<u32> {
        let old = self.len();
        let new = u64::from(old) + u64::from(delta);
        let max = self
            .ty
            .limits
            .max
            .unwrap_or(u64::from(u32::MAX))
            .min(MAX_TABLE_ELEMS)
            .min(self.limit);
        if new > max {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    /// Reads element `index`.
    pub(crate) fn get(&self, index: u32) -> Option<usize> {
        self.elements.get(index as usize).copied()
    }

    /// Writes element `index`; `false` when out of bounds.
    pub(crate) fn set(&mut self, index: u32, value: usize) -> bool {
        match self.elements.get_mut(index as usize) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }
}
