//! The catalogue check the test command runs: every language has every file,
//! every message and every attribute English has (and nothing English
//! lacks), no syntax error, no id twice, and a translation uses only values
//! the code passes (the English message's variables).

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Message id (or `id.attribute`) → the variables its text uses.
type Messages = BTreeMap<String, BTreeSet<String>>;

fn locales() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("locales")
}

fn variables_in(pattern: &Pattern<&str>, out: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            variables_in_expression(expression, out);
        }
    }
}

fn variables_in_expression(expression: &Expression<&str>, out: &mut BTreeSet<String>) {
    match expression {
        Expression::Select { selector, variants } => {
            variables_in_inline(selector, out);
            for v in variants {
                variables_in(&v.value, out);
            }
        }
        Expression::Inline(inline) => variables_in_inline(inline, out),
    }
}

fn variables_in_inline(inline: &InlineExpression<&str>, out: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => variables_in_expression(expression, out),
        InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                variables_in_inline(a, out);
            }
        }
        _ => {}
    }
}

/// One file's messages, or what is wrong with it.
fn read(path: &Path) -> Result<Messages, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let resource = fluent_syntax::parser::parse(text.as_str()).map_err(|(_, errors)| {
        format!(
            "{}: {} syntax error(s): {errors:?}",
            path.display(),
            errors.len()
        )
    })?;
    let mut messages = Messages::new();
    for entry in &resource.body {
        let (id, value, attributes) = match entry {
            Entry::Message(m) => (m.id.name.to_owned(), m.value.as_ref(), &m.attributes),
            Entry::Term(t) => (format!("-{}", t.id.name), Some(&t.value), &t.attributes),
            Entry::Junk { content } => {
                return Err(format!("{}: cannot parse {content:?}", path.display()));
            }
            _ => continue,
        };
        let mut vars = BTreeSet::new();
        if let Some(v) = value {
            variables_in(v, &mut vars);
        }
        if messages.insert(id.clone(), vars).is_some() {
            return Err(format!("{}: {id} is defined twice", path.display()));
        }
        for a in attributes {
            let mut vars = BTreeSet::new();
            variables_in(&a.value, &mut vars);
            messages.insert(format!("{id}.{}", a.id.name), vars);
        }
    }
    Ok(messages)
}

fn files(root: &Path, lang: &str) -> BTreeSet<String> {
    std::fs::read_dir(root.join(lang))
        .expect("the language's folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ftl"))
        .collect()
}

/// Everything wrong with the catalogues under `root` (`root/<lang>/*.ftl`).
fn problems(root: &Path) -> Vec<String> {
    let english = files(root, "en");
    let mut problems = Vec::new();
    for lang in ["de", "fr"] {
        let theirs = files(root, lang);
        for missing in english.difference(&theirs) {
            problems.push(format!("{lang}: the file {missing} is missing"));
        }
        for extra in theirs.difference(&english) {
            problems.push(format!("{lang}: {extra} has no English original"));
        }
    }
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for file in &english {
        let mut by_lang = BTreeMap::new();
        for lang in ["en", "de", "fr"] {
            match read(&root.join(lang).join(file)) {
                Ok(m) => {
                    for id in m.keys() {
                        if let Some(other) =
                            seen.insert((lang.to_owned(), id.clone()), file.clone())
                        {
                            problems.push(format!("{lang}: {id} is in both {other} and {file}"));
                        }
                    }
                    by_lang.insert(lang, m);
                }
                Err(e) => problems.push(e),
            }
        }
        let Some(en) = by_lang.get("en") else {
            continue;
        };
        for lang in ["de", "fr"] {
            let Some(theirs) = by_lang.get(lang) else {
                continue;
            };
            for (id, vars) in en {
                match theirs.get(id) {
                    None => problems.push(format!("{lang}/{file}: lacks {id}")),
                    Some(v) if !v.is_subset(vars) => problems.push(format!(
                        "{lang}/{file}: {id} uses {:?}, which the code does not pass",
                        v.difference(vars).collect::<Vec<_>>()
                    )),
                    Some(_) => {}
                }
            }
            for id in theirs.keys().filter(|id| !en.contains_key(*id)) {
                problems.push(format!("{lang}/{file}: {id} is not in English"));
            }
        }
    }
    problems
}

#[test]
fn every_language_has_every_message_english_has_and_no_other() {
    let english = files(&locales(), "en");
    assert!(
        english.len() >= 5,
        "the English catalogues are there: {english:?}"
    );
    let problems = problems(&locales());
    assert!(
        problems.is_empty(),
        "catalogue problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_catches_a_missing_message() {
    // The check above must be able to fail: a gap, a stray message, a
    // value the code does not pass and a syntax error are each reported.
    let root = std::env::temp_dir().join(format!("l10n-check-{}", std::process::id()));
    for lang in ["en", "de", "fr"] {
        std::fs::create_dir_all(root.join(lang)).expect("temp dir");
    }
    std::fs::write(root.join("en/a.ftl"), "a = A\nb = B { $n }\n").expect("write");
    std::fs::write(root.join("de/a.ftl"), "a = A\nb = B { $m }\n").expect("write");
    std::fs::write(root.join("fr/a.ftl"), "a = A\nc = C\n").expect("write");
    let found = problems(&root).join("\n");
    assert!(found.contains("fr/a.ftl: lacks b"), "{found}");
    assert!(found.contains("fr/a.ftl: c is not in English"), "{found}");
    assert!(found.contains("de/a.ftl: b uses [\"m\"]"), "{found}");
    std::fs::write(root.join("de/a.ftl"), "a = {\n").expect("write");
    assert!(
        problems(&root).join("\n").contains("de/a.ftl"),
        "a syntax error is reported"
    );
    let _ = std::fs::remove_dir_all(&root);
}
