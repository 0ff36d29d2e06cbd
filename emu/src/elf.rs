//! Loading the firmware ELF: PT_LOAD segments at their load (physical) addresses, so
//! initialised data lands where the start-up code copies it from, and the symbol table for
//! tests and figures. Bad input is an error, never a panic.

use elf::endian::AnyEndian;
use elf::ElfBytes;

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("cannot parse the ELF: {0}")]
    Parse(String),
    #[error("not an MSP430 ELF (e_machine {0})")]
    Machine(u16),
    #[error("segment at 0x{addr:x} of {len} bytes lies outside the 64 KB address space")]
    Range { addr: u64, len: u64 },
    #[error("segment at 0x{addr:x} of {len} bytes is outside the information and main flash memory")]
    NotFlash { addr: u64, len: u64 },
}

/// EM_MSP430.
const EM_MSP430: u16 = 105;

/// The loadable bytes and symbols of an ELF.
#[derive(Clone, Debug, Default)]
pub struct Image {
    /// (address, bytes) of every PT_LOAD segment with file contents.
    pub segments: Vec<(u16, Vec<u8>)>,
    /// (name, value, size) of every symbol with a name.
    pub symbols: Vec<(String, u32, u32)>,
}

impl Image {
    pub fn parse(data: &[u8]) -> Result<Image, ElfError> {
        let file = ElfBytes::<AnyEndian>::minimal_parse(data).map_err(|e| ElfError::Parse(e.to_string()))?;
        if file.ehdr.e_machine != EM_MSP430 {
            return Err(ElfError::Machine(file.ehdr.e_machine));
        }
        // Allocated sections with contents, as file ranges: a PT_LOAD segment that holds none
        // of them (lld maps the ELF and program headers in one) is not part of the image.
        let sections: Vec<(u64, u64)> = file
            .section_headers()
            .map(|shs| {
                shs.iter()
                    .filter(|sh| sh.sh_flags & elf::abi::SHF_ALLOC as u64 != 0 && sh.sh_type != elf::abi::SHT_NOBITS)
                    .map(|sh| (sh.sh_offset, sh.sh_size))
                    .collect()
            })
            .unwrap_or_default();
        let mut segments = Vec::new();
        if let Some(phdrs) = file.segments() {
            for ph in phdrs.iter() {
                if ph.p_type != elf::abi::PT_LOAD || ph.p_filesz == 0 {
                    continue;
                }
                let holds_section = sections
                    .iter()
                    .any(|&(off, size)| size > 0 && off >= ph.p_offset && off + size <= ph.p_offset + ph.p_filesz);
                if !holds_section {
                    continue;
                }
                let (addr, len) = (ph.p_paddr, ph.p_filesz);
                if addr.checked_add(len).is_none_or(|end| end > 0x1_0000) {
                    return Err(ElfError::Range { addr, len });
                }
                let in_info = addr >= 0x1000 && addr + len <= 0x1100;
                let in_main = addr >= 0xC000;
                if !in_info && !in_main {
                    return Err(ElfError::NotFlash { addr, len });
                }
                let bytes = file.segment_data(&ph).map_err(|e| ElfError::Parse(e.to_string()))?;
                if bytes.len() as u64 != len {
                    return Err(ElfError::Parse("segment data truncated".into()));
                }
                segments.push((addr as u16, bytes.to_vec()));
            }
        }
        let mut symbols = Vec::new();
        if let Ok(Some((syms, strs))) = file.symbol_table() {
            for s in syms.iter() {
                if let Ok(name) = strs.get(s.st_name as usize) {
                    if !name.is_empty() {
                        symbols.push((name.to_string(), s.st_value as u32, s.st_size as u32));
                    }
                }
            }
        }
        Ok(Image { segments, symbols })
    }

    /// The value of a symbol.
    pub fn symbol(&self, name: &str) -> Option<u16> {
        self.symbols.iter().find(|s| s.0 == name).map(|s| s.1 as u16)
    }
}
