"""The LLM scorer against a local fake OpenAI-compatible server (127.0.0.1 only)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from werkzeug import Request, Response

from ptmscope.cards import SECTIONS
from ptmscope.cards.llm import PROMPT, SYSTEM_MESSAGE, LLMScorer, parse_answer
from ptmscope.errors import PtmscopeError
from realdata import SHARED_DATA

pytest.importorskip("pytest_httpserver")

PAPER = SHARED_DATA.parent / "paper" / "esem24-what-do-we-know-about-hugging-face.txt"


@pytest.fixture
def loopback_server():
    """A fake OpenAI-compatible endpoint bound to 127.0.0.1 (not "localhost") for this test only."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def listing_1_from_the_paper() -> str:
    """Listing 1 as printed: the lines between its caption and the paragraph after it."""
    if not PAPER.is_file():
        pytest.skip(f"the paper's text is not available: {PAPER} is absent (see ../shared/paper/README.md)")
    text = PAPER.read_text(encoding="utf-8")
    start = text.index("Listing 1: ChatGPT-4 prompt for evaluating model cards.")
    start = text.index("\n", start) + 1
    end = text.index("To measure the availability of metadata", start)
    return text[start:end].strip("\n")


SECRET = "sk-test-DO-NOT-LEAK-1234567890"
GOOD = {"Model description": True, "Limitations": False, "How to use": True, "Training": "true", "Evaluation": "false"}


def completion(content: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
    }


@pytest.fixture
def scorer_factory(httpserver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PTMSCOPE_TEST_KEY", SECRET)

    def make(**kw) -> LLMScorer:
        opts = dict(
            endpoint=httpserver.url_for("/v1"),
            model="fake-1",
            api_key_env="PTMSCOPE_TEST_KEY",
            cache_dir=tmp_path / "cache",
            backoff=0.01,
            timeout=5.0,
        )
        opts.update(kw)
        return LLMScorer(**opts)

    return make


# -- parsing -------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer,expected",
    [
        (
            '{"Model description": true, "Limitations": true, "How to use": true, '
            '"Training": true, "Evaluation": true}',
            5,
        ),
        ("```json\n" + json.dumps(GOOD) + "\n```", 3),
        ('Here you go:\n{"1. Model description": "yes", "2. Limitations": "no"}\nHope this helps', 1),
        ('{"model_description": 1, "how_to_use": 0, "training": {"present": true}}', 2),
        ('{"result": {"description": true, "evaluation": true}}', 2),
    ],
)
def test_parse_good_answers(answer: str, expected: int) -> None:
    s = parse_answer(answer)
    assert s.scored and s.score == expected


def test_parse_missing_keys_are_absent() -> None:
    s = parse_answer('{"Training": true}')
    assert s.scored and s.score == 1 and s.has("training")
    assert "description" in s.note


@pytest.mark.parametrize(
    "answer", ["", "I cannot help with that.", "{not json", '{"colour": "blue"}', "[1, 2, 3]", None, 42]
)
def test_parse_garbage_is_unscored(answer) -> None:
    s = parse_answer(answer)
    assert not s.scored and s.score is None


# -- HTTP ------------------------------------------------------------------------
def test_prompt_is_listing_1_exactly_as_printed() -> None:
    listing = listing_1_from_the_paper()
    assert listing == PROMPT
    assert PROMPT.count("\n") == listing.count("\n") == 10  # its line breaks and blank lines included
    assert "model\u2019s performance" in listing  # the printed apostrophe, not "'"


def test_sends_system_message_and_listing_1_with_the_card(
    loopback_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict] = []

    def handler(request: Request) -> Response:
        seen.append({"auth": request.headers.get("Authorization"), "body": request.get_json()})
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    monkeypatch.setenv("PTMSCOPE_TEST_KEY", SECRET)
    loopback_server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    endpoint = loopback_server.url_for("/v1")
    assert endpoint.startswith("http://127.0.0.1:")
    sc = LLMScorer(endpoint=endpoint, model="fake-1", api_key_env="PTMSCOPE_TEST_KEY", cache_dir=tmp_path / "c")
    s = sc.score("# card\nhello")
    assert s.scored and s.score == 3
    body = seen[0]["body"]
    assert body["model"] == "fake-1" and body["temperature"] == 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"] == "You are a helpful assistant." == SYSTEM_MESSAGE
    content = body["messages"][1]["content"]
    # the paper's wording and line breaks, typed from Listing 1, then a blank line and the card
    assert content == (
        "You will receive a model card and are expected to analyze it for the following details:\n\n"
        "1. Model description: A description of the model itself\n"
        "2. Limitations: Any limitations of the model\n"
        "3. How to use: Instructions on how to use the model downstream\n"
        "4. Training: Details of the training process or data\n"
        "5. Evaluation: Reports on the model\u2019s performance evaluation\n\n"
        "Please respond with a JSON object indicating whether each of these points is present with true/false.\n\n"
        "Here is the model card to evaluate:\n\n# card\nhello"
    )
    if PAPER.is_file():  # and it is what the paper printed
        assert content == listing_1_from_the_paper() + "\n\n# card\nhello"
    assert seen[0]["auth"] == f"Bearer {SECRET}"


