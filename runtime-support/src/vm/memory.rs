//! Linear memories.
//!
//! A 32-bit memory reserves its whole reachable range up front: any address
//! compiled code forms is `base + u32 index + u32 offset + access size`, so a
//! reservation of 8 GiB plus a guard page means every out-of-bounds access
//! lands on an inaccessible page and faults. The pages below the current
//! length are read-write; `grow` makes more of them so. The base never moves,
//! which lets compiled code keep it in a register.
//!
//! Reserving and releasing 8 GiB costs more than the pages a small instance
//! touches, so released reservations are wiped (`MADV_DONTNEED` gives fresh
//! zero pages) and kept in a small process-wide pool for the next memory.

use super::VMMemoryDefinition;
use crate::abi::MemoryType;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in a wasm page (of the default size).
pub(crate) const WASM_PAGE: usize = 65536;
/// The most bytes a memory may hold: 4 GiB, for 64-bit memories too (they
/// share the 32-bit reservation, so their base never moves either).
const MAX_BYTES: u64 = 1 << 32;
/// Default-sized pages a memory can hold at most.
pub(crate) const MAX_PAGES: u64 = MAX_BYTES / WASM_PAGE as u64;
/// Virtual bytes reserved per memory: index + offset + access size.
const RESERVATION: usize = (8 << 30) + WASM_PAGE;

/// How many released reservations are kept for reuse.
const POOL_CAPACITY: usize = 16;

/// Released reservations: inaccessible and zeroed, ready for reuse.
static POOL: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// A fresh or recycled reservation of `size` bytes, all of it
/// inaccessible (only full-size ones are pooled).
fn reserve(size: usize) -> Option<*mut u8> {
    if size == RESERVATION
        && let Some(base) = POOL.lock().unwrap_or_else(|e| e.into_inner()).pop()
    {
        return Some(base as *mut u8);
    }
    // SAFETY: a fresh anonymous, inaccessible mapping; no existing memory is
    // touched.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    (base != libc::MAP_FAILED).then_some(base.cast())
}

/// At most this many touched pages are zeroed by hand and kept resident
/// when a memory is released; more are handed back to the kernel.
const KEEP_RESIDENT_PAGES: usize = 64;

/// Zeroes the first `used` (accessible) bytes of a reservation. A small
/// instance touched few pages: zeroing those in place keeps them resident,
/// so the next instance's data segments write without page faults. Otherwise
/// `MADV_DONTNEED` drops them (later reads see fresh zero pages).
///
/// # Safety
///
/// The range must be accessible and unused.
unsafe fn wipe(base: *mut u8, used: usize) -> bool {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let pages = used.div_ceil(page);
    if pages <= 16 * KEEP_RESIDENT_PAGES {
        let mut resident = vec![0u8; pages];
        // SAFETY: `base` is page-aligned and the range is mapped.
        if unsafe { libc::mincore(base.cast(), used, resident.as_mut_ptr()) } == 0 {
            let touched: Vec<usize> = (0..pages).filter(|&p| resident[p] & 1 != 0).collect();
            if touched.len() <= KEEP_RESIDENT_PAGES {
                for p in touched {
                    let len = page.min(used - p * page);
                    // SAFETY: the page lies in the accessible range.
                    unsafe { base.add(p * page).write_bytes(0, len) };
                }
                return true;
            }
        }
    }
    // SAFETY: DONTNEED on a private anonymous mapping makes later reads see
    // zero pages.
    unsafe { libc::madvise(base.cast(), used, libc::MADV_DONTNEED) == 0 }
}

/// Returns a reservation of `size` bytes whose first `used` bytes were
/// accessible: wipes and protects them and pools a full-size reservation,
/// or unmaps it.
///
/// # Safety
///
/// `base` must be a reservation of `size` bytes from [`reserve`] that
/// nothing uses anymore.
unsafe fn release(base: *mut u8, used: usize, size: usize) {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let poolable = size == RESERVATION && pool.len() < POOL_CAPACITY;
    // SAFETY: the range belongs to this unused reservation.
    let wiped = poolable
        && (used == 0
            || unsafe {
                wipe(base, used) && libc::mprotect(base.cast(), used, libc::PROT_NONE) == 0
            });
    if wiped {
        pool.push(base as usize);
    } else {
        // SAFETY: unmaps exactly one whole reservation.
        unsafe { libc::munmap(base.cast(), size) };
    }
}

/// `len` rounded up to whole pages of the system.
fn system_pages(len: usize) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    len.next_multiple_of(page)
}

/// One linear memory.
pub(crate) struct Memory {
    pub def: VMMemoryDefinition,
    pub ty: MemoryType,
    /// The most pages its store lets it have (`Store::limit_memory_size`).
    limit_pages: u64,
    /// Serializes the growth of a shared memory, which several threads may
    /// grow at once.
    growing: Mutex<()>,
    /// Bytes of address space reserved at `def.base`.
    reserved: usize,
}

// SAFETY: the raw base pointer refers to a private mapping that moves with
// the `Memory`.
unsafe impl Send for Memory {}

// SAFETY: what `&Memory` allows is safe from several threads: growth takes
// `growing` and publishes the length atomically, the base never moves, and
// a memory shared between stores has its bytes reached only through raw
// pointers (compiled code, builtins) or cells (`SharedMemory::data`); safe
// slices are handed out only for a memory one store owns alone.
unsafe impl Sync for Memory {}

