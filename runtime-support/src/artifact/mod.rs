//! Loading artifacts: map the file, check the header, make the code
//! executable in place.
//!
//! Nothing is relocated and nothing is copied when loading from a file: the
//! text section was page-aligned and fully linked by the writer, so a private
//! mapping of the file plus one `mprotect` is all it takes.

mod error;
mod header;
mod registry;
mod source;
mod validate;

pub use error::ArtifactError;

pub(crate) use header::check_header;
pub(crate) use registry::lookup_pc;
pub(crate) use source::{ArtifactSource, Integrity};
use validate::validate_meta;

use crate::abi::{
    self, ArtifactHeader, CodeRange, ComponentMeta, DataIndex, DefinedFuncIndex, EntityRef,
    FuncIndex, ModuleMeta, TrapKind,
};
use memmap2::MmapMut;
use object::{Object, ObjectSection};
use std::ops::Range;
use std::sync::Arc;

/// A mapped artifact whose text section is executable. Shared by the core
/// modules it contains.
pub(crate) struct CodeMap {
    map: MmapMut,
    text: Range<usize>,
    data: Range<usize>,
    meta: Range<usize>,
    traps: Range<usize>,
}

// SAFETY: after loading, the mapping is only read (the text is executable and
// never written), so sharing it between threads is sound.
unsafe impl Send for CodeMap {}
// SAFETY: as above.
unsafe impl Sync for CodeMap {}

impl CodeMap {
    /// Maps the artifact, checks its integrity (unless `integrity` trusts
    /// it) and its header with `check`, and makes its text executable.
    ///
    /// # Safety
    ///
    /// As for [`ArtifactSource::map`].
    pub(crate) unsafe fn open(
        source: ArtifactSource<'_>,
        integrity: Integrity,
        check: impl FnOnce(&ArtifactHeader) -> Result<(), ArtifactError>,
    ) -> Result<Arc<CodeMap>, ArtifactError> {
        // SAFETY: forwarded to the caller.
        let map = unsafe { source.map() }?;
        if integrity == Integrity::Checked {
            check_integrity(&map)?;
        }
        let parsed = ParsedArtifact::parse(&map)?;
        check(&parsed.header)?;
        parsed.check_meta_digest()?;
        let (text, data, meta, traps) = (parsed.text, parsed.data, parsed.meta, parsed.traps);
        let code = CodeMap {
            map,
            text,
            data,
            meta,
            traps,
        };
        code.make_text_executable()?;
        Ok(Arc::new(code))
    }

    /// Decodes the metadata section.
    pub(crate) fn decode_meta<T: serde::de::DeserializeOwned>(&self) -> Result<T, ArtifactError> {
        postcard::from_bytes(&self.map[self.meta.clone()])
            .map_err(|e| ArtifactError::Corrupt(format!("unreadable metadata ({e})")))
    }

