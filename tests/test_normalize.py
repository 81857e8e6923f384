from stiqa.normalize import (
    Mapped,
    fix_vertical_glyphs,
    has_extraction_faults,
    map_chars,
    normalize_query,
)


def test_kangxi_and_supplement_radicals_become_ordinary_kanji():
    # ⼤ ⽂ ⽅ are Kangxi radicals (NFKC fixes them); ⻑ ⺠ ⻄ are supplement forms (NFKC does not).
    assert map_chars("⼤学の⽂部科学省、⼀⽅").text == "大学の文部科学省、一方"
    assert map_chars("機構⻑、国⺠、関⻄").text == "機構長、国民、関西"


def test_kangxi_black_is_the_japanese_form():
    assert map_chars("⽬⿊").text == "目黒"  # NFKC alone would give 黑


def test_private_use_bullets_are_dropped_and_offsets_kept():
    raw = "\uf06c 科学技術"
    m = map_chars(raw, base=100)
    assert m.text == " 科学技術"
    assert [raw[i - 100] for i in m.src] == list(" 科学技術")


def test_full_width_forms_fold_but_circled_numbers_stay():
    assert map_chars("２０２４年（予定）：①").text == "2024年(予定):①"


def test_every_repaired_character_points_into_the_original(doc_text):
    m = map_chars(doc_text[:2000])
    assert len(m.text) == len(m.src)
    assert all(0 <= i < 2000 for i in m.src)
    assert m.src == sorted(m.src)


def test_vertical_glyphs_are_repaired_next_to_japanese_only():
    m = fix_vertical_glyphs(map_chars("研究成果भ活用भञीभ体制प関घॊ法律"))
    assert m.text == "研究成果の活用のための体制に関する法律"
    # Real Devanagari text is left alone.
    assert fix_vertical_glyphs(map_chars("भारत")).text == "भारत"


def test_mapped_span_and_join():
    a, b = Mapped("ab", [3, 4]), Mapped("cd", [9, 10])
    joined = Mapped.join([a, b], "\n")
    assert joined.text == "ab\ncd"
    assert joined.span() == (3, 11)
    assert joined.slice(3, 5).span() == (9, 11)


def test_queries_get_the_document_rules():
    assert normalize_query("  ⼤学ファンド　の　支援  ") == "大学ファンド の 支援"
    assert normalize_query("２０２５年度") == "2025年度"


def test_fault_detector():
    assert has_extraction_faults("⼤学")
    assert has_extraction_faults("\uf06c項目")
    assert has_extraction_faults("研究भ")
    assert not has_extraction_faults("大学の研究")
