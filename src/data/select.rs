//! Matching region names as users type them against a data set's regions:
//! the one matcher behind `fit --country`, `batch --countries`,
//! `backtest --countries` and the population lookup's case folding.
//!
//! Names are compared after trimming and Unicode lower-casing
//! ([`fold`]), so "CÔTE D'IVOIRE" is "Côte d'Ivoire" everywhere (ASCII
//! folding in one place and Unicode in another made a non-ASCII name fit
//! alone but be "unknown" in a batch). A name has up to three levels,
//! `Country/Province/County`; `*` at a level matches every name there.
//! A name without `*` stands for its region if the data has that very
//! region; otherwise for every region below it (a country with provinces
//! only, such as China in the JHU files, stands for all its provinces).
//! What a command does with several regions is its own business: a batch
//! fits each, a single fit fits their sum.

use super::RegionKey;

/// A name folded for comparison: trimmed and lower-cased by Unicode's rules.
pub fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Whether two names are the same region name, case-insensitively.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim() == b.trim() || fold(a) == fold(b)
}

/// Indices of the `keys` that the name `parts` (from the country down;
/// `None` is "no name at this level") stands for: the region itself when
/// the data has it and no part is `*`, else every region below it. Empty
/// when nothing matches or there are more than three parts.
pub fn matching(keys: &[RegionKey], parts: &[Option<&str>]) -> Vec<usize> {
    if parts.is_empty() || parts.len() > 3 {
        return Vec::new();
    }
    let level_ok = |level: Option<&str>, part: Option<&str>| match (level, part) {
        (Some(_), Some("*")) => true,
        (Some(l), Some(p)) => same_name(l, p),
        (None, None) => true,
        _ => false,
    };
    let below = |k: &RegionKey| {
        k.levels()
            .iter()
            .zip(parts)
            .all(|(level, part)| level_ok(*level, *part))
    };
    let exact = |k: &RegionKey| below(k) && k.levels()[parts.len()..].iter().all(Option::is_none);
    let pick = |f: &dyn Fn(&RegionKey) -> bool| -> Vec<usize> {
        keys.iter()
            .enumerate()
            .filter(|(_, k)| f(k))
            .map(|(i, _)| i)
            .collect()
    };
    if !parts.contains(&Some("*")) {
        let hit = pick(&exact);
        if !hit.is_empty() {
            return hit;
        }
    }
    pick(&below)
}

/// [`matching`] for one typed name, `Country/Province/County` split at `/`.
pub fn matching_name(keys: &[RegionKey], name: &str) -> Vec<usize> {
    let parts: Vec<Option<&str>> = name.split('/').map(|p| Some(p.trim())).collect();
    matching(keys, &parts)
}

/// A comma-separated list of names (`"Italy,Korea, South,China/Hubei"`) as
/// indices into `keys`, in the order given, without repeats; an unknown
/// name comes back as `Err(name)`.
///
/// Country names may hold commas themselves ("Korea, South"), so at each
/// position the longest run of pieces that names a region wins.
pub fn select_list(keys: &[RegionKey], list: &str) -> Result<Vec<usize>, String> {
    let pieces: Vec<&str> = list.split(',').collect();
    let mut out: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if pieces[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let found = (1..=pieces.len() - i)
            .rev()
            .map(|len| (len, matching_name(keys, &pieces[i..i + len].join(","))))
            .find(|(_, idx)| !idx.is_empty());
        let Some((len, idx)) = found else {
            return Err(pieces[i].trim().to_string());
        };
        for j in idx {
            if !out.contains(&j) {
                out.push(j);
            }
        }
        i += len;
    }
    if out.is_empty() {
        return Err(list.trim().to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_case_folding_is_the_same_for_every_caller() {
        let keys = vec![
            RegionKey::country("Côte d'Ivoire"),
            RegionKey::new("Türkiye", Some("İstanbul"), None),
        ];
        // ASCII folding leaves 'Ô' and 'ô' apart.
        assert!(!"CÔTE D'IVOIRE".eq_ignore_ascii_case("Côte d'Ivoire"));
        assert_eq!(matching_name(&keys, "CÔTE D'IVOIRE"), [0]);
        assert_eq!(
            select_list(&keys, " côte d'ivoire ,TÜRKIYE").unwrap(),
            [0, 1]
        );
        assert!(same_name("ÅLAND", "åland"));
        assert!(!same_name("Åland", "Aland"));
    }

    #[test]
    fn a_name_is_its_region_or_everything_below_it() {
        let keys = vec![
            RegionKey::new("China", Some("Hubei"), None),
            RegionKey::new("China", Some("Jiangsu"), None),
            RegionKey::country("France"),
            RegionKey::new("France", Some("Réunion"), None),
        ];
        assert_eq!(matching_name(&keys, "china"), [0, 1]);
        assert_eq!(
            matching_name(&keys, "France"),
            [2],
            "the country row itself"
        );
        assert_eq!(matching_name(&keys, "France/*"), [3]);
        assert_eq!(matching(&keys, &[Some("France"), None]), [2]);
        assert!(matching_name(&keys, "a/b/c/d").is_empty());
    }
}
