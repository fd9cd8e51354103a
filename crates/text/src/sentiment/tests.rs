use super::*;

const EN: &str = "term\tvalence\ngood\t1.9\nprofit\t1.5\nloss\t-2.0\nlosses\t-2.0\nbeats estimates\t2.5\nplunge\t-3.0\nrise\t1.0\nfall\t-1.0\n";
const VI: &str = "term\tvalence\ntốt\t1.9\nlợi nhuận\t1.5\nlỗ\t-2.0\ntăng\t1.5\ngiảm\t-1.5\ntăng trần\t3.0\nđạt kế hoạch\t1.8\nmạnh\t1.0\n";
const MODIFIERS: &str = "lang\tterm\tkind\tweight\nen\tnot\tnegate\t0\nen\tfails to\tnegate\t0\nen\tsharply\tboost\t0.5\nen\tbut\tcontrast\t0\nvi\tkhông\tnegate\t0\nvi\tlắm\tboost\t0.5\nvi\trất\tboost\t0.5\nvi\thơi\tdampen\t-0.4\nvi\tnhưng\tcontrast\t0\n";

fn lexicon() -> Lexicon {
    Lexicon::parse(EN, VI, MODIFIERS).unwrap()
}

fn compound(text: &str, lang: Lang) -> f64 {
    lexicon().score(text, lang).compound
}

#[test]
fn vietnamese_words_are_cut_by_longest_match() {
    assert_eq!(
        lexicon().segment("HPG tăng trần, lợi nhuận đạt kế hoạch", Lang::Vi),
        ["hpg", "tăng trần", ",", "lợi nhuận", "đạt kế hoạch"]
    );
}

#[test]
fn polarity_follows_the_words() {
    assert!(compound("Record profit, a good quarter", Lang::En) > 0.3);
    assert!(compound("Shares plunge after the loss", Lang::En) < -0.3);
    assert_eq!(
        lexicon().score("AGM on 25 April", Lang::En).label,
        Label::Neutral
    );
}

#[test]
fn a_negation_flips_and_damps() {
    let plain = compound("lợi nhuận đạt kế hoạch", Lang::Vi);
    let negated = compound("lợi nhuận không đạt kế hoạch", Lang::Vi);
    assert!(plain > 0.0 && negated < plain);
    let hits = lexicon().score("không đạt kế hoạch", Lang::Vi).hits;
    assert_eq!(hits.len(), 1);
    assert!((hits[0].valence - 1.8 * NEGATION).abs() < 1e-12);
    assert!(compound("It is not good", Lang::En) < 0.0);
    assert!(compound("The bank fails to beats estimates", Lang::En) < 0.0);
}

#[test]
fn vietnamese_boosters_before_or_after_the_word_scale_it() {
    let plain = lexicon().score("tốt", Lang::Vi).hits[0].valence;
    let after = lexicon().score("tốt lắm", Lang::Vi).hits[0].valence;
    let before = lexicon().score("rất tốt", Lang::Vi).hits[0].valence;
    let mild = lexicon().score("hơi tốt", Lang::Vi).hits[0].valence;
    assert!((after - plain * 1.5).abs() < 1e-12, "{after} {plain}");
    assert!((before - plain * 1.5).abs() < 1e-12, "{before} {plain}");
    assert!((mild - plain * 0.6).abs() < 1e-12, "{mild} {plain}");
}

#[test]
fn an_english_booster_before_the_word_scales_it() {
    let plain = lexicon().score("profits fall", Lang::En);
    let sharp = lexicon().score("profits fall sharply", Lang::En);
    assert_eq!(plain.hits.len(), 2);
    // English boosters only look back: `sharply` after `fall` does nothing
    assert_eq!(plain.compound, sharp.compound);
    let before = lexicon().score("a sharply good year", Lang::En).hits;
    assert!((before[0].valence - 1.9 * 1.5).abs() < 1e-12);
}

#[test]
fn a_direction_next_to_a_burden_counts_for_the_burden() {
    // losses are bad, a fall is bad, but losses falling is good
    assert!(compound("losses fall", Lang::En) > 0.0);
    assert!(compound("losses rise", Lang::En) < 0.0);
    assert!(compound("lỗ giảm", Lang::Vi) > 0.0);
    assert!(compound("lỗ tăng", Lang::Vi) < 0.0);
    assert_eq!(lexicon().score("lỗ giảm", Lang::Vi).hits.len(), 1);
}

#[test]
fn what_follows_a_contrast_counts_more() {
    let s = lexicon().score("lợi nhuận tăng nhưng lỗ", Lang::Vi);
    assert!(s.compound < 0.0, "{s:?}");
}

#[test]
fn unknown_languages_are_read_as_english() {
    assert_eq!(
        lexicon().score("good", Lang::Other).compound,
        lexicon().score("good", Lang::En).compound
    );
}

#[test]
fn inflected_english_words_find_their_stem() {
    assert!(compound("shares plunged", Lang::En) < 0.0);
    assert!(compound("shares plunging", Lang::En) < 0.0);
}

#[test]
fn intensity_grows_with_charged_words_whatever_their_direction() {
    let calm = lexicon().score("good", Lang::En).intensity;
    let charged = lexicon()
        .score("good profit but plunge loss", Lang::En)
        .intensity;
    assert!(calm > 0.0 && charged > calm && charged < 1.0);
    assert_eq!(lexicon().score("AGM", Lang::En).intensity, 0.0);
}

#[test]
fn a_headline_weighted_twice_counts_twice() {
    let once = lexicon().score_parts(&[("good", 1.0)], Lang::En);
    let twice = lexicon().score_parts(&[("good", 2.0)], Lang::En);
    assert!((twice.positive - 2.0 * once.positive).abs() < 1e-12);
}

#[test]
fn bad_lexicon_lines_are_named() {
    let e = Lexicon::parse("term\tvalence\ngood\tlots\n", VI, MODIFIERS).unwrap_err();
    assert_eq!(
        e.to_string(),
        "en.tsv line 2: valence \"lots\" is not a number"
    );
    let e = Lexicon::parse(EN, "term\tvalence\ntốt\t9\n", MODIFIERS).unwrap_err();
    assert!(e.to_string().starts_with("vi.tsv line 2: valence 9"), "{e}");
    let e = Lexicon::parse(EN, VI, "lang\tterm\tkind\tweight\nfr\tpas\tnegate\t0\n").unwrap_err();
    assert!(e.to_string().contains("language \"fr\""), "{e}");
    let e = Lexicon::parse(EN, VI, "lang\tterm\tkind\tweight\nen\tvery\tboost\n").unwrap_err();
    assert!(e.to_string().contains("expected 4"), "{e}");
}

#[test]
fn labels_have_a_neutral_band() {
    assert_eq!(Label::of(0.3, 0.05), Label::Positive);
    assert_eq!(Label::of(-0.3, 0.05), Label::Negative);
    assert_eq!(Label::of(0.04, 0.05), Label::Neutral);
    for l in [Label::Negative, Label::Neutral, Label::Positive] {
        assert_eq!(Label::parse(l.as_str()), Some(l));
    }
}
