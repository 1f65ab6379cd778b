#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trustroot_fuzz_targets::keyless_bundle(data));
