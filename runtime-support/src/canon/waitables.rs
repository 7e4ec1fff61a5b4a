//! Waitables and waitable sets of the asynchronous component model
//! (`Waitable`, `WaitableSet`, `Subtask` of `CanonicalABI.md`), as entries
//! of an instance's [`HandleTable`]: what `waitable-set.*`, `waitable.join`
//! and `subtask.drop` act on, and the events a wait delivers.
//!
//! The waitables are subtasks and the ends of streams and futures
//! ([`CopyEnd`]).

use super::copies::{CopyEnd, EndKind};
use super::error::CanonError;
use super::handles::{Entry, HandleTable, Lends, wrong_kind};

/// A set of waitables of one instance (`WaitableSet`), by handle index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitableSet {
    /// Its waitables, in the order they joined.
    pub elems: Vec<u32>,
    /// How many waits on it are in progress (blocked calls and callback
    /// loops that returned `WAIT` on it).
    pub num_waiting: u32,
}

/// The states of a subtask (`Subtask.State`), as wasm sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubtaskState {
    /// The callee has not started yet.
    Starting = 0,
    /// The callee started and has not returned.
    Started = 1,
    /// The callee returned: its result is in the caller's memory.
    Returned = 2,
    /// The call was cancelled before the callee started.
    CancelledBeforeStarted = 3,
    /// The callee was cancelled after it started, before it returned.
    CancelledBeforeReturned = 4,
}

/// A call an instance made with an async lower that had not returned when
/// the lower did (`Subtask`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subtask {
    /// Its state.
    pub state: SubtaskState,
    /// Whether its progress was not reported yet (`pending_event`).
    pub pending_event: bool,
    /// The set it joined, if any.
    pub wset: Option<u32>,
    /// The handles the caller lent to the call, ended when its return is
    /// delivered; `None` once it was (`resolve_delivered`).
    pub lends: Option<Lends>,
    /// Whether `subtask.cancel` asked to cancel it.
    pub cancellation_requested: bool,
}

impl Subtask {
    /// A subtask in `state` holding `lends`.
    pub fn new(state: SubtaskState, lends: Lends) -> Subtask {
        Subtask {
            state,
            pending_event: false,
            wset: None,
            lends: Some(lends),
            cancellation_requested: false,
        }
    }

    /// Whether the call ended: it returned, or was cancelled.
    pub fn resolved(&self) -> bool {
        !matches!(self.state, SubtaskState::Starting | SubtaskState::Started)
    }
}

/// Event codes (`EventCode`).
pub mod event {
    /// No event.
    pub const NONE: u32 = 0;
    /// A subtask made progress.
    pub const SUBTASK: u32 = 1;
    /// A read from a stream ended.
    pub const STREAM_READ: u32 = 2;
    /// A write to a stream ended.
    pub const STREAM_WRITE: u32 = 3;
    /// A read from a future ended.
    pub const FUTURE_READ: u32 = 4;
    /// A write to a future ended.
    pub const FUTURE_WRITE: u32 = 5;
    /// The task's caller asked to cancel it.
    pub const TASK_CANCELLED: u32 = 6;
}

/// An event: its code and two payload words (`EventTuple`).
pub type Event = [u32; 3];

impl HandleTable {
    /// `waitable-set.new`.
    pub fn new_waitable_set(&mut self) -> Result<u32, CanonError> {
        self.add(Entry::WaitableSet(WaitableSet::default()))
    }

    /// The waitable set at `index`.
    pub fn waitable_set(&mut self, index: u32) -> Result<&mut WaitableSet, CanonError> {
        self.entry_as(index, "waitable set", |e| match e {
            Entry::WaitableSet(set) => Some(set),
            _ => None,
        })
    }

    /// `waitable-set.drop`: only an empty set nobody waits on.
    pub fn drop_waitable_set(&mut self, index: u32) -> Result<(), CanonError> {
        self.remove_if(index, |entry| match entry {
            Entry::WaitableSet(set) if set.elems.is_empty() && set.num_waiting == 0 => Ok(()),
            Entry::WaitableSet(_) => Err(CanonError::WaitableSetBusy),
            _ => Err(wrong_kind(index, "waitable set")),
        })?;
        Ok(())
    }

