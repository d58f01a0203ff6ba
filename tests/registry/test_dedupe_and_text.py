from agglo.registry.dedupe import is_probable_duplicate, name_similarity, normalize_name
from agglo.registry.kinds import Kind, Layer, layer_of, size_class_for
from agglo.registry.text import index_tokens, query_tokens


def test_legal_forms_do_not_hide_a_duplicate():
    assert normalize_name("深圳华芯微电子科技有限公司") == normalize_name("深圳华芯微电子科技股份有限公司")
    assert is_probable_duplicate("深圳华芯微电子科技有限公司", "深圳华芯微电子科技股份有限公司")
    assert is_probable_duplicate("Huaxin Microelectronics Co., Ltd.", "HUAXIN MICROELECTRONICS LIMITED")


def test_different_firms_are_not_flagged():
    assert not is_probable_duplicate("深圳华芯微电子科技有限公司", "苏州博远生物医药有限公司")
    assert name_similarity("", "x") == 0.0


def test_layers_follow_the_seed_environment_model():
    assert layer_of("tech_sme") is Layer.CORE
    assert layer_of("bank") is Layer.AUXILIARY
    assert layer_of("university") is Layer.AUXILIARY
    assert layer_of("government") is Layer.EXTERNAL
    assert {layer_of(k) for k in Kind} == set(Layer)


def test_size_class_thresholds():
    assert [size_class_for(n).value for n in (5, 20, 299, 300, 999, 1000)] == [
        "micro",
        "small",
        "small",
        "medium",
        "medium",
        "large",
    ]


def test_index_tokens_cover_query_tokens_of_the_same_text():
    text = "深圳华芯集成电路设计有限公司 EDA tools"
    indexed = set(index_tokens(text).split())
    assert set(query_tokens("集成电路 设计")) <= indexed
    assert "eda" in indexed and "tools" in indexed
    assert query_tokens("!!! ???") == []
