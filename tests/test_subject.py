"""How the `subject` field is phrased (flows/subject.py, rules/subject.toml [phrasing]).

Each case is an invented sentence for one rule; the assertion is on the subject shown for one
figure. The rules rephrase only the field: metric, kind and entity still come from the span.
"""
from __future__ import annotations

from datetime import date

import pytest

from flows.models import DocContext
from flows.normalise import extract_mentions
from flows.subject import (counted_phrase, drop_possessive, drop_time_words, group_carried, inherit_sibling,
                           measure_of, only_institution)


def _subject(text: str, surface: str) -> str | None:
    ctx = DocContext(published_at=date(2024, 11, 1), published_precision="month")
    ms = [m for m in extract_mentions("标题\n" + text, ctx) if m.surface == surface]
    assert ms, f"{surface} not found in {text}"
    return ms[0].subject


CASES = [
    # adverbs, a scope and a half-split direction word are no part of the measure
    ("期內存款增長17%,貸款增16%,淨息差亦擴闊20點子至1.8%。", "1.8%", "淨息差"),
    ("重庆农商行资产规模在众多农商行中达9087.78亿元。", "9087.78亿元", "资产规模"),
    ("私人银行人均AUM均处于3万元以上。", "3万元", "私人银行人均AUM"),
    ("因此包括M1及準貨幣負債的廣義貨幣供應量M2回升1.1%至8,411億澳門元。", "8,411億澳門元",
     "包括M1及準貨幣負債的廣義貨幣供應量M2"),
    ("撥備前利潤實際增長1.24%。", "1.24%", "撥備前利潤"),
    # a verb of totals after the period, a speaker or a publisher before the measure
    ("报告显示,建设银行上半年共实现营业收入2514.01亿元。", "2514.01亿元", "营业收入"),
    ("该行又表示年內非利息收入為56.97億元。", "56.97億元", "非利息收入"),
    # the banks and linking words of a threshold frame, before 分别 deals its figures out
    ("前三季度,工商銀行、建設銀行、農業銀行實現歸母淨利潤均超過2000億元,分別爲2690.25億元、2557.76億元和2143.72億元。",
     "2557.76億元", "歸母淨利潤"),
    # a space typeset inside a Chinese phrase
    ("总行专营机 构3个,基层营业机构1万个。", "3个", "总行专营机构"),
    # a group of banks (no registry bank) the sentence opened with: its later figures measure it too
    ("城市商业银行不良贷款余额607.2亿元,比年初减少51.5亿元,不良贷款率3.7%,比年初下降1.1个百分点。", "3.7%",
     "城市商业银行不良贷款率"),
    ("改革后的4家大型商业银行资本充足率为13.29%,拨备覆盖率为84.49%。", "84.49%", "4家大型商业银行拨备覆盖率"),
    ("本國銀行逾期放款金額為764.51億元，逾期放款比率為0.28%。", "0.28%", "本國銀行逾期放款比率"),
    # a second comparison basis is skipped like the first; a measure said once
    ("三季度,华夏银行净利差为2.10%,比二季度、一季度分别提高25个BP、30个BP。", "30个BP", "净利差"),
    ("A股上市银行的净息差普遍下滑。常熟银行以2.57%的净息差高居榜首。", "2.57%", "净息差高"),
    # a glossed year (去(2024)年) is no numbered item 2024) opening a segment
    ("截至今年1月,銀行的本地居民貸存比率由去(2024)年底53%下跌至52.6%。", "52.6%", "銀行本地居民貸存比率"),
    # ... not a bank's own name outside the registry, a business line, another institution, another bullet
    ("截至2024年末,界首农商行总资产突破247.79亿元,但资本充足率降至11.98%。", "11.98%", "资本充足率"),
    ("城市商业银行资产总额12万亿元,其他类金融机构资产总额13.18万亿元。", "13.18万亿元", "其他类金融机构资产总额"),
    ("上市银行营业收入增长1% [3] 农商行营收下降2% [4] - 净利息收入同比减少1.3%。", "1.3%",
     "上市银行净利息收入"),  # the page's topic, not the group of the bullet before
    # a count followed by what its items did: the relative clause (counted_heads, relative_verbs)
    ("全省已有近3000名客户经理建立“线上工作室”，服务更便捷。", "3000名", "建立线上工作室的客户经理"),
    ("报告期内，12家城商行实现营业收入两位数增长。", "12家", "实现营业收入两位数增长的城商行"),
    ("5家农商行资产规模破千亿。", "5家", "资产规模破千亿的农商行"),
    ("6家上市银行不良率低于1%，资产质量稳定。", "6家", "不良率低于1%的上市银行"),
    # a figure after the clause: the counted noun alone
    ("21家上市城商行营业收入达1.2万亿元。", "21家", "上市城商行"),
    ("30家城商行中有9家披露了数据。", "30家", "城商行"),
    # a relative clause written out, and a verb before the count (verbs_before_count)
    ("为300余家老年客户集中的网点配备助老设备。", "300余家", "老年客户集中的网点"),
    ("年内完成500余台ATM语音功能改造。", "500余台", "完成语音功能改造的ATM"),
    # 的-relative clause holding a number before the count
    ("营业收入超过千亿元的农商行有4家。", "4家", "营业收入超过千亿元的农商行"),
    # a growth-rate word the subject was cut before, or written after the number
    ("工商银行净利润增速达到9.5%，居同业前列。", "9.5%", "净利润增速"),
    ("北京银行营收以6.2%的增速领跑。", "6.2%", "营收增速"),
    ("江苏银行净利润的增速超过8%。", "8%", "净利润增速"),
    # a possessive 的 before a measure goes, one after a verb stays
    ("北部上市城商行的平均资产总额为5000亿元。", "5000亿元", "北部上市城商行平均资产总额"),
    ("该行归属于股东的净利润为80亿元。", "80亿元", "归属于股东的净利润"),
    # anaphora: 该 + noun names the last quoted product of the paragraph
    ("某行推出“稳盈”系列理财，该产品今年以来累计收益达到6%。", "6%", "稳盈产品累计收益"),
    # a sentence opening with a quoted name is about it
    ("“小智”依托大模型技术，持续提升服务能力，意图识别率平稳保持在95%以上。", "95%", "小智意图识别率"),
    # a bare measure inherits its sibling's modifier (a skipped 累计 goes with it)
    ("目前跨境收单商户超5万户，当年累计收单交易规模达8亿元，交易笔数超60万笔。", "8亿元", "跨境收单交易规模"),
    ("目前跨境收单商户超5万户，当年累计收单交易规模达8亿元，交易笔数超60万笔。", "60万笔", "跨境收单交易笔数"),
    # a bare amount after a quoted product's count
    ("累计发放“爱心包”30万个、金额超2亿元。", "2亿元", "爱心包金额"),
    # a figure whose clause only says how it moved names what the figure before measured
    ("工商银行不良贷款率由1.32%降至1.28%，保持稳定。", "1.28%", "不良贷款率"),
    # a bank's figure in brackets after the measure of the sentence
    ("宁波银行营收增速12.1%居首，杭州银行(+10.2%)紧随其后。", "10.2%", "营收增速"),
    # the figures of a list of banks show the measure without the group counted before
    ("5家上市城商行不良率低于1%，包括江苏银行(0.91%)、南京银行(0.9%)。", "0.9%", "不良率"),
    # an institution alone takes the measure of the sentence's previous subject
    ("上市银行营业收入同比增长1.2% 其中国有行 股份行分别同比增长1.5% 0.8%", "1.5%", "国有行营业收入"),
    # a short period right before the measure is part of it; a date is not
    ("建行今年第三季盈利为120亿元。", "120亿元", "第三季盈利"),
    # a count of institutions right before the measure is part of it
    ("18家上市农商行总资产规模达5万亿元。", "5万亿元", "18家上市农商行总资产规模"),
    # a subject opening with a comparison basis shows the figure before it
    ("加权净资产收益率为9.1%，较上一年同期下降0.2个百分点。", "0.2个百分点", "加权净资产收益率"),
    # a share of something, of the measure before it
    ("(一)非利息收入增加5%至300亿元，佔總收入20%；", "20%", "非利息收入佔總收入"),
    # a long count subject: what was built follows its verb, not the places before it
    ("在北京、上海、广州、深圳等重点城市的核心商圈建设跨境支付服务站15家。", "15家", "建设跨境支付服务站"),
    # a growth-rate word after a basis word the subject was cut before
    ("中国银行营收同比增速3.76%领跑。", "3.76%", "营收同比增速"),
    # a subject opening with the last word of a name quoted earlier takes the whole word
    ("采用“投研系统+财富社区”双轮驱动的架构。截至三季度，社区粉丝数达3200万。", "3200万", "财富社区粉丝数"),
    # a comparison with no subject of its own is about what the demonstrative names
    ("某行推出“智投”系列产品，该基金今年以来累计收益达到12%，超越同期沪深300指数近8个百分点。", "8个百分点",
     "智投基金超越沪深300指数"),
    # 以 + figure + measure + ranking verb
    ("兴业银行以3200.5亿元信用卡透支余额领跑，中信银行(2800.1亿元)紧随其后。", "3200.5亿元", "信用卡透支余额"),
    ("兴业银行以3200.5亿元信用卡透支余额领跑，中信银行(2800.1亿元)紧随其后。", "2800.1亿元", "信用卡透支余额"),
    # a trail word is not cut out of a word (平均), and 的 after a total is a possessive
    ("东部城商行资产总额的平均增速较高(11.56%)。", "11.56%", "东部城商行资产总额平均增速"),
    # a bare growth-rate word after a list of figures: their subject, then the word
    ("工商银行、建设银行分别实现归属于母公司的净利润120亿元、80亿元，同比增速分别为12.5%、20.1%。", "20.1%",
     "归属于母公司的净利润同比增速"),
    # how much more than a year before, of the figure before
    ("今年累放基础设施贷款900亿元，同比多投放120亿元。", "120亿元", "累放基础设施贷款同比多投放"),
    # items joined by 和 before 分别 share the tail, each figure its own item
    ("东部和西部上市农商行平均资产总额分别为900亿元和600亿元。", "600亿元", "西部上市农商行平均资产总额"),
    ("净利息收益率和净利差分别收窄12个基点及10个基点。", "10个基点", "净利差"),
    # 参与者 is one word: 与 joins no items
    ("个人养老金参与者人数分别为1200万、1500万。", "1500万", "个人养老金参与者人数"),
    # a dated period inside the subject: what follows it
    ("此外，郑州银行还公布了2024年加权净资产收益率3.19%。", "3.19%", "加权净资产收益率"),
    # a reporting frame opens no subject
    ("2024年末数据显示其信用卡透支金额降至3928.46亿元。", "3928.46亿元", "信用卡透支金额"),
    # a clause that names nothing measures the figure-less clause before it, when that names a measure
    ("尽管如此，2025年普惠贷款余额仍呈增长趋势，三季度末为12.5万亿元。", "12.5万亿元", "普惠贷款余额"),
    ("数据显示其资产规模稳步扩张，首次突破5000亿元。", "5000亿元", "资产规模"),
    # 仅 says nothing of what is measured; 资产的 before a share is a possessive
    ("相较之下，海外分行仅获利12.5亿元。", "12.5亿元", "海外分行获利"),
    ("达标银行资产占商业银行总资产的比重为77.4%。", "77.4%", "达标银行资产占商业银行总资产比重"),
    # a list marker opens no subject
    ("2、私行客户数突破200万户。", "200万户", "私行客户数"),
    # conjunctions and footnote marks open no subject
    ("虽然电子支付交易规模增长6%，但笔数下降。", "6%", "电子支付交易规模"),
    # a short bare measure takes the topic its paragraph named before it (topic_nouns)
    ("三家银行的信用卡业务增长较快。其中，电子支付交易笔数达到5.2亿笔。", "5.2亿笔", "信用卡电子支付交易笔数"),
    ("今年手机银行发展迅猛，交易量同比增幅达到85%。", "85%", "手机银行交易量同比增幅"),
    ("上市银行业绩分化。存款同比增长6.1%。", "6.1%", "上市银行存款"),
    # not across paragraphs, not over a subject naming its own institution, verb or counted item
    ("信用卡业务增长较快。\n电子支付交易笔数达到5.2亿笔。", "5.2亿笔", "电子支付交易笔数"),
    ("手机银行发展迅猛，国有大行交易量达到12亿笔。", "12亿笔", "国有大行交易量"),
    ("个人养老金业务起步，全行网点超过四万个。", "四万个", "网点"),
    ("上市银行零售转型加速。私行客户数增长9.9%。", "9.9%", "私行客户数"),  # a topic of its own
    # a page about a branch of its bank (邮储银行漳州分行): the subject is the measure alone, the
    # shortest phrase a reader accepts (the branch is the page's context, as for a bank's name)
    ("邮储银行漳州分行服务三农\n从邮储银行漳州分行获悉：截至4月末，全行涉农贷款余额接近150亿元。", "150亿元",
     "涉农贷款余额"),
    # a group of banks is no topic of one bank's figure (上市银行 over 建行's profit)
    ("上市银行业绩分化。建行净利润增长3.1%。", "3.1%", "净利润"),
    # a sibling category and a bracket defining the noun after the topic take no topic
    ("私行客户（资产600万元以上）6.6万户，贵宾客户（资产50万元以上）约130万户。", "130万户", "贵宾客户"),
    ("私行客户（月日均金融资产达600万元以上）6.6万户。", "600万元", "月日均金融资产"),
    ("私人银行业务稳步发展，管理金融资产规模达2.4万亿元。", "2.4万亿元", "私人银行管理金融资产规模"),
    # a ratio in words: the share of the whole that the words after it describe
    ("目前全行每5笔交易中，就有一笔来自线上渠道。", "每5笔交易中，就有一笔", "来自线上渠道的交易占比"),
    ("每10个客户就有3个使用数字人民币。", "每10个客户就有3个", "使用数字人民币的客户占比"),
    # a share of a whole (…中): the part the words after it describe
    ("该行贷款客户中近三成来自制造业，结构持续优化。", "三成", "来自制造业的贷款客户占比"),
    # a count right after a service verb: those served by what the sentence launched
    ("二是推出智能投顾助手，优化交互体验，已服务全行2万余名理财经理。", "2万余名", "智能投顾助手服务的理财经理"),
    ("二是优化交互体验，已服务全行2万余名理财经理。", "2万余名", "理财经理"),
    # a clause naming only a bank: the measure its paragraph named last (not across paragraphs)
    ("兆豐銀行稅前盈餘達69.08億元。其中，遠東銀行的55.2億元居次。", "55.2億元", "遠東銀行稅前盈餘"),
    ("兆豐銀行稅前盈餘達69.08億元。\n其中，遠東銀行的55.2億元居次。", "55.2億元", "遠東銀行的"),
    # a short name before 以 + figure + measure + ranking verb: the name's measure
    ("京城銀則以 5.10% 的現金殖利率領先，同時配發股票股利。", "5.10%", "京城銀現金殖利率"),
    # a period code or a dated period opening the subject is the period field's
    ("25Q3营业收入总计1200亿元。", "1200亿元", "营业收入"),
    ("於2021年度的資本充足率為18.5%。", "18.5%", "資本充足率"),
    # a ranking or threshold frame before a list of banks and 分别: what stands before the frame
    ("全年营收位列前三的农商行为：重庆农商行、上海农商行、广州农商行，分别为280亿元、260亿元、240亿元。",
     "260亿元", "全年营收"),
    ("存款增速超过8%的有常熟银行、江阴银行，分别为9.2%、8.6%。", "8.6%", "存款增速"),
    # a signed percentage in the bracket of the figure before it: that figure's growth
    ("杭州银行营收383.81亿元(+5.4%)，居前。", "5.4%", "营收增速"),
    ("杭州银行营收383.81亿元(5.4%)，居前。", "5.4%", None),
    # a page's pinyin glosses are no part of the subject
    ("不良貸款余額(é)為1633億元。", "1633億元", "不良貸款余額"),
    ("平均總資產(chǎn)回報率為1.16%。", "1.16%", "平均總資產回報率"),
    # a count's measure word joined to a second noun (國家和地區): whose they are, then both nouns
    ("境外機構覆蓋30個國家和地區，客戶貸款增長。", "30個國家", "境外機構覆蓋國家和地區"),
    # 今年/去年 inside a subject are the period field's (not after a comparison word); a stock
    # code after a name is debris
    ("土銀去年稅前淨值報酬率為10.05%。", "10.05%", "土銀稅前淨值報酬率"),
    ("中銀香港(02388.HK)首季經營溢利為41億港元。", "41億港元", "中銀香港首季經營溢利"),
    # a space between two Chinese phrases ends a headline: the measure after it
    ("服务乡村振兴 个人存款余额达到1.3万亿元。", "1.3万亿元", "个人存款余额"),
    # items before 分佔 share what follows it, one figure each
    ("零售銀行、企業銀行及財資業務分佔經營溢利40%、35%及25%。", "35%", "企業銀行佔經營溢利"),
    ("零售銀行、企業銀行及財資業務分佔經營溢利40%、35%及25%。", "25%", "財資業務佔經營溢利"),
    # a list's shared tail may have words before 分别 (增速|季度环比|分别): they stay with it
    ("国有行 股份行 城商行归母净利润增速季度环比分别提升2个百分点 2.3个百分点 1.3个百分点。", "2.3个百分点",
     "股份行归母净利润增速季度环比"),
    # a clause naming nothing, or only a bank, measures the metric its sentence named last
    ("年报显示，其余四家银行不良贷款率均有所上升，其中建行为1.45%。", "1.45%", "不良贷款率"),
    ("5家银行归母净利润负增长，包括兰州银行(-3.21%)、青岛银行(-1.05%)。", "1.05%", "归母净利润"),
    # a bracket holding a figure and its linking words (均为) defines nothing
    ("成都银行ROE达11.2%，宁波银行(均为10.5%)表现突出 - 杭州银行拨备覆盖率520.1%居首。", "520.1%", "拨备覆盖率"),
    # adverbs linking subject and figure (仍然, 却, 共计) are no part of the subject
    ("全行存款余额仍然保持在800亿元。", "800亿元", "存款余额"),
    # a branch (分行) is an institution: its figure measures what the sentence is about; a gloss
    # after its name (OBU) stays with the name
    ("从各类分行的税前净利看，国内总分行320.5亿元，国际金融业务分行(OBU)70.2亿元，海外分行45.6亿元。", "45.6亿元",
     "海外分行税前净利"),
    ("从各类分行的税前净利看，国内总分行320.5亿元，国际金融业务分行(OBU)70.2亿元，海外分行45.6亿元。", "70.2亿元",
     "国际金融业务分行(OBU)税前净利"),
    # items that each name their own measure share no tail (and the last two may be joined by 及)
    ("總資本比率、一級資本比率及普通股權一級資本比率分別為19.8%、16.9%及15.2%。", "19.8%", "總資本比率"),
    ("總資本比率、一級資本比率及普通股權一級資本比率分別為19.8%、16.9%及15.2%。", "16.9%", "一級資本比率"),
    # a count right before a measure is part of it only when it counts institutions
    ("其中，6家资产规模增速超过12%的银行全部为农商行。", "12%", "资产规模增速"),
    # a dash opens an aside: the subject is what follows it
    ("零售贷款增长较快——个人住房贷款余额达1.2万亿元。", "1.2万亿元", "个人住房贷款余额"),
    # 月增/月减 (Taiwan: month on month) cut the subject whole; 虽 links, a sign before the number too
    ("国银2月利息净收益达500亿元，虽月减15亿元，仍年增达40亿元。", "15亿元", "利息净收益"),
    ("该行利息净收益虽月减15亿元，但仍处高位。", "15亿元", "利息净收益"),
    ("招商银行营业收入为1300亿元，同比增长率为+2.5%。", "2.5%", "增长率"),
    # a dated clause naming nothing states the figure before it for another date
    ("2021年净利润为120亿元，2022年攀升至150亿元，2023年冲破180亿元。", "180亿元", "净利润"),
    # a reporting verb between an institution and its measure goes; a currency conversion trails
    ("上半年，股份制银行实现营业总收入共计6000亿元。", "6000亿元", "股份制银行营业总收入"),
    ("2024年境外分行实现净利润折合人民币160亿元。", "160亿元", "境外分行净利润"),
    ("该行代销理财产品为客户实现投资收益380亿元。", "380亿元", "代销理财产品为客户实现投资收益"),
    ("共29家银行实现增长。", "29家", "实现增长的银行"),  # no measure after it: the verb stays
    # the last item of a list joined by 及: each figure its own item with the shared tail
    ("按币种分析，人民币、港元、欧元及美元在存款中的比重分别为50.1%、20.3%、9.8%及19.8%。", "50.1%",
     "人民币在存款中的比重"),
    ("按币种分析，人民币、港元、欧元及美元在存款中的比重分别为50.1%、20.3%、9.8%及19.8%。", "9.8%",
     "欧元在存款中的比重"),
]


