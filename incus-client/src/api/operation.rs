//! Background operations (`/1.0/operations`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `api.Operation`. `status_code`: 103 running, 105 pending, 200 success, 400 failure,
/// 401 cancelled.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Operation {
    pub id: String,
    pub class: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub status: String,
    pub status_code: u16,
    /// Affected objects by kind, e.g. `{"instances": ["/1.0/instances/c1"]}`.
    pub resources: BTreeMap<String, Vec<String>>,
    /// Operation-specific data (exec: `fds`, `return`, `output`).
    pub metadata: Value,
    pub may_cancel: bool,
    pub err: String,
    pub location: String,
}

impl Operation {
    pub fn is_running(&self) -> bool {
        matches!(self.status_code, 100 | 103 | 105 | 106 | 107)
    }
    pub fn is_success(&self) -> bool {
        self.status_code == 200
    }
    /// Failure (400) or cancelled (401).
    pub fn is_failed(&self) -> bool {
        self.status_code >= 400
    }
}
