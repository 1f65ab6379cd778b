#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trustroot_fuzz_targets::trusted_set_chain(data));
