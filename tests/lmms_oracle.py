"""lmms-eval 0.7.3's own task functions and settings, read from the installed package without its heavy imports.

`pip install --no-deps lmms-eval==0.7.3 loguru` is enough: each task's `utils.py` is loaded by file path with
`lmms_eval.tasks` registered as a bare package (its `__init__` would import the evaluator, datasets, ...), `cv2` stubbed
(only Video-MME's subtitle reader uses it) and `HF_HOME` set (TempCompass and NExT-QA read it at import). Task YAML
files are read with their `!function` tags kept as strings, model defaults from the source with `ast`: nothing of
lmms-eval's model classes (torch, transformers) is imported. Tests skip when the package is missing.
"""
from __future__ import annotations
import ast, importlib.util, os, sys, types
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

VERSION = "0.7.3"


@lru_cache(None)
def root() -> Path:
    spec = importlib.util.find_spec("lmms_eval")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"lmms-eval is not installed (pip install --no-deps lmms-eval=={VERSION} loguru)")
    from importlib.metadata import version
    if version("lmms_eval") != VERSION: pytest.skip(f"lmms-eval {version('lmms_eval')} installed; the oracle is {VERSION}")
    if importlib.util.find_spec("loguru") is None: pytest.skip("loguru is not installed (lmms-eval's task files import it)")
    return Path(spec.submodule_search_locations[0])


@lru_cache(None)
def task_utils(task: str):
    "The module `lmms_eval/tasks/<task>/utils.py`."
    base = root()
    if "lmms_eval.tasks" not in sys.modules:
        import lmms_eval
        pkg = types.ModuleType("lmms_eval.tasks")
        pkg.__path__ = [str(base / "tasks")]
        sys.modules["lmms_eval.tasks"] = pkg
        lmms_eval.tasks = pkg
    sys.modules.setdefault("cv2", types.ModuleType("cv2"))
    os.environ.setdefault("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
    spec = importlib.util.spec_from_file_location(f"lmms_oracle_{task}", base / "tasks" / task / "utils.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@lru_cache(None)
def _reasoning_tags():
    import json
    return json.loads(cli_default("reasoning_tags"))


def strip_reasoning(text: str) -> str:
    "lmms-eval's own reasoning stripping with the CLI's default tags."
    root()
    from lmms_eval.api.reasoning import strip_reasoning_tags
    return strip_reasoning_tags(text, _reasoning_tags())


@lru_cache(None)
def cli_default(option: str):
    "The default of an `lmms-eval` command-line option, read from `lmms_eval/__main__.py` with `ast`."
    tree = ast.parse((root() / "__main__.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument" and node.args:
            if isinstance(node.args[0], ast.Constant) and node.args[0].value == f"--{option}":
                for kw in node.keywords:
                    if kw.arg == "default": return ast.literal_eval(kw.value)
    raise KeyError(option)


class _Loader(yaml.SafeLoader): pass
_Loader.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")


def task_config(folder: str, name: str) -> dict:
    "A task YAML with its `include` merged in (the include first, the file on top), as lmms-eval reads it."
    path = root() / "tasks" / folder / name
    cfg = yaml.load(path.read_text(), Loader=_Loader)
    if inc := cfg.pop("include", None):
        base = yaml.load((path.parent / inc).read_text(), Loader=_Loader)
        cfg = {**base, **cfg}
    return cfg


def specific_kwargs(cfg: dict, model: str = "qwen2_5_vl") -> dict:
    "`lmms_eval_specific_kwargs` resolved for `model` as `ConfigurableTask.__init__` does (model key, else default merged in)."
    kw = cfg.get("lmms_eval_specific_kwargs")
    if kw is None: return None
    if model in kw: return kw[model]
    kw = dict(kw)
    if "default" in kw: kw.update(kw["default"])
    elif "dataset" in kw: kw.update(kw["dataset"])
    return kw


def generation_kwargs(cfg: dict) -> dict:
    "The task's generation kwargs as TaskConfig fills them (greedy `do_sample: False` when the YAML has none)."
    g = dict(cfg.get("generation_kwargs") or {"do_sample": False})
    if "temperature" in g: g["temperature"] = float(g["temperature"])
    return g


def _eval_node(node):
    "A constant expression of the source (numbers, strings, None, arithmetic on them)."
    return eval(compile(ast.Expression(node), "<lmms-eval>", "eval"), {"__builtins__": {}})


def model_defaults(kind: str = "simple", cls: str = "Qwen2_5_VL") -> dict:
    "Defaults of `__init__` of lmms-eval's `models/<kind>/qwen2_5_vl.py` class."
    tree = ast.parse((root() / "models" / kind / "qwen2_5_vl.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name == "__init__":
                    a = f.args
                    names = [x.arg for x in a.args][-len(a.defaults):]
                    return {n: _eval_node(d) for n, d in zip(names, a.defaults)}
    raise KeyError(cls)


def chat_generation_defaults() -> dict:
    "`default_gen_kwargs` of the chat `qwen2_5_vl` model's `generate_until` (what `--model qwen2_5_vl` runs)."
    tree = ast.parse((root() / "models" / "chat" / "qwen2_5_vl.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "default_gen_kwargs" for t in node.targets):
            return _eval_node(node.value)
    raise KeyError("default_gen_kwargs")


def qwen_vl_utils_caps(nframes: int, image_factor: int = 28) -> dict:
    """The per-frame pixel cap qwen-vl-utils applies inside `fetch_video` (token-count limits and the total budget),
    from the constants of the installed `qwen_vl_utils/vision_process.py` (read with `ast`: no torch import)."""
    from importlib.metadata import version
    spec = importlib.util.find_spec("qwen_vl_utils")
    if spec is None: pytest.skip("qwen-vl-utils is not installed")
    src = Path(spec.submodule_search_locations[0]) / "vision_process.py"
    ns = {"os": os, "int": int, "float": float}
    for node in ast.parse(src.read_text()).body:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
            try: exec(compile(ast.Module([node], []), str(src), "exec"), ns)
            except Exception: pass
    lo, hi = ns["VIDEO_MIN_TOKEN_NUM"] * image_factor ** 2, ns["VIDEO_MAX_TOKEN_NUM"] * image_factor ** 2
    total = ns["MODEL_SEQ_LEN"] * image_factor ** 2 * 0.9
    return dict(frame_max=max(min(hi, total / nframes * ns["FRAME_FACTOR"]), int(lo * 1.05)), total_pixels=total,
                frame_min_default=lo, version=version("qwen-vl-utils"))
