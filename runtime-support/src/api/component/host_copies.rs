//! Streams and futures with one end in the host: [`HostWriter`], the
//! writable end of one the host makes and passes to a component, and
//! [`HostReader`], the readable end of one a component gave the host.
//!
//! The host never blocks a guest and a guest never blocks the host's
//! thread beyond the store's event loop:
//! - what the host writes waits in a queue of the stream's until the
//!   reader's copies take it, as many elements as each copy has room for;
//!   a copy that finds the queue empty waits for the host's next write (or
//!   ends `DROPPED` once the host closed its end and the queue is empty);
//! - the host reads by taking what the writer's pending copy offers,
//!   which completes that copy; with none pending it runs the event loop
//!   until the writer writes or drops its end.
//!
//! Elements cross as component values ([`Val`]); an element of a stream
//! or future without a type is the empty tuple. A task that goes on after
//! its call returned (consuming what the host writes, say) runs when the
//! host calls into the instance, reads, or asks for it with
//! [`Instance::run_pending`].

use super::copies::{
    HostEnd, HostQueue, Taken, drop_shared_end, notify, pending_other, shared, take_for_host,
};
use super::event_loop::{run_pending, run_until_stalled};
use super::instance::{driving, in_call_or_poisoned, poison};
use super::{Instance, copies};
use crate::api::store::StoreOpaque;
use crate::api::{AsStoreMut, Error};
use crate::canon::copies::CopyResult;
use crate::canon::{InterfaceType, SharedVal, Val};

/// Which stream or future of which component instance of a store an end
/// belongs to.
#[derive(Clone, Copy, Debug)]
struct EndOf {
    store_id: u64,
    instance: usize,
    id: u32,
    future: bool,
}

impl EndOf {
    /// Checks that `store` is the end's, and returns its insides.
    fn check<'s>(&self, store: &'s mut impl AsStoreMut) -> Result<&'s mut StoreOpaque, Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        Ok(store)
    }

    fn noun(&self) -> &'static str {
        if self.future { "future" } else { "stream" }
    }
}

/// The writable end of a stream or future the host made
/// ([`Instance::host_writer`]).
#[derive(Debug)]
pub struct HostWriter {
    end: EndOf,
    /// Whether a future's one value was written.
    written: bool,
}

/// The readable end of a stream or future that a component gave the host
/// ([`Instance::host_reader`]).
#[derive(Debug)]
pub struct HostReader {
    end: EndOf,
    /// Whether a future's value was read, or the writer dropped its end.
    done: bool,
}

impl Instance {
    /// Runs the instance's tasks that can run now (ones that went on after
    /// their call returned, whose copies the host's writes or reads
    /// completed, or whose host futures are ready), until none can without
    /// waiting; returns whether any ran. Refused inside a call into the
    /// instance; a trap poisons it, as a failed call from the host does.
    pub fn run_pending(&self, mut store: impl AsStoreMut) -> Result<bool, Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        let instance = self.index;
        driving(store, instance, |store| run_pending(store, instance))
    }

    /// Makes a stream or future of type `ty` (`stream<T>`, `stream`,
    /// `future<T>` or `future`) in this instance: the host holds its
    /// writable end, and passes the readable end, the value returned, to
    /// one of the instance's functions.
    pub fn host_writer(
        &self,
        mut store: impl AsStoreMut,
        ty: &InterfaceType,
    ) -> Result<(HostWriter, Val), Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        let future = match ty {
            InterfaceType::Future(_) => true,
            InterfaceType::Stream(_) => false,
            other => {
                return Err(Error::Usage(format!(
                    "`{other}` is not a stream or future type"
                )));
            }
        };
        let writer = HostEnd::Writer {
            queue: HostQueue::for_type(ty),
            closed: false,
        };
        let id = copies::host_new(store, self.index, ty, writer)?;
        let end = EndOf {
            store_id: self.store_id,
            instance: self.index,
            id,
            future,
        };
        let shared = SharedVal::new(self.store_id, self.index, id);
        let value = match future {
            true => Val::Future(shared),
            false => Val::Stream(shared),
        };
        let writer = HostWriter {
            end,
            written: false,
        };
        Ok((writer, value))
    }

    /// The host's reader of `value`, a stream or future (its readable
    /// end) that this instance gave the host, as a result or as an
    /// argument of a host function. The host may read it or pass it on,
    /// not both.
    pub fn host_reader(
        &self,
        mut store: impl AsStoreMut,
        value: &Val,
    ) -> Result<HostReader, Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        let (shared, future) = match value {
            Val::Future(shared) => (shared, true),
            Val::Stream(shared) => (shared, false),
            other => return Err(Error::Usage(format!("{other:?} is not a stream or future"))),
        };
        if (shared.store, shared.instance) != (self.store_id, self.index) {
            return Err(Error::Usage(format!(
                "{shared:?} belongs to another component instance"
            )));
        }
        let id = shared.id;
        copies::host_read(store, self.index, id, future)?;
        let end = EndOf {
            store_id: self.store_id,
            instance: self.index,
            id,
            future,
        };
        Ok(HostReader { end, done: false })
    }
}

