"""The readers (stiqa.ingest) on real files of the development corpus and on broken files the tests make."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from stiqa.dates import document_date
from stiqa.ingest import ReadError, corpus_files, doc_id, read_bytes, read_file
from stiqa.ingest.layout import repair_document
from stiqa.ingest.markdown import markup_spans
from stiqa.ingest.pages import page_spans
from stiqa.ingest.text import decode
from tests.conftest import DEV_CORPUS

MOJ = DEV_CORPUS / "moj"
FORMATS = DEV_CORPUS / "formats"


def dev_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    return path


def make_pdf(pages: list[str]) -> bytes:
    """A PDF with one line of ASCII text (Helvetica) per page; "" makes a page without text."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text else b""
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects)} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    return pdf_file(objects)


def pdf_file(objects: list[str]) -> bytes:
    """A PDF file of ``objects`` (numbered from 1; the first is the catalogue), with its
    cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write("".join(f"{o:010d} 00000 n \n" for o in offsets).encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


# ---------------------------------------------------------------- plain text


def test_minutes_in_cp932_and_utf8_with_bom_decode_to_the_same_kind_of_text():
    bom = [f for f in sorted(dev_file(MOJ).glob("*.txt")) if f.read_bytes().startswith(b"\xef\xbb\xbf")]
    sjis = [f for f in sorted(MOJ.glob("*.txt")) if not f.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert len(bom) == 11 and len(sjis) == 6  # as the corpus's README says
    for f in (bom[0], sjis[0]):
        doc = read_file(f)
        assert doc.format == "text" and "議事録" in doc.text[:400] and "\ufffd" not in doc.text
    assert decode(sjis[0].read_bytes())[1] == "cp932"
    assert decode(bom[0].read_bytes())[1] == "utf-8-sig"


@pytest.mark.parametrize("encoding", ["utf-8", "cp932", "euc_jp", "iso2022_jp", "utf-16"])
def test_every_japanese_encoding_decodes(encoding):
    text = "第１回会議　議事録\r\n日時　令和４年４月２７日（水）\r\n○藤田部会長　それでは、開会いたします。\n"
    assert decode(text.encode(encoding))[0] == text


def test_binary_and_empty_files_named_txt_are_refused_with_a_reason():
    with pytest.raises(ReadError, match="binary"):
        read_bytes(bytes(range(256)) * 8, "data.txt")
    with pytest.raises(ReadError, match="empty"):
        read_bytes(b"  \n\n", "blank.txt")


def test_form_feeds_and_slide_layout_split_pages():
    text = "第一ページ\n本文です。\f第二ページ\n続きです。\n"
    spans = page_spans(text)
    assert [text[a:b].split("\n")[0] for a, b in spans] == ["第一ページ", "第二ページ"]
    slides = " 1.最初の題\n  本文\n 2.次の題\n  本文\n"
    assert [slides[a:b].split("\n")[0] for a, b in page_spans(slides)] == [" 1.最初の題", " 2.次の題"]


# ---------------------------------------------------------------- PDF


def test_a_council_pdf_is_read_page_by_page_with_its_meeting_date():
    path = dev_file(MOJ / "001374091.pdf")
    doc = read_file(path)
    assert doc.format == "pdf" and doc.page_count == 28 and doc.wrapped
    assert [p.number for p in doc.parts] == list(range(1, 29))
    first = doc.text[doc.parts[0].start : doc.parts[0].end]
    assert "議事録" in first and "\f" not in first
    assert doc.text.count("\f") == 27  # pages are joined by form feeds
    assert "○渡辺幹事" in doc.text[doc.parts[1].start : doc.parts[1].end]
    assert document_date(doc.text) == "2022-04-27"


def test_pdf_pages_keep_their_numbers_when_one_is_empty():
    doc = read_bytes(make_pdf(["First page text.", "", "Third page text."]), "made.pdf")
    assert doc.page_count == 3 and [p.number for p in doc.parts] == [1, 3]
    assert doc.text[doc.parts[1].start : doc.parts[1].end].strip() == "Third page text."
    _, pages = repair_document("made.pdf", doc)
    assert [p.page.number for p in pages] == [1, 3]


def test_a_pdf_is_known_by_its_content_not_its_name():
    assert read_bytes(make_pdf(["Hello from a PDF."]), "notes.txt").format == "pdf"


def test_broken_pdfs_are_refused_with_their_reason():
    with pytest.raises(ReadError, match="no text layer"):
        read_bytes(make_pdf(["", ""]), "scan.pdf")
    with pytest.raises(ReadError, match="not a readable PDF|reader failed"):
        read_bytes(make_pdf(["Cut short."])[:60], "cut.pdf")


def test_an_encrypted_pdf_is_refused_as_such():
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(["Secret text."]))))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ReadError, match="encrypted"):
        read_bytes(out.getvalue(), "locked.pdf")


# ---------------------------------------------------------------- Word


def test_word_headings_become_sections_and_tables_rows():
    doc = read_file(dev_file(FORMATS / "digital-agency-gif-430-core-data-model-overview-2026.docx"))
    assert doc.format == "docx" and doc.title and len(doc.parts) > 10
    assert all(p.title for p in doc.parts[1:])  # every section after the first opens with its heading
    assert "\t" in doc.text and "|" not in doc.text  # table cells in a row, as the file has them
    for part in doc.parts:
        assert doc.text[part.start : part.end].startswith(part.title) or part.number == 1


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_named_docx_is_refused_before_it_is_unpacked():
    bomb = _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<" + b"a" * 50_000_000 + b">"})
    assert len(bomb) < 200_000
    with pytest.raises(ReadError, match="zip bomb"):
        read_bytes(bomb, "report.docx")


def test_other_zips_and_damaged_word_files_are_refused():
    with pytest.raises(ReadError, match="without word/document.xml"):
        read_bytes(_zip({"data.csv": b"a,b\n1,2\n"}), "archive.docx")
    with pytest.raises(ReadError, match="damaged zip|without word"):
        read_bytes(b"PK\x03\x04" + b"\x00" * 100, "broken.docx")


# ---------------------------------------------------------------- HTML


def test_a_municipal_page_loses_its_navigation_and_keeps_its_content():
    doc = read_file(dev_file(FORMATS / "osaka-pref-animal-adoption-cats-2025.html"))
    assert doc.format == "html" and doc.title.startswith("譲渡猫情報")
    assert "アピールポイント" in doc.text and "<" not in doc.text
    assert doc.parts[1].title.startswith("新しい飼い主さんを募集中の猫たち")


def test_scripts_navigation_and_footers_are_dropped_and_the_declared_charset_is_used():
    page = (
        '<html><head><meta charset="shift_jis"><title>お知らせ</title>'
        "<script>var secret = 1;</script></head><body>"
        '<nav><a href="/">ホーム</a></nav><div class="breadcrumb">トップ &gt; お知らせ</div>'
        "<h1>申請の受付</h1><p>受付は<b>令和７年４月１日</b>から始めます。</p>"
        "<table><tr><th>区分</th><th>期限</th></tr><tr><td>一般</td><td>５月末</td></tr></table>"
        "<footer>Copyright 市役所</footer></body></html>"
    ).encode("cp932")
    doc = read_bytes(page, "notice.html")
    assert doc.title == "お知らせ"
    assert doc.text.split("\n") == ["申請の受付", "受付は令和７年４月１日から始めます。", "区分\t期限", "一般\t５月末"]
    assert [p.title for p in doc.parts] == ["申請の受付"]


# ---------------------------------------------------------------- Markdown


def test_markdown_keeps_the_file_as_text_and_hides_its_markup():
    path = dev_file(FORMATS / "mhlw-cocoa-terms-of-use.md")
    doc = read_file(path)
    assert doc.text == decode(path.read_bytes())[0]  # citations index the file itself
    assert doc.parts[1].title == "（目的）"
    _, pages = repair_document("terms.md", doc)
    text = "\n".join(p.page.text for p in pages)
    assert "第1条" in text and "**" not in text and "## " not in text


def test_markup_spans_cover_markers_and_link_targets_only():
    text = "## 見出し\n- **重要**な[リンク](https://example.jp)です\n"
    hidden = bytearray(len(text))
    for a, b in markup_spans(text):
        hidden[a:b] = b"\1" * (b - a)
    kept = "".join(c for c, h in zip(text, hidden) if not h)
    assert kept == "見出し\n重要なリンクです\n"


# ---------------------------------------------------------------- the corpus folder


def test_corpus_files_take_sub_folders_and_leave_out_hidden_and_readme_files(tmp_path):
    for name in ("a.txt", "minutes/2024/b.pdf", ".hidden/c.txt", "d/.e.txt", "README.md", "sub/readme.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    ids = [doc_id(p, tmp_path) for p in corpus_files(tmp_path)]
    assert ids == ["a.txt", "minutes/2024/b.pdf"]


def test_a_two_column_white_paper_page_reads_each_column_through():
    """Each line of the extracted text is placed by PDFium's character boxes (the text's offsets are
    PDFium's character indices): a line wholly left or right of the page's middle is in that column.
    Read column by column, the labels change a few times a page (a stretch of two columns, then a
    full-width heading or figure, then another); read line by line across both, at every line."""
    import pypdfium2 as pdfium

    scored = 0
    for name in ("mext-sti-whitepaper-r6-ch1.pdf", "mext-sti-whitepaper-r6-ch3.pdf"):
        scored += _two_column_pages(pdfium, dev_file(DEV_CORPUS / "whitepaper" / name))
    assert scored >= 5  # two-column pages of body text were found and scored (6 in these chapters)


def _two_column_pages(pdfium, path: Path) -> int:
    doc = read_file(path)
    pdf = pdfium.PdfDocument(str(path))
    scored = 0
    try:
        for part in doc.parts:
            page = pdf[part.number - 1]
            textpage = page.get_textpage()
            left, _, right, _ = page.get_bbox()
            middle = (left + right) / 2
            labels = []
            offset = part.start
            for line in doc.text[part.start : part.end].split("\n"):
                boxes = [textpage.get_charbox(offset - part.start + i) for i, c in enumerate(line) if not c.isspace()]
                offset += len(line) + 1
                if len(boxes) < 15:  # body text: figure labels and table cells are shorter
                    continue
                if all(b[2] < middle for b in boxes):
                    labels.append("L")
                elif all(b[0] > middle for b in boxes):
                    labels.append("R")
            textpage.close()
            page.close()
            if labels.count("L") >= 6 and labels.count("R") >= 6:
                scored += 1
                changes = sum(a != b for a, b in zip(labels, labels[1:]))
                assert changes <= 8, (path.name, part.number, "".join(labels))
    finally:
        pdf.close()
    return scored


def test_a_file_over_the_size_limit_is_refused_without_being_read(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("本文です。" * 100, encoding="utf-8")
    with pytest.raises(ReadError, match="over the limit of 1,000"):
        read_file(big, max_bytes=1000)
    assert read_file(big).format == "text"


def test_furigana_and_footnote_markers_are_small_runs_between_ordinary_text():
    from stiqa.ingest.pdf import small_runs

    body = "人工知能とビッグデータ技術の全体を"
    text = f"{body}俯瞰図ふかんずで示す1。\n注 小さな注記"
    sizes = [10.0] * (len(body) + 3) + [5.0] * 4 + [10.0] * 3 + [5.0] + [10.0, 0.0] + [5.0] * 7
    runs = small_runs(text, sizes, 10.0)
    assert [text[a:b] for a, b in runs] == ["ふかんず", "1"]  # the note, small as a whole, stays


def test_the_body_size_is_that_of_the_japanese_text_however_long_the_notes():
    from stiqa.ingest.pdf import body_size

    body = "米国のバイデン政権は、2023年5月に取組方針を示しました。"
    note = "3 The White House https://www.whitehouse.gov/briefing-room/presidential-actions/2023/10/30/"
    assert len(note) > len(body)
    assert body_size(body + note, [10.5] * len(body) + [7.0] * len(note)) == 10.5
    assert body_size(note, [7.0] * len(note)) == 7.0  # no Japanese: the commonest size of all
    assert body_size("", []) == 0.0
    assert body_size("\ud800あ", [3.0, 10.5]) == 10.5  # PDFium can give a lone surrogate


def test_fine_print_is_the_lines_set_well_under_the_body_size():
    from stiqa.ingest.pdf import fine_lines

    lines = ["人工知能に関する研究開発を推進しています。", "4 National Institute of Standards and Technology", "見出し 注1"]
    text = "\r\n".join(lines)
    sizes = [10.5] * len(lines[0]) + [0, 0] + [7.0] * len(lines[1]) + [0, 0] + [10.5] * 4 + [5.0] * 3
    assert [text[a:b] for a, b in fine_lines(text, sizes, 10.5)] == [lines[1]]  # a marker alone is not a fine line


def make_pdf_lines(lines: list[tuple[str, int]]) -> bytes:
    """A one-page PDF of ASCII lines (Helvetica), each at its own font size, top to bottom."""
    ops = "".join(f"BT /F1 {size} Tf 72 {720 - 20 * n} Td ({text}) Tj ET " for n, (text, size) in enumerate(lines))
    content = ops.encode()
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
    ]
    return pdf_file(objects)


def test_a_footnote_in_fine_print_is_read_after_the_sentence_it_interrupts():
    """A footnote set between two lines of one sentence (the foot of a column) is read after
    the page's body, the sentence whole, and is not a heading: "4 National Institute…" would
    otherwise read as section 4 and name the passages below it."""
    from stiqa.ingest.segment import Segmenter, document_passages

    data = make_pdf_lines([
        ("The agency set up its new safety institute", 12),
        ("4 National Institute of Standards and Technology", 7),
        ("inside the national standards laboratory in 2023.", 12),
        ("It works with companies on the testing of models.", 12),
    ])
    extracted = read_bytes(data, "note.pdf")
    assert [extracted.text[a:b].strip() for a, b in extracted.fine] == ["4 National Institute of Standards and Technology"]
    _, pages = repair_document("note.pdf", extracted)
    units = pages[0].units
    assert units[0].text.text.startswith("The agency set up its new safety institute inside the national")
    assert (units[-1].text.text, units[-1].fine) == ("4 National Institute of Standards and Technology", True)
    passages = document_passages(pages, Segmenter())
    assert not any(p.citation.section.startswith("4 National") for p in passages)


def test_a_white_paper_reads_its_sections_not_its_footnotes_and_captions():
    """The MEXT white paper's chapter 3: sections 1-1.米国 … 1-9.シンガポール under 第1節, its
    footnotes (7 points under 10.5) neither headings nor breaks in a sentence, its tables'
    captions under the section they sit in, and furigana dropped on pages where the notes
    outweigh the text."""
    from stiqa.ingest.segment import Segmenter, document_passages

    pdf = DEV_CORPUS / "whitepaper" / "mext-sti-whitepaper-r6-ch3.pdf"
    if not pdf.exists():
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    extracted = read_file(pdf)
    _, pages = repair_document(pdf.name, extracted)
    body = "\n".join(u.text.text for p in pages for u in p.units if not u.fine)
    assert "内に米国AI安全研究所" in body  # one sentence across the footnotes of its column
    assert "牽引けんいん" not in body and "牽引する" in body
    sections = {p.citation.section for p in document_passages(pages, Segmenter())}
    assert {"1-1.米国", "1-3.欧州連合(EU)", "1-7.カナダ"} <= {s.split(" > ")[-1] for s in sections}
    assert not any(s.split(" > ")[0][0].isdigit() and "-" not in s.split(" > ")[0][:4] for s in sections), sections
    assert not any(s.startswith("第1-3-5表") for s in sections)  # a caption names what is under it only


def test_furigana_in_a_real_pdf_is_hidden_from_passages():
    pdf = DEV_CORPUS / "whitepaper" / "mext-sti-whitepaper-r6-ch1.pdf"
    if not pdf.exists():
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    extracted = read_file(pdf)
    assert "ふかんず" in [extracted.text[a:b] for a, b in extracted.hidden]
    _, pages = repair_document(pdf.name, extracted)
    text = "\n".join(u.text.text for p in pages for u in p.units)
    assert "俯瞰図" in text and "俯瞰図ふかんず" not in text
