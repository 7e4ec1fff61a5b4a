//! Streams, futures and error contexts over a store: what the two ends of
//! a stream or future share (`SharedStreamImpl`, `SharedFutureImpl` of
//! `CanonicalABI.md`), the built-ins `stream.*`, `future.*` and
//! `error-context.*`, and their lifting and lowering.
//!
//! The copies are the runtime's: a read and a write meet ("rendezvous")
//! when the second of them starts, and the elements move from the
//! writer's buffer into the reader's then, between the two instances'
//! memories. An end's copy state and pending event are in its instance's
//! table (`canon::copies`); the buffers and the pending side are here.

use super::context::{Cx, Options, Relay, handle_table};
use super::event_loop::{block_until, may_block};
use super::instance::check_may_leave;
use crate::abi::ComponentInstanceIndex;
use crate::api::Error;
use crate::api::store::StoreOpaque;
use crate::canon::copies::{CopyEnd, CopyResult, CopyState, EndKind};
use crate::canon::error::CopyTrap;
use crate::canon::handles::{Entry, Table};
use crate::canon::lift::load;
use crate::canon::lower::store as store_val;
use crate::canon::{CanonError, InterfaceType, SharedVal, Val, alignment, elem_size};
use std::collections::VecDeque;

/// What `stream.read`/`write` returns when the copy did not end at once.
pub(super) const BLOCKED: u32 = 0xffff_ffff;

/// The largest buffer length (`Buffer.MAX_LENGTH`).
const MAX_BUFFER_LENGTH: u32 = (1 << 28) - 1;

/// A copy's buffer in guest memory (`BufferGuestImpl`); its progress is
/// its end's.
#[derive(Clone, Copy)]
struct Buffer {
    options: Options,
    ptr: u64,
    length: u32,
}

impl Buffer {
    /// The store's index of the memory the buffer is in, for the host's
    /// byte copies (a `stream<u8>` copy always names a memory).
    fn memory_index(&self) -> Result<usize, Error> {
        let memory = self.options.memory().map(|m| m.index);
        memory.ok_or_else(|| Error::Usage("a stream copy without memory".into()))
    }
}

/// Where an end is: its plan component instance and handle index.
pub(super) type EndAt = (ComponentInstanceIndex, u32);

/// What the host wrote to a stream or future and its reader has not taken
/// yet: the bytes of a `stream<u8>`, which a copy takes with one `memcpy`,
/// else the values.
pub(super) enum HostQueue {
    Bytes(VecDeque<u8>),
    Values(VecDeque<Val>),
}

