//! The host's resource table: the state behind every WASI resource a guest
//! holds.
//!
//! The runtime keeps each component instance's handle table and checks the
//! handles a guest passes (type, liveness, borrows); a handle maps to a
//! representation chosen by the host, which here is the index of an entry
//! in this table. The entries are typed, so a representation can only be
//! read back as the Rust type it was created with.

use cmc_runtime::Error;
use std::any::Any;

/// The most entries a table holds: a guest that creates resources without
/// dropping them gets an error instead of exhausting the host's memory.
const MAX_ENTRIES: usize = 1 << 20;

/// The representation of a host resource: its entry in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rep(pub u32);

/// Typed entries indexed by [`Rep`].
#[derive(Default)]
pub struct ResourceTable {
    entries: Vec<Option<Box<dyn Any + Send>>>,
    free: Vec<u32>,
}

impl ResourceTable {
    /// Adds `value`, returning its representation.
    pub fn push<R: Any + Send>(&mut self, value: R) -> Result<Rep, Error> {
        let value = Some(Box::new(value) as Box<dyn Any + Send>);
        if let Some(index) = self.free.pop() {
            self.entries[index as usize] = value;
            return Ok(Rep(index));
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(Error::host(format!(
                "the WASI resource table is full ({MAX_ENTRIES} live resources)"
            )));
        }
        self.entries.push(value);
        Ok(Rep((self.entries.len() - 1) as u32))
    }

    /// The entry `rep`, which must be an `R`.
    pub fn get<R: Any>(&self, rep: Rep) -> Result<&R, Error> {
        self.entries
            .get(rep.0 as usize)
            .and_then(Option::as_ref)
            .and_then(|e| e.downcast_ref())
            .ok_or_else(|| missing::<R>(rep))
    }

    /// The entry `rep`, mutably.
    pub fn get_mut<R: Any>(&mut self, rep: Rep) -> Result<&mut R, Error> {
        self.entries
            .get_mut(rep.0 as usize)
            .and_then(Option::as_mut)
            .and_then(|e| e.downcast_mut())
            .ok_or_else(|| missing::<R>(rep))
    }

    /// Removes entry `rep` and returns it.
    pub fn delete<R: Any>(&mut self, rep: Rep) -> Result<R, Error> {
        let slot = self
            .entries
            .get_mut(rep.0 as usize)
            .filter(|e| e.as_ref().is_some_and(|e| e.is::<R>()))
            .ok_or_else(|| missing::<R>(rep))?;
        let entry = slot.take().expect("checked above");
        self.free.push(rep.0);
        Ok(*entry.downcast().expect("checked above"))
    }
}

/// The runtime checks every handle a guest passes, so a representation
/// that is not in the table is a bug of the host, reported as an error.
fn missing<R>(rep: Rep) -> Error {
    Error::host(format!(
        "WASI resource {} is not a live `{}`",
        rep.0,
        std::any::type_name::<R>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_typed_and_reused() {
        let mut t = ResourceTable::default();
        let a = t.push(1u32).unwrap();
        let b = t.push("two").unwrap();
        assert_eq!(*t.get::<u32>(a).unwrap(), 1);
        assert!(t.get::<u64>(a).is_err());
        assert!(t.delete::<u32>(b).is_err());
        assert_eq!(t.delete::<&str>(b).unwrap(), "two");
        assert!(t.get::<&str>(b).is_err());
        assert_eq!(t.push(3u8).unwrap(), b);
    }
}
