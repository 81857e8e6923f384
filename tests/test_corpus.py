import pytest

from stiqa.ingest import read_bytes
from stiqa.ingest.layout import repair_document, unspaced
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




def _doc(text: str, name: str = "minutes.txt"):
    return repair_document(name, read_bytes(text.encode("utf-8"), name))


MINUTES = (
    "法制審議会\n商法（運送関係）部会\n第３回会議　議事録\n\n"
    "第１　日　時　　令和５年４月１２日（水）\n"
    "第２　場　所　　第一会議室\n\n"
    "議　　　　事\n"
    "○山田部会長　それでは、予定した時刻になりましたので、部会の第３回会議を開会いたします。\n"
    "○佐藤幹事　事務当局から資料について御説明いたします。\n"
)


def test_a_document_title_is_its_first_short_lines():
    doc, _ = _doc(MINUTES)
    assert doc.title == "法制審議会 商法(運送関係)部会 第3回会議 議事録"
    assert doc.date == "2023-04-12"


def test_page_numbers_are_not_a_title():
    doc, _ = _doc("- 1 -\n部会資料 ２\n論点の検討（１）\n第１　総論\n本文の一文である。\n")
    assert doc.title == "部会資料 2 論点の検討(1)"


def test_a_document_opening_on_a_numbered_section_has_no_title():
    doc, pages = _doc("１．我が国の情勢\n\n科学技術は成長の原動力である。\n\n２．政策の方向\n\n研究を支える。\n")
    assert doc.title == ""
    assert pages[0].page.title.startswith("1.我が国の情勢")


def test_headings_by_the_numbering_of_japanese_documents():
    from stiqa.ingest.layout import heading_level

    assert heading_level("第1部 総論") == 1
    assert heading_level("第2章 新時代を迎えたAI") == 2
    assert heading_level("第1 電子船荷証券記録の名称") == 3
    assert heading_level("第15条 裏書") == 4
    assert heading_level("【甲案】") == 4
    assert heading_level("2 論点の検討順序") == 5
    assert heading_level("(3) 複数通発行について") == 6
    assert heading_level("ア 第3号について") == 7
    assert heading_level("1-2.英国") == 4  # a white paper's subsection under 第1節
    assert heading_level("第1-3-5表/博士トレーニングセンター採択拠点") == 8  # a caption, under every section
    assert heading_level("図2 コアデータモデルの全体像") == 8
    # Body text, meetings, tables of contents and figures are not headings.
    assert heading_level("第15回会議を開会いたします。") is None
    assert heading_level("第5 電子船荷証券記録の類型........38") is None
    assert heading_level("10 50,000") is None
    assert heading_level("10-12時に開催") is None
    assert heading_level("表1のとおり") is None


def test_running_heads_and_page_numbers_recur_and_are_dropped():
    topics = ["研究開発", "人材育成", "国際協力", "産学連携", "計算資源"]
    pages = [f"第1部 科学技術の変革{n}\n{t}について説明が続きます。\n- {n} -" for n, t in enumerate(topics, start=1)]
    doc, repaired = _doc("\f".join(pages), "paper.txt")
    texts = [u.text.text for page in repaired for u in page.units]
    assert texts == [f"{t}について説明が続きます。" for t in topics]


def test_a_chapter_tab_under_the_running_head_is_dropped_too():
    """A white paper's chapter tab, one glyph a line (第 / 3 / 章), sits under the running head
    and the page number: once those are found, the lines below them are looked at again."""
    topics = ["研究開発", "人材育成", "国際協力", "産学連携", "計算資源"]
    body = ["{}について説明が続きます。", "{}の予算は増えています。", "{}の計画を示します。", "{}の課題を述べます。"]
    pages = [
        "\n".join([f"第3章 AI関連研究開発の世界の動向\n{n}\n第\n3\n章"] + [b.format(t) for b in body])
        for n, t in enumerate(topics, 1)
    ]
    _, repaired = _doc("\f".join(pages), "paper.txt")
    assert [u.text.text for u in repaired[0].units] == [b.format(topics[0]) for b in body]


def test_a_short_heading_ends_its_line():
    """「1-4.ドイツ」 above 「ドイツは…」 is a heading, not the start of the sentence below it."""
    _, repaired = _doc("1-4.ドイツ\nドイツは2018年にAI戦略を策定しました。\n")
    assert [u.text.text for u in repaired[0].units] == ["1-4.ドイツ", "ドイツは2018年にAI戦略を策定しました。"]


def test_a_heading_line_is_not_joined_to_the_line_before():
    _, repaired = _doc("第２ 電子船荷証券記録を発行する場面の規律等\n１ 電子船荷証券記録を発行する場面の規律\n")
    assert [u.text.text for u in repaired[0].units] == [
        "第2 電子船荷証券記録を発行する場面の規律等", "1 電子船荷証券記録を発行する場面の規律"
    ]


def test_letter_spaced_titles_are_closed_up():
    from stiqa.ingest.layout import unspaced

    assert unspaced("法 制 審 議 会 令") == "法制審議会令"
    assert unspaced("AI の 活用") == "AI の 活用"


def test_letter_spaced_lines_are_closed_up_and_still_point_into_the_original():
    """A member list of justified cells: each name closed up for BM25 and the model, each
    character still at its place in the file; words with one space between them stay apart."""
    raw = "委員等名簿\n部会長\n東 京 大 学 大 学 院 法 学 政 治 学 研 究 科 教 授 藤 田 友 敬\n\n会場は東京 大阪の二か所です。\n"
    _, repaired = _doc(raw, "list.txt")
    units = [u.text for page in repaired for u in page.units]
    texts = [u.text for u in units]
    assert "東京大学大学院法学政治学研究科教授藤田友敬" in texts
    assert "会場は東京 大阪の二か所です。" in texts
    closed = units[texts.index("東京大学大学院法学政治学研究科教授藤田友敬")]
    assert "".join(raw[i] for i in closed.src) == closed.text
    assert unspaced("で あ り 、 「 移 転 可 能 」") == "であり、「移転可能」"  # Japanese punctuation too
