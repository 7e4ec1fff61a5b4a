//! The guest's linear memory as preview1 functions see it: every pointer
//! and length the guest passes is checked here before the host touches a
//! byte.
//!
//! **Review with care**: this is the one place guest addresses become host
//! slices. A pointer or range that leaves the memory, or a value that is
//! not aligned to its type, traps, as the witx documentation says and as
//! wasmtime (wiggle) does; it is never an errno, and never a host panic.
//! Address arithmetic is done in `u64`, so no `ptr + len` can wrap. Guest
//! bytes are read and written in place: a huge length costs the host no
//! allocation.

use super::errno::{Fail, P1Result};
use cmc_runtime::Error;

/// A little-endian scalar of the witx ABI, read and written at its natural
/// alignment.
pub(crate) trait Scalar: Copy {
    /// Its size, which is also its alignment.
    const SIZE: usize;
    fn from_le(bytes: &[u8]) -> Self;
    fn to_le(self, bytes: &mut [u8]);
}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(bytes: &[u8]) -> $t {
                let mut le = [0; std::mem::size_of::<$t>()];
                le.copy_from_slice(&bytes[..Self::SIZE]);
                <$t>::from_le_bytes(le)
            }
            fn to_le(self, bytes: &mut [u8]) {
                bytes[..Self::SIZE].copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

scalars!(u8, u16, u32, u64);

/// A record of the witx ABI (`fdstat`, `event`, …) as its `N` bytes, with
/// fields at the offsets its layout gives them. The offsets are the
/// host's constants, so a wrong one is a bug of the host caught by tests.
#[derive(Debug)]
pub(crate) struct Record<const N: usize>(pub [u8; N]);

impl<const N: usize> Record<N> {
    pub(crate) fn zeroed() -> Record<N> {
        Record([0; N])
    }

    /// Sets the field at `offset`.
    pub(crate) fn put<V: Scalar>(mut self, offset: usize, v: V) -> Record<N> {
        v.to_le(&mut self.0[offset..offset + V::SIZE]);
        self
    }

    /// The field at `offset`.
    pub(crate) fn get<V: Scalar>(&self, offset: usize) -> V {
        V::from_le(&self.0[offset..offset + V::SIZE])
    }
}

/// The memory of the instance that called.
pub(crate) struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    /// The host range of `len` bytes at `ptr` (an address the guest
    /// computed, possibly in `u64` from an array index), aligned to
    /// `align`, or a trap.
    fn range(&self, ptr: u64, len: u64, align: u64) -> P1Result<std::ops::Range<usize>> {
        let end = ptr
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len() as u64);
        let Some(end) = end else {
            return Err(trap(format!(
                "pointer out of bounds: {len} bytes at {ptr:#x} in a memory of {:#x} bytes",
                self.bytes.len()
            )));
        };
        if !ptr.is_multiple_of(align) {
            return Err(trap(format!(
                "pointer not aligned: {ptr:#x} is not a multiple of {align}"
            )));
        }
        // Both are at most the memory's length, a `usize`.
        Ok(ptr as usize..end as usize)
    }

    /// `len` bytes at `ptr`.
    pub(crate) fn bytes(&self, ptr: impl Into<u64>, len: impl Into<u64>) -> P1Result<&[u8]> {
        let r = self.range(ptr.into(), len.into(), 1)?;
        Ok(&self.bytes[r])
    }

    /// `len` bytes at `ptr`, to write.
    pub(crate) fn bytes_mut(
        &mut self,
        ptr: impl Into<u64>,
        len: impl Into<u64>,
    ) -> P1Result<&mut [u8]> {
        let r = self.range(ptr.into(), len.into(), 1)?;
        Ok(&mut self.bytes[r])
    }

    /// Writes `data` at `ptr` and returns the address after it.
    pub(crate) fn write_bytes(&mut self, ptr: u64, data: &[u8]) -> P1Result<u64> {
        self.bytes_mut(ptr, data.len() as u64)?
            .copy_from_slice(data);
        Ok(ptr + data.len() as u64)
    }

    /// The string of `len` bytes at `ptr`; one that is not UTF-8 is
    /// `ilseq`, as in wasmtime.
    pub(crate) fn str(&self, ptr: u32, len: u32) -> P1Result<&str> {
        std::str::from_utf8(self.bytes(ptr, len)?).map_err(|_| super::Errno::Ilseq.into())
    }

    /// The scalar at `ptr`.
    pub(crate) fn read<V: Scalar>(&self, ptr: impl Into<u64>) -> P1Result<V> {
        let size = V::SIZE as u64;
        let r = self.range(ptr.into(), size, size)?;
        Ok(V::from_le(&self.bytes[r]))
    }

    /// Writes the scalar `v` at `ptr`: how results reach the guest.
    pub(crate) fn write<V: Scalar>(&mut self, ptr: impl Into<u64>, v: V) -> P1Result<()> {
        let size = V::SIZE as u64;
        let r = self.range(ptr.into(), size, size)?;
        v.to_le(&mut self.bytes[r]);
        Ok(())
    }

    /// The record of `N` bytes aligned to `align` at `ptr`.
    pub(crate) fn read_record<const N: usize>(
        &self,
        ptr: impl Into<u64>,
        align: u64,
    ) -> P1Result<Record<N>> {
        let r = self.range(ptr.into(), N as u64, align)?;
        let mut record = Record::zeroed();
        record.0.copy_from_slice(&self.bytes[r]);
        Ok(record)
    }

    /// Writes `record`, aligned to `align`, at `ptr`.
    pub(crate) fn write_record<const N: usize>(
        &mut self,
        ptr: impl Into<u64>,
        align: u64,
        record: &Record<N>,
    ) -> P1Result<()> {
        let r = self.range(ptr.into(), N as u64, align)?;
        self.bytes[r].copy_from_slice(&record.0);
        Ok(())
    }

    /// The first buffer of an `iovec` or `ciovec` array (`len` pairs of
    /// pointer and length at `ptr`) that is not empty, or an empty one.
    /// Like wasmtime, preview1 reads and writes one buffer per call (a
    /// short transfer the guest's libc continues), and reads the array only
    /// as far as that buffer: an array running past the memory's end traps
    /// only if the host has to look there.
    pub(crate) fn first_buffer(&self, ptr: u32, len: u32) -> P1Result<(u32, u32)> {
        for i in 0..u64::from(len) {
            let at = u64::from(ptr) + i * IOVEC_SIZE;
            let (buf, buf_len) = (self.read::<u32>(at)?, self.read::<u32>(at + 4)?);
            if buf_len != 0 {
                return Ok((buf, buf_len));
            }
        }
        Ok((0, 0))
    }
}

