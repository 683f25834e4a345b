//! Writes a synthetic knowledge base: the real knowledge plus N topics.
//!
//!     cargo run --release -p imagebot-core --example gen_kb -- 10000 /tmp/kb10k

#[path = "../benches/support/synth.rs"]
mod synth;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let out = args
        .next()
        .unwrap_or_else(|| format!("/tmp/imagebot-kb-{n}"));
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge");
    if let Err(e) = synth::generate(&real, std::path::Path::new(&out), n, 42) {
        eprintln!("gen_kb: cannot write {out}: {e}");
        std::process::exit(1);
    }
    println!("wrote {} topics to {out}", n + 17);
}
