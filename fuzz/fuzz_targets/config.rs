//! The controller config parser: any bytes, as a config file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ecs_topology_fuzz::config(data));