impl Memory {
    /// Reserves address space and makes the initial pages accessible; the
    /// memory never grows past `limit_pages`. A `guarded` memory gets the
    /// full reservation, whose guard region catches 32-bit accesses out of
    /// bounds; one only code with explicit bounds checks uses gets just its
    /// largest size.
    pub(crate) fn new(ty: MemoryType, limit_pages: u64, guarded: bool) -> Result<Memory, String> {
        let min_bytes = ty.limits.min.checked_mul(ty.page_size());
        let Some(min_bytes) = min_bytes.filter(|&bytes| bytes <= MAX_BYTES) else {
            return Err(format!(
                "memory minimum of {} pages is over 4 GiB",
                ty.limits.min
            ));
        };
        if min_bytes > limit_pages * WASM_PAGE as u64 {
            return Err(format!(
                "memory minimum of {} pages ({min_bytes} bytes) is over the store's limit of {} bytes",
                ty.limits.min,
                limit_pages * WASM_PAGE as u64
            ));
        }
        let log2 = ty.page_size_log2;
        let max_bytes = (ty.limits.max.unwrap_or(u64::MAX))
            .min(MAX_BYTES >> log2)
            .min((limit_pages * WASM_PAGE as u64) >> log2)
            << log2;
        let reserved = if guarded {
            RESERVATION
        } else {
            // Never empty: a zero-length mapping does not exist.
            system_pages(max_bytes as usize).max(system_pages(1))
        };
        let Some(base) = reserve(reserved) else {
            return Err(format!(
                "cannot reserve {reserved} bytes of address space for a linear memory"
            ));
        };
        let memory = Memory {
            def: VMMemoryDefinition {
                base: base.cast(),
                length: AtomicUsize::new(0),
            },
            ty,
            limit_pages,
            growing: Mutex::new(()),
            reserved,
        };
        if memory.grow(ty.limits.min).is_none() {
            return Err("cannot commit the initial pages of a linear memory".into());
        }
        Ok(memory)
    }

    /// Current size in pages (of this memory's page size).
    pub(crate) fn pages(&self) -> u64 {
        self.len() as u64 >> self.ty.page_size_log2
    }

    /// The largest size this memory may reach, in pages.
    pub(crate) fn max_pages(&self) -> u64 {
        let log2 = self.ty.page_size_log2;
        (self.ty.limits.max.unwrap_or(u64::MAX))
            .min(MAX_BYTES >> log2)
            .min((self.limit_pages * WASM_PAGE as u64) >> log2)
    }

    /// Grows by `delta` pages; returns the old size, or `None` when the
    /// maximum would be exceeded or the pages cannot be committed.
    ///
    /// The accessible range is whole pages of the system; with one-byte
    /// wasm pages it may end past `length`, which compiled code checks
    /// explicitly for such memories.
    pub(crate) fn grow(&self, delta: u64) -> Option<u64> {
        let _growing = self.growing.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages() {
            return None;
        }
        let new_len = (new << self.ty.page_size_log2) as usize;
        let (from, to) = (system_pages(self.len()), system_pages(new_len));
        if to > from {
            // SAFETY: the range lies inside this memory's reservation, past
            // the accessible part; making it accessible affects nothing else.
            let rc = unsafe {
                libc::mprotect(
                    self.def.base.add(from).cast(),
                    to - from,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc != 0 {
                return None;
            }
        }
        self.def.length.store(new_len, Ordering::Release);
        Some(old)
    }

    /// The current length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.def.length.load(Ordering::Acquire)
    }

    /// The accessible bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `length` bytes from `base` are mapped read-write.
        unsafe { std::slice::from_raw_parts(self.def.base, self.len()) }
    }

    /// The accessible bytes, mutably, through a shared reference.
    ///
    /// # Safety
    ///
    /// Nothing else may read or write the bytes while the slice lives.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn data_unshared_mut(&self) -> &mut [u8] {
        // SAFETY: `length` bytes from `base` are mapped read-write, and the
        // caller vouches that the slice is their only user.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.len()) }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        // SAFETY: the reservation came from `reserve` and dies with `self`.
        unsafe { release(self.def.base, system_pages(self.len()), self.reserved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::Limits;

    fn ty(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            limits: Limits { min, max },
            shared: false,
            memory64: false,
            page_size_log2: 16,
        }
    }

    #[test]
    fn grows_to_and_not_past_the_maximum() {
        let m = Memory::new(ty(1, Some(3)), MAX_PAGES, true).unwrap();
        assert_eq!(m.pages(), 1);
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 3);
        // SAFETY: the test owns the memory; no other slice of it lives.
        let bytes = unsafe { m.data_unshared_mut() };
        bytes[3 * WASM_PAGE - 1] = 7;
        assert_eq!(m.data()[3 * WASM_PAGE - 1], 7);
    }

    #[test]
    fn recycled_reservations_start_zeroed() {
        // Small memories are wiped in place, larger ones by the kernel.
        for i in 0..2 * POOL_CAPACITY {
            let pages = if i % 2 == 0 { 1 } else { 6 };
            let m = Memory::new(ty(pages, None), MAX_PAGES, true).unwrap();
            assert!(
                m.data().iter().all(|&b| b == 0),
                "fresh memory reads as zero"
            );
            assert_eq!(m.pages(), pages);
            // SAFETY: the test owns the memory; no other slice of it lives.
            unsafe { m.data_unshared_mut() }.fill(0xAB);
            assert_eq!(m.grow(1), Some(pages));
            // SAFETY: as above.
            unsafe { m.data_unshared_mut() }.fill(0xCD);
        }
    }
}
