"""The analyzer: Chinese and English words, and concepts named in either language."""

from agglo.matching.concepts import glossary_concepts, term_concepts
from agglo.matching.vocabulary import Analyzer, Concept, concept_phrases, plain_tokens

TERMS = term_concepts(
    [
        {
            "code": "sic-power",
            "name_zh": "碳化硅功率器件",
            "name_en": "Silicon carbide power devices",
            "synonyms": "SiC MOSFET",
        },
        {
            "code": "eda",
            "name_zh": "电子设计自动化(EDA)",
            "name_en": "Electronic design automation (EDA)",
            "synonyms": "EDA",
        },
        {
            "code": "pv-module-testing",
            "name_zh": "光伏组件测试",
            "name_en": "PV module testing",
            "synonyms": "IEC 61215",
        },
    ]
)
ANALYZER = Analyzer([*TERMS, *glossary_concepts()])


def test_phrases_take_names_acronyms_and_synonyms():
    phrases = concept_phrases("电子设计自动化(EDA)", "Electronic design automation (EDA)", ["EDA"])
    assert "电子设计自动化" in phrases and "eda" in phrases and "electronic design automation" in phrases


def test_chinese_and_english_name_the_same_concept():
    zh = ANALYZER.tokens("寻找车规级碳化硅功率器件供应商")
    en = ANALYZER.tokens("Automotive-grade silicon carbide power devices for EV inverters")
    assert "c:t.sic-power" in zh and "c:t.sic-power" in en
    assert "c:g.automotive-grade" in zh and "c:g.automotive-grade" in en
    assert "碳化硅" in zh  # the words stay, so a partial query still matches
    assert "silicon" in en and "inverters" in en


def test_a_query_trades_the_words_of_a_concept_for_the_concept():
    tokens = ANALYZER.tokens("需要碳化硅功率器件", query=True)
    assert "c:t.sic-power" in tokens
    assert "碳化硅" not in tokens and "功率" not in tokens
    assert "需要" not in tokens  # a stopword


def test_each_concept_counts_once_per_text_and_standards_are_not_split():
    tokens = ANALYZER.tokens("EDA 电子设计自动化 Electronic design automation")
    assert tokens.count("c:t.eda") == 1
    assert "c:t.pv-module-testing" not in ANALYZER.tokens("IEC standards compliance")
    assert "c:t.pv-module-testing" in ANALYZER.tokens("tested to IEC 61215")


def test_labels_and_plain_tokens():
    assert ANALYZER.label("c:t.sic-power", chinese=True) == "碳化硅功率器件"
    assert ANALYZER.label("c:t.sic-power", chinese=False) == "Silicon carbide power devices"
    assert ANALYZER.label("inverter", chinese=True) == "inverter"
    plain = plain_tokens("车规级碳化硅功率器件 for EV")
    assert not any(t.startswith("c:") for t in plain) and "ev" in plain


def test_concept_without_phrases_is_harmless():
    assert Analyzer([Concept("x", "", "", ())]).tokens("任何 text") == ["任何", "text"]


def test_a_bare_number_is_no_evidence_of_a_match():
    tokens = ANALYZER.tokens("Need a 5 m2 lyophilizer, 需要 5 平方米的冻干机", query=True)
    assert "5" not in tokens and "m2" in tokens and "lyophilizer" in tokens
    assert "c:t.pv-module-testing" in ANALYZER.tokens("tested to IEC 61215")  # a number that names a standard
