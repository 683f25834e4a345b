//! Any bytes as a knowledge file (one topic, or one of the root files, in
//! turn): the loader returns the knowledge or located problems, never panics.
#![no_main]

use imagebot_core::knowledge::builtin_files;
use imagebot_core::Assistant;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest).into_owned();
    let mut files = builtin_files();
    let i = which as usize % files.len();
    files[i].text = text;
    match Assistant::from_files(&files) {
        Ok(kb) => {
            let _ = imagebot_core::answer(&kb, &mut imagebot_core::Conversation::new(), "镜像如何计费？");
        }
        Err(e) => assert!(!e.problems.is_empty()),
    }
});