def test_a_custom_system_message_changes_the_key_and_the_cache(httpserver, scorer_factory) -> None:
    seen: list[dict] = []

    def handler(request: Request) -> Response:
        seen.append(request.get_json())
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    default = scorer_factory()
    custom = scorer_factory(system_message="Answer in JSON only.")
    assert default.key == "llm-fake-1-v2"
    assert custom.key.startswith("llm-fake-1-v2-s") and custom.key != default.key
    default.score("# card\nhello")
    custom.score("# card\nhello")  # same card, same cache dir: not answered from the other prompt's cache
    assert len(seen) == 2 and seen[1]["messages"][0]["content"] == "Answer in JSON only."
    default.score("# card\nhello")
    assert len(seen) == 2  # its own cached answer


def test_cache_hit_skips_the_endpoint(httpserver, scorer_factory, tmp_path: Path) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion(json.dumps(GOOD)))
    a = scorer_factory()
    assert a.score("card one").score == 3
    n = len(httpserver.log)
    b = scorer_factory()  # a new scorer, same cache dir and model
    assert b.score("card one").score == 3
    assert len(httpserver.log) == n
    assert b.stats.cache_hits == 1
    # another model does not reuse the answer
    c = scorer_factory(model="fake-2")
    c.score("card one")
    assert len(httpserver.log) == n + 1
    # the key is in no cache file
    for f in (tmp_path / "cache").rglob("*.json"):
        assert SECRET not in f.read_text()


def test_malformed_answer_is_unscored_and_not_cached(httpserver, scorer_factory, tmp_path: Path) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("Sorry, I can't."))
    s = scorer_factory().score("card")
    assert not s.scored
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_non_completion_json_is_unscored(httpserver, scorer_factory) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data("<html>oops</html>", content_type="text/html")
    s = scorer_factory().score("card")
    assert not s.scored and "not a chat completion" in s.note


def test_retries_5xx_then_succeeds(httpserver, scorer_factory) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] < 3:
            return Response("busy", status=503)
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    sc = scorer_factory(retries=3)
    assert sc.score("card").score == 3
    assert calls["n"] == 3 and sc.stats.retries == 2


def test_gives_up_after_retries_without_leaking_the_key(httpserver, scorer_factory) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data("down", status=500)
    sc = scorer_factory(retries=2)
    s = sc.score("card")
    assert not s.scored and "HTTP 500" in s.note
    assert len(httpserver.log) == 3
    assert SECRET not in s.note and SECRET not in repr(sc)


def test_client_errors_are_not_retried(httpserver, scorer_factory) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data("too long", status=400)
    s = scorer_factory(retries=3).score("card")
    assert not s.scored and "HTTP 400" in s.note
    assert len(httpserver.log) == 1


def test_refused_key_stops_at_once_without_leaking_it(httpserver, scorer_factory) -> None:
    from ptmscope.cards.llm import EndpointError

    httpserver.expect_request("/v1/chat/completions").respond_with_data("bad key", status=401)
    sc = scorer_factory(retries=3, concurrency=2)
    with pytest.raises(EndpointError, match="HTTP 401") as exc:
        sc.score_many([f"card {i}" for i in range(20)])
    assert SECRET not in str(exc.value) and "PTMSCOPE_TEST_KEY" in str(exc.value)
    assert len(httpserver.log) <= 2  # one request per worker at most, no retries, the 18 queued cards never sent


def test_endpoint_down_stops_after_consecutive_failures(httpserver, scorer_factory) -> None:
    from ptmscope.cards.llm import EndpointError

    httpserver.expect_request("/v1/chat/completions").respond_with_data("down", status=503)
    sc = scorer_factory(retries=1, concurrency=1, max_consecutive_failures=3)
    with pytest.raises(EndpointError, match="3 cards in a row"):
        sc.score_many([f"card {i}" for i in range(50)])
    assert len(httpserver.log) == 6  # 3 cards x (1 try + 1 retry), then nothing more


def test_isolated_failures_do_not_stop_the_run(httpserver, scorer_factory) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] % 2:  # every other card fails: never 2 in a row
            return Response("busy", status=500)
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    out = scorer_factory(retries=0, concurrency=1, max_consecutive_failures=2).score_many([f"c{i}" for i in range(10)])
    assert [s.scored for s in out] == [False, True] * 5


def test_unreachable_endpoint_is_unscored_then_stops() -> None:
    from ptmscope.cards.llm import EndpointError

    sc = LLMScorer(
        endpoint="http://127.0.0.1:9/v1",
        retries=1,
        backoff=0.01,
        timeout=1.0,
        cache_dir=None,
        max_consecutive_failures=2,
    )
    s = sc.score("card")
    assert not s.scored and "connection error" in s.note
    with pytest.raises(EndpointError, match="connection error"):
        sc.score("card 2")


