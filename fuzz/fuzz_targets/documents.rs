//! The document loader and validation: any bytes, as a document set (see the crate docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ecs_topology_fuzz::documents(data));
