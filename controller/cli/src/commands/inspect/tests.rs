use super::*;

#[test]
fn a_kind_is_named_by_its_name_plural_or_short_name_in_any_case() {
    for kind in Kind::ALL {
        assert_eq!(kind_named(kind.as_str()), Some(kind));
        assert_eq!(kind_named(&kind.as_str().to_uppercase()), Some(kind));
        assert_eq!(kind_named(kind.plural()), Some(kind));
        for short in kind.short_names() {
            assert_eq!(kind_named(short), Some(kind));
        }
    }
    assert_eq!(kind_named("Namespaces"), None);
}

fn entry(last_transition_time: u64) -> Entry {
    Entry {
        key: "CloudMapNamespace/payments".into(),
        kind: "CloudMapNamespace".into(),
        name: "payments".into(),
        account: "111111111111".into(),
        region: "eu-west-1".into(),
        state: "Drifted".into(),
        conditions: vec![Condition {
            kind: "Drifted".into(),
            status: "True".into(),
            reason: "Drift".into(),
            message: "1 field(s) differ".into(),
            last_transition_time,
        }],
        drifted_fields: vec!["description".into()],
        last_error: None,
        aws: Default::default(),
    }
}

#[test]
fn the_age_is_of_the_last_condition_change_in_the_largest_fitting_unit() {
    let now = 1_000_000;
    for (ago, shown) in [
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (7199, "119m"),
        (7200, "2h"),
        (172_800, "2d"),
    ] {
        assert_eq!(age(&entry(now - ago), now), shown);
    }
}

#[test]
fn the_table_aligns_its_columns_and_wide_adds_the_state_and_why() {
    let e = entry(999_990);
    let text = table(&[&e], true, 1_000_000);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let column = |line: &str, word: &str| line.find(word).unwrap();
    assert_eq!(
        column(lines[0], "ACCOUNT"),
        column(lines[1], "111111111111")
    );
    assert!(lines[1].ends_with("Drifted   description"), "{}", lines[1]);
}
