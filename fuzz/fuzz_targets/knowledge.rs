//! Any bytes as a knowledge file (one topic, or one of the root files, in
//! turn): the loader returns the knowledge or located problems, never panics.
#![no_main]

use imagebot::knowledge::{builtin_files, Knowledge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest).into_owned();
    let mut files = builtin_files();
    let i = which as usize % files.len();
    files[i].text = text;
    match Knowledge::from_files(&files) {
        Ok(kb) => {
            let _ = imagebot::answer(&kb, &mut imagebot::Conversation::new(), "镜像如何计费？");
        }
        Err(e) => assert!(!e.problems.is_empty()),
    }
});