def test_bounded_concurrency(httpserver, scorer_factory) -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def handler(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    sc = scorer_factory(concurrency=2)
    out = sc.score_many([f"card {i}" for i in range(8)] + [None])
    assert [s.score for s in out] == [3] * 8 + [0]
    assert out[-1].note == "no card"
    assert state["max"] <= 2


def test_bad_configuration() -> None:
    with pytest.raises(PtmscopeError, match="endpoint"):
        LLMScorer(endpoint=None)
    with pytest.raises(PtmscopeError, match="http"):
        LLMScorer(endpoint="file:///etc/passwd")


def test_sections_order_is_the_papers() -> None:
    assert SECTIONS == ("description", "limitations", "how_to_use", "training", "evaluation")


def test_cli_scores_a_store_with_the_llm_and_never_prints_the_key(
    cli, httpserver, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_docs import build_store

    build_store(store_path).close()
    monkeypatch.setenv("PTMSCOPE_TEST_KEY", SECRET)
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        assert request.headers.get("Authorization") == f"Bearer {SECRET}"
        text = request.get_json()["messages"][-1]["content"]
        if text.endswith("zero too"):  # one card gets garbage: unscored, retried next run
            return Response(json.dumps(completion("no idea")), content_type="application/json")
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    args = (
        "cards",
        "score",
        "--store",
        store_path,
        "--scorer",
        "llm",
        "--endpoint",
        httpserver.url_for("/v1"),
        "--model",
        "fake-1",
        "--api-key-env",
        "PTMSCOPE_TEST_KEY",
        "--cache-dir",
        tmp_path / "c",
        "--json",
    )
    code, out, err = cli(*args)
    assert code == 0, err
    run = json.loads(out)
    assert (run["n_scored"], run["n_unscored"], run["n_missing"]) == (5, 1, 1)
    assert calls["n"] == 5  # the missing card is never sent
    code, out2, err2 = cli(*args)
    again = json.loads(out2)
    assert again["n_skipped"] == 5 and calls["n"] == 6  # only the unscored card is asked again
    assert SECRET not in out + err + out2 + err2


def test_cli_endpoint_down_is_one_line_error_and_store_unchanged(
    cli, httpserver, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_docs import build_store

    build_store(store_path).close()
    monkeypatch.setenv("PTMSCOPE_TEST_KEY", SECRET)
    httpserver.expect_request("/v1/chat/completions").respond_with_data("no", status=403)
    code, out, err = cli(
        "cards",
        "score",
        "--store",
        store_path,
        "--scorer",
        "llm",
        "--endpoint",
        httpserver.url_for("/v1"),
        "--api-key-env",
        "PTMSCOPE_TEST_KEY",
        "--cache-dir",
        tmp_path / "c",
    )
    assert code == 1 and "HTTP 403" in err and len(err.strip().splitlines()) == 1
    assert SECRET not in out + err
    import duckdb

    with duckdb.connect(str(store_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM card_scores").fetchone()[0] == 0


def test_cli_score_never_creates_a_store(cli, tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    code, _, err = cli("cards", "score", "--store", missing)
    assert code == 1 and "no store here" in err
    assert not missing.exists()


def test_cli_validate_with_only_garbage_answers_is_an_error(cli, httpserver, tmp_path: Path) -> None:
    from test_validate import _write_dev

    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0"])
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("I would rather not."))
    code, out, err = cli(
        "cards",
        "validate",
        "--labels",
        labels,
        "--cards",
        cards,
        "--scorer",
        "llm",
        "--endpoint",
        httpserver.url_for("/v1"),
        "--cache-dir",
        tmp_path / "c",
        "--json",
    )
    assert code == 1 and "scored none of the 2 cards" in err and out == ""


def test_hostile_cards(httpserver, scorer_factory) -> None:
    from cards_samples import HTML_CARD

    sent: list[str] = []

    def handler(request: Request) -> Response:
        sent.append(request.get_json()["messages"][-1]["content"])
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    sc = scorer_factory(max_card_chars=1000)
    huge = "# m\n" + "lorem ipsum " * 300_000  # 3.6 MB
    blob = "".join(chr(c) for c in range(0, 32)) * 200 + "\ufffd" * 500
    big, binary, html, empty, nul = sc.score_many(
        [huge, blob, HTML_CARD, "", "# model card\n\nA model for Dutch news\x00 texts.\n"]
    )
    assert big.score == 3 and html.score == 3 and nul.score == 3
    assert binary.scored and binary.score == 0 and binary.note == "binary-looking card"
    assert empty.scored and empty.score == 0 and empty.note == "empty card"
    assert len(sent) == 3  # the binary and the empty card are never sent
    assert max(len(m) for m in sent) <= len(PROMPT) + 2 + 1000  # the huge card is cut
    assert not any("\x00" in m for m in sent)


def test_slow_endpoint_times_out_and_is_retried(httpserver, scorer_factory) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(0.6)  # longer than the scorer's timeout (the test server is single-threaded: keep it short)
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    sc = scorer_factory(timeout=0.4, retries=2)
    s = sc.score("card")
    assert s.scored and s.score == 3
    assert calls["n"] >= 2 and sc.stats.retries >= 1  # the first request timed out, a retry answered
