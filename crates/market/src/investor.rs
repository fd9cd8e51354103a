//! Who is trading: residency, individual or institution, professional status (reference
//! §6 position limits, §7.1 non-prefunding, §8 taxes, §9 foreign room).

use serde::{Deserialize, Serialize};

use crate::lot::PositionLimitClass;

/// Domestic or foreign investor (foreign buys consume foreign room, §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residency {
    /// Vietnamese investor.
    Domestic,
    /// Foreign investor.
    Foreign,
}

/// Individual or institution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestorKind {
    /// A natural person.
    Individual,
    /// A company, fund or other organisation.
    Institution,
}

/// The facts about an account holder that exchange rules depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvestorProfile {
    /// Domestic or foreign.
    pub residency: Residency,
    /// Individual or institution.
    pub kind: InvestorKind,
    /// Professional securities investor (higher futures position limit, §6).
    pub professional: bool,
    /// Foreign institution trading under non-prefunding (Circular 68/2024, §7.1): no full
    /// cash check at order entry.
    pub non_prefunding: bool,
}

impl InvestorProfile {
    /// A domestic individual, the common retail case.
    pub const DOMESTIC_INDIVIDUAL: InvestorProfile = InvestorProfile {
        residency: Residency::Domestic,
        kind: InvestorKind::Individual,
        professional: false,
        non_prefunding: false,
    };

    /// Whether the investor is foreign.
    pub const fn is_foreign(&self) -> bool {
        matches!(self.residency, Residency::Foreign)
    }

    /// The VSDC position-limit class (reference §6).
    pub const fn position_limit_class(&self) -> PositionLimitClass {
        if self.professional {
            PositionLimitClass::Professional
        } else {
            match self.kind {
                InvestorKind::Individual => PositionLimitClass::Individual,
                InvestorKind::Institution => PositionLimitClass::Institution,
            }
        }
    }

    /// Whether non-prefunding applies: only foreign institutions qualify (reference §7.1).
    pub const fn uses_non_prefunding(&self) -> bool {
        self.non_prefunding
            && matches!(self.residency, Residency::Foreign)
            && matches!(self.kind, InvestorKind::Institution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_limit_class_prefers_professional() {
        let mut p = InvestorProfile::DOMESTIC_INDIVIDUAL;
        assert_eq!(p.position_limit_class(), PositionLimitClass::Individual);
        p.kind = InvestorKind::Institution;
        assert_eq!(p.position_limit_class(), PositionLimitClass::Institution);
        p.professional = true;
        assert_eq!(p.position_limit_class(), PositionLimitClass::Professional);
    }

    #[test]
    fn only_foreign_institutions_get_non_prefunding() {
        let mut p = InvestorProfile {
            non_prefunding: true,
            ..InvestorProfile::DOMESTIC_INDIVIDUAL
        };
        assert!(!p.uses_non_prefunding());
        p.residency = Residency::Foreign;
        assert!(!p.uses_non_prefunding());
        p.kind = InvestorKind::Institution;
        assert!(p.uses_non_prefunding());
        assert!(p.is_foreign());
    }
}
