//! Aggregation: summing regions into the level above them, one code path for
//! every layout. `--aggregate state` sums a state's counties (JHU US) into
//! one region per state; `--aggregate country` sums every row of a country
//! (the counties of the US, or the provinces of China in the global files)
//! into one region per country.
//!
//! The sum of cumulative series is taken day by day over the union of the
//! members' days: a member adds 0 before its first day and its last
//! reported value after its last (a cumulative count does not change
//! without a report). The aggregate's population is the sum of the members'
//! known populations; members without one ("Unassigned", cruise ships) add
//! their cases and deaths but no people. If no member has a population, the
//! aggregate has none.

use std::str::FromStr;

use super::{RegionKey, RegionSeries};

/// The level regions are summed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregate {
    /// One region per country and province/state: counties are summed.
    State,
    /// One region per country: provinces and counties are summed.
    Country,
}

impl Aggregate {
    /// The name as `--aggregate` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Aggregate::State => "state",
            Aggregate::Country => "country",
        }
    }

    /// The key of the aggregate `key` belongs to.
    pub fn key_of(self, key: &RegionKey) -> RegionKey {
        match self {
            Aggregate::State => RegionKey {
                country: key.country.clone(),
                province: key.province.clone(),
                county: None,
            },
            Aggregate::Country => RegionKey::country(&key.country),
        }
    }
}

impl FromStr for Aggregate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "state" | "province" => Ok(Aggregate::State),
            "country" => Ok(Aggregate::Country),
            other => Err(format!("'{other}' is not a level (state or country)")),
        }
    }
}

impl std::fmt::Display for Aggregate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Sums `regions` to `level`; the result is sorted by key. A region that is
/// alone in its aggregate and already at that level comes back unchanged.
pub fn aggregate(regions: Vec<RegionSeries>, level: Aggregate) -> Vec<RegionSeries> {
    let mut groups: std::collections::BTreeMap<RegionKey, Vec<RegionSeries>> =
        std::collections::BTreeMap::new();
    for r in regions {
        groups.entry(level.key_of(&r.key)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(key, mut members)| {
            if members.len() == 1 && members[0].key == key {
                return members.remove(0);
            }
            sum(key, &members)
        })
        .collect()
}

/// The day-by-day sum of `members` (see the module doc), as region `key`.
pub fn sum(key: RegionKey, members: &[RegionSeries]) -> RegionSeries {
    let first = members
        .iter()
        .filter_map(|m| m.dates.first())
        .min()
        .copied();
    let last = members.iter().filter_map(|m| m.dates.last()).max().copied();
    let (Some(first), Some(last)) = (first, last) else {
        return RegionSeries {
            key,
            dates: Vec::new(),
            cases: Vec::new(),
            deaths: Vec::new(),
            population: None,
            fips: None,
        };
    };
    let n = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
    let dates: Vec<_> = first.iter_days().take(n).collect();
    let mut cases = vec![0.0; n];
    let mut deaths = vec![0.0; n];
    for m in members {
        let Some(&start) = m.dates.first() else {
            continue;
        };
        // The reader guarantees consecutive days, so day i of the member is
        // day offset + i of the sum.
        let offset = usize::try_from((start - first).num_days()).unwrap_or(0);
        for (total, own) in [(&mut cases, &m.cases), (&mut deaths, &m.deaths)] {
            let after = own.last().copied().unwrap_or(0.0);
            for (j, t) in total.iter_mut().enumerate().skip(offset) {
                *t += own.get(j - offset).copied().unwrap_or(after);
            }
        }
    }
    let known: Vec<f64> = members
        .iter()
        .filter_map(|m| m.population.filter(|p| p.is_finite() && *p > 0.0))
        .collect();
    RegionSeries {
        key,
        dates,
        cases,
        deaths,
        population: (!known.is_empty()).then(|| known.iter().sum()),
        fips: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn series(key: RegionKey, day0: u32, cases: &[f64], population: Option<f64>) -> RegionSeries {
        let d0 = NaiveDate::from_ymd_opt(2020, 3, day0).unwrap();
        RegionSeries {
            key,
            dates: d0.iter_days().take(cases.len()).collect(),
            cases: cases.to_vec(),
            deaths: cases.iter().map(|c| c / 10.0).collect(),
            population,
            fips: Some("01001".into()),
        }
    }

    #[test]
    fn counties_sum_into_states_over_the_union_of_days() {
        let a = RegionKey::new("US", Some("Alabama"), Some("A"));
        let b = RegionKey::new("US", Some("Alabama"), Some("Unassigned"));
        let g = RegionKey::new("US", Some("Guam"), None);
        let out = aggregate(
            vec![
                series(a, 1, &[1.0, 2.0, 3.0], Some(100.0)),
                series(b, 2, &[10.0, 20.0], None),
                series(g.clone(), 1, &[5.0], Some(7.0)),
            ],
            Aggregate::State,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].key, RegionKey::new("US", Some("Alabama"), None));
        assert_eq!(out[0].cases, [1.0, 12.0, 23.0]);
        assert_eq!(out[0].deaths, [0.1, 1.2, 2.3]);
        assert_eq!(
            out[0].population,
            Some(100.0),
            "no population adds no people"
        );
        assert_eq!(out[0].fips, None);
        assert_eq!(out[1].key, g, "a state without counties is itself");
        assert_eq!(out[1].fips.as_deref(), Some("01001"));

        // A member that ends early carries its last value forward.
        let c = RegionKey::new("X", Some("P"), None);
        let d = RegionKey::new("X", Some("Q"), None);
        let out = aggregate(
            vec![
                series(c, 1, &[1.0, 2.0], None),
                series(d, 1, &[0.0, 1.0, 4.0], None),
            ],
            Aggregate::Country,
        );
        assert_eq!(out[0].key, RegionKey::country("X"));
        assert_eq!(out[0].cases, [1.0, 3.0, 6.0]);
        assert_eq!(out[0].population, None);
    }

    #[test]
    fn levels_parse_by_name() {
        assert_eq!("State".parse::<Aggregate>(), Ok(Aggregate::State));
        assert_eq!("country".parse::<Aggregate>(), Ok(Aggregate::Country));
        assert!("county".parse::<Aggregate>().is_err());
    }
}