/// The size of an `iovec` or `ciovec`: a pointer and a length.
const IOVEC_SIZE: u64 = 8;

/// A trap for the guest's misuse of its memory.
fn trap(message: String) -> Fail {
    Fail::Trap(Error::host(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traps<T: std::fmt::Debug>(r: P1Result<T>) -> String {
        match r {
            Err(Fail::Trap(e)) => e.to_string(),
            other => panic!("expected a trap, got {other:?}"),
        }
    }

    #[test]
    fn ranges_past_the_end_trap_without_wrapping() {
        let mut bytes = [0u8; 16];
        let mem = GuestMemory::new(&mut bytes);
        assert!(mem.bytes(8u32, 8u32).is_ok());
        assert!(mem.bytes(16u32, 0u32).is_ok());
        assert!(traps(mem.bytes(9u32, 8u32)).contains("out of bounds"));
        assert!(traps(mem.bytes(u32::MAX, 2u32)).contains("out of bounds"));
        assert!(traps(mem.bytes(17u32, 0u32)).contains("out of bounds"));
        assert!(traps(mem.read::<u64>(u64::MAX - 3)).contains("out of bounds"));
    }

    #[test]
    fn scalars_are_little_endian_and_aligned() {
        let mut bytes = [0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        mem.write::<u32>(4u32, 0x0102_0304u32).unwrap();
        assert_eq!(mem.read::<u32>(4u32).unwrap(), 0x0102_0304);
        assert_eq!(mem.read::<u8>(4u32).unwrap(), 4);
        assert!(traps(mem.write::<u32>(2u32, 1u32)).contains("not aligned"));
        assert!(traps(mem.read::<u64>(4u32)).contains("not aligned"));
        assert!(mem.write::<u16>(14u32, 7).is_ok());
    }

    #[test]
    fn strings_that_are_not_utf8_are_ilseq() {
        let mut bytes = *b"ok\xff";
        let mem = GuestMemory::new(&mut bytes);
        assert_eq!(mem.str(0, 2).unwrap(), "ok");
        assert!(matches!(
            mem.str(0, 3),
            Err(Fail::Errno(super::super::Errno::Ilseq))
        ));
    }

    #[test]
    fn the_first_buffer_skips_empty_ones_and_reads_no_further() {
        let mut bytes = [0u8; 24];
        let mut mem = GuestMemory::new(&mut bytes);
        // [(ptr 0, len 0), (ptr 20, len 3)] at 4, and a claimed length of
        // a million entries, most beyond the memory.
        mem.write::<u32>(12u32, 20u32).unwrap();
        mem.write::<u32>(16u32, 3u32).unwrap();
        assert_eq!(mem.first_buffer(4, 1_000_000).unwrap(), (20, 3));
        assert_eq!(mem.first_buffer(4, 1).unwrap(), (0, 0));
        assert!(traps(mem.first_buffer(20, 2)).contains("out of bounds"));
        assert!(traps(mem.first_buffer(2, 1)).contains("not aligned"));
    }

    #[test]
    fn records_keep_their_fields_at_their_offsets() {
        let r = Record::<16>::zeroed().put::<u8>(0, 3).put::<u64>(8, 9);
        assert_eq!(r.get::<u8>(0), 3);
        assert_eq!(r.get::<u64>(8), 9);
        let mut bytes = [0u8; 32];
        let mut mem = GuestMemory::new(&mut bytes);
        mem.write_record(8u32, 8, &r).unwrap();
        assert_eq!(mem.read::<u64>(16u32).unwrap(), 9);
        assert!(traps(mem.write_record(4u32, 8, &r)).contains("not aligned"));
        assert!(traps(mem.read_record::<16>(24u32, 8)).contains("out of bounds"));
    }
}