    /// The subtask at `index`.
    pub fn subtask(&mut self, index: u32) -> Result<&mut Subtask, CanonError> {
        self.entry_as(index, "subtask", |e| match e {
            Entry::Subtask(subtask) => Some(subtask),
            _ => None,
        })
    }

    /// The stream or future end of kind `kind` at `index`.
    pub fn copy_end(&mut self, index: u32, kind: EndKind) -> Result<&mut CopyEnd, CanonError> {
        let expected = match kind {
            EndKind::StreamRead => "readable stream end",
            EndKind::StreamWrite => "writable stream end",
            EndKind::FutureRead => "readable future end",
            EndKind::FutureWrite => "writable future end",
        };
        self.entry_as(index, expected, |e| match e {
            Entry::CopyEnd(end) if end.kind == kind => Some(end),
            _ => None,
        })
    }

    /// The set waitable `index` joined, for any waitable.
    fn wset_of(&mut self, index: u32) -> Result<&mut Option<u32>, CanonError> {
        self.entry_as(index, "waitable", |e| match e {
            Entry::Subtask(s) => Some(&mut s.wset),
            Entry::CopyEnd(end) => Some(&mut end.wset),
            _ => None,
        })
    }

    /// Takes waitable `index` out of the set it joined, if any.
    pub fn leave_set(&mut self, index: u32, set: Option<u32>) {
        if let Some(set) = set
            && let Ok(set) = self.waitable_set(set)
        {
            set.elems.retain(|&w| w != index);
        }
    }

    /// `subtask.drop`: only once its return was delivered; leaves its set.
    pub fn drop_subtask(&mut self, index: u32) -> Result<(), CanonError> {
        let entry = self.remove_if(index, |entry| match entry {
            Entry::Subtask(s) if s.lends.is_none() => Ok(()),
            Entry::Subtask(_) => Err(CanonError::SubtaskUnresolved),
            _ => Err(wrong_kind(index, "subtask")),
        })?;
        if let Entry::Subtask(subtask) = entry {
            self.leave_set(index, subtask.wset);
        }
        Ok(())
    }

    /// `waitable.join`: moves waitable `index` into set `set`, or out of
    /// any set when `set` is 0.
    pub fn join(&mut self, index: u32, set: u32) -> Result<(), CanonError> {
        self.wset_of(index)?;
        // An end a synchronous copy waits on cannot join a set meanwhile.
        if set != 0
            && let Ok(Entry::CopyEnd(end)) = self.handles.get(index)
            && end.has_sync_waiter
        {
            return Err(CanonError::Copy(super::error::CopyTrap::SyncInWaitableSet));
        }
        if set != 0 {
            self.waitable_set(set)?;
        }
        let old = std::mem::replace(self.wset_of(index)?, (set != 0).then_some(set));
        if let Some(old) = old {
            self.waitable_set(old)?.elems.retain(|&w| w != index);
        }
        if set != 0 {
            self.waitable_set(set)?.elems.push(index);
        }
        Ok(())
    }

    /// Whether set `set` holds a waitable with an event to deliver.
    pub fn has_event(&self, set: u32) -> Result<bool, CanonError> {
        let Entry::WaitableSet(set) = self.entry(set)? else {
            return Err(wrong_kind(set, "waitable set"));
        };
        Ok(set.elems.iter().any(|&w| match self.entry(w) {
            Ok(Entry::Subtask(s)) => s.pending_event,
            Ok(Entry::CopyEnd(end)) => end.pending_event.is_some(),
            _ => false,
        }))
    }

