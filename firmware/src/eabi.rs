//! The MSP430 EABI helper symbols LLVM calls for multiplication, division and variable
//! 32-bit shifts (the G2553 has no hardware multiplier and compiler-builtins has no MSP430
//! versions). The arithmetic lives in `ct_firmware_logic::mspabi`, tested on the host; CI
//! checks in the disassembly that none of these calls itself.

use ct_firmware_logic::mspabi;

#[no_mangle]
pub extern "C" fn __mspabi_mpyi(a: u16, b: u16) -> u16 {
    mspabi::mpyi(a, b)
}

#[no_mangle]
pub extern "C" fn __mspabi_mpyl(a: u32, b: u32) -> u32 {
    mspabi::mpyl(a, b)
}

#[no_mangle]
pub extern "C" fn __mspabi_divu(n: u16, d: u16) -> u16 {
    mspabi::divmod_u16(n, d).0
}

#[no_mangle]
pub extern "C" fn __mspabi_remu(n: u16, d: u16) -> u16 {
    mspabi::divmod_u16(n, d).1
}

#[no_mangle]
pub extern "C" fn __mspabi_divi(n: i16, d: i16) -> i16 {
    mspabi::divmod_i16(n, d).0
}

#[no_mangle]
pub extern "C" fn __mspabi_remi(n: i16, d: i16) -> i16 {
    mspabi::divmod_i16(n, d).1
}

#[no_mangle]
pub extern "C" fn __mspabi_divul(n: u32, d: u32) -> u32 {
    mspabi::divmod_u32(n, d).0
}

#[no_mangle]
pub extern "C" fn __mspabi_remul(n: u32, d: u32) -> u32 {
    mspabi::divmod_u32(n, d).1
}

#[no_mangle]
pub extern "C" fn __mspabi_divli(n: i32, d: i32) -> i32 {
    mspabi::divmod_i32(n, d).0
}

#[no_mangle]
pub extern "C" fn __mspabi_remli(n: i32, d: i32) -> i32 {
    mspabi::divmod_i32(n, d).1
}

#[no_mangle]
pub extern "C" fn __mspabi_slll(x: u32, n: u16) -> u32 {
    mspabi::shl_u32(x, n)
}

#[no_mangle]
pub extern "C" fn __mspabi_srll(x: u32, n: u16) -> u32 {
    mspabi::shr_u32(x, n)
}

#[no_mangle]
pub extern "C" fn __mspabi_sral(x: i32, n: u16) -> i32 {
    mspabi::sar_i32(x, n)
}

#[no_mangle]
pub extern "C" fn __mspabi_slli(x: u16, n: u16) -> u16 {
    mspabi::shl_u16(x, n)
}

#[no_mangle]
pub extern "C" fn __mspabi_srli(x: u16, n: u16) -> u16 {
    mspabi::shr_u16(x, n)
}

#[no_mangle]
pub extern "C" fn __mspabi_srai(x: i16, n: u16) -> i16 {
    mspabi::sar_i16(x, n)
}
