#![no_main]
use libfuzzer_sys::fuzz_target;

// The transcript file a customer hands to a dispute team: checked offline,
// every alert against the keys it carries. Whatever the file holds, the
// check must answer, never panic.
fuzz_target!(|data: &[u8]| {
    let _ = strongroom_client::transcript::verify_transcript(data);
});