impl HostWriter {
    /// Writes `values` (exactly one for a future, which is then done): a
    /// copy that the reader has waiting takes what it has room for at
    /// once, and the rest waits for the reader's next copies. `Ok(false)`
    /// when the reader dropped its end: nothing was written.
    pub fn write(&mut self, mut store: impl AsStoreMut, values: Vec<Val>) -> Result<bool, Error> {
        let end = self.end;
        let store = end.check(&mut store)?;
        if end.future && (self.written || values.len() != 1) {
            return Err(Error::Usage(match self.written {
                true => "the future was written already".into(),
                false => format!("a future takes one value, not {}", values.len()),
            }));
        }
        let s = shared(store, end.instance, end.id)?;
        if s.dropped {
            return Ok(false);
        }
        if let Some(elem) = s.elem() {
            for v in &values {
                v.matches_at(elem, "element")?;
            }
        }
        let HostEnd::Writer { queue, .. } = &mut s.host else {
            return Err(Error::Usage(format!(
                "{} end is not the host's",
                end.noun()
            )));
        };
        queue.extend(values);
        self.written = true;
        deliver(store, end)?;
        Ok(true)
    }

    /// Writes `bytes` to a `stream<u8>`, as [`write`](Self::write) does
    /// with their values, without making a value of each byte: the
    /// reader's copies take them with one `memcpy` each.
    pub fn write_bytes(&mut self, mut store: impl AsStoreMut, bytes: &[u8]) -> Result<bool, Error> {
        let end = self.end;
        let store = end.check(&mut store)?;
        let s = shared(store, end.instance, end.id)?;
        if end.future {
            return Err(Error::Usage("`write_bytes` writes a stream<u8>".into()));
        }
        if s.dropped {
            return Ok(false);
        }
        let HostEnd::Writer {
            queue: HostQueue::Bytes(queue),
            ..
        } = &mut s.host
        else {
            return Err(Error::Usage("`write_bytes` writes a stream<u8>".into()));
        };
        queue.extend(bytes);
        deliver(store, end)?;
        Ok(true)
    }

    /// Drops the host's end: the reader gets `DROPPED` once it has taken
    /// everything written.
    pub fn close(self, mut store: impl AsStoreMut) -> Result<(), Error> {
        let end = self.end;
        let store = end.check(&mut store)?;
        let s = shared(store, end.instance, end.id)?;
        let HostEnd::Writer { queue, closed } = &mut s.host else {
            return Err(Error::Usage(format!(
                "{} end is not the host's",
                end.noun()
            )));
        };
        *closed = true;
        let drained = queue.is_empty();
        s.live_ends -= 1;
        if s.live_ends == 0 {
            return copies::remove(store, end.instance, end.id);
        }
        if drained && let Some(reader) = pending_other(store, end.instance, end.id, None) {
            shared(store, end.instance, end.id)?.pending = None;
            notify(store, end.instance, reader, CopyResult::Dropped);
        }
        Ok(())
    }
}

/// Hands what the host wrote to the reader's copy, if one waits.
fn deliver(store: &mut StoreOpaque, end: EndOf) -> Result<(), Error> {
    let Some(reader) = pending_other(store, end.instance, end.id, None) else {
        return Ok(());
    };
    guarded(store, end.instance, |store| {
        copies::deliver_from_host(store, end.instance, reader, end.id)
    })
}