impl HostQueue {
    /// An empty queue for a stream or future of type `ty`: bytes for a
    /// `stream<u8>`.
    pub(super) fn for_type(ty: &InterfaceType) -> HostQueue {
        match ty {
            InterfaceType::Stream(Some(elem)) if **elem == InterfaceType::U8 => {
                HostQueue::Bytes(VecDeque::new())
            }
            _ => HostQueue::Values(VecDeque::new()),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            HostQueue::Bytes(q) => q.len(),
            HostQueue::Values(q) => q.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the first `n` elements, which a copy took.
    fn drop_front(&mut self, n: usize) {
        match self {
            HostQueue::Bytes(q) => drop(q.drain(..n)),
            HostQueue::Values(q) => drop(q.drain(..n)),
        }
    }

    /// Takes `values` (checked to be of the element type).
    pub(super) fn extend(&mut self, values: Vec<Val>) {
        match self {
            HostQueue::Bytes(q) => q.extend(values.iter().filter_map(|v| match v {
                Val::U8(b) => Some(*b),
                _ => None,
            })),
            HostQueue::Values(q) => q.extend(values),
        }
    }
}

/// Elements the host took from a writer's copy: bytes for a `stream<u8>`,
/// else values.
pub(super) enum Taken {
    Bytes(Vec<u8>),
    Values(Vec<Val>),
}

/// A stream or future, shared by its two ends.
pub(crate) struct Shared {
    /// Its type (`stream<T>` or `future<T>`).
    ty: InterfaceType,
    /// Whether an end was dropped (`dropped`).
    pub(super) dropped: bool,
    /// The end whose copy waits for the other end's, if any
    /// (`pending_buffer`); it counts only while that end is copying.
    pub(super) pending: Option<EndAt>,
    /// The buffers of the readable end's and the writable end's copies.
    buffers: [Option<Buffer>; 2],
    /// Ends not dropped yet.
    pub(super) live_ends: u8,
    /// Whether an instance holds the readable end (not the host, not a
    /// call in flight): it is lowered once per lift.
    readable_held: bool,
    /// The end the host holds, if any (`super::host_copies`).
    pub(super) host: HostEnd,
}

/// The end of a stream or future that the host holds.
pub(super) enum HostEnd {
    /// None: both ends are guests' (or in flight).
    None,
    /// The writable end of one the host made: what it wrote waits in
    /// `queue` until the reader's copies take it; `closed` once the host
    /// dropped its end.
    Writer { queue: HostQueue, closed: bool },
    /// The readable end: the host takes what the writer's copy offers.
    Reader,
}

impl Shared {
    /// The element type, if any.
    pub(super) fn elem(&self) -> Option<&InterfaceType> {
        match &self.ty {
            InterfaceType::Stream(t) | InterfaceType::Future(t) => t.as_deref(),
            _ => None,
        }
    }
}

/// An error context (`ErrorContext`) and how many handles name it.
pub(crate) struct ErrorContext {
    message: String,
    handles: u32,
}

/// The streams, futures and error contexts of a store's component
/// instance.
#[derive(Default)]
pub(crate) struct SharedObjects {
    copies: Table<Shared>,
    error_contexts: Table<ErrorContext>,
}

pub(super) fn shared(
    store: &mut StoreOpaque,
    instance: usize,
    id: u32,
) -> Result<&mut Shared, Error> {
    Ok(store.component_instances[instance]
        .shared
        .copies
        .get_mut(id)?)
}

/// A stream or future of type `ty` (checked to be one) with the host's
/// end `host`, in the store's component instance `instance`: the other
/// end is in flight, to be lowered into a guest.
pub(super) fn host_new(
    store: &mut StoreOpaque,
    instance: usize,
    ty: &InterfaceType,
    host: HostEnd,
) -> Result<u32, Error> {
    let objects = &mut store.component_instances[instance].shared;
    Ok(objects.copies.add(Shared {
        ty: ty.clone(),
        dropped: false,
        pending: None,
        buffers: [None; 2],
        live_ends: 2,
        readable_held: false,
        host,
    })?)
}

/// Makes the host the reader of stream or future `id` (a future if
/// `future`), whose readable end is in flight (lifted out of a guest, not
/// lowered into another).
pub(super) fn host_read(
    store: &mut StoreOpaque,
    instance: usize,
    id: u32,
    future: bool,
) -> Result<(), Error> {
    let s = shared(store, instance, id)?;
    let kind_matches = matches!(s.ty, InterfaceType::Future(_)) == future;
    if !kind_matches || s.readable_held || !matches!(s.host, HostEnd::None) {
        return Err(Error::Usage(format!(
            "stream or future {id} is not a readable end in the host's hands"
        )));
    }
    s.host = HostEnd::Reader;
    Ok(())
}

/// Whether the host's read of `id` can end now: the writer has a copy
/// pending, or dropped its end.
pub(super) fn host_may_read(store: &StoreOpaque, instance: usize, id: u32) -> bool {
    let copies = &store.component_instances[instance].shared.copies;
    let dropped = copies.get(id).map_or(true, |s| s.dropped);
    dropped || pending_other(store, instance, id, None).is_some()
}

/// Removes stream or future `id`, whose last end is gone.
pub(super) fn remove(store: &mut StoreOpaque, instance: usize, id: u32) -> Result<(), Error> {
    let objects = &mut store.component_instances[instance].shared;
    objects.copies.remove(id)?;
    Ok(())
}

/// `stream.new` or `future.new` of `ty` in plan component instance
/// `table`: `readable | writable << 32`.
pub(super) fn copy_new(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    ty: &InterfaceType,
) -> Result<u64, Error> {
    check_may_leave(store, instance, table)?;
    let future = matches!(ty, InterfaceType::Future(_));
    let id = store.component_instances[instance]
        .shared
        .copies
        .add(Shared {
            ty: ty.clone(),
            dropped: false,
            pending: None,
            buffers: [None; 2],
            live_ends: 2,
            readable_held: true,
            host: HostEnd::None,
        })?;
    let handles = handle_table(store, instance, table);
    let ends = (|| {
        let r = handles.add(Entry::CopyEnd(CopyEnd::new(
            id,
            EndKind::new(future, false),
        )))?;
        let w = handles.add(Entry::CopyEnd(CopyEnd::new(id, EndKind::new(future, true))))?;
        Ok::<_, CanonError>((r, w))
    })();
    match ends {
        Ok((r, w)) => Ok(u64::from(r) | u64::from(w) << 32),
        Err(e) => {
            let _ = store.component_instances[instance].shared.copies.remove(id);
            Err(e.into())
        }
    }
}

/// The end of kind `kind` at `index` of `table`, checked against the
/// built-in's type `ty` (`trap_if(e.shared.t != t)`).
fn checked_end(
    store: &mut StoreOpaque,
    instance: usize,
    (table, index): EndAt,
    kind: EndKind,
    ty: &InterfaceType,
) -> Result<CopyEnd, Error> {
    let end = handle_table(store, instance, table)
        .copy_end(index, kind)?
        .clone();
    if shared(store, instance, end.shared)?.ty != *ty {
        return Err(CanonError::Copy(CopyTrap::TypeMismatch(kind.noun())).into());
    }
    Ok(end)
}

/// The copy of `stream.read`/`write` or `future.read`/`write`: what the
/// built-in's options and type say.
pub(super) struct CopyOp {
    pub ty: InterfaceType,
    pub write: bool,
    pub options: Options,
    pub is_async: bool,
}

/// `stream.read`/`write` (`stream_copy`) and `future.read`/`write`
/// (`future_copy`) of end `index` of `table`, with a buffer of `n`
/// elements at `ptr` (one for a future): the event payload, or `BLOCKED`.
pub(super) fn copy(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    op: &CopyOp,
    index: u32,
    (ptr, n): (u64, u32),
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    if !op.is_async {
        may_block(store, instance, table)?;
    }
    let future = matches!(op.ty, InterfaceType::Future(_));
    let kind = EndKind::new(future, op.write);
    let end = checked_end(store, instance, (table, index), kind, &op.ty)?;
    match end.state {
        CopyState::Idle => {}
        CopyState::Done if future => {
            return Err(CanonError::Copy(CopyTrap::FutureDone { write: op.write }).into());
        }
        CopyState::Done => {
            return Err(CanonError::Copy(CopyTrap::StreamDone { write: op.write }).into());
        }
        CopyState::Copying | CopyState::CancellingCopy => {
            return Err(CanonError::Copy(CopyTrap::Busy).into());
        }
    }
    if end.wset.is_some() && !op.is_async {
        return Err(CanonError::Copy(CopyTrap::SyncInWaitableSet).into());
    }
    let n = if future { 1 } else { n };
    let elem = shared(store, instance, end.shared)?.elem().cloned();
    check_buffer(store, kind, elem.as_ref(), &op.options, (ptr, n))?;
    let buffer = Buffer {
        options: op.options,
        ptr,
        length: n,
    };
    shared(store, instance, end.shared)?.buffers[usize::from(op.write)] = Some(buffer);
    let entry = handle_table(store, instance, table).copy_end(index, kind)?;
    entry.state = CopyState::Copying;
    entry.progress = 0;
    rendezvous(store, instance, (table, index), kind, end.shared)?;
    let has_event = move |store: &StoreOpaque| match store.component_instances[instance].tables
        [table]
        .entry(index)
    {
        Ok(Entry::CopyEnd(end)) => end.pending_event.is_some(),
        _ => true,
    };
    if !has_event(store) {
        if op.is_async {
            return Ok(BLOCKED);
        }
        let what = format!(
            "a synchronous `{}.{}`",
            kind.noun(),
            ["read", "write"][usize::from(op.write)]
        );
        set_sync_waiter(store, instance, (table, index), kind, true)?;
        let blocked = block_until(store, instance, table, &what, move |store| {
            Ok(has_event(store))
        });
        set_sync_waiter(store, instance, (table, index), kind, false)?;
        blocked?;
    }
    take_event(store, instance, (table, index), kind)
}

fn set_sync_waiter(
    store: &mut StoreOpaque,
    instance: usize,
    (table, index): EndAt,
    kind: EndKind,
    waits: bool,
) -> Result<(), Error> {
    handle_table(store, instance, table)
        .copy_end(index, kind)?
        .has_sync_waiter = waits;
    Ok(())
}

/// The pending event's payload of the end at `at`.
fn take_event(
    store: &mut StoreOpaque,
    instance: usize,
    (table, index): EndAt,
    kind: EndKind,
) -> Result<u32, Error> {
    let end = handle_table(store, instance, table).copy_end(index, kind)?;
    let [_, _, payload] = end
        .take_event(index)
        .ok_or_else(|| Error::Usage("a copy ended without an event".into()))?;
    Ok(payload)
}

/// The checks of `BufferGuestImpl`: the length, and for elements with a
/// type, the alignment and bounds of a non-empty buffer.
fn check_buffer(
    store: &StoreOpaque,
    kind: EndKind,
    elem: Option<&InterfaceType>,
    options: &Options,
    (ptr, n): (u64, u32),
) -> Result<(), Error> {
    if n > MAX_BUFFER_LENGTH {
        let noun = kind.noun();
        return Err(CanonError::Copy(CopyTrap::BufferTooLong { noun, len: n }).into());
    }
    let Some(elem) = elem.filter(|_| n > 0) else {
        return Ok(());
    };
    let pt = options.ptr_type();
    let align = alignment(elem, pt);
    if ptr % u64::from(align) != 0 {
        let what = "stream or future buffer";
        return Err(CanonError::UnalignedPointer { what, ptr, align }.into());
    }
    let len = u64::from(n) * u64::from(elem_size(elem, pt));
    let memory_len = options
        .memory()
        .map_or(0, |m| store.memory_bytes(m.index).len());
    if ptr
        .checked_add(len)
        .is_none_or(|end| end > memory_len as u64)
    {
        let what = "stream or future buffer";
        return Err(CanonError::OutOfBounds {
            what,
            ptr,
            len,
            memory_len,
        }
        .into());
    }
    Ok(())
}

/// The guest's end that waits for a copy of `shared`, if it is another end
/// than `me` (`None` for the host's) and still copying.
pub(super) fn pending_other(
    store: &StoreOpaque,
    instance: usize,
    id: u32,
    me: Option<EndAt>,
) -> Option<EndAt> {
    let data = &store.component_instances[instance];
    let at = data.shared.copies.get(id).ok()?.pending?;
    let copying = matches!(data.tables[at.0].entry(at.1),
        Ok(Entry::CopyEnd(end)) if end.shared == id && end.copying());
    (copying && Some(at) != me).then_some(at)
}

/// Sets the pending event of the end at `at`.
pub(super) fn notify(store: &mut StoreOpaque, instance: usize, at: EndAt, result: CopyResult) {
    if let Ok(Entry::CopyEnd(end)) = handle_table(store, instance, at.0).entry_mut(at.1) {
        end.pending_event = Some(result);
    }
}

/// Whether elements of `ty` may pass between two ends in one instance
/// (`none_or_number_type`).
fn none_or_number(ty: Option<&InterfaceType>) -> bool {
    use InterfaceType as T;
    matches!(
        ty,
        None | Some(
            T::U8 | T::U16 | T::U32 | T::U64 | T::S8 | T::S16 | T::S32 | T::S64 | T::F32 | T::F64
        )
    )
}

/// The copy of end `me` (of kind `kind`) meets what `shared` has pending
/// (`SharedStreamImpl.read`/`write`, `SharedFutureImpl.read`/`write`).
fn rendezvous(
    store: &mut StoreOpaque,
    instance: usize,
    me: EndAt,
    kind: EndKind,
    id: u32,
) -> Result<(), Error> {
    if shared(store, instance, id)?.dropped {
        notify(store, instance, me, CopyResult::Dropped);
        return Ok(());
    }
    if let HostEnd::Writer { .. } = shared(store, instance, id)?.host {
        return deliver_from_host(store, instance, me, id);
    }
    let Some(other) = pending_other(store, instance, id, Some(me)) else {
        shared(store, instance, id)?.pending = Some(me);
        return Ok(());
    };
    let s = shared(store, instance, id)?;
    let elem = s.elem().cloned();
    if other.0 == me.0 && !none_or_number(elem.as_ref()) {
        return Err(CanonError::Copy(CopyTrap::IntraComponent(kind.noun())).into());
    }
    let (Some(mine), Some(theirs)) = (
        s.buffers[usize::from(kind.is_write())],
        s.buffers[usize::from(!kind.is_write())],
    ) else {
        return Err(Error::Usage("a copy without its buffer".into()));
    };
    let progress = |store: &mut StoreOpaque, at: EndAt| match handle_table(store, instance, at.0)
        .entry_mut(at.1)
    {
        Ok(Entry::CopyEnd(end)) => end.progress,
        _ => 0,
    };
    let (my_progress, their_progress) = (progress(store, me), progress(store, other));
    let (my_remain, their_remain) = (mine.length - my_progress, theirs.length - their_progress);
    if their_remain > 0 {
        if my_remain > 0 {
            let n = my_remain.min(their_remain);
            let (from, to) = match kind.is_write() {
                true => ((me, mine, my_progress), (other, theirs, their_progress)),
                false => ((other, theirs, their_progress), (me, mine, my_progress)),
            };
            transfer(store, instance, elem.as_ref(), from, to, n)?;
            for at in [me, other] {
                if let Ok(Entry::CopyEnd(end)) = handle_table(store, instance, at.0).entry_mut(at.1)
                {
                    end.progress += n;
                }
            }
            if kind.is_future() {
                shared(store, instance, id)?.pending = None;
            }
            notify(store, instance, other, CopyResult::Completed);
        }
        notify(store, instance, me, CopyResult::Completed);
    } else if kind.is_write() && mine.length == 0 && theirs.length == 0 {
        notify(store, instance, me, CopyResult::Completed);
    } else {
        notify(store, instance, other, CopyResult::Completed);
        shared(store, instance, id)?.pending = Some(me);
    }
    Ok(())
}

/// The copy of the guest's readable end at `reader` takes what the host
/// wrote to `id` (as many elements as its buffer has room for, the one
/// value of a future), or the end of the stream once the host dropped its
/// writable end and the queue is empty, or else waits for the host's next
/// write.
pub(super) fn deliver_from_host(
    store: &mut StoreOpaque,
    instance: usize,
    reader: EndAt,
    id: u32,
) -> Result<(), Error> {
    let progress = match handle_table(store, instance, reader.0).entry(reader.1) {
        Ok(Entry::CopyEnd(end)) => end.progress,
        _ => return Err(Error::Usage("a copy without its end".into())),
    };
    let s = shared(store, instance, id)?;
    let (elem, buffer) = (s.elem().cloned(), s.buffers[0]);
    let Some(buffer) = buffer else {
        return Err(Error::Usage("a copy without its buffer".into()));
    };
    let HostEnd::Writer { queue, closed } = &mut s.host else {
        return Ok(());
    };
    if queue.is_empty() {
        let closed = *closed;
        s.pending = if closed { None } else { Some(reader) };
        if closed {
            notify(store, instance, reader, CopyResult::Dropped);
        }
        return Ok(());
    }
    // The values leave the queue only once all are in the reader's
    // memory: a failed store (its `realloc` trapped) leaves the copy
    // waiting and the queue whole.
    let n = (buffer.length - progress).min(queue.len() as u32);
    match (queue, &elem) {
        (HostQueue::Bytes(_), _) if n == 0 => {}
        (HostQueue::Bytes(bytes), _) => {
            let (at, n) = (buffer.ptr + u64::from(progress), n as usize);
            let bytes = &bytes.make_contiguous()[..n];
            let bytes = bytes.to_vec();
            let memory = buffer.memory_index()?;
            crate::canon::memory::write(store.memory_bytes_mut(memory), at, &bytes)?;
        }
        (HostQueue::Values(values), Some(elem)) => {
            let values: Vec<Val> = values.iter().take(n as usize).cloned().collect();
            let size = u64::from(elem_size(elem, buffer.options.ptr_type()));
            let at = buffer.ptr + u64::from(progress) * size;
            let mut cx = Cx::new(store, instance, reader.0, buffer.options);
            for (i, v) in values.iter().enumerate() {
                store_val(&mut cx, v, elem, at + i as u64 * size)?;
            }
        }
        // Elements without a type are counted, not carried.
        (HostQueue::Values(_), None) => {}
    }
    let s = shared(store, instance, id)?;
    if let HostEnd::Writer { queue, .. } = &mut s.host {
        queue.drop_front(n as usize);
    }
    s.pending = None;
    if let Ok(Entry::CopyEnd(end)) = handle_table(store, instance, reader.0).entry_mut(reader.1) {
        end.progress += n;
    }
    notify(store, instance, reader, CopyResult::Completed);
    Ok(())
}

/// Takes up to `max` elements (the one value of a future) from the copy
/// the guest's writable end of `id` has pending, for the host's readable
/// end: `None` when no write is pending. The write completes with what was
/// taken, as a guest reader's copy would end it.
pub(super) fn take_for_host(
    store: &mut StoreOpaque,
    instance: usize,
    id: u32,
    max: u32,
) -> Result<Option<Taken>, Error> {
    let Some(writer) = pending_other(store, instance, id, None) else {
        return Ok(None);
    };
    let progress = match handle_table(store, instance, writer.0).entry(writer.1) {
        Ok(Entry::CopyEnd(end)) => end.progress,
        _ => 0,
    };
    let s = shared(store, instance, id)?;
    let (elem, future) = (s.elem().cloned(), matches!(s.ty, InterfaceType::Future(_)));
    let Some(buffer) = s.buffers[1] else {
        return Err(Error::Usage("a copy without its buffer".into()));
    };
    let remain = buffer.length - progress;
    if remain > 0 && max == 0 && !future {
        // A read of nothing ends at once and leaves the write waiting.
        return Ok(Some(Taken::Values(Vec::new())));
    }
    let n = remain.min(if future { 1 } else { max });
    // Room for the values only where values are made: a byte stream's
    // read of up to 2^28 bytes reserves no `Val` per byte.
    let mut values = Vec::new();
    let mut bytes = None;
    match &elem {
        Some(InterfaceType::U8) if !future && n == 0 => bytes = Some(Vec::new()),
        Some(InterfaceType::U8) if !future => {
            let at = buffer.ptr + u64::from(progress);
            let memory = store.memory_bytes(buffer.memory_index()?);
            let slice = crate::canon::memory::slice(memory, at, u64::from(n))?;
            bytes = Some(slice.to_vec());
        }
        Some(elem) => {
            let size = u64::from(elem_size(elem, buffer.options.ptr_type()));
            let at = buffer.ptr + u64::from(progress) * size;
            let mut cx = Cx::new(store, instance, writer.0, buffer.options);
            values.reserve(n as usize);
            for i in 0..u64::from(n) {
                values.push(load(&mut cx, at + i * size, elem)?);
            }
        }
        // Elements without a type are counted, not carried.
        None => values.resize(n as usize, Val::Tuple(Vec::new())),
    }
    if let Ok(Entry::CopyEnd(end)) = handle_table(store, instance, writer.0).entry_mut(writer.1) {
        end.progress += n;
    }
    shared(store, instance, id)?.pending = None;
    notify(store, instance, writer, CopyResult::Completed);
    Ok(Some(match bytes {
        Some(bytes) => Taken::Bytes(bytes),
        None => Taken::Values(values),
    }))
}

/// Moves `n` elements of type `elem` from the writer's buffer (after its
/// progress) to the reader's: bytes as they are for integers, else lifted
/// from one memory and lowered into the other, handles moving between the
/// two tables and strings and lists allocated by the reader's `realloc`.
fn transfer(
    store: &mut StoreOpaque,
    instance: usize,
    elem: Option<&InterfaceType>,
    (from, src, src_done): (EndAt, Buffer, u32),
    (to, dst, dst_done): (EndAt, Buffer, u32),
    n: u32,
) -> Result<(), Error> {
    use InterfaceType as T;
    let Some(elem) = elem else {
        return Ok(());
    };
    let pt = src.options.ptr_type();
    let size = u64::from(elem_size(elem, pt));
    let src_ptr = src.ptr + u64::from(src_done) * size;
    let dst_ptr =
        dst.ptr + u64::from(dst_done) * u64::from(elem_size(elem, dst.options.ptr_type()));
    if matches!(
        elem,
        T::U8 | T::U16 | T::U32 | T::U64 | T::S8 | T::S16 | T::S32 | T::S64
    ) && let (Some(sm), Some(dm)) = (src.options.memory(), dst.options.memory())
    {
        let len = u64::from(n) * size;
        let bytes =
            crate::canon::memory::slice(store.memory_bytes(sm.index), src_ptr, len)?.to_vec();
        crate::canon::memory::write(store.memory_bytes_mut(dm.index), dst_ptr, &bytes)?;
        return Ok(());
    }
    let mut values = Vec::with_capacity(n as usize);
    {
        let mut cx = Cx::new(store, instance, from.0, src.options);
        cx.strings = Relay::Keep;
        for i in 0..u64::from(n) {
            values.push(load(&mut cx, src_ptr + i * size, elem)?);
        }
    }
    let mut cx = Cx::new(store, instance, to.0, dst.options);
    cx.strings = Relay::Take;
    let dst_size = u64::from(elem_size(elem, dst.options.ptr_type()));
    for (i, v) in values.iter().enumerate() {
        store_val(&mut cx, v, elem, dst_ptr + i as u64 * dst_size)?;
    }
    Ok(())
}

/// `stream.cancel-read`/`write` and `future.cancel-read`/`write`
/// (`cancel_copy`) of end `index` of `table`: the payload of the copy's
/// event.
pub(super) fn cancel_copy(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    (ty, write, is_async): (&InterfaceType, bool, bool),
    index: u32,
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    if !is_async {
        may_block(store, instance, table)?;
    }
    let kind = EndKind::of(ty, write);
    let end = checked_end(store, instance, (table, index), kind, ty)?;
    if end.state != CopyState::Copying || end.has_sync_waiter {
        return Err(CanonError::Copy(CopyTrap::NotCopying(kind.noun())).into());
    }
    if end.wset.is_some() && !is_async {
        return Err(CanonError::Copy(CopyTrap::SyncInWaitableSet).into());
    }
    let entry = handle_table(store, instance, table).copy_end(index, kind)?;
    entry.state = CopyState::CancellingCopy;
    // A copy that waits, or a stream copy that moved part of its buffer
    // and still waits for more, ends at once as cancelled, with its
    // progress (`SharedStreamImpl.cancel`; the reference scripts report
    // `CANCELLED` for the partial copy, where `definitions.py` would
    // deliver the `COMPLETED` of its partial move).
    let partial = !kind.is_future() && entry.pending_event == Some(CopyResult::Completed);
    if entry.pending_event.is_none() || partial {
        entry.pending_event = Some(CopyResult::Cancelled);
        let s = shared(store, instance, end.shared)?;
        if s.pending == Some((table, index)) {
            s.pending = None;
        }
    }
    take_event(store, instance, (table, index), kind)
}

/// `stream.drop-readable`/`writable` and `future.drop-readable`/`writable`
/// of end `index` of `table`.
pub(super) fn drop_end(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    (ty, writable): (&InterfaceType, bool),
    index: u32,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let kind = EndKind::of(ty, writable);
    let end = checked_end(store, instance, (table, index), kind, ty)?;
    if end.copying() {
        let noun = kind.noun();
        return Err(CanonError::Copy(CopyTrap::DropBusy {
            noun,
            write: writable,
        })
        .into());
    }
    if kind == EndKind::FutureWrite && end.state != CopyState::Done {
        return Err(CanonError::Copy(CopyTrap::FutureUnwritten).into());
    }
    let handles = handle_table(store, instance, table);
    handles.remove_if(index, |_| Ok(()))?;
    handles.leave_set(index, end.wset);
    drop_shared_end(store, instance, end.shared, Some((table, index)))
}

/// One end of `shared` is gone (`SharedStreamImpl.drop`), a guest's at
/// `me` or the host's (`None`): a copy the other end has pending ends with
/// `DROPPED`, and the shared state goes with its last end.
pub(super) fn drop_shared_end(
    store: &mut StoreOpaque,
    instance: usize,
    id: u32,
    me: Option<EndAt>,
) -> Result<(), Error> {
    let other = pending_other(store, instance, id, me);
    let s = shared(store, instance, id)?;
    s.live_ends -= 1;
    let last = s.live_ends == 0;
    if !s.dropped {
        s.dropped = true;
        s.pending = None;
        if let Some(other) = other {
            notify(store, instance, other, CopyResult::Dropped);
        }
    }
    if last {
        store.component_instances[instance]
            .shared
            .copies
            .remove(id)?;
    }
    Ok(())
}

/// `lift_stream`, `lift_future` (the readable end at `index` leaves the
/// table) and `lift_error_context` (the handle stays) of type `ty`.
pub(super) fn lift_shared(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    ty: &InterfaceType,
    index: u32,
) -> Result<Val, Error> {
    if *ty == InterfaceType::ErrorContext {
        let id = error_context_at(store, instance, table, index)?;
        return Ok(Val::ErrorContext(SharedVal::new(store.id, instance, id)));
    }
    let future = matches!(ty, InterfaceType::Future(_));
    let kind = EndKind::new(future, false);
    let end = checked_end(store, instance, (table, index), kind, ty)?;
    let noun = kind.noun();
    match end.state {
        CopyState::Idle => {}
        CopyState::Done => return Err(CanonError::Copy(CopyTrap::LiftDone { future }).into()),
        _ => return Err(CanonError::Copy(CopyTrap::LiftBusy(noun)).into()),
    }
    if end.wset.is_some() {
        return Err(CanonError::Copy(CopyTrap::LiftInWaitableSet(noun)).into());
    }
    handle_table(store, instance, table).remove_if(index, |_| Ok(()))?;
    shared(store, instance, end.shared)?.readable_held = false;
    let v = SharedVal::new(store.id, instance, end.shared);
    Ok(if future {
        Val::Future(v)
    } else {
        Val::Stream(v)
    })
}

/// `lower_stream`, `lower_future` and `lower_error_context` of `value`,
/// of type `ty`: a new handle in `table`.
pub(super) fn lower_shared(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    ty: &InterfaceType,
    value: SharedVal,
) -> Result<u32, Error> {
    if (value.store, value.instance) != (store.id, instance) {
        return Err(Error::Usage(format!(
            "{value:?} belongs to another component instance"
        )));
    }
    let value = value.id;
    if *ty == InterfaceType::ErrorContext {
        let objects = &mut store.component_instances[instance].shared;
        objects.error_contexts.get_mut(value)?.handles += 1;
        return Ok(handle_table(store, instance, table).add(Entry::ErrorContext(value))?);
    }
    let kind = EndKind::of(ty, false);
    let s = shared(store, instance, value)?;
    if s.ty != *ty || s.readable_held || matches!(s.host, HostEnd::Reader) {
        return Err(Error::Usage(format!(
            "{} {} is not a readable end of type `{ty}` in flight",
            kind.noun(),
            value
        )));
    }
    s.readable_held = true;
    Ok(handle_table(store, instance, table).add(Entry::CopyEnd(CopyEnd::new(value, kind)))?)
}

/// The error context handle `index` of `table` names.
fn error_context_at(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    index: u32,
) -> Result<u32, Error> {
    Ok(
        *handle_table(store, instance, table).entry_as(index, "error context", |e| match e {
            Entry::ErrorContext(id) => Some(id),
            _ => None,
        })?,
    )
}

/// `error-context.new` with the message of `tagged_code_units` at `ptr`.
pub(super) fn error_context_new(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    options: Options,
    (ptr, tagged_code_units): (u64, u64),
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    let message = {
        let cx = Cx::new(store, instance, table, options);
        use crate::canon::LiftContext;
        let (encoding, pt) = (cx.string_encoding(), cx.ptr_type());
        crate::canon::string::lift_string(cx.memory(), encoding, pt, ptr, tagged_code_units)?.0
    };
    let objects = &mut store.component_instances[instance].shared;
    let id = objects.error_contexts.add(ErrorContext {
        message,
        handles: 1,
    })?;
    match handle_table(store, instance, table).add(Entry::ErrorContext(id)) {
        Ok(index) => Ok(index),
        Err(e) => {
            let _ = store.component_instances[instance]
                .shared
                .error_contexts
                .remove(id);
            Err(e.into())
        }
    }
}

/// `error-context.debug-message`: the message, stored as a string at
/// `ptr`.
pub(super) fn error_context_debug_message(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    options: Options,
    (index, ptr): (u32, u64),
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let id = error_context_at(store, instance, table, index)?;
    let message = store.component_instances[instance]
        .shared
        .error_contexts
        .get(id)?
        .message
        .clone();
    let mut cx = Cx::new(store, instance, table, options);
    store_val(&mut cx, &Val::String(message), &InterfaceType::String, ptr)
}

/// `error-context.drop`.
pub(super) fn error_context_drop(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    index: u32,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let id = error_context_at(store, instance, table, index)?;
    handle_table(store, instance, table).remove_if(index, |_| Ok(()))?;
    let contexts = &mut store.component_instances[instance].shared.error_contexts;
    let context = contexts.get_mut(id)?;
    context.handles -= 1;
    if context.handles == 0 {
        contexts.remove(id)?;
    }
    Ok(())
}
