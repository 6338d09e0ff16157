//! A problem found in a document set: where (file, document, field path) and why.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem. `document` is the 1-based position of the document in its file (absent for a
/// problem of the whole file); `path` is the field path inside the document, such as
/// `spec.principals[1]` (empty for the whole document).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    pub path: String,
    pub message: String,
}

impl Finding {
    pub fn error(
        file: &str,
        document: Option<usize>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: Severity::Error,
            file: file.to_owned(),
            document,
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn warning(
        file: &str,
        document: Option<usize>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(file, document, path, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    /// `FILE (document N) PATH: SEVERITY: MESSAGE`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(n) = self.document {
            write!(f, " (document {n})")?;
        }
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {severity}: {}", self.message)
    }
}
