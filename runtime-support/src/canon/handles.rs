//! Per-instance handle tables: "Table State" and "Resource State" of
//! `CanonicalABI.md` (`Table`, `ResourceHandle`), the handle side of
//! `lift_own`, `lift_borrow`, `lower_own` and `lower_borrow`, the built-ins
//! `resource.new`, `resource.rep` and `resource.drop`, and the borrow
//! accounting of calls (`Task.num_borrows`, `Subtask.add_lender` /
//! `deliver_resolve`).
//!
//! A handle is the index a component instance uses for a resource. Index 0 is
//! never valid; freed indices are reused last-freed-first, exactly as the
//! spec's free list does, because wasm can observe the numbers. An owning
//! handle may be lent to calls as a borrow; while lent it can be neither
//! dropped nor moved out. A borrow handle given to a callee belongs to the
//! callee's call (its borrow scope) and must be dropped before that call
//! returns.

use super::error::{CanonError, ResourceDefiner};
use super::types::ResourceTypeId;
pub use super::waitables::{Subtask, SubtaskState, WaitableSet};

/// A slot vector with a free list: the spec's `Table`, indices from 1.
#[derive(Clone, Debug)]
pub struct Table<T> {
    /// Entry of index `i` is `slots[i - 1]`.
    slots: Vec<Option<T>>,
    /// Freed indices, reused from the end.
    free: Vec<u32>,
    /// Largest index handed out.
    max_length: u32,
    /// Live entries.
    live: usize,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table::new()
    }
}

impl<T> Table<T> {
    /// The largest index the spec allows (`Table.MAX_LENGTH`): `2^28 - 1`.
    pub const MAX_LENGTH: u32 = (1 << 28) - 1;

    /// An empty table.
    pub fn new() -> Self {
        Table::with_max_length(Self::MAX_LENGTH)
    }

    /// An empty table that hands out indices up to `max_length` only (at
    /// most [`Table::MAX_LENGTH`]), for embedders that cap handle counts.
    pub fn with_max_length(max_length: u32) -> Self {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
            max_length: max_length.min(Self::MAX_LENGTH),
            live: 0,
        }
    }

    /// The entry at `index` (`Table.get`).
    pub fn get(&self, index: u32) -> Result<&T, CanonError> {
        let slot = (index as usize)
            .checked_sub(1)
            .and_then(|i| self.slots.get(i));
        slot.and_then(Option::as_ref)
            .ok_or(CanonError::UnknownHandle(index))
    }

    /// The entry at `index`, writable.
    pub fn get_mut(&mut self, index: u32) -> Result<&mut T, CanonError> {
        let slot = (index as usize)
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i));
        slot.and_then(Option::as_mut)
            .ok_or(CanonError::UnknownHandle(index))
    }

    /// Stores `entry` at the most recently freed index, or at a new one
    /// (`Table.add`).
    pub fn add(&mut self, entry: T) -> Result<u32, CanonError> {
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize - 1] = Some(entry);
                index
            }
            None => {
                let index = self.slots.len() as u64 + 1;
                if index > u64::from(self.max_length) {
                    return Err(CanonError::TableFull {
                        max: self.max_length,
                    });
                }
                self.slots.push(Some(entry));
                index as u32
            }
        };
        self.live += 1;
        Ok(index)
    }

    /// Takes the entry at `index` out and frees the index (`Table.remove`).
    pub fn remove(&mut self, index: u32) -> Result<T, CanonError> {
        let slot = (index as usize)
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i));
        let entry = slot
            .and_then(Option::take)
            .ok_or(CanonError::UnknownHandle(index))?;
        self.free.push(index);
        self.live -= 1;
        Ok(entry)
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live entries with their indices, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i as u32 + 1, e)))
    }
}

/// Identifies an active call that can receive borrow handles (the spec's
/// `borrow_scope`, a `Task`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScopeId(pub u32);

/// A resource handle (`ResourceHandle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceHandle {
    /// Type of the resource.
    pub ty: ResourceTypeId,
    /// The representation the implementing instance chose.
    pub rep: u32,
    /// Owning handle (else a borrow).
    pub own: bool,
    /// For a borrow: the call it was lent to, which must drop it.
    pub borrow_scope: Option<ScopeId>,
    /// How many calls this handle is currently lent to.
    pub num_lends: u32,
}

