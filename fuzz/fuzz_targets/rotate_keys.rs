#![no_main]
use libfuzzer_sys::fuzz_target;
use strongroom_core::protocol::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        fuzzing::rotate_keys(text);
    }
});