/// Runs `f`, which may run guest code (a `realloc`) of the store's
/// component instance `instance` for the host: refused once a trap
/// poisoned the instance, and a failure outside any call into it poisons
/// it. Inside a call (a host function writes) the failure is the host
/// function's to return, and the call's own failure then poisons.
fn guarded(
    store: &mut StoreOpaque,
    instance: usize,
    f: impl FnOnce(&mut StoreOpaque) -> Result<(), Error>,
) -> Result<(), Error> {
    if store.component_instances[instance].poisoned {
        let kind = crate::abi::TrapKind::CannotEnterComponent;
        return Err(Error::Trap(crate::api::Trap::new(kind)));
    }
    let outside = !in_call_or_poisoned(store, instance);
    let result = f(store);
    match (&result, outside) {
        (Ok(()), _) => {}
        (Err(_), true) => poison(store, instance),
        // Inside a call, its frames still run: the host's streams and
        // futures refuse the instance from now on, and the call's own
        // failure, if the host function returns the error, poisons it.
        (Err(_), false) => store.component_instances[instance].poisoned = true,
    }
    result
}

impl HostReader {
    /// Reads up to `max` elements (a future's one value), running the
    /// store's event loop until the writer writes or drops its end:
    /// `None` once it dropped it, and after a future's value was read.
    /// It must not be called from inside a call into the instance (a host
    /// function), and it fails when nothing could ever write ("deadlock").
    pub fn read(&mut self, store: impl AsStoreMut, max: u32) -> Result<Option<Vec<Val>>, Error> {
        Ok(self.take(store, max)?.map(|taken| match taken {
            Taken::Bytes(bytes) => bytes.into_iter().map(Val::U8).collect(),
            Taken::Values(values) => values,
        }))
    }

    /// Reads up to `max` bytes of a `stream<u8>`, as [`read`](Self::read)
    /// does, with one `memcpy` from the writer's memory.
    pub fn read_bytes(
        &mut self,
        mut store: impl AsStoreMut,
        max: u32,
    ) -> Result<Option<Vec<u8>>, Error> {
        let end = self.end;
        let elem = shared(end.check(&mut store)?, end.instance, end.id)?.elem();
        if end.future || !matches!(elem, Some(InterfaceType::U8)) {
            return Err(Error::Usage("`read_bytes` reads a stream<u8>".into()));
        }
        match self.take(store, max)? {
            Some(Taken::Bytes(bytes)) => Ok(Some(bytes)),
            // A read of nothing.
            Some(Taken::Values(_)) => Ok(Some(Vec::new())),
            None => Ok(None),
        }
    }

    /// What [`read`](Self::read) and [`read_bytes`](Self::read_bytes) take.
    fn take(&mut self, mut store: impl AsStoreMut, max: u32) -> Result<Option<Taken>, Error> {
        let end = self.end;
        let store = end.check(&mut store)?;
        if self.done {
            return Ok(None);
        }
        let (instance, id) = (end.instance, end.id);
        let ready = move |store: &StoreOpaque| Ok(copies::host_may_read(store, instance, id));
        // Lifting the writer's elements runs no guest code but may find
        // them invalid (a bad `char`, a stale handle): a trap, which
        // poisons the instance as any trap outside a call does.
        // A loop that only stalls (what the writer waits for must come
        // from the host) is the host's error and poisons nothing.
        let taken = driving(store, instance, |store| {
            if !run_until_stalled(store, instance, ready)? {
                return Ok(Err(()));
            }
            take_for_host(store, instance, id, max).map(Ok)
        })?;
        let Ok(taken) = taken else {
            return Err(Error::Usage(format!(
                "no task of the component instance can run: what the {}'s writer waits for must come from the host",
                end.noun()
            )));
        };
        self.done = taken.is_none() || end.future;
        Ok(taken)
    }

    /// Drops the host's end: a write the writer has pending, or makes
    /// later, ends `DROPPED`.
    pub fn close(self, mut store: impl AsStoreMut) -> Result<(), Error> {
        let end = self.end;
        let store = end.check(&mut store)?;
        drop_shared_end(store, end.instance, end.id, None)
    }
}
