//! The reset handler.
//!
//! msp430-rt links its prebuilt start-up object only for the exact target name
//! `msp430-none-elf`, and that object could not be linked by lld anyway (its
//! `.word _ebss - _sbss` needs `R_MSP430_SYM_DIFF` relocations, which lld rejects). So the
//! firmware brings its own: set the stack pointer, run `PreInit` (msp430-rt's empty default),
//! zero `.bss`, copy `.data` from flash, jump to `main`. The loops compare against the linker
//! symbols as immediates and copy through a register, because LLVM's MSP430 assembler has no
//! memory-to-indexed byte move with post-increment.
//!
//! The watchdog keeps running from the PUC default (SMCLK / 32768, about 30 ms at the
//! uncalibrated DCO); this takes well under 1 ms for the ~330 bytes of RAM, and `main`
//! reconfigures the watchdog first thing.

core::arch::global_asm!(
    r#"
    .section .Reset, "ax"
    .global Reset
    .type Reset, %function
Reset:
    mov #_stack_start, r1
    call #PreInit
    mov #_sbss, r4
1:
    cmp #_ebss, r4
    jhs 2f
    clr.b 0(r4)
    inc r4
    jmp 1b
2:
    mov #_sdata, r4
    mov #_sidata, r5
3:
    cmp #_edata, r4
    jhs 4f
    mov.b @r5+, r6
    mov.b r6, 0(r4)
    inc r4
    jmp 3b
4:
    br #main
"#
);
