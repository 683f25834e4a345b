//! A knowledge base and the model compiled from it: what the engine answers with.

use crate::knowledge::{Knowledge, KnowledgeError, SourceFile};
use crate::nlu::Model;
use std::path::Path;

/// The knowledge and its compiled model, built once and shared (`Arc<Assistant>`)
/// by every conversation.
#[derive(Debug)]
pub struct Assistant {
    /// The knowledge, as written.
    pub kb: Knowledge,
    /// What is compiled from it for matching.
    pub model: Model,
}

impl Assistant {
    /// Compiles the model of a knowledge base.
    pub fn new(kb: Knowledge) -> Assistant {
        let model = Model::compile(&kb);
        Assistant { kb, model }
    }

    /// The knowledge built into the binary.
    pub fn builtin() -> Result<Assistant, KnowledgeError> {
        Knowledge::builtin().map(Assistant::new)
    }

    /// The knowledge in a folder.
    pub fn from_dir(dir: &Path) -> Result<Assistant, KnowledgeError> {
        Knowledge::from_dir(dir).map(Assistant::new)
    }

    /// The knowledge in a set of files (path relative to the folder, content).
    pub fn from_files(files: &[SourceFile]) -> Result<Assistant, KnowledgeError> {
        Knowledge::from_files(files).map(Assistant::new)
    }
}
