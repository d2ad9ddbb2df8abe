#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strongroom_gateway::fuzzing::tls_server(data);
});
