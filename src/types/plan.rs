//! Plans and what each one allows, as the upstream guide documents them.

use super::open_enum::open_enum_serde;
use super::usage::Limit;
use crate::protocol::plans::{plan_facts, PlanFacts};

/// A Conferbot plan. Names decode case-insensitively; unknown plans are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Plan {
    /// No API access (see [`crate::protocol::plans`] for each plan's figures).
    Free,
    /// The entry plan with API access.
    Starter,
    /// Pro.
    Pro,
    /// Business.
    Business,
    /// Enterprise: unlimited calls.
    Enterprise,
    /// A plan this version does not know, as the server named it.
    Other(String),
}

impl Plan {
    /// The documented plans, cheapest first.
    pub const KNOWN: [Plan; 5] = [
        Plan::Free,
        Plan::Starter,
        Plan::Pro,
        Plan::Business,
        Plan::Enterprise,
    ];

    /// The plan's name as the server writes it (`"Starter"`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Free => "Free",
            Self::Starter => "Starter",
            Self::Pro => "Pro",
            Self::Business => "Business",
            Self::Enterprise => "Enterprise",
            Self::Other(raw) => raw,
        }
    }

    /// The plan named `raw` (any case); unknown names are kept as `Other`.
    pub fn from_name(raw: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|plan| plan.as_str().eq_ignore_ascii_case(raw))
            .unwrap_or_else(|| Self::Other(raw.to_owned()))
    }

    /// This plan's row of the plan table (`None` for a plan this version
    /// does not know).
    pub fn facts(&self) -> Option<&'static PlanFacts> {
        match self {
            Self::Other(_) => None,
            known => plan_facts(known.as_str()),
        }
    }

    /// Whether the plan may call the API at all (Free may not: `403`).
    /// Unknown plans are assumed to, as the server would refuse otherwise.
    pub fn has_api_access(&self) -> bool {
        self.facts().map_or(true, |facts| facts.api_access)
    }

    /// Monthly API calls allowed; `None` for a plan this version does not know.
    pub fn monthly_calls(&self) -> Option<Limit> {
        self.facts().map(|facts| facts.monthly_calls)
    }

    /// Webhooks allowed; `None` for a plan this version does not know.
    pub fn webhook_limit(&self) -> Option<u32> {
        self.facts().map(|facts| facts.webhooks)
    }
}

open_enum_serde!(Plan);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_limits() {
        let table: Vec<(Plan, Option<Limit>, Option<u32>)> = Plan::KNOWN
            .into_iter()
            .map(|p| (p.clone(), p.monthly_calls(), p.webhook_limit()))
            .collect();
        assert_eq!(
            table,
            vec![
                (Plan::Free, Some(Limit::Calls(0)), Some(0)),
                (Plan::Starter, Some(Limit::Calls(10_000)), Some(5)),
                (Plan::Pro, Some(Limit::Calls(50_000)), Some(15)),
                (Plan::Business, Some(Limit::Calls(200_000)), Some(50)),
                (Plan::Enterprise, Some(Limit::Unlimited), Some(999)),
            ]
        );
        assert!(!Plan::Free.has_api_access());
        assert!(Plan::Starter.has_api_access());
    }

    #[test]
    fn decodes_any_case_and_keeps_unknown_plans() {
        let plans: Vec<Plan> =
            serde_json::from_str(r#"["Starter","pro","ENTERPRISE","Growth"]"#).unwrap();
        assert_eq!(
            plans,
            vec![
                Plan::Starter,
                Plan::Pro,
                Plan::Enterprise,
                Plan::Other("Growth".into())
            ]
        );
        assert_eq!(
            serde_json::to_string(&plans).unwrap(),
            r#"["Starter","Pro","Enterprise","Growth"]"#
        );
        assert_eq!(Plan::Other("Growth".into()).monthly_calls(), None);
    }
}