    fn make_text_executable(&self) -> Result<(), ArtifactError> {
        if self.text.is_empty() {
            return Ok(());
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let start = self.map.as_ptr() as usize + self.text.start;
        if !start.is_multiple_of(page) {
            return Err(ArtifactError::Corrupt(format!(
                "text section at file offset {:#x} is not aligned to the page size {page:#x}",
                self.text.start
            )));
        }
        // SAFETY: the range is inside our private mapping and page-aligned;
        // nothing in the runtime writes to the text after this point.
        let rc = unsafe {
            libc::mprotect(
                start as *mut libc::c_void,
                self.text.len(),
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if rc != 0 {
            return Err(ArtifactError::Corrupt(format!(
                "cannot make code executable: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(())
    }

    /// Size of the artifact in bytes.
    pub(crate) fn file_len(&self) -> usize {
        self.map.len()
    }
}

/// Fails unless `bytes` end with the integrity trailer of their contents.
pub(crate) fn check_integrity(bytes: &[u8]) -> Result<(), ArtifactError> {
    match abi::integrity_problem(bytes) {
        None => Ok(()),
        Some(problem) => Err(ArtifactError::Corrupt(format!(
            "the file is damaged: {problem}; rebuild it"
        ))),
    }
}

/// One core module loaded from an artifact: its metadata and where its code
/// and data segments are in the (shared) mapping.
pub(crate) struct LoadedArtifact {
    code: Arc<CodeMap>,
    pub meta: ModuleMeta,
    text: Range<usize>,
    data: Range<usize>,
    /// The module's trap table in the mapping.
    traps: Range<usize>,
}

impl LoadedArtifact {
    /// The core module that is the whole of a module artifact.
    pub(crate) fn whole(code: Arc<CodeMap>) -> Result<Box<LoadedArtifact>, ArtifactError> {
        let meta = code.decode_meta()?;
        let text = CodeRange {
            start: 0,
            len: code.text.len() as u32,
        };
        let data = CodeRange {
            start: 0,
            len: code.data.len() as u32,
        };
        LoadedArtifact::new_in(code, meta, text, data)
    }

    /// The module whose code is `text` and data is `data` (relative to the
    /// text and data sections) in `code`.
    pub(crate) fn new_in(
        code: Arc<CodeMap>,
        meta: ModuleMeta,
        text: CodeRange,
        data: CodeRange,
    ) -> Result<Box<LoadedArtifact>, ArtifactError> {
        let within = |r: CodeRange, section: &Range<usize>| {
            let start = section.start + r.start as usize;
            let end = start + r.len as usize;
            (end <= section.end).then_some(start..end)
        };
        let (Some(text), Some(data)) = (within(text, &code.text), within(data, &code.data)) else {
            return Err(ArtifactError::Corrupt(
                "a module's code or data lies outside its section".into(),
            ));
        };
        validate_meta(&meta, text.len(), data.len(), code.traps.len())?;
        let traps = code.traps.start + meta.traps.start as usize
            ..code.traps.start + meta.traps.start as usize + meta.traps.len();
        let artifact = Box::new(LoadedArtifact {
            code,
            meta,
            text,
            data,
            traps,
        });
        registry::register(&artifact);
        Ok(artifact)
    }

    /// Address of the first byte of code.
    pub(crate) fn text_base(&self) -> usize {
        self.code.map.as_ptr() as usize + self.text.start
    }

    /// Address range of the code.
    pub(crate) fn text_range(&self) -> Range<usize> {
        let base = self.text_base();
        base..base + self.text.len()
    }

    /// Size of the code in bytes.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The bytes of data segment `index` as written in the artifact.
    pub(crate) fn data_segment(&self, index: DataIndex) -> &[u8] {
        let seg = &self.meta.data[index];
        let start = self.data.start + seg.start as usize;
        &self.code.map[start..start + seg.len as usize]
    }

    /// The trap kind recorded for the instruction at text offset `offset`.
    pub(crate) fn trap_at(&self, offset: u32) -> Option<TrapKind> {
        TrapKind::from_u8(abi::TrapTable::lookup(
            &self.code.map[self.traps.clone()],
            offset,
        )?)
    }

    /// The defined function whose code contains text offset `offset`, as a
    /// function index.
    pub(crate) fn func_at(&self, offset: u32) -> Option<FuncIndex> {
        let code = self.meta.code.as_values_slice();
        let i = code.partition_point(|r| r.start <= offset).checked_sub(1)?;
        let r = code[i];
        (offset < r.start + r.len).then(|| self.meta.func_index(DefinedFuncIndex::new(i)))
    }

    /// Size of the artifact in bytes.
    pub(crate) fn file_len(&self) -> usize {
        self.code.file_len()
    }
}

impl Drop for LoadedArtifact {
    fn drop(&mut self) {
        registry::unregister(self);
    }
}

/// The sections of an artifact, located but not yet trusted.
pub(crate) struct ParsedArtifact<'a> {
    bytes: &'a [u8],
    pub header: ArtifactHeader,
    meta: Range<usize>,
    text: Range<usize>,
    data: Range<usize>,
    traps: Range<usize>,
    /// Every section's name and size, for `cmc inspect`.
    pub sections: Vec<(String, u64)>,
}

impl<'a> ParsedArtifact<'a> {
    /// Finds the sections and decodes the header.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<ParsedArtifact<'a>, ArtifactError> {
        let file =
            object::read::elf::ElfFile64::<object::Endianness>::parse(bytes).map_err(|e| {
                if bytes.starts_with(b"\x7fELF") {
                    ArtifactError::Corrupt(format!(
                        "unreadable ELF structure; is the file truncated? ({e})"
                    ))
                } else {
                    ArtifactError::NotAnArtifact(format!("not an ELF object ({e})"))
                }
            })?;
        let section = |name: &str| -> Result<Range<usize>, ArtifactError> {
            let s = file
                .section_by_name(name)
                .ok_or_else(|| ArtifactError::NotAnArtifact(format!("no `{name}` section")))?;
            let (off, len) = s.file_range().unwrap_or((0, 0));
            let (off, len) = (off as usize, len as usize);
            if off.checked_add(len).is_none_or(|end| end > bytes.len()) {
                return Err(ArtifactError::Corrupt(format!(
                    "section `{name}` extends past the end of the file (truncated?)"
                )));
            }
            Ok(off..off + len)
        };
        let header_range = section(abi::HEADER_SECTION)?;
        let header: ArtifactHeader = postcard::from_bytes(&bytes[header_range])
            .map_err(|e| ArtifactError::NotAnArtifact(format!("unreadable header ({e})")))?;
        let sections = file
            .sections()
            .filter_map(|s| Some((s.name().ok()?.to_owned(), s.size())))
            .filter(|(name, _)| !name.is_empty())
            .collect();
        Ok(ParsedArtifact {
            bytes,
            header,
            meta: section(abi::META_SECTION)?,
            text: section(abi::TEXT_SECTION)?,
            data: section(abi::DATA_SECTION)?,
            traps: section(abi::TRAPS_SECTION)?,
            sections,
        })
    }

    /// Fails unless the metadata section is the one the header's digest
    /// was taken of.
    pub(crate) fn check_meta_digest(&self) -> Result<(), ArtifactError> {
        if abi::meta_digest(&self.bytes[self.meta.clone()]) == self.header.meta_digest {
            Ok(())
        } else {
            Err(ArtifactError::Corrupt(
                "the metadata is not the one its header recorded (changed after the build)".into(),
            ))
        }
    }

    /// Decodes a core module's metadata and checks it against the sections.
    pub(crate) fn meta(&self) -> Result<ModuleMeta, ArtifactError> {
        let meta: ModuleMeta = self.decode_meta()?;
        validate_meta(&meta, self.text.len(), self.data.len(), self.traps.len())?;
        Ok(meta)
    }

    /// Decodes a component's metadata and checks every core module in it
    /// against the sections, as [`ParsedArtifact::meta`] does for a module.
    pub(crate) fn component_meta(&self) -> Result<ComponentMeta, ArtifactError> {
        let meta: ComponentMeta = self.decode_meta()?;
        let fits = |r: CodeRange, section: usize| r.start as usize + r.len as usize <= section;
        for image in meta.modules.values() {
            if !fits(image.text, self.text.len()) || !fits(image.data, self.data.len()) {
                return Err(ArtifactError::Corrupt(
                    "a module's code or data lies outside its section".into(),
                ));
            }
            validate_meta(
                &image.meta,
                image.text.len as usize,
                image.data.len as usize,
                self.traps.len(),
            )?;
        }
        Ok(meta)
    }

    fn decode_meta<T: serde::de::DeserializeOwned>(&self) -> Result<T, ArtifactError> {
        postcard::from_bytes(&self.bytes[self.meta.clone()])
            .map_err(|e| ArtifactError::Corrupt(format!("unreadable metadata ({e})")))
    }
}
