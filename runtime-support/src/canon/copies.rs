//! The handle-table side of streams and futures ("Stream State" and
//! "Future State" of `CanonicalABI.md`: `CopyEnd`, `CopyState`,
//! `CopyResult`): the ends an instance holds, their copy states and the
//! events their copies deliver. What the two ends share (the buffers, the
//! pending side of a rendezvous) is the store's (`api::component::copies`),
//! since the ends may sit in different instances' tables.

use super::types::InterfaceType;
use super::waitables::{Event, event};

/// Which end of a stream or future an entry is; its event code is the one
/// its copies deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndKind {
    /// The readable end of a stream.
    StreamRead,
    /// The writable end of a stream.
    StreamWrite,
    /// The readable end of a future.
    FutureRead,
    /// The writable end of a future.
    FutureWrite,
}

impl EndKind {
    /// The end of a stream (`future` false) or future that reads or
    /// writes.
    pub fn new(future: bool, write: bool) -> EndKind {
        match (future, write) {
            (false, false) => EndKind::StreamRead,
            (false, true) => EndKind::StreamWrite,
            (true, false) => EndKind::FutureRead,
            (true, true) => EndKind::FutureWrite,
        }
    }

    /// The end of stream or future type `ty` that reads or writes.
    pub fn of(ty: &InterfaceType, write: bool) -> EndKind {
        EndKind::new(matches!(ty, InterfaceType::Future(_)), write)
    }

    /// Whether it is a future's end.
    pub fn is_future(self) -> bool {
        matches!(self, EndKind::FutureRead | EndKind::FutureWrite)
    }

    /// Whether it is a writable end.
    pub fn is_write(self) -> bool {
        matches!(self, EndKind::StreamWrite | EndKind::FutureWrite)
    }

    /// The event code of its copies.
    fn event_code(self) -> u32 {
        match self {
            EndKind::StreamRead => event::STREAM_READ,
            EndKind::StreamWrite => event::STREAM_WRITE,
            EndKind::FutureRead => event::FUTURE_READ,
            EndKind::FutureWrite => event::FUTURE_WRITE,
        }
    }

    /// "stream" or "future", for messages.
    pub fn noun(self) -> &'static str {
        if self.is_future() { "future" } else { "stream" }
    }
}

/// How a copy ended (`CopyResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyResult {
    /// It copied what it could (maybe nothing, for a zero-length copy).
    Completed = 0,
    /// The other end was dropped.
    Dropped = 1,
    /// It was cancelled.
    Cancelled = 2,
}

/// The copy state of an end (`CopyState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyState {
    /// No copy in progress.
    Idle,
    /// A copy in progress.
    Copying,
    /// A copy being cancelled.
    CancellingCopy,
    /// No more copies: the other end was dropped, or a future's value
    /// passed.
    Done,
}

/// One end of a stream or future in an instance's table (`CopyEnd`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyEnd {
    /// The stream or future, in the store.
    pub shared: u32,
    /// Which end it is.
    pub kind: EndKind,
    /// Its copy state.
    pub state: CopyState,
    /// The set it joined, if any.
    pub wset: Option<u32>,
    /// Whether a synchronous copy waits on it.
    pub has_sync_waiter: bool,
    /// How its copy ended, not reported yet (`pending_event`).
    pub pending_event: Option<CopyResult>,
    /// Elements its copy in progress moved so far.
    pub progress: u32,
}

impl CopyEnd {
    /// A new idle end of `shared`.
    pub fn new(shared: u32, kind: EndKind) -> CopyEnd {
        CopyEnd {
            shared,
            kind,
            state: CopyState::Idle,
            wset: None,
            has_sync_waiter: false,
            pending_event: None,
            progress: 0,
        }
    }

    /// Whether a copy is in progress (`copying`).
    pub fn copying(&self) -> bool {
        matches!(self.state, CopyState::Copying | CopyState::CancellingCopy)
    }

    /// Takes its pending event, if any, as the event handle `index`
    /// delivers (`stream_event`, `future_event`): the copy ends, its
    /// payload is the result, with the progress above it for a stream.
    pub fn take_event(&mut self, index: u32) -> Option<Event> {
        let result = self.pending_event.take()?;
        let done = match result {
            CopyResult::Dropped => true,
            CopyResult::Completed => self.kind.is_future(),
            CopyResult::Cancelled => false,
        };
        self.state = if done {
            CopyState::Done
        } else {
            CopyState::Idle
        };
        let payload = match self.kind.is_future() {
            true => result as u32,
            false => result as u32 | self.progress << 4,
        };
        self.progress = 0;
        Some([self.kind.event_code(), index, payload])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_event_carries_the_progress_and_leaves_the_end_idle() {
        let mut end = CopyEnd::new(0, EndKind::StreamRead);
        end.state = CopyState::Copying;
        assert_eq!(end.take_event(3), None, "no event before the copy ends");
        end.progress = 4;
        end.pending_event = Some(CopyResult::Completed);
        assert_eq!(end.take_event(3), Some([event::STREAM_READ, 3, 0x40]));
        assert_eq!((end.state, end.progress), (CopyState::Idle, 0));
        end.pending_event = Some(CopyResult::Dropped);
        assert_eq!(end.take_event(3), Some([event::STREAM_READ, 3, 1]));
        assert_eq!(end.state, CopyState::Done, "no copies after a drop");
    }

    #[test]
    fn a_future_is_done_once_its_value_passed() {
        let mut end = CopyEnd::new(0, EndKind::FutureWrite);
        end.pending_event = Some(CopyResult::Completed);
        end.progress = 1;
        assert_eq!(end.take_event(2), Some([event::FUTURE_WRITE, 2, 0]));
        assert_eq!(end.state, CopyState::Done);
        let mut end = CopyEnd::new(0, EndKind::FutureRead);
        end.pending_event = Some(CopyResult::Cancelled);
        assert_eq!(end.take_event(2), Some([event::FUTURE_READ, 2, 2]));
        assert_eq!(
            end.state,
            CopyState::Idle,
            "a cancelled read may start again"
        );
    }
}
