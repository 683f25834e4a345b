//! `answer` and load+index on a synthetic base of 10,000 extra topics
//! (benches/support/synth.rs), for the scaling targets: p99 answer <= 1 ms,
//! load+index <= 1 s.

#[path = "support/synth.rs"]
mod synth;

use criterion::{criterion_group, criterion_main, Criterion};
use imagebot_core::{answer, Assistant, Conversation};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("imagebot-bench-10k");
    let _ = std::fs::remove_dir_all(&dir);
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge");
    synth::generate(&real, &dir, 10_000, 42).expect("generate the synthetic base");
    let kb = Assistant::from_dir(&dir).expect("load");
    let qs = synth::questions(&dir, 10_000, 200);

    let mut g = c.benchmark_group("10k topics");
    g.sample_size(10).measurement_time(Duration::from_secs(12));
    g.bench_function("load+index", |b| {
        b.iter(|| black_box(Assistant::from_dir(&dir).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("10k topics answer");
    g.bench_function("mix of 200 questions", |b| {
        b.iter(|| {
            for q in &qs {
                black_box(answer(&kb, &mut Conversation::new(), q));
            }
        })
    });
    g.bench_function(
        "real question 自定义镜像每个地域最多几个",
        |b| {
            b.iter(|| {
                black_box(answer(
                    &kb,
                    &mut Conversation::new(),
                    black_box("自定义镜像每个地域最多几个？"),
                ))
            })
        },
    );
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