    /// Takes the event of the first waitable of set `set` that has one
    /// (`get_pending_event`); a subtask's event reads its state when
    /// delivered, and delivering its return ends the caller's lends.
    pub fn take_event(&mut self, set: u32) -> Result<Option<Event>, CanonError> {
        let elems = self.waitable_set(set)?.elems.clone();
        for w in elems {
            if let Ok(Entry::CopyEnd(end)) = self.handles.get_mut(w) {
                match end.take_event(w) {
                    Some(event) => return Ok(Some(event)),
                    None => continue,
                }
            }
            if let Some(event) = self.take_subtask_event(w)? {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// The pending event of subtask `index`, if it has one; delivering its
    /// resolution ends the caller's lends.
    pub fn take_subtask_event(&mut self, index: u32) -> Result<Option<Event>, CanonError> {
        let subtask = self.subtask(index)?;
        if !subtask.pending_event {
            return Ok(None);
        }
        subtask.pending_event = false;
        let state = subtask.state;
        if subtask.resolved()
            && let Some(lends) = subtask.lends.take()
        {
            self.end_lends(lends);
        }
        Ok(Some([event::SUBTASK, index, state as u32]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canon::types::ResourceTypeId;

    fn subtask(table: &mut HandleTable) -> u32 {
        table
            .add(Entry::Subtask(Subtask::new(
                SubtaskState::Started,
                Lends::new(),
            )))
            .unwrap()
    }

    #[test]
    fn waitables_share_the_index_space_of_resources() {
        let mut t = HandleTable::new();
        assert_eq!(t.new_own(ResourceTypeId::from_u32(1), 7), Ok(1));
        assert_eq!(t.new_waitable_set(), Ok(2));
        assert_eq!(subtask(&mut t), 3);
        // Each operation names the kind it needs.
        assert_eq!(
            t.waitable_set(1),
            Err(CanonError::WrongHandleKind {
                index: 1,
                expected: "waitable set"
            })
        );
        assert!(matches!(
            t.rep(2, ResourceTypeId::from_u32(1)),
            Err(CanonError::WrongHandleKind { index: 2, .. })
        ));
        assert_eq!(t.len(), 1, "only resources count as resource handles");
    }

    #[test]
    fn a_set_delivers_a_subtask_event_once_and_ends_its_lends() {
        let mut t = HandleTable::new();
        let set = t.new_waitable_set().unwrap();
        let s = subtask(&mut t);
        t.join(s, set).unwrap();
        assert_eq!(t.has_event(set), Ok(false));
        assert_eq!(t.take_event(set), Ok(None));
        let sub = t.subtask(s).unwrap();
        sub.state = SubtaskState::Returned;
        sub.pending_event = true;
        assert_eq!(t.has_event(set), Ok(true));
        assert_eq!(t.take_event(set), Ok(Some([event::SUBTASK, s, 2])));
        assert_eq!(t.take_event(set), Ok(None));
        assert_eq!(
            t.subtask(s).unwrap().lends,
            None,
            "its return was delivered"
        );
    }

    #[test]
    fn drops_refuse_busy_sets_and_unresolved_subtasks() {
        let mut t = HandleTable::new();
        let set = t.new_waitable_set().unwrap();
        let s = subtask(&mut t);
        t.join(s, set).unwrap();
        assert_eq!(t.drop_waitable_set(set), Err(CanonError::WaitableSetBusy));
        assert_eq!(t.drop_subtask(s), Err(CanonError::SubtaskUnresolved));
        // Delivered, it may go, and leaves its set, which then may go too.
        t.subtask(s).unwrap().lends = None;
        assert_eq!(t.drop_subtask(s), Ok(()));
        assert_eq!(t.drop_waitable_set(set), Ok(()));
        assert_eq!(
            t.drop_waitable_set(set),
            Err(CanonError::UnknownHandle(set))
        );
    }

    #[test]
    fn joining_set_zero_leaves_the_set() {
        let mut t = HandleTable::new();
        let (a, b) = (t.new_waitable_set().unwrap(), t.new_waitable_set().unwrap());
        let s = subtask(&mut t);
        t.join(s, a).unwrap();
        t.join(s, b).unwrap();
        assert!(t.waitable_set(a).unwrap().elems.is_empty());
        assert_eq!(t.waitable_set(b).unwrap().elems, [s]);
        t.join(s, 0).unwrap();
        assert!(t.waitable_set(b).unwrap().elems.is_empty());
        assert_eq!(t.subtask(s).unwrap().wset, None);
    }
}
