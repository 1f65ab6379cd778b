#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trustroot_fuzz_targets::yubikey_attestation(data));
