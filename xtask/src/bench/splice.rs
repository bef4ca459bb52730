//! `--only`: the sections re-measured replace theirs in the `BENCHMARKS.md`
//! already there, which keeps every other section of its own run (and says
//! which sections come from which run), instead of a file with only them.

use std::collections::BTreeMap;

/// `old` (the file there) with the sections `titles` of `new` (a file
/// written for those sections alone by `command` on `date`).
pub fn splice(old: &str, new: &str, titles: &[&str], command: &str, date: &str) -> String {
    let old_blocks = blocks(old);
    let new_blocks = blocks(new);
    let mut out = String::new();
    if let Some((_, preamble)) = old_blocks.first() {
        out.push_str(preamble.trim_end());
        // Which machine re-measured: the table below is the full run's, and
        // a machine of the same kind can be another CPU (and speed).
        let machine = match (cpu(&new_blocks), cpu(&old_blocks)) {
            (Some(new), Some(old)) if new == old => {
                format!("on a machine with the same CPU ({new})")
            }
            (Some(new), _) => format!("on a machine whose CPU is {new}, not the one below"),
            (None, _) => "on a machine not described".to_owned(),
        };
        out.push_str(&format!(
            "\n\nRe-measured since, by `{command}` on {date} {machine}: {}. Its targets replace theirs below.\n\n",
            titles.join(", ")
        ));
    }
    let heading_of = |(heading, _): &(String, String)| heading.clone();
    let mut sections: BTreeMap<u32, String> = BTreeMap::new();
    for (heading, body) in &old_blocks {
        if heading == "Machine" {
            out.push_str(&format!("## {heading}\n{body}"));
        }
    }
    let mut targets: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (source, keep) in [(&old_blocks, false), (&new_blocks, true)] {
        for block in source.iter() {
            let heading = heading_of(block);
            if heading == "Targets" {
                for row in block.1.lines().filter(|l| {
                    l.starts_with("| ") && !l.starts_with("| section") && !l.starts_with("| ---")
                }) {
                    let title = row
                        .trim_start_matches("| ")
                        .split(" | ")
                        .next()
                        .unwrap_or_default();
                    if titles.contains(&title) == keep {
                        targets
                            .entry(number(title))
                            .or_default()
                            .push(row.to_owned());
                    }
                }
            } else if number(&heading) < u32::MAX && titles.contains(&heading.as_str()) == keep {
                sections.insert(number(&heading), format!("## {heading}\n{}", block.1));
            }
        }
    }
    out.push_str("## Targets\n\n| section | measure | ours | peer | ratio | target | met |\n| --- | --- | --- | --- | --- | --- | --- |\n");
    for rows in targets.values() {
        for row in rows {
            out.push_str(row);
            out.push('\n');
        }
    }
    for section in sections.values() {
        out.push('\n');
        out.push_str(section.trim_end());
        out.push('\n');
    }
    out
}

/// The file as (heading, text) blocks, split at `## ` headings; the first
/// block (the preamble) has an empty heading.
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = vec![(String::new(), String::new())];
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            blocks.push((heading.trim().to_owned(), String::new()));
        } else if let Some((_, body)) = blocks.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks
}

/// The CPU row of a file's `Machine` block.
fn cpu(blocks: &[(String, String)]) -> Option<String> {
    let (_, body) = blocks.iter().find(|(heading, _)| heading == "Machine")?;
    body.lines().find_map(|line| {
        line.strip_prefix("| CPU | ")
            .map(|rest| rest.trim_end_matches(" |").trim().to_owned())
    })
}

/// The number of a section title (`11. Quota over a day` → 11).
fn number(title: &str) -> u32 {
    title
        .split('.')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "# Benchmarks\n\nWritten by x.\n\n## Machine\n\n| CPU | a |\n\n## Targets\n\n| section | measure | ours | peer | ratio | target | met |\n| --- | --- | --- | --- | --- | --- | --- |\n| 1. A | m | 1 | 2 | 0.5× | t | met |\n| 2. B | m | 1 | 2 | 0.5× | t | met |\n\n## 1. A\n\nintro A\n\n## 2. B\n\nold B\n";
    const NEW: &str = "# Benchmarks\n\nWritten by y.\n\n## Machine\n\n| CPU | b |\n\n## Targets\n\n| section | measure | ours | peer | ratio | target | met |\n| --- | --- | --- | --- | --- | --- | --- |\n| 2. B | m | 3 | 4 | 0.75× | t | **missed** |\n\n## 2. B\n\nnew B\n";

    #[test]
    fn re_measured_sections_replace_theirs_and_the_rest_stays() {
        let out = splice(OLD, NEW, &["2. B"], "cargo xtask bench --only b", "today");
        assert!(out.starts_with("# Benchmarks\n\nWritten by x.\n\nRe-measured since, by `cargo xtask bench --only b` on today on a machine whose CPU is b, not the one below"));
        assert!(out.contains("| CPU | a |"));
        assert!(out.contains("| 1. A | m | 1 | 2 |") && out.contains("| 2. B | m | 3 | 4 |"));
        assert!(!out.contains("| 2. B | m | 1 | 2 |"));
        assert!(out.contains("## 1. A\n\nintro A") && out.contains("## 2. B\n\nnew B"));
        assert!(!out.contains("old B"));
        assert!(out.find("## 1. A").unwrap() < out.find("## 2. B").unwrap());
    }
}
