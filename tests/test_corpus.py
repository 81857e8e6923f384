import pytest

from stiqa.corpus import repair_document
from stiqa.ingest import read_bytes
from stiqa.normalize import has_extraction_faults


@pytest.fixture(scope="module")
def repaired(doc_text):
    return repair_document("sti-policy-2024.txt", read_bytes(doc_text.encode("utf-8"), "sti-policy-2024.txt"))


def unit_texts(page):
    return [u.text.text for u in page.units]


def test_fourteen_slides(repaired):
    doc, pages = repaired
    assert len(doc.pages) == 14
    assert [p.page.number for p in pages] == list(range(1, 15))


def test_titles_found_even_when_not_first(repaired):
    _, pages = repaired
    titles = {p.page.number: p.page.title for p in pages}
    assert titles[1] == "1.我が国の科学技術・イノベーションを取り巻く情勢"
    assert titles[3] == "3.統合イノベーション戦略2024に向けた方向性"  # fifth line of slide 3
    assert titles[9] == "(参考) 農業・食料イノベーションの強化"  # after two paragraphs
    # A header of another slide run into the title line is not part of it.
    assert titles[4] == "(参考)能登半島地震における研究開発成果の活用等"


def test_lines_broken_mid_sentence_are_joined(repaired):
    _, pages = repaired
    texts = unit_texts(pages[0])
    assert any(
        t.startswith("科学技術・イノベーションは、") and t.endswith("その重要性が一層増している。")
        for t in texts
    )
    # A wrapped katakana word and a wrapped list item.
    assert "量子・AI融合技術ビジネス開発グローバル研究センター(G-QuAT)設立" in unit_texts(pages[1])


def test_table_rows_stay_apart(repaired):
    _, pages = repaired
    texts = unit_texts(pages[0])
    assert "米国2位" in texts and "中国1位" in texts


def test_vertical_text_is_read_as_one_line(repaired):
    _, pages = repaired
    text = pages[9].page.text
    assert "国際卓越研究大学の研究及び研究成果の活用のための体制の強化に関する法律" in text
    assert "令和4年5月18日成立・11月15日施行" in text


def test_no_extraction_faults_survive(repaired):
    doc, _ = repaired
    for page in doc.pages:
        assert not has_extraction_faults(page.text), page.number


def test_page_offsets_point_into_the_original(repaired, doc_text):
    _, pages = repaired
    for p in pages:
        for u in p.units:
            assert len(u.text.text) == len(u.text.src)
            assert all(0 <= i < len(doc_text) for i in u.text.src)
        assert doc_text[p.page.start:p.page.end].strip()


