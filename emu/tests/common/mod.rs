//! Shared by the tests that run the release ELFs: where they are.
#![allow(dead_code)]

use std::path::PathBuf;

use ct_emu::fil::{self, Profile};

/// The release ELF of `profile` ([`fil::ci_elf_path`]).
pub fn elf_path(profile: &Profile) -> PathBuf {
    fil::ci_elf_path(profile)
}

pub fn elf(profile: &Profile) -> Vec<u8> {
    fil::ci_elf(profile).unwrap_or_else(|e| panic!("{e}"))
}
