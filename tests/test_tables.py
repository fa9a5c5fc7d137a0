"""flows/tables.py: figures in text tables, read by their row and column (invented pages, laid out
as the real ones the dev set holds: a filing summary with tabs, a stock-data page with pipes)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.clean import clean_text
from flows.models import DocContext
from flows.normalise import extract_mentions

FILING = (
    "示例银行股份有限公司2018年半年度报告摘要\n"
    "公告日期:2018-08-28\n"
    "§1 重要提示\n"
    "本半年度报告除特别说明外,均以人民币列示。\n"
    "2.1主要会计数据和财务指标\n"
    "(单位:人民币千元)\n"
    "本报告期末\t上年度期末\t本报告期末比上年度期末增减(%)\n"
    "总资产\t812,345,678\t765,432,100\t6.13%\n"
    "归属于母公司股东的\n"
    "股东权益\t60,123,456\t57,000,000\t5.48%\n"
    "归属于母公司股东的每股净资产(元)\t7.21\t6.84\t5.41%\n"
    "报告期(1-6月)\t上年同期\t本报告期比上年同期增减(%)\n"
    "营业利润\t6,100,200\t5,300,100\t15.10%\n"
    "归属于母公司股东的净利润\t4,800,300\t4,100,200\t17.07%\n"
)

QUARTERS = (
    "2019年第二季度 | 2019年第一季度 | 2018年第四季度 | |\n"
    "---|---|---|---|\n"
    "公司类型 | 银行 | 银行 | 银行 |\n"
    "一、营业收入(元) | 2,345,000,000.00 | 2,101,000,000.00 | 1,999,500,000.50 |\n"
    "其中:利息收入(元) | 4,000,000,000.00 | 3,900,000,000.00 | 3,800,000,000.00 |\n"
)


def _rows(text: str, ctx: DocContext | None = None) -> dict[str, list]:
    out: dict[str, list] = {}
    for x in extract_mentions(text, ctx or DocContext()):
        assert text[x.char_start:x.char_end] == x.surface
        assert text[x.sentence_start:x.sentence_start + len(x.sentence)] == x.sentence
        out.setdefault(x.surface, []).append(x)
    return out


def _filing_text() -> str:
    # the clean stage keeps a row's tabs (tests/test_clean.py); here the text is already clean
    return FILING


def test_a_filing_summary_reads_rows_columns_unit_line_and_the_reports_period():
    rows = _rows(_filing_text(), DocContext(published_at=date(2018, 8, 28), published_precision="day"))
    (assets,) = rows["812,345,678"]
    assert (assets.value, assets.unit, assets.kind, assets.period_end) == (Decimal(812_345_678_000), "CNY", "level",
                                                                          date(2018, 6, 30))
    assert (assets.subject, assets.metric_key, assets.entity) == ("总资产", "total_assets", None)
    (before,) = rows["765,432,100"]
    assert before.period_end == date(2017, 12, 31)  # 上年度期末
    (growth,) = rows["6.13%"]
    assert (growth.unit, growth.kind, growth.period_start, growth.period_end) == (
        "percent", "change", date(2017, 12, 31), date(2018, 6, 30))
    (equity,) = rows["60,123,456"]
    assert equity.subject == "归属于母公司股东的股东权益"  # a label broken over two lines
    assert equity.metric_key == "shareholders_equity"
    (per_share,) = rows["7.21"]
    assert (per_share.value, per_share.unit) == (Decimal("7.21"), "CNY")  # per share: yuan, not thousands
    (profit,) = rows["6,100,200"]
    assert (profit.kind, profit.period_start, profit.period_end) == ("flow", date(2018, 1, 1), date(2018, 6, 30))
    (last_year,) = rows["5,300,100"]
    assert (last_year.period_start, last_year.period_end) == (date(2017, 1, 1), date(2017, 6, 30))  # 上年同期
    (profit_growth,) = rows["15.10%"]
    assert (profit_growth.kind, profit_growth.period_start, profit_growth.period_end) == (
        "change", None, date(2018, 6, 30))
    assert rows["4,800,300"][0].metric_key == "net_profit"


def test_a_pipe_table_takes_each_columns_quarter_and_the_labels_unit():
    rows = _rows(QUARTERS)
    (q2,) = rows["2,345,000,000.00"]
    assert (q2.value, q2.unit, q2.kind, q2.period_start, q2.period_end) == (
        Decimal("2345000000.00"), "CNY", "flow", date(2019, 4, 1), date(2019, 6, 30))
    assert (q2.subject, q2.metric_key) == ("营业收入", "operating_income")  # 一、 and (元) are not the subject
    (q4,) = rows["1,999,500,000.50"]
    assert (q4.period_start, q4.period_end) == (date(2018, 10, 1), date(2018, 12, 31))
    (gross,) = rows["4,000,000,000.00"]
    assert (gross.subject, gross.metric_key) == ("利息收入", None)  # 其中: goes; gross interest has no key
    assert not any(x.surface in ("银行",) for v in rows.values() for x in v)
    assert len([x for v in rows.values() for x in v]) == 6


FLAT = (
    "示例银行股份有限公司 2017 年半年度报告摘要 第二节 主要财务数据 2.1 主要财务数据 单位:百万元人民币(百分比除外) "
    "项目 本报告期 上年同期 本报告期比上年同期增减(%) 营业收入 261,895 239,561 9.32% "
    "归属于母公司所有者的净利润 93,037 90,746 2.52% 基本每股收益(元) 0.31 0.30 3.33% "
    "净资产收益率(%,加权平均) 14.78% 16.31% 下降 1.53 个百分点 "
    "项目 本报告期末 上年末 本报告期末比上年末增减(%) 资产总计 17,601,267 16,815,597 4.67% 2.2 股东情况"
)


def test_a_table_flattened_to_one_line_reads_header_runs_and_rows():
    rows = _rows(FLAT, DocContext(published_at=date(2017, 8, 30), published_precision="day"))
    (revenue,) = rows["261,895"]
    assert (revenue.value, revenue.kind, revenue.period_start, revenue.period_end, revenue.metric_key) == (
        Decimal(261_895_000_000), "flow", date(2017, 1, 1), date(2017, 6, 30), "operating_income")
    assert rows["239,561"][0].period_end == date(2016, 6, 30)
    (eps,) = rows["0.31"]
    assert (eps.value, eps.unit, eps.subject) == (Decimal("0.31"), "CNY", "基本每股收益")  # per share: yuan
    (roe,) = rows["14.78%"]
    assert (roe.kind, roe.subject, roe.metric_key, roe.period_start) == (
        "level", "净资产收益率(加权平均)", "roe", date(2017, 1, 1))  # the unit leaves the bracket
    (fall,) = rows["1.53 个百分点"]
    assert (fall.value, fall.unit, fall.kind) == (Decimal("-1.53"), "pp", "change")
    (assets,) = rows["17,601,267"]
    assert (assets.kind, assets.period_end, assets.metric_key) == ("level", date(2017, 6, 30), "total_assets")
    assert rows["16,815,597"][0].period_end == date(2016, 12, 31)
    assert rows["4.67%"][0].period_start == date(2016, 12, 31)
    assert all(len(v) == 1 for v in rows.values())  # the prose reading of the same figures is gone


def test_a_table_whose_unit_nothing_states_is_left_to_the_prose_reading():
    text = "示例银行季度数据\n2019年第二季度 | 2019年第一季度 | 2018年第四季度\n营业收入 | 2,345 | 2,101 | 1,999\n利息收入 | 4,000 | 3,900 | 3,800\n"
    assert _rows(text) == {}


def test_a_line_of_cells_outside_any_table_keeps_its_prose_figures():
    text = ("示例银行业绩\n首页 | 新闻 | 财经 | 银行\n"
            "截至2024年6月末，示例银行总资产1.2万亿元 | 较年初增长5.1% | 来源:示例网\n")
    rows = _rows(text, DocContext(published_at=date(2024, 8, 30), published_precision="day"))
    assert rows["1.2万亿元"][0].value == Decimal("1.2E12")
    assert rows["5.1%"][0].kind == "change"


def test_clean_keeps_a_tab_rows_cells_and_folds_other_tabs():
    title, paras = clean_text("标题\n  总资产\t  812,345,678 \t765,432,100\t6.13% \n一句\t话\n\t\t\t示例银行年报 \n", "text", "标题")
    assert paras == ["总资产\t812,345,678\t765,432,100\t6.13%", "一句 话", "示例银行年报"]


_CELL = st.one_of(st.sampled_from(["总资产", "营业收入(元)", "本报告期末", "上年同期", "增减(%)", "2019年第一季度",
                                   "1,234", "5.6%", "", " ", "(单位:千元)", "其中:", "一、"]),
                  st.text(alphabet="0123456789,.%-|元年季度 ", max_size=8))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=1, max_size=6), min_size=1, max_size=8), st.sampled_from(["\t", " | "]))
def test_any_grid_of_cells_reads_without_error_and_keeps_the_evidence_invariant(grid, sep):
    text = "示例银行表格\n" + "\n".join(sep.join(row) for row in grid)
    for x in extract_mentions(text, DocContext(published_at=date(2020, 3, 1), published_precision="day")):
        assert text[x.char_start:x.char_end] == x.surface
        assert text[x.sentence_start:x.sentence_start + len(x.sentence)] == x.sentence


def test_an_html_tables_rows_reach_the_reader_as_lines_of_cells():
    html = ("<html><body><h1>示例银行2018年半年度报告摘要</h1><p>公告日期:2018-08-28</p><p>(单位:人民币千元)</p>"
            "<table><tr><th>项目</th><th>本报告期末</th><th>上年度期末</th><th>增减(%)</th></tr>"
            "<tr><td>总资产</td><td>812,345,678</td><td>765,432,100</td><td>6.13%</td></tr>"
            "<tr><td>贷款总额</td><td>400,100,200</td><td>380,000,000</td><td>5.29%</td></tr></table>"
            "<table><tr><td><p>正文第一段。</p><p>正文第二段。</p></td></tr><tr><td>来源</td><td>示例网</td></tr></table>"
            "</body></html>")
    title, paras = clean_text(html, "html")
    assert "项目\t本报告期末\t上年度期末\t增减(%)" in paras
    assert "总资产\t812,345,678\t765,432,100\t6.13%" in paras and "贷款总额\t400,100,200\t380,000,000\t5.29%" in paras
    assert "正文第一段。" in paras and "正文第二段。" in paras  # a layout cell's paragraphs stay paragraphs
    assert "来源 示例网" in paras  # a row of two cells is one line of words, as before
    text = title + "\n" + "\n".join(paras)
    rows = _rows(text, DocContext(published_at=date(2018, 8, 28), published_precision="day"))
    (assets,) = rows["812,345,678"]
    assert (assets.value, assets.period_end, assets.metric_key) == (Decimal(812_345_678_000), date(2018, 6, 30),
                                                                    "total_assets")
    assert rows["5.29%"][0].kind == "change"


SPACED = (
    "财务概要\n"
    "2022年业绩亮点\n\n"
    "盈利能力指标(%) 2022年 2021年 变化百分点\n"
    "平均总资产回报率(1)  0.97% 1.02% -0.05%\n"
    "成本收入比 27.43% 26.36% 1.07%\n\n"
    "资产质量指标(%) 2022年 2021年 变化百分点\n"
    "不良贷款率(3) 1.38% 1.42% -0.04%\n"
    "  注:(1) 净利润除以期初及期末总资产余额的平均数。\n"
)


def test_a_table_whose_cells_are_spaces_apart_reads_years_and_a_change_in_points():
    rows = _rows(SPACED, DocContext(url="https://www.icbc-ltd.com/column/1.html"))
    (roa,) = rows["0.97%"]
    assert (roa.subject, roa.metric_key, roa.kind, roa.period_end) == ("平均总资产回报率", "roa", "level",
                                                                     date(2022, 12, 31))  # (1): a footnote
    assert rows["1.02%"][0].period_end == date(2021, 12, 31)
    (change,) = rows["-0.05%"]
    assert (change.value, change.unit, change.kind, change.period_end) == (
        Decimal("-0.05"), "pp", "change", date(2022, 12, 31))  # 变化百分点: points, not percent
    assert rows["1.38%"][0].metric_key == "npl_ratio"
    assert roa.entity == "ICBC"  # the bank's own site, naming no other bank
    assert all(len(v) == 1 for v in rows.values())  # no prose reading besides


def test_two_years_side_by_side_in_prose_open_no_table():
    text = "示例银行2022年 2021年连续两年增长，截至2022年末总资产1.2万亿元，较上年末增长5.1%。\n"
    rows = _rows(text, DocContext(published_at=date(2023, 3, 30), published_precision="day"))
    assert rows["1.2万亿元"][0].value == Decimal("1.2E12")
    assert rows["5.1%"][0].kind == "change"


SUMMARY = (
    "指标 | 2024年 | 同比变化 |\n"
    "---|---|---|\n"
    "营业收入 | 1,362.90亿元 | -3.21% |\n"
    "净息差 | 1.39% | -7BP |\n"
    "每股收益 | 0.64元 | -11.11% |\n"
    "1. 利息净收入 :986.90亿元(占比72.4%),同比下降3.65%,主要受资产收益率下行影响。\n"
)


def test_a_summary_tables_cells_write_their_units_and_its_year_dates_the_prose():
    rows = _rows(SUMMARY)  # an undated page: the table's year is its reporting period
    (revenue,) = rows["1,362.90亿元"]
    assert (revenue.value, revenue.unit, revenue.kind, revenue.period_end, revenue.metric_key) == (
        Decimal("1.3629E11"), "CNY", "flow", date(2024, 12, 31), "operating_income")
    (growth,) = rows["-3.21%"]
    assert (growth.kind, growth.period_end) == ("change", date(2024, 12, 31))  # one column: its year
    (bp,) = rows["-7BP"]
    assert (bp.value, bp.unit, bp.kind) == (Decimal("-0.07"), "pp", "change")
    assert (rows["0.64元"][0].value, rows["0.64元"][0].unit) == (Decimal("0.64"), "CNY")
    (nii,) = rows["986.90亿元"]
    assert nii.period_end == date(2024, 12, 31)
    (fall,) = rows["3.65%"]
    assert fall.subject == "利息净收入"  # not 占比: the bracket before it closed


FLASH = (
    "示例银行股份有限公司 2024年半年度业绩快报公告 一、2024年半年度主要财务数据和指标 单位:人民币千元 "
    "2024 年 1-6 月 2023 年 1-6 月 增减变动幅度 项目 (未经审计) (未经审计) (%) "
    "营业收入 6,412,222 6,076,109 5.53 营业利润 2,407,542 2,062,791 16.71 "
    "基本每股收益(元) 0.46 0.41 12.20 "
    "2023 年 12 月 31 2024 年 6 月 30 日 增减变动幅度 项目 日 (未经审计) (%) (经审计) "
    "资产总额 647,543,776 604,815,988 7.06 注:1、非经常性损益"
)


def test_a_flattened_table_whose_header_writes_its_periods_over_several_words():
    rows = _rows(FLASH)
    (revenue,) = rows["6,412,222"]
    assert (revenue.value, revenue.kind, revenue.period_start, revenue.period_end, revenue.metric_key) == (
        Decimal(6_412_222_000), "flow", date(2024, 1, 1), date(2024, 6, 30), "operating_income")
    assert rows["6,076,109"][0].period_end == date(2023, 6, 30)
    (growth,) = rows["5.53"]
    assert (growth.unit, growth.kind, growth.period_end) == ("percent", "change", date(2024, 6, 30))
    assert (rows["0.46"][0].value, rows["0.46"][0].unit) == (Decimal("0.46"), "CNY")
    # a header scrambled by the conversion (31 … 日 apart) reads one column at most, and a grouped
    # figure under a change column is no rate
    assert not any(x.unit == "percent" for x in rows.get("604,815,988", []))


BANKS = (
    "目前,12家全国性股份制商业银行2024年度业绩报告已全部披露完毕。\n"
    "银行名称 |\n营业收入(亿元) |\n营业收入增速 |\n"
    "招商银行 |\n3,374.88 |\n-0.48% |\n"
    "中信银行 |\n2,136.46 |\n3.76% |\n"
    "示例银行 |\n254.82 |\n1.94% |\n"
    "具体来看,2020年至2021年,兴业银行的营业收入分别为2,031.37亿元、2,212.36亿元。\n"
    "2024年 |\n2023年 | |\n"
    "中信银行营业收入(亿元) |\n2,136.46 |\n2,058.96 |\n"
    "兴业银行营业收入(亿元) |\n2,122.26 |\n2,108.31 |\n"
)


def test_a_table_of_banks_with_one_cell_to_a_line_gives_each_row_its_bank():
    rows = _rows(BANKS)
    (cmb,) = rows["3,374.88"]
    assert (cmb.value, cmb.unit, cmb.kind, cmb.entity, cmb.metric_key, cmb.period_end) == (
        Decimal("3.37488E11"), "CNY", "flow", "CMB", "operating_income", date(2024, 12, 31))
    (growth,) = rows["-0.48%"]
    assert (growth.value, growth.kind, growth.entity, growth.metric_key) == (
        Decimal("-0.48"), "change", "CMB", "operating_income")
    assert rows["254.82"][0].entity is None  # a bank outside the registry keeps its row, no code
    # a table of years whose labels open with a bank: the bank is the row's, not in the subject
    both = {(x.entity, x.period_end, x.subject) for x in rows["2,136.46"]}
    assert ("CITIC", date(2024, 12, 31), "营业收入") in both
    (cib_2023,) = rows["2,108.31"]
    assert (cib_2023.entity, cib_2023.period_end, cib_2023.subject) == ("CIB", date(2023, 12, 31), "营业收入")


def test_a_header_naming_no_bank_column_opens_no_bank_table():
    text = "项目 |\n营业收入(亿元) |\n营业收入增速 |\n招商银行 |\n3,374.88 |\n-0.48% |\n中信银行 |\n2,136.46 |\n3.76% |\n"
    assert all(x.entity is None or x.kind != "change" for v in _rows(text).values() for x in v)


MARKDOWN = (
    "| 2025/06 - 中期 | 2024/12 | 2023/12 | 盈利能力分析 |\n"
    "| 淨資產收益率 ROE (%) | 4.892 | 9.201 | 9.999 |\n"
    "| 不良貸款比例 (%) | 1.080 | 1.070 | 1.070 |\n"
    "| 備註: | 即時報價更新時間為 24/10/2025 16:30 |\n"
)


def test_a_markdown_table_opening_rows_with_its_separator_reads_year_month_columns():
    rows = _rows(MARKDOWN)
    (roe,) = rows["4.892"]
    assert (roe.value, roe.unit, roe.kind, roe.period_end, roe.metric_key) == (
        Decimal("4.892"), "percent", "level", date(2025, 6, 30), "roe")
    assert rows["9.201"][0].period_end == date(2024, 12, 31)
    assert [x.period_end for x in rows["1.070"]] == [date(2024, 12, 31), date(2023, 12, 31)]
    assert rows["1.080"][0].metric_key == "npl_ratio"


SECTIONS = (
    "单位:百万元人民币\n项目 |\n2019年 |\n2018年 |\n增减 |\n"
    "营业收入 |\n187,584 |\n164,854 |\n13.79 |\n"
    "经营活动产生的现金流量净额 |\n116,969 |\n(8,434) |\n14.32 |\n"
    "盈利能力指标 |\n|\n|\n|\n"
    "平均总资产回报率 |\n0.76% |\n0.77% |\n(0.01) |\n"
)


def test_a_stacked_table_passes_section_rows_and_reads_bracketed_negatives_and_point_changes():
    rows = _rows(SECTIONS)
    (revenue,) = rows["187,584"]
    assert (revenue.value, revenue.period_end) == (Decimal(187_584_000_000), date(2019, 12, 31))
    (outflow,) = rows["(8,434)"]
    assert (outflow.value, outflow.period_end) == (Decimal(-8_434_000_000), date(2018, 12, 31))
    (roa,) = rows["0.76%"]  # after the 盈利能力指标 section row
    assert (roa.metric_key, roa.period_end) == ("roa", date(2019, 12, 31))
    (fall,) = rows["(0.01)"]  # a change cell without its % in a row of percents: points
    assert (fall.value, fall.unit, fall.kind) == (Decimal("-0.01"), "pp", "change")


def test_a_summary_tables_bare_years_and_a_section_rows_unit():
    """2007 | 2006 | 2005 over 全年经营成果(人民币百万元) | (经重述): the years head the columns,
    the section row states the unit of the rows below it."""
    text = ("示例银行2007年度报告摘要\n"
            "2007 | 2006 | 2005 | |\n"
            "全年经营成果(人民币百万元) | (经重述) | (未经重述) | |\n"
            "利息净收入 | 224,465 | 163,542 | 147,993 |\n"
            "营业收入 | 254,157 | 180,705 | 162,378 |\n")
    rows = _rows(text)
    assert [(m.value, m.unit, m.period_end) for m in rows["224,465"]] == [
        (Decimal("224465000000"), "CNY", date(2007, 12, 31))]
    assert rows["147,993"][0].period_end == date(2005, 12, 31)
    assert rows["162,378"][0].metric_key == "operating_income"


def test_a_bank_table_whose_cells_are_spaces_apart_reads_each_banks_row():
    """银行名称 资产总额(亿元) 增长率(% / 北京银行(A) 33879.52 10.76: each row is its bank's, the
    growth column the growth of the measure before it; a listing mark (A), (A+H) is no part of the name."""
    text = ("城商行资产规模\n"
            "2022年我国城商行上市公司资产及增速情况\n"
            "银行名称 资产总额(亿元) 增长率(%\n"
            "北京银行(A) 33879.52 10.76\n"
            "重庆银行(A+H) 6459.98 10.62\n")
    rows = _rows(text, DocContext(published_at=date(2023, 10, 1), published_precision="month"))
    (level,) = rows["33879.52"]
    assert (level.entity, level.value, level.metric_key) == ("BOB", Decimal("3387952000000"), "total_assets")
    (growth,) = rows["10.62"]
    assert (growth.entity, growth.kind, growth.unit, growth.metric_key) == ("CQCB", "change", "percent", "total_assets")


BROKER = (
    "某银行2024年中报点评\n"
    "投资建议 - 维持增持评级 [2] 财务摘要 |项目|2022A|2023A|2024E|2025E| | ---- | ---- | ---- | ---- | "
    "|营业收入(百万元)|70,570|74,293|80,131|87,234| |(+/-)%|9.1%|5.3%|7.9%|8.9%| "
    "|净利润(归母,百万元)|25,386|28,750|31,813|35,641| |每股净资产(元,期末股本)|9.19|11.47|12.97|14.28| "
    "|市净率|0.87|0.69|0.61|0.56| [7] 风险提示 - 24Q2营收增速放缓至2.9%。\n"
)


def test_a_brokers_markdown_table_run_into_one_line_reads_its_forecast_years():
    ms = extract_mentions(BROKER, DocContext(published_at=date(2024, 8, 20), published_precision="day", entity="JSB"))
    by = {(m.surface, m.period_end): m for m in ms}
    income = by[("70,570", date(2022, 12, 31))]
    assert (income.value, income.unit, income.kind, income.metric_key) == (Decimal("70570000000"), "CNY", "flow",
                                                                            "operating_income")
    forecast = by[("35,641", date(2025, 12, 31))]  # 净利润(归母,百万元): the unit is any item of the bracket
    assert (forecast.value, forecast.metric_key, forecast.period_start) == (Decimal("35641000000"), "net_profit",
                                                                            date(2025, 1, 1))
    growth = by[("7.9%", date(2024, 12, 31))]  # (+/-)%: the row above's growth
    assert (growth.kind, growth.unit, growth.metric_key, growth.subject) == ("change", "percent", "operating_income",
                                                                              "营业收入增速")
    book = by[("12.97", date(2024, 12, 31))]  # a balance per share: at the year's end
    assert (book.kind, book.unit, book.value, book.period_start) == ("level", "CNY", Decimal("12.97"), None)
    multiple = by[("0.69", date(2023, 12, 31))]
    assert (multiple.unit, multiple.kind) == ("times", "level")
    # the prose after the table is still read as prose
    assert any(m.surface == "2.9%" and m.kind == "change" for m in ms)


# A regulator's statistics table an HTML converter wrote out one cell to a line, with no separator:
# years over quarters in the header, section headings between the rows (invented figures).
BARE_CELLS = ("城市商业银行主要监管指标情况表\n"
              "单位:亿元、%\n"
              "时间\n2022年\n2023年\n项目\n四季度\n一季度\n二季度\n三季度\n"
              "(一)信用风险指标\n"
              "不良贷款余额\n1200\n1210\n1225\n1240\n"
              "不良贷款率\n1.90%\n1.88%\n1.86%\n1.85%\n"
              "(二)效益性指标\n"
              "净利润\n2300\n650\n1300\n1950\n"
              "截至三季度末，城商行资产总额达60万亿元。\n")


def test_a_table_of_one_cell_a_line_under_its_unit_line_reads_years_over_quarters():
    rows = _rows(BARE_CELLS)
    (first,) = rows["1200"]  # 2022年 四季度: the first column
    assert (first.value, first.unit, first.kind, first.period_end) == (
        Decimal(120_000_000_000), "CNY", "level", date(2022, 12, 31))
    (q3,) = rows["1240"]  # the quarters start again: 2023
    assert (q3.period_end, q3.metric_key, q3.entity) == (date(2023, 9, 30), "npl_balance", None)
    (ratio,) = rows["1.86%"]
    assert (ratio.value, ratio.unit, ratio.period_end) == (Decimal("1.86"), "percent", date(2023, 6, 30))
    (profit,) = rows["1300"]  # a flow runs from the year's start to the quarter's end
    assert (profit.kind, profit.period_start, profit.period_end) == ("flow", date(2023, 1, 1), date(2023, 6, 30))
    # the title names the group of banks the figures are: it shows in the subject
    assert first.subject == "城市商业银行不良贷款余额"
    assert [m.value for m in rows["60万亿元"]] == [Decimal(60_000_000_000_000)]  # the prose after it


def test_bare_cells_wider_than_the_first_row_are_not_read_as_its_columns():
    """机构 rows holding two figures a quarter (余额, 率) under a header of quarters: the row is wider
    than the first one, so no figure takes a quarter it does not belong to."""
    text = ("单位:亿元、%\n时间\n2022年\n2023年\n四季度\n一季度\n"
            "商业银行\n1200\n1210\n"
            "股份制银行\n500\n505\n"
            "大型银行\n800\n1.30%\n810\n1.20%\n")
    rows = _rows(text)
    assert rows["1200"][0].period_end == date(2022, 12, 31)
    assert rows["505"][0].period_end == date(2023, 3, 31)
    assert "800" not in rows and "810" not in rows  # the table stops where its rows widen


def test_two_tables_of_bare_cells_one_after_the_other_each_read_once():
    text = ("商业银行主要指标\n单位:亿元\n时间\n2022年\n2023年\n四季度\n一季度\n"
            "商业银行不良贷款余额\n1200\n1210\n贷款损失准备\n9000\n9100\n"
            "  单位:%\n时间\n2022年\n2023年\n四季度\n一季度\n不良贷款率\n1.1\n1.0\n拨备覆盖率\n200\n210\n")
    rows = _rows(text)
    assert [m.period_end for m in rows["1210"]] == [date(2023, 3, 31)]
    (ratio,) = rows["1.0"]  # the second table, under its own (indented) 单位 line: read once, in percent
    assert (ratio.unit, ratio.period_end) == ("percent", date(2023, 3, 31))
    # a label that already names the title's group is not given it twice
    assert rows["1200"][0].subject == "商业银行不良贷款余额"


# A securities site's notice rewrites a filing's table a row to a line under its 单位 line (invented
# figures, laid out as the real notice pages are).
NOTICE = ("示例农商行: 2025年第三季度报告内容摘要\n"
          "二、主要财务数据\n2.1 主要会计数据和财务指标\n单位:人民币千元\n\n"
          "营业收入:2025年7-9月为6,387,313,本报告期比上年同期增减变动幅度-2.73%;2025年1-9月为19,831,464,"
          "年初至报告期末比上年同期增减变动幅度-3.18%。\n"
          "利润总额:2025年7-9月为4,347,191,本报告期比上年同期增减变动幅度1.05%。\n")


def test_a_notice_writing_a_table_a_row_to_a_line_reads_each_amount_in_the_unit_lines_unit():
    rows = _rows(NOTICE)
    (quarter,) = rows["6,387,313"]
    assert (quarter.value, quarter.unit, quarter.kind) == (Decimal(6_387_313_000), "CNY", "flow")
    assert (quarter.period_start, quarter.period_end) == (date(2025, 7, 1), date(2025, 9, 30))
    assert (quarter.subject, quarter.metric_key) == ("营业收入", "operating_income")
    (ytd,) = rows["19,831,464"]
    assert (ytd.period_start, ytd.period_end) == (date(2025, 1, 1), date(2025, 9, 30))
    # the rates beside them are read as prose: 增减 gives no sign of its own
    assert [m.value for m in rows["1.05%"]] == [Decimal("1.05")]
    assert [m.value for m in rows["2.73%"]] == [Decimal("-2.73")]  # the minus written before it