/// What [`HandleTable::drop`] removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// An owning handle: the caller runs the resource's destructor, if any,
    /// on `rep`.
    Own {
        /// The representation.
        rep: u32,
    },
    /// A borrow: the lend ended; nothing else to do.
    Borrow {
        /// The representation.
        rep: u32,
    },
}

/// The handles one outgoing call lent (the spec's `Subtask.lenders`); give it
/// back to [`HandleTable::end_lends`] when the call returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "lends must be ended with HandleTable::end_lends when the call returns"]
pub struct Lends {
    indices: Vec<u32>,
}

impl Lends {
    /// No lends yet.
    pub fn new() -> Self {
        Lends::default()
    }

    /// Number of lends recorded.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether nothing was lent.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// What one index of a component instance's handle table holds: the spec
/// keeps resources and the waitables of the asynchronous model in one
/// index space per instance, which wasm observes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A resource handle.
    Resource(ResourceHandle),
    /// A waitable set (`waitable-set.new`).
    WaitableSet(WaitableSet),
    /// A call this instance made with an async lower that had not returned
    /// when the lower did.
    Subtask(Subtask),
    /// An end of a stream or future.
    CopyEnd(super::copies::CopyEnd),
    /// An error context: its index in the store.
    ErrorContext(u32),
}

/// The error of an entry at `index` that is not the `expected` kind.
pub(super) fn wrong_kind(index: u32, expected: &'static str) -> CanonError {
    CanonError::WrongHandleKind { index, expected }
}

/// The resource handles and waitables of one component instance, with the
/// borrow scopes of its active calls.
#[derive(Clone, Debug, Default)]
pub struct HandleTable {
    pub(super) handles: Table<Entry>,
    /// `num_borrows` of each active call.
    scopes: Table<u32>,
    /// Resource types the host defines (for error wording only).
    host_defined: Vec<ResourceTypeId>,
}

impl HandleTable {
    /// An empty table.
    pub fn new() -> Self {
        HandleTable::default()
    }

    /// An empty table with at most `max_length` live handles at a time.
    pub fn with_max_length(max_length: u32) -> Self {
        HandleTable {
            handles: Table::with_max_length(max_length),
            ..HandleTable::default()
        }
    }

    /// Records that the host defines `ty`, so that errors call it
    /// host-defined; every other type is guest-defined.
    pub fn set_host_defined(&mut self, ty: ResourceTypeId) {
        if !self.host_defined.contains(&ty) {
            self.host_defined.push(ty);
        }
    }

    /// Who defines `ty`.
    pub fn definer(&self, ty: ResourceTypeId) -> ResourceDefiner {
        if self.host_defined.contains(&ty) {
            ResourceDefiner::Host
        } else {
            ResourceDefiner::Guest
        }
    }

    /// The resource handle at `index`.
    pub fn get(&self, index: u32) -> Result<&ResourceHandle, CanonError> {
        match self.handles.get(index)? {
            Entry::Resource(h) => Ok(h),
            _ => Err(wrong_kind(index, "resource")),
        }
    }

    /// The resource handle at `index`, writable.
    fn get_mut(&mut self, index: u32) -> Result<&mut ResourceHandle, CanonError> {
        self.entry_as(index, "resource", |e| match e {
            Entry::Resource(h) => Some(h),
            _ => None,
        })
    }

    /// The entry at `index` as the kind `pick` takes out of it, named
    /// `expected` in the error when it is another kind.
    pub fn entry_as<T>(
        &mut self,
        index: u32,
        expected: &'static str,
        pick: impl FnOnce(&mut Entry) -> Option<&mut T>,
    ) -> Result<&mut T, CanonError> {
        pick(self.handles.get_mut(index)?).ok_or(wrong_kind(index, expected))
    }

