//! Any bytes, as one or more messages of a conversation: a reply, never a panic.
#![no_main]

use imagebot_core::{answer, Assistant, Conversation};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static KB: LazyLock<Assistant> = LazyLock::new(|| Assistant::builtin().expect("built-in knowledge"));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut conv = Conversation::new();
    for line in text.split('\n').take(8) {
        let reply = answer(&KB, &mut conv, line);
        assert!((0.0..=1.0).contains(&reply.confidence));
        assert!(reply.suggestions.len() <= 3);
        let _ = reply.to_json();
    }
});
