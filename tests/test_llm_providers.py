"""PROCGUIDE_LLM_PROVIDER picks the LangChain chat model (init_chat_model), each with the answer's
bounds: tokens, no retries, and a read timeout. Built offline: no server is contacted."""

import pytest

from procguide.answer.llm import LLMUnavailable, chat_model
from procguide.config import Settings

pytestmark = pytest.mark.fast


def settings(**values) -> Settings:
    return Settings(_env_file=None, llm_model="m", llm_max_tokens=123,  # type: ignore[call-arg]
                    llm_first_token_timeout_s=7, **values)


def test_an_openai_compatible_server_gets_the_token_bound_and_no_retries():
    model = chat_model(settings(llm_base_url="http://127.0.0.1:8000/v1"))
    assert type(model).__name__ == "ChatOpenAI"
    assert model.max_tokens == 123 and model.max_retries == 0
    assert model.openai_api_base == "http://127.0.0.1:8000/v1"
    assert model.extra_body == {"max_tokens": 123}  # read by servers that ignore max_completion_tokens


def test_openai_itself_gets_only_the_current_name_of_the_bound():
    model = chat_model(settings(llm_provider="openai", llm_base_url="https://api.openai.com/v1"))
    assert model.max_tokens == 123 and not model.extra_body


def test_ollama_uses_its_own_api_at_the_server_root():
    model = chat_model(settings(llm_provider="ollama", llm_base_url="http://127.0.0.1:11434/v1"))
    assert type(model).__name__ == "ChatOllama"
    assert model.num_predict == 123 and model.base_url == "http://127.0.0.1:11434"


def test_azure_openai_takes_the_endpoint_deployment_and_api_version():
    model = chat_model(settings(llm_provider="azure", llm_base_url="https://council.openai.azure.com",
                                llm_api_key="k", llm_api_version="2024-10-21"))
    assert type(model).__name__ == "AzureChatOpenAI"
    assert model.deployment_name == "m" and model.openai_api_version == "2024-10-21"
    assert model.azure_endpoint == "https://council.openai.azure.com"
    assert model.max_tokens == 123 and model.max_retries == 0


def test_a_provider_whose_package_is_missing_says_what_to_install():
    with pytest.raises(LLMUnavailable, match="PROCGUIDE_LLM_PROVIDER=anthropic needs its LangChain package"):
        chat_model(settings(llm_provider="anthropic"))


def test_an_unknown_provider_is_a_clear_error():
    with pytest.raises(LLMUnavailable, match="PROCGUIDE_LLM_PROVIDER=no-such-thing"):
        chat_model(settings(llm_provider="no-such-thing"))


def test_the_judge_asks_for_a_word_not_an_essay():
    from procguide.answer.judge import JUDGE_MAX_TOKENS, LLMJudge

    judge = LLMJudge(settings(llm_base_url="http://127.0.0.1:8000/v1"))
    assert judge.model.max_tokens == JUDGE_MAX_TOKENS == judge.model.extra_body["max_tokens"]
