//! Where in a knowledge file something is, for error messages.

/// "line L, column C" (both from 1) of a byte offset in a file.
pub fn line_column(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        assert_eq!(line_column("a = 1\n镜像 = 2", 0), "line 1, column 1");
        assert_eq!(
            line_column("a = 1\n镜像 = 2", 6 + "镜像".len()),
            "line 2, column 3"
        );
        assert_eq!(line_column("x", 99), "line 1, column 2");
    }
}
