#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cloudmap;
mod ec2;
mod ecs;
mod lifecycle;
mod ram;
mod realism;
mod sts;
mod tagging;
