//! The engine alone over a file of messages, one conversation, as `chat
//! --json` runs it: messages/s and the median time of one answer.
//!
//! usage: cargo run --release -p imagebot-core --example throughput -- FILE [REPEAT]

use imagebot_core::{answer, Assistant, Conversation};
use std::hint::black_box;
use std::time::Instant;

// The allocator the `imagebot` binary uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: throughput FILE [REPEAT]");
    let repeat: usize = args.next().map_or(3, |r| r.parse().expect("a number"));
    let text = std::fs::read_to_string(&path).expect("readable file");
    let messages: Vec<&str> = text.lines().collect();
    let bot = Assistant::builtin().expect("built-in knowledge");
    let mut each = Vec::with_capacity(messages.len() * repeat);
    let start = Instant::now();
    for _ in 0..repeat {
        let mut conv = Conversation::new();
        for m in &messages {
            let t = Instant::now();
            black_box(answer(&bot, &mut conv, m));
            each.push(t.elapsed());
        }
    }
    let total = start.elapsed();
    each.sort();
    let n = each.len();
    println!(
        "{n} answers in {:.1} ms: {:.0} messages/s; p50 {:.2} µs, p90 {:.2} µs, p99 {:.2} µs",
        total.as_secs_f64() * 1e3,
        n as f64 / total.as_secs_f64(),
        each[n / 2].as_secs_f64() * 1e6,
        each[n * 9 / 10].as_secs_f64() * 1e6,
        each[n * 99 / 100].as_secs_f64() * 1e6,
    );
}
