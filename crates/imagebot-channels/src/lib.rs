//! imagebot-channels: the front ends. I/O and rendering only; every one
//! calls the same engine (`imagebot_core::answer`) and records through the
//! same recorder.
//!
//! - [`cli`]: `ask`, `chat`, `check`, `eval`;
//! - [`http`]: the HTTP API and the web chat page;
//! - [`telegram`]: the Telegram bot;
//! - [`reload`]: live knowledge reloads; [`ratelimit`]: token buckets;
//!   durations are parsed by `imagebot_records::duration`.

pub mod cli;
pub mod http;
pub mod ratelimit;
pub mod reload;
pub mod telegram;
pub mod terminal;
