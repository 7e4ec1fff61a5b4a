//! Linear memories.
//!
//! A 32-bit memory reserves its whole reachable range up front: any address
//! compiled code forms is `base + u32 index + u32 offset + access size`, so a
//! reservation of 8 GiB plus a guard page means every out-of-bounds access
//! lands on an inaccessible page and faults. The pages below the current
//! length are read-write; `grow` makes more of them so. The base never moves,
//! which lets compiled code keep it in a register.

use super::VMMemoryDefinition;
use crate::abi::MemoryType;

/// Bytes in a wasm page.
pub(crate) const WASM_PAGE: usize = 65536;
/// Pages a 32-bit memory can hold at most.
pub(crate) const MAX_PAGES: u64 = 65536;
/// Virtual bytes reserved per memory: index + offset + access size.
const RESERVATION: usize = (8 << 30) + WASM_PAGE;

/// One linear memory.
pub(crate) struct Memory {
    pub def: VMMemoryDefinition,
    pub ty: MemoryType,
}

// SAFETY: the memory is owned by one store; the raw base pointer refers to a
// private mapping that moves with the `Memory`.
unsafe impl Send for Memory {}

impl Memory {
    /// Reserves address space and makes the initial pages accessible.
    pub(crate) fn new(ty: MemoryType) -> Result<Memory, String> {
        if ty.limits.min > MAX_PAGES {
            return Err(format!(
                "memory minimum of {} pages is over 65536",
                ty.limits.min
            ));
        }
        // SAFETY: a fresh anonymous, inaccessible mapping; no existing memory
        // is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!(
                "cannot reserve {} GiB of address space for a linear memory",
                RESERVATION >> 30
            ));
        }
        let mut memory = Memory {
            def: VMMemoryDefinition {
                base: base.cast(),
                length: 0,
            },
            ty,
        };
        if memory.grow(ty.limits.min).is_none() {
            return Err("cannot commit the initial pages of a linear memory".into());
        }
        Ok(memory)
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.def.length / WASM_PAGE) as u64
    }

    /// The largest size this memory may reach, in pages.
    pub(crate) fn max_pages(&self) -> u64 {
        self.ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES)
    }

    /// Grows by `delta` pages; returns the old size, or `None` when the
    /// maximum would be exceeded or the pages cannot be committed.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages() {
            return None;
        }
        if delta > 0 {
            // SAFETY: the range lies inside this memory's reservation, past
            // the accessible part; making it accessible affects nothing else.
            let rc = unsafe {
                libc::mprotect(
                    self.def.base.add(self.def.length).cast(),
                    delta as usize * WASM_PAGE,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc != 0 {
                return None;
            }
        }
        self.def.length = new as usize * WASM_PAGE;
        Some(old)
    }

    /// The accessible bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `length` bytes from `base` are mapped read-write.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.length) }
    }

    /// The accessible bytes, mutably.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: `length` bytes from `base` are mapped read-write and this
        // `&mut self` is the only handle to them here.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.length) }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the reservation made in `new`.
        unsafe {
            libc::munmap(self.def.base.cast(), RESERVATION);
        }
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
        }
    }

    #[test]
    fn grows_to_and_not_past_the_maximum() {
        let mut m = Memory::new(ty(1, Some(3))).unwrap();
        assert_eq!(m.pages(), 1);
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 3);
        m.data_mut()[3 * WASM_PAGE - 1] = 7;
        assert_eq!(m.data()[3 * WASM_PAGE - 1], 7);
    }
}
