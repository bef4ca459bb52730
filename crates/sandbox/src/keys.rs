//! API keys and the plans of their workspaces.
//!
//! Every key is its own workspace, so a test can show that one workspace
//! cannot see another's chatbots or webhooks. The built-in keys, one per
//! plan, exist in every sandbox; `--key KEY=PLAN` adds more.

use conferbot::Plan;

/// The built-in Free-plan key: authenticates, then `403` (no API access).
pub const FREE: &str = "sandbox-free-key";
/// The built-in Starter-plan key (10,000 calls a month, 5 webhooks).
pub const STARTER: &str = "sandbox-starter-key";
/// The built-in Pro-plan key (50,000 calls a month, 15 webhooks).
pub const PRO: &str = "sandbox-pro-key";
/// The built-in Business-plan key (200,000 calls a month, 50 webhooks).
pub const BUSINESS: &str = "sandbox-business-key";
/// The built-in Enterprise-plan key (unlimited calls, 999 webhooks).
pub const ENTERPRISE: &str = "sandbox-enterprise-key";

/// The built-in keys and their plans, cheapest plan first.
pub const DEFAULT_KEYS: [(&str, Plan); 5] = [
    (FREE, Plan::Free),
    (STARTER, Plan::Starter),
    (PRO, Plan::Pro),
    (BUSINESS, Plan::Business),
    (ENTERPRISE, Plan::Enterprise),
];

/// Parses a `--key KEY=PLAN` flag; the plan must be one of the documented ones.
pub fn parse_key_flag(raw: &str) -> Result<(String, Plan), String> {
    let (key, plan) = raw
        .split_once('=')
        .ok_or_else(|| format!("--key must look like KEY=PLAN, got {raw:?}"))?;
    let key = key.trim();
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "--key needs a non-empty key without spaces, got {raw:?}"
        ));
    }
    match Plan::from_name(plan.trim()) {
        Plan::Other(name) => Err(format!(
            "unknown plan {name:?}; plans: Free, Starter, Pro, Business, Enterprise"
        )),
        plan => Ok((key.to_owned(), plan)),
    }
}

/// One key and its workspace's plan; its position in [`KeyTable`] is its workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The `x-api-key` value.
    pub key: String,
    /// The workspace's plan.
    pub plan: Plan,
}

/// Every key the sandbox accepts, in a fixed order (built-ins, then extras).
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    entries: Vec<KeyEntry>,
}

impl KeyTable {
    /// The built-in keys plus `extra`; an extra key that repeats a key replaces its plan.
    pub fn new(extra: &[(String, Plan)]) -> Self {
        let mut entries: Vec<KeyEntry> = DEFAULT_KEYS
            .iter()
            .map(|(key, plan)| KeyEntry {
                key: (*key).to_owned(),
                plan: plan.clone(),
            })
            .collect();
        for (key, plan) in extra {
            match entries.iter_mut().find(|e| &e.key == key) {
                Some(entry) => entry.plan = plan.clone(),
                None => entries.push(KeyEntry {
                    key: key.clone(),
                    plan: plan.clone(),
                }),
            }
        }
        Self { entries }
    }

    /// The workspace index of `key`, if the key is known.
    pub fn workspace_of(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    /// The entry of workspace `index`.
    pub fn entry(&self, index: usize) -> Option<&KeyEntry> {
        self.entries.get(index)
    }

    /// Every entry, in workspace order.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_then_extras() {
        let table = KeyTable::new(&[("mine".into(), Plan::Pro), (FREE.into(), Plan::Business)]);
        assert_eq!(table.workspace_of(STARTER), Some(1));
        assert_eq!(table.workspace_of("mine"), Some(5));
        assert_eq!(table.entry(0).map(|e| e.plan.clone()), Some(Plan::Business));
        assert_eq!(table.workspace_of("nope"), None);
    }

    #[test]
    fn parses_key_flags() {
        assert_eq!(parse_key_flag("k1=pro"), Ok(("k1".to_owned(), Plan::Pro)));
        assert!(parse_key_flag("k1").is_err());
        assert!(parse_key_flag("=Pro").is_err());
        assert!(parse_key_flag("k1=Growth")
            .unwrap_err()
            .contains("unknown plan"));
    }
}
