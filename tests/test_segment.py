import difflib

import pytest

from stiqa.ingest import read_bytes
from stiqa.ingest.layout import repair_document
from stiqa.ingest.segment import MAX_CHARS, Segmenter, document_passages, page_passages
from stiqa.normalize import Mapped, has_extraction_faults, map_chars


@pytest.fixture(scope="module")
def passages(doc_text):
    _, pages = repair_document("sti-policy-2024.txt", read_bytes(doc_text.encode("utf-8"), "sti-policy-2024.txt"))
    seg = Segmenter()
    return [p for page in pages for p in page_passages(page, seg)]


def squash(text: str) -> str:
    return "".join(map_chars(text).text.split())


def test_sentences_split_on_japanese_full_stops():
    seg = Segmenter()
    unit = map_chars("SIP第1期(2014〜2018年度)で研究開発を実施。組織を越えた防災情報の相互流通を担うシステム。")
    assert [s.text for s in seg.sentences(unit)] == [
        "SIP第1期(2014〜2018年度)で研究開発を実施。",
        "組織を越えた防災情報の相互流通を担うシステム。",
    ]


def test_overlong_sentence_is_cut_at_commas():
    seg = Segmenter(max_chars=30)
    text = "、".join(["研究開発の推進"] * 10) + "。"
    parts = seg.sentences(Mapped(text, list(range(len(text)))))
    assert all(len(p) <= 30 for p in parts)
    assert "".join(p.text for p in parts) == text


def test_passages_are_short_whole_sentences_of_one_page(passages):
    assert len(passages) > 50
    for p in passages:
        assert 0 < len(p.text) <= MAX_CHARS
        assert p.text.replace("\n", "") == "".join(s.text for s in p.sentences)
        assert p.citation.section


def test_citations_point_at_the_passage(passages, doc_text):
    for p in passages:
        span = doc_text[p.citation.start:p.citation.end]
        ratio = difflib.SequenceMatcher(None, squash(span), squash(p.text), autojunk=False).ratio()
        assert ratio >= 0.8, p.id


def test_no_fault_glyphs_in_passages(passages):
    assert not any(has_extraction_faults(p.text) for p in passages)


def test_ids_are_unique_and_name_the_page(passages):
    ids = [p.id for p in passages]
    assert len(set(ids)) == len(ids)
    assert all(p.id.startswith(f"sti-policy-2024.txt-p{p.citation.page:02d}-") for p in passages)


def test_a_heading_and_its_figure_share_a_passage(passages):
    # The 2030 targets sit under their heading; some passage holds both.
    assert any("2030年目標" in p.text and "1,000万人" in p.text for p in passages)


def test_passages_carry_their_section_path_and_speaker():
    from tests.test_corpus import MINUTES, _doc

    turns = "".join(f"○{who}　" + "御意見を伺います。" * 12 + "\n" for who in ("佐藤幹事", "山田部会長", "鈴木委員"))
    _, pages = _doc(MINUTES + turns)
    passages = document_passages(pages, Segmenter())
    first = {p.text.split(" ")[0]: p.citation.section for p in passages if p.text.startswith(("佐藤", "山田部会長 御", "鈴木"))}
    # Each speaker's turn starts a passage, and the passage knows who speaks and under which heading.
    assert first == {
        "佐藤幹事": "第2 場 所 第一会議室 > 佐藤幹事",
        "山田部会長": "第2 場 所 第一会議室 > 山田部会長",
        "鈴木委員": "第2 場 所 第一会議室 > 鈴木委員",
    }


def test_speakers_in_brackets_open_turns_and_are_not_headings():
    """Minutes that write their speakers in brackets (【濵口主査】, 【事務局(佐藤)】), as other
    ministries' do: each turn starts a passage that knows who speaks, and a short turn is not
    read as a heading that would name the passages after it."""
    from tests.test_corpus import _doc

    turns = [
        "【濵口主査】 " + "資料について御説明をお願いします。" * 10,
        "【事務局(佐藤)】 " + "資料1に沿って予算の状況を御説明いたします。" * 8,
        "【田中委員】 ありがとうございました",
        "【濵口主査】 " + "ほかに御意見はございますか。" * 10,
    ]
    opening = "科学技術・学術審議会\n研究振興部会(第1回)議事録\n\n第１　日　時　　令和６年４月１日（月）\n第２　場　所　　第一会議室\n\n"
    _, pages = _doc(opening + "\n".join(turns) + "\n")
    passages = document_passages(pages, Segmenter())
    sections = [p.citation.section for p in passages]
    assert "第2 場 所 第一会議室 > 事務局(佐藤)" in sections
    assert {s.split(" > ")[-1] for s in sections if " > " in s} == {"濵口主査", "事務局(佐藤)", "田中委員"}
    assert not any("【" in s for s in sections)  # 【田中委員】 ありがとうございました is no heading


def test_an_articles_caption_names_its_passages_and_a_bracketed_aside_does_not():
    """Rules caption each article on the line above it: 「(試用期間)」 over 「第6条 …」 names the
    article's passages. Minutes' 「(賛成者挙手)」 is not above an article and names nothing."""
    from tests.test_corpus import _doc

    rules = (
        "就業規則\n\n（目的）\n第１条 この規則は、労働者の就業に関する事項を定めるものである。\n"
        "（試用期間）\n第６条 労働者として新たに採用した者については、採用した日から３か月間を試用期間とする。\n"
        "（賛成者挙手）\n議長 賛成多数と認めます。\n"
    )
    _, pages = _doc(rules)
    passages = document_passages(pages, Segmenter())
    opening = {p.text.split("\n")[0]: p.citation.section for p in passages if p.text.startswith("(")}
    assert opening == {"(目的)": "(目的)", "(試用期間)": "(試用期間)"}  # each caption starts its article's passage
    assert not any("挙手" in p.citation.section for p in passages)
    # A page that opens on its chapter's heading: the chapter, then the article's caption.
    _, pages = _doc(rules.replace("就業規則\n\n", "第１章 総則\n"))
    passages = document_passages(pages, Segmenter())
    assert {p.citation.section for p in passages if p.text.startswith("(")} == {"第1章 総則 > (目的)", "第1章 総則 > (試用期間)"}


def test_a_heading_starts_a_passage():
    from tests.test_corpus import _doc

    body = "電子化の方法について検討する。" * 4
    _, pages = _doc(f"第１ 総論\n{body}\n第２ 各論\n{body}\n")
    passages = document_passages(pages, Segmenter())
    assert [p.text.split("\n")[0] for p in passages if p.text.startswith("第")] == ["第1 総論", "第2 各論"]
    assert {p.citation.section for p in passages} >= {"第1 総論", "第2 各論"}


def test_page_numbers_and_stray_labels_are_not_passages():
    from tests.test_corpus import _doc

    body = "電子化の方法について検討する。" * 3
    _, pages = _doc(f"10\n{body}\f11\n{body}\f概要\f12", "paper.txt")
    texts = [p.text for p in document_passages(pages, Segmenter())]
    assert texts and all(t.startswith("電子化") for t in texts)
