//! The concepts each cell of the types table mentions, so an answer can add
//! a neighbouring cell when the asked-about fact lives there, or pick the one
//! type whose row alone holds it.

use super::analyze::analyze_terms;
use super::lexicon::Lexicon;
use crate::knowledge::{Attribute, Knowledge};

/// Per type, per [`Attribute`]: the concepts its cell's text (zh and en) mentions.
#[derive(Debug, Default)]
pub struct CellConcepts {
    cells: Vec<[Vec<usize>; 5]>,
}

impl CellConcepts {
    /// Analyzes every cell of every type.
    pub fn build(kb: &Knowledge, lexicon: &Lexicon) -> CellConcepts {
        let concepts_of = |text: &str| {
            let a = analyze_terms(kb, lexicon, text);
            (0..kb.concepts.len())
                .filter(|&c| a.has(c))
                .collect::<Vec<_>>()
        };
        let cells = kb
            .types
            .iter()
            .map(|ty| {
                Attribute::ALL.map(|a| match &ty.cells[a.index()] {
                    Some(cell) => {
                        let mut cs = concepts_of(&cell.zh);
                        cs.extend(concepts_of(&cell.en));
                        cs.sort_unstable();
                        cs.dedup();
                        cs
                    }
                    None => Vec::new(),
                })
            })
            .collect();
        CellConcepts { cells }
    }

    /// The concepts of one type's cell.
    pub fn of(&self, ty: usize, attr: Attribute) -> &[usize] {
        &self.cells[ty][attr.index()]
    }

    /// Does any cell of the type mention the concept?
    pub fn anywhere(&self, ty: usize, concept: usize) -> bool {
        self.cells[ty].iter().any(|cs| cs.contains(&concept))
    }
}
