//! The plan table of the Getting Started guide: monthly API calls and
//! webhooks per plan. [`crate::Plan`] answers from it, the sandbox's keys and
//! quotas follow it, and the npm package exports it.

use crate::types::Limit;

/// One row of the plan table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanFacts {
    /// The plan's name as the server writes it (`"Starter"`).
    pub name: &'static str,
    /// Monthly API calls (`Calls(0)` for Free, which has no API access).
    pub monthly_calls: Limit,
    /// Webhooks a workspace may register.
    pub webhooks: u32,
    /// Whether the plan may call the API at all (Free may not: `403`).
    pub api_access: bool,
}

/// The documented plans, cheapest first.
pub const PLAN_TABLE: [PlanFacts; 5] = [
    PlanFacts {
        name: "Free",
        monthly_calls: Limit::Calls(0),
        webhooks: 0,
        api_access: false,
    },
    PlanFacts {
        name: "Starter",
        monthly_calls: Limit::Calls(10_000),
        webhooks: 5,
        api_access: true,
    },
    PlanFacts {
        name: "Pro",
        monthly_calls: Limit::Calls(50_000),
        webhooks: 15,
        api_access: true,
    },
    PlanFacts {
        name: "Business",
        monthly_calls: Limit::Calls(200_000),
        webhooks: 50,
        api_access: true,
    },
    PlanFacts {
        name: "Enterprise",
        monthly_calls: Limit::Unlimited,
        webhooks: 999,
        api_access: true,
    },
];

/// The row of the plan named `name` (any case), if it is documented.
pub fn plan_facts(name: &str) -> Option<&'static PlanFacts> {
    PLAN_TABLE
        .iter()
        .find(|row| row.name.eq_ignore_ascii_case(name))
}
