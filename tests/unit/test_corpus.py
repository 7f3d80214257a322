"""The seed corpus on disk (tzer.corpus): atomic content-named writes, and one-line CorpusErrors naming bad files."""

import json
import os
import random
from pathlib import Path

import pytest

from tzer.corpus import load_corpus, save_test_case
from tzer.errors import CorpusError
from tzer.generate import GENERATORS, draw_test_case
from tzer.records import PassConfig, TestCase


def some_test_cases() -> list[TestCase]:
    rng = random.Random(0)
    cases = [draw_test_case(rng, name, "llvm") for name in GENERATORS.names()]
    cases.append(draw_test_case(rng, "conv", "llvm", PassConfig(1, ("tir.Simplify",), (("a.b", 4),))))
    return cases


def write_json(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def good_record() -> dict:
    return draw_test_case(random.Random(1), "metaformer", "llvm").to_json()


def test_save_and_load_round_trip(tmp_path):
    directory = tmp_path / "corpus"  # created on first save
    cases = some_test_cases()
    paths = [save_test_case(str(directory), tc) for tc in cases]
    for tc, path in zip(cases, paths):
        assert os.path.basename(path) == f"{tc.key[:16]}.json"
    assert sorted(os.listdir(directory)) == sorted(os.path.basename(p) for p in paths)  # no temporary files left
    loaded = load_corpus(str(directory))
    assert sorted(loaded, key=lambda tc: tc.key) == sorted(cases, key=lambda tc: tc.key)


def test_saving_twice_is_idempotent(tmp_path):
    test_case = some_test_cases()[0]
    first = save_test_case(str(tmp_path), test_case)
    content = Path(first).read_bytes()
    assert save_test_case(str(tmp_path), test_case) == first
    assert Path(first).read_bytes() == content
    assert os.listdir(tmp_path) == [os.path.basename(first)]


def test_load_ignores_files_that_are_not_json(tmp_path):
    save_test_case(str(tmp_path), some_test_cases()[0])
    (tmp_path / "README.md").write_text("not a test case")
    (tmp_path / "x.json.tmp").write_text("{")
    assert len(load_corpus(str(tmp_path))) == 1


def test_load_is_in_file_name_order(tmp_path):
    cases = some_test_cases()
    for tc in cases:
        save_test_case(str(tmp_path), tc)
    assert [tc.key[:16] for tc in load_corpus(str(tmp_path))] == sorted(tc.key[:16] for tc in cases)


def without(data: dict, *path: str) -> dict:
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return data


def with_unknown_op(data: dict) -> dict:
    data["params"]["steps"][0]["layer"]["op"] = "softmax"
    return data


BAD_FILES = {
    "invalid-json": lambda: '{"generator": "conv", ',
    "not-utf8": lambda: b"\xff\xfe{}",
    "empty": lambda: "",
    "not-an-object": lambda: json.dumps([1, 2, 3]),
    "missing-generator": lambda: json.dumps(without(good_record(), "generator")),
    "missing-params": lambda: json.dumps(without(good_record(), "params")),
    "missing-passes": lambda: json.dumps(without(good_record(), "passes")),
    "missing-shape": lambda: json.dumps(without(good_record(), "params", "shape")),
    "missing-layer-field": lambda: json.dumps(without(good_record(), "params", "steps", 0, "layer", "op")),
    "unknown-layer-op": lambda: json.dumps(with_unknown_op(good_record())),
    "unknown-layer-field": lambda: json.dumps(
        {**good_record(), "params": {**good_record()["params"], "steps": [
            {"layer": {"op": "activation", "name": "relu", "bogus": 1}, "residual": False}]}}),
    "bad-seed": lambda: json.dumps({**good_record(), "program_seed": "seven"}),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_raises_one_line_corpus_error_naming_the_file(tmp_path, kind):
    content = BAD_FILES[kind]()
    save_test_case(str(tmp_path), some_test_cases()[0])  # a good file next to it does not hide the bad one
    bad = tmp_path / "zz-bad.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CorpusError) as info:
        load_corpus(str(tmp_path))
    message = str(info.value)
    assert str(bad) in message
    assert "\n" not in message
    assert message.startswith("corrupt corpus file")


def test_unknown_layer_op_message_names_the_op(tmp_path):
    path = write_json(tmp_path / "a.json", with_unknown_op(good_record()))
    with pytest.raises(CorpusError, match=r"unknown layer 'softmax'"):
        load_corpus(str(tmp_path))
    assert os.path.exists(path)  # loading never deletes or rewrites a corpus file


def test_a_layer_that_does_not_fit_its_input_is_rejected(tmp_path):
    data = draw_test_case(random.Random(2), "max_pool", "llvm").to_json()
    layer = data["params"]["steps"][0]["layer"]
    layer["kernel"] = [99] * len(layer["kernel"])  # wider than any drawn input, even padded
    write_json(tmp_path / "a.json", data)
    with pytest.raises(CorpusError, match="a.json"):
        load_corpus(str(tmp_path))


def test_zero_stride_is_a_corpus_error(tmp_path):
    data = draw_test_case(random.Random(0), "conv", "llvm").to_json()
    layer = data["params"]["steps"][0]["layer"]
    layer["stride"] = [0] * len(layer["stride"])
    write_json(tmp_path / "a.json", data)
    with pytest.raises(CorpusError):
        load_corpus(str(tmp_path))


def test_unknown_pipeline_pass_is_a_corpus_error(tmp_path):
    data = good_record()
    data["passes"]["pipeline"] = ["s_tir.LowerInitBlock", "tirx.NoSuchPass"]
    write_json(tmp_path / "p.json", data)
    with pytest.raises(CorpusError, match="NoSuchPass"):
        load_corpus(str(tmp_path))