@pytest.mark.parametrize("text,surface,subject", CASES, ids=[str(c[2]) for c in CASES])
def test_subject_phrasing(text: str, surface: str, subject: str | None) -> None:
    assert _subject(text, surface) == subject


def test_abbreviation_kept_from_a_cut_heading() -> None:
    text = "## 一、手机银行月活跃用户（MAU，截至2023年6月末）\n工商银行：1.6亿户\n建设银行：1.4亿户"
    assert _subject(text, "1.6亿户") == "手机银行月活跃用户（MAU）"


def test_helpers() -> None:
    m = "8家城商行实现净利润双位数增长，"
    verb, na, nb, ra, rb = counted_phrase(m, 2, len(m) - 1, "")
    assert (verb, m[na:nb], m[ra:rb]) == ("", "城商行", "实现净利润双位数增长")
    assert counted_phrase("外币兑换机，", 0, 5, "") is None  # no counted head
    assert drop_possessive("城商行的总资产规模") == "城商行总资产规模"
    assert drop_possessive("老年客户较为集中的网点") == "老年客户较为集中的网点"
    assert inherit_sibling("交易笔数", "外卡收单交易规模") == "外卡收单交易笔数"
    assert inherit_sibling("贷款余额", "贷款总额") == "贷款余额"  # same start: nothing to inherit
    assert inherit_sibling("贷款余额", "发放贷款") == "贷款余额"  # a verb is no modifier (sibling_verbs)
    assert inherit_sibling("贷款余额", "累计投放贷款") == "贷款余额"
    assert measure_of("上市银行营业收入") == "营业收入"
    assert group_carried("不良贷款率", "国有商业银行不良贷款余额") == "国有商业银行不良贷款率"
    assert group_carried("不良贷款率", "主要商业银行(国有商业银行和股份制商业银行)不良贷款余额") \
        == "主要商业银行不良贷款率"  # the gloss stays with the first figure
    assert group_carried("资本充足率", "京城銀行總資產") == "资本充足率"  # a bank, not a group
    assert group_carried("净利润", "上海商业银行营业收入") == "净利润"  # ... whose name ends as a group's
    assert group_carried("交易笔数", "国有手机银行交易金额") == "交易笔数"  # a business line
    assert group_carried("上市银行净利润", "城商行营收") == "上市银行净利润"  # names its own
    assert measure_of("银行业平均净息差") == "银行业平均净息差"  # the sector, not a bank
    assert drop_time_words("土銀去年稅前盈餘") == "土銀稅前盈餘"
    assert drop_time_words("净息差较去年缩小的银行") == "净息差较去年缩小的银行"  # a comparison keeps its basis
    assert only_institution("第一銀行") and not only_institution("稅前盈餘")


def test_phrasing_keeps_metric() -> None:
    """The phrasing changes the field, not what the figure is: 净利润增速 is still a change of net profit."""
    (m,) = [x for x in extract_mentions("标题\n工商银行净利润增速达到9.5%。", DocContext()) if x.surface == "9.5%"]
    assert m.subject == "净利润增速"
