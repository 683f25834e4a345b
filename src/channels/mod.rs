//! Front ends: I/O and rendering only; every one calls the same engine.

pub mod cli;
pub mod http;
pub mod ratelimit;
pub mod reload;
pub mod telegram;
