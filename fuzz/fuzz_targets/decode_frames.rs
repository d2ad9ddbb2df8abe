#![no_main]
use libfuzzer_sys::fuzz_target;
use strongroom_core::protocol::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::decode_frames(data);
});
