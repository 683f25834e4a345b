//! `answer` alone on the real knowledge: a mix of question kinds, each in a
//! fresh conversation, and a follow-up in an ongoing one.

use criterion::{criterion_group, criterion_main, Criterion};
use imagebot_core::{answer, Assistant, Conversation};
use std::hint::black_box;

const MIX: &[&str] = &[
    "什么是镜像？",
    "共享镜像安全吗",
    "自定义镜像每个地域最多几个？",
    "镜象怎么收废",
    "鏡像能匯入嗎？",
    "How much do marketplace images cost?",
    "waht is an imgae",
    "我的镜像坏了",
    "Docker 镜像仓库怎么搭建",
    "云服务器怎么退款",
];

fn bench(c: &mut Criterion) {
    let kb = Assistant::builtin().unwrap();
    c.bench_function("load_builtin_knowledge", |b| {
        b.iter(|| black_box(Assistant::builtin().unwrap()))
    });
    let mut g = c.benchmark_group("answer");
    for q in MIX {
        g.bench_function(*q, |b| {
            b.iter(|| black_box(answer(&kb, &mut Conversation::new(), black_box(q))))
        });
    }
    g.bench_function("mix of 10", |b| {
        b.iter(|| {
            for q in MIX {
                black_box(answer(&kb, &mut Conversation::new(), black_box(q)));
            }
        })
    });
    g.bench_function("follow-up 那共享镜像呢", |b| {
        let mut conv = Conversation::new();
        answer(&kb, &mut conv, "镜像如何计费？");
        b.iter(|| {
            let mut c = conv.clone();
            black_box(answer(&kb, &mut c, black_box("那共享镜像呢？")))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