    /// Number of live resource handles.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no live resource handles.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Live resource handles with their indices.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &ResourceHandle)> {
        self.handles.iter().filter_map(|(i, e)| match e {
            Entry::Resource(h) => Some((i, h)),
            _ => None,
        })
    }

    /// Every entry at `index`, of any kind.
    pub fn entry(&self, index: u32) -> Result<&Entry, CanonError> {
        self.handles.get(index)
    }

    /// Every entry at `index`, of any kind, writable.
    pub fn entry_mut(&mut self, index: u32) -> Result<&mut Entry, CanonError> {
        self.handles.get_mut(index)
    }

    /// Adds `entry` at the next free index.
    pub fn add(&mut self, entry: Entry) -> Result<u32, CanonError> {
        self.handles.add(entry)
    }

    /// Removes the entry at `index` when `keep` does not refuse it (its
    /// error is returned and the entry stays).
    pub fn remove_if(
        &mut self,
        index: u32,
        keep: impl FnOnce(&Entry) -> Result<(), CanonError>,
    ) -> Result<Entry, CanonError> {
        keep(self.handles.get(index)?)?;
        self.handles.remove(index)
    }

    /// The handle at `index`, which must have type `ty`.
    fn typed(&self, index: u32, ty: ResourceTypeId) -> Result<&ResourceHandle, CanonError> {
        let h = self.get(index)?;
        if h.ty != ty {
            return Err(CanonError::WrongHandleType {
                index,
                expected: self.definer(ty),
                found: self.definer(h.ty),
            });
        }
        Ok(h)
    }

    /// A new owning handle for `rep` (`resource.new`, and `lower_own`).
    pub fn new_own(&mut self, ty: ResourceTypeId, rep: u32) -> Result<u32, CanonError> {
        self.handles.add(Entry::Resource(ResourceHandle {
            ty,
            rep,
            own: true,
            borrow_scope: None,
            num_lends: 0,
        }))
    }

    /// A new borrow handle for `rep`, lent to the call `scope`, which must
    /// drop it before it returns (`lower_borrow` when the instance does not
    /// implement `ty`; when it does, the caller passes `rep` itself instead).
    pub fn new_borrow(
        &mut self,
        ty: ResourceTypeId,
        rep: u32,
        scope: ScopeId,
    ) -> Result<u32, CanonError> {
        let index = self.handles.add(Entry::Resource(ResourceHandle {
            ty,
            rep,
            own: false,
            borrow_scope: Some(scope),
            num_lends: 0,
        }))?;
        match self.scopes.get_mut(scope.0) {
            Ok(num_borrows) => {
                *num_borrows += 1;
                Ok(index)
            }
            Err(_) => {
                // Undo the insertion: the handle would belong to no call.
                let _ = self.handles.remove(index);
                Err(CanonError::UnknownScope(scope.0))
            }
        }
    }

    /// The representation behind `index` (`resource.rep`).
    pub fn rep(&self, index: u32, ty: ResourceTypeId) -> Result<u32, CanonError> {
        Ok(self.typed(index, ty)?.rep)
    }

    /// Drops the handle at `index` (`resource.drop`). Fails while it is lent.
    /// Dropping a borrow ends it for its call.
    pub fn drop(&mut self, index: u32, ty: ResourceTypeId) -> Result<Dropped, CanonError> {
        let h = self.typed(index, ty)?;
        if h.num_lends != 0 {
            return Err(CanonError::ResourceLent {
                index,
                lends: h.num_lends,
            });
        }
        let Entry::Resource(h) = self.handles.remove(index)? else {
            unreachable!("`typed` found a resource at {index}")
        };
        if h.own {
            return Ok(Dropped::Own { rep: h.rep });
        }
        if let Some(scope) = h.borrow_scope
            && let Ok(num_borrows) = self.scopes.get_mut(scope.0)
        {
            *num_borrows = num_borrows.saturating_sub(1);
        }
        Ok(Dropped::Borrow { rep: h.rep })
    }

    /// Moves an owning handle out of the table (`lift_own`): it must have
    /// type `ty`, be owned, and not be lent.
    pub fn take_own(&mut self, index: u32, ty: ResourceTypeId) -> Result<u32, CanonError> {
        let h = self.typed(index, ty)?;
        if h.num_lends != 0 {
            return Err(CanonError::ResourceLent {
                index,
                lends: h.num_lends,
            });
        }
        if !h.own {
            return Err(CanonError::NotOwned(index));
        }
        Ok(self.take_own_unchecked(index))
    }

    /// Removes the resource handle at `index`, which the caller checked.
    fn take_own_unchecked(&mut self, index: u32) -> u32 {
        match self.handles.remove(index) {
            Ok(Entry::Resource(h)) => h.rep,
            _ => unreachable!("checked: a resource handle is at {index}"),
        }
    }

    /// Lends the handle at `index` to an outgoing call (`lift_borrow`):
    /// records the lend in `lends` and returns the representation.
    pub fn lend(
        &mut self,
        index: u32,
        ty: ResourceTypeId,
        lends: &mut Lends,
    ) -> Result<u32, CanonError> {
        self.typed(index, ty)?;
        let h = self.get_mut(index)?;
        h.num_lends += 1;
        lends.indices.push(index);
        Ok(h.rep)
    }

    /// Ends the lends of a call that returned (`Subtask.deliver_resolve`).
    pub fn end_lends(&mut self, lends: Lends) {
        for index in lends.indices {
            // A lent handle cannot be removed, so the entry is still there.
            if let Ok(h) = self.get_mut(index) {
                h.num_lends = h.num_lends.saturating_sub(1);
            }
        }
    }

    /// Opens the borrow scope of an incoming call.
    pub fn enter_call(&mut self) -> Result<ScopeId, CanonError> {
        Ok(ScopeId(self.scopes.add(0)?))
    }

    /// Closes the borrow scope of a call that is returning: traps if borrow
    /// handles it received are still in the table (`trap_if(num_borrows > 0)`
    /// of `Task.return_`). On error the scope stays open.
    pub fn exit_call(&mut self, scope: ScopeId) -> Result<(), CanonError> {
        let num_borrows = *self
            .scopes
            .get(scope.0)
            .map_err(|_| CanonError::UnknownScope(scope.0))?;
        if num_borrows > 0 {
            return Err(CanonError::BorrowsRemain(num_borrows));
        }
        self.scopes.remove(scope.0)?;
        Ok(())
    }

    /// Number of borrow handles the call `scope` still holds.
    pub fn borrows_in(&self, scope: ScopeId) -> Result<u32, CanonError> {
        self.scopes
            .get(scope.0)
            .copied()
            .map_err(|_| CanonError::UnknownScope(scope.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u32) -> ResourceTypeId {
        ResourceTypeId::from_u32(n)
    }

    #[test]
    fn indices_start_at_one_and_reuse_last_freed_first() {
        let mut t = HandleTable::new();
        assert_eq!(t.new_own(r(1), 100), Ok(1));
        assert_eq!(t.new_own(r(1), 101), Ok(2));
        assert_eq!(t.new_own(r(2), 102), Ok(3));
        assert_eq!(t.drop(1, r(1)), Ok(Dropped::Own { rep: 100 }));
        assert_eq!(t.drop(3, r(2)), Ok(Dropped::Own { rep: 102 }));
        // Last freed first: 3, then 1, then a fresh 4.
        assert_eq!(t.new_own(r(1), 103), Ok(3));
        assert_eq!(t.new_own(r(1), 104), Ok(1));
        assert_eq!(t.new_own(r(1), 105), Ok(4));
        assert_eq!(t.len(), 4);
        assert_eq!(t.rep(1, r(1)), Ok(104));
        let live: Vec<u32> = t.iter().map(|(i, _)| i).collect();
        assert_eq!(live, [1, 2, 3, 4]);
    }

    #[test]
    fn unknown_indices() {
        let mut t = HandleTable::new();
        t.new_own(r(1), 7).unwrap();
        for index in [0, 5, u32::MAX] {
            let e = t.drop(index, r(1)).unwrap_err();
            assert_eq!(e.to_string(), format!("unknown handle index {index}"));
            assert_eq!(t.rep(index, r(1)), Err(CanonError::UnknownHandle(index)));
        }
        t.drop(1, r(1)).unwrap();
        // Double drop and use after drop.
        assert_eq!(
            t.drop(1, r(1)).unwrap_err().to_string(),
            "unknown handle index 1"
        );
        assert_eq!(t.take_own(1, r(1)), Err(CanonError::UnknownHandle(1)));
    }

    #[test]
    fn wrong_type() {
        let mut t = HandleTable::new();
        t.new_own(r(1), 7).unwrap();
        let e = t.drop(1, r(2)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "handle index 1 used with the wrong type, expected guest-defined resource but found a different guest-defined resource"
        );
        assert!(t.take_own(1, r(2)).is_err());
        assert!(t.rep(1, r(2)).is_err());
        t.set_host_defined(r(2));
        assert!(
            t.rep(1, r(2))
                .unwrap_err()
                .to_string()
                .contains("expected host-defined resource but found a different guest-defined")
        );
        // The handle survives failed uses.
        assert_eq!(t.rep(1, r(1)), Ok(7));
    }

    #[test]
    fn lends_block_drop_and_move() {
        let mut t = HandleTable::new();
        let h = t.new_own(r(1), 42).unwrap();
        let mut lends = Lends::new();
        assert_eq!(t.lend(h, r(1), &mut lends), Ok(42));
        assert_eq!(t.lend(h, r(1), &mut lends), Ok(42));
        assert_eq!(t.get(h).unwrap().num_lends, 2);
        let e = t.take_own(h, r(1)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot remove owned resource while borrowed")
        );
        assert_eq!(
            t.drop(h, r(1)),
            Err(CanonError::ResourceLent { index: h, lends: 2 })
        );
        assert_eq!(lends.len(), 2);
        t.end_lends(lends);
        assert_eq!(t.get(h).unwrap().num_lends, 0);
        assert_eq!(t.take_own(h, r(1)), Ok(42));
        assert!(t.is_empty());
    }

    #[test]
    fn borrows_belong_to_their_call() {
        let mut t = HandleTable::new();
        let scope = t.enter_call().unwrap();
        let b = t.new_borrow(r(1), 9, scope).unwrap();
        assert_eq!(t.borrows_in(scope), Ok(1));
        // A borrow cannot be lifted as an own.
        assert_eq!(t.take_own(b, r(1)), Err(CanonError::NotOwned(b)));
        assert_eq!(t.rep(b, r(1)), Ok(9));
        // Returning with the borrow still held traps.
        let e = t.exit_call(scope).unwrap_err();
        assert_eq!(e, CanonError::BorrowsRemain(1));
        assert!(
            e.to_string()
                .starts_with("borrow handles still remain at the end of the call")
        );
        // A borrow can itself be lent onwards, and then not dropped.
        let mut lends = Lends::new();
        t.lend(b, r(1), &mut lends).unwrap();
        assert!(matches!(
            t.drop(b, r(1)),
            Err(CanonError::ResourceLent { .. })
        ));
        t.end_lends(lends);
        assert_eq!(t.drop(b, r(1)), Ok(Dropped::Borrow { rep: 9 }));
        assert_eq!(t.borrows_in(scope), Ok(0));
        t.exit_call(scope).unwrap();
        assert_eq!(t.exit_call(scope), Err(CanonError::UnknownScope(scope.0)));
        assert_eq!(
            t.new_borrow(r(1), 9, scope),
            Err(CanonError::UnknownScope(scope.0))
        );
        assert!(t.is_empty());
    }

    #[test]
    fn nested_scopes_count_separately() {
        let mut t = HandleTable::new();
        let outer = t.enter_call().unwrap();
        let inner = t.enter_call().unwrap();
        assert_ne!(outer, inner);
        let a = t.new_borrow(r(1), 1, outer).unwrap();
        let b = t.new_borrow(r(1), 2, inner).unwrap();
        t.drop(b, r(1)).unwrap();
        t.exit_call(inner).unwrap();
        assert_eq!(t.exit_call(outer), Err(CanonError::BorrowsRemain(1)));
        t.drop(a, r(1)).unwrap();
        t.exit_call(outer).unwrap();
    }

    #[test]
    fn maximum_length() {
        let mut t = HandleTable::with_max_length(3);
        for rep in 0..3 {
            t.new_own(r(1), rep).unwrap();
        }
        let e = t.new_own(r(1), 3).unwrap_err();
        assert_eq!(e, CanonError::TableFull { max: 3 });
        // Freed indices are still usable at the limit.
        t.drop(2, r(1)).unwrap();
        assert_eq!(t.new_own(r(1), 3), Ok(2));
        assert_eq!(Table::<()>::MAX_LENGTH, (1 << 28) - 1);
        assert_eq!(
            Table::<()>::with_max_length(u32::MAX).max_length,
            Table::<()>::MAX_LENGTH
        );
    }
}
