//! The scaling table: load+index time, memory and answer latency on the real
//! knowledge and on synthetic bases of 1,000 and 10,000 extra topics.
//!
//!     cargo run --release -p imagebot-core --example scale [-- 1000 10000]

#[path = "../benches/support/synth.rs"]
mod synth;

use imagebot_core::{answer, Assistant, Conversation};
use std::path::Path;
use std::time::Instant;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![0, 1000, 10000]
    } else {
        sizes
    };
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge");
    println!("| extra topics | topics | load+index (median of 3) | memory (RSS growth) | answer p50 | answer p99 |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let dir = std::env::temp_dir().join(format!("imagebot-scale-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        synth::generate(&real, &dir, n, 42).expect("generate");
        let mut loads = Vec::new();
        let before = rss_kib();
        let mut kb = Assistant::from_dir(&dir).expect("load");
        for _ in 0..3 {
            drop(kb);
            let t = Instant::now();
            kb = Assistant::from_dir(&dir).expect("load");
            loads.push(t.elapsed().as_secs_f64());
        }
        let grown = rss_kib().saturating_sub(before);
        loads.sort_by(f64::total_cmp);
        let qs = synth::questions(&dir, n, 2000);
        let mut lat = Vec::with_capacity(qs.len() * 5);
        for _ in 0..5 {
            for q in &qs {
                let t = Instant::now();
                std::hint::black_box(answer(&kb, &mut Conversation::new(), q));
                lat.push(t.elapsed().as_secs_f64());
            }
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "| {n} | {} | {:.0} ms | {:.1} MB | {:.1} µs | {:.1} µs |",
            kb.kb.topics.len(),
            loads[1] * 1000.0,
            grown as f64 / 1024.0,
            percentile(&lat, 0.5) * 1e6,
            percentile(&lat, 0.99) * 1e6
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
