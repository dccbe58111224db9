"""Reading a rulebook folder into a checked `Rulebook`: rule files → pydantic models → typed, compiled rules.

Refused at load time, with file, line and key: unknown keys and names (with a suggestion), type errors,
decision tables with gaps or unknown keys, duplicate names, cycles between definitions, and anything beyond the
limits of limits.py (sizes, counts, nesting, amounts that int64 fen arithmetic could not hold). This module
reads the files and puts the pieces together; parameters.py checks the parameters, compile.py the definitions
and rules (tables.py their decision tables), phrases.py the words of their conditions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import bounds as B
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook import yamlio
from subsidy_engine.rulebook.compile import compile_definitions, compile_program
from subsidy_engine.rulebook.files import Definition, DefinitionsFile, ProgramFile, RulebookFile, parse_file
from subsidy_engine.rulebook.findings import load_findings
from subsidy_engine.rulebook.limits import MAX_FOLDER_BYTES, MAX_ITEMS
from subsidy_engine.rulebook.model import Param, Program, Rulebook
from subsidy_engine.rulebook.parameters import check_param
from subsidy_engine.rulebook.phrases import CompiledPhrase, PhraseCollector
from subsidy_engine.rulebook.vocabulary import FIELDS

DEFAULT_RULES = Path(__file__).resolve().parents[1] / "rules" / "chongqing-nanchuan"


def load_rulebook(folder: str | Path | None = None) -> Rulebook:
    """Load and check a rulebook folder (the bundled one by default)."""
    return load(folder or DEFAULT_RULES)


def load(folder: str | Path) -> Rulebook:
    root = Path(folder)
    index = root / "rulebook.yaml"
    if not index.is_file():
        raise RulebookError(f"规则库目录 {root} 中没有 rulebook.yaml")
    files: dict[str, str] = {}
    size = [0]

    def read(name: str) -> Any:
        if not _plain_name(name):
            raise RulebookError(f"rulebook.yaml 列出的 {name[:80]!r} 应是本目录里的文件名", file=str(index))
        path = root / name
        if not path.is_file():
            raise RulebookError(f"rulebook.yaml 列出的文件 {name} 不存在", file=str(index))
        try:
            size[0] += path.stat().st_size
        except OSError as e:
            raise RulebookError(f"无法读取规则文件: {e.strerror or e}", file=str(path)) from None
        if size[0] > MAX_FOLDER_BYTES:
            raise RulebookError(f"规则库的文件合计超过 {MAX_FOLDER_BYTES >> 20} MiB", file=str(path))
        text = yamlio.read_text(path)  # bounded, UTF-8
        files[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return yamlio.load(path, text)

    meta: RulebookFile = parse_file(RulebookFile, read("rulebook.yaml"), index)
    for kind, listed in (("definitions", meta.definitions), ("programs", meta.programs)):
        if len(listed) > MAX_ITEMS:
            raise RulebookError(f"{kind} 列出的文件过多(最多 {MAX_ITEMS} 个)", file=str(index))
        twice = sorted({n for n in listed if listed.count(n) > 1})
        if twice:
            raise RulebookError(f"{kind} 把文件 {', '.join(twice)} 列了不止一次", file=str(index))
    raw_defs: list[tuple[str, str, Definition, Any]] = []
    phrase_maps: list[tuple[str, Any, Any]] = []  # (file, phrases map, data)
    for name in meta.definitions:
        data = read(name)
        dfile: DefinitionsFile = parse_file(DefinitionsFile, data, root / name)
        raw_defs += [(name, k, v, data) for k, v in dfile.definitions.items()]
        phrase_maps.append((name, dfile.phrases, data))
    pfiles: list[tuple[str, ProgramFile, Any]] = []
    for name in meta.programs:
        data = read(name)
        pf: ProgramFile = parse_file(ProgramFile, data, root / name)
        pfiles.append((name, pf, data))
        raw_defs += [(name, k, v, data) for k, v in pf.definitions.items()]
        phrase_maps.append((name, pf.phrases, data))

    params: dict[str, Param] = {}
    for name, pf, data in pfiles:
        for pname, p in pf.parameters.items():
            where = str(root / name)
            line = yamlio.line_of(data, ("parameters", pname))
            if pname in params or pname in FIELDS:
                raise RulebookError(
                    f"参数名 {pname} 已被使用(参数、字段和定义的名字必须唯一)", file=where, line=line
                )
            check_param(pname, p, {r.id for r in pf.references}, where, data)
            params[pname] = Param(pname, where, p.description, p.unit, p.key, sorted(p.values.items()))
    _check_counts(pfiles, raw_defs, params, root)

    env = T.Env(fields=dict(FIELDS), params={k: v.key for k, v in params.items()}, allow_aggregates=True)
    ranges = B.ranges(env.fields, params)
    definitions = compile_definitions(raw_defs, env, params, ranges, root)
    def_by_name = {d.name: d for d in definitions}
    programs = []
    seen_rules: dict[str, str] = {}
    seen_programs: dict[str, str] = {}
    for name, pf, data in pfiles:
        if pf.program in seen_programs:
            raise RulebookError(
                f"项目 {pf.program} 重复(已在 {seen_programs[pf.program]})",
                file=str(root / name),
                line=yamlio.line_of(data, ("program",)),
            )
        seen_programs[pf.program] = name
        programs.append(compile_program(name, pf, data, env, def_by_name, params, ranges, seen_rules, root))
    findings = (
        load_findings(root / meta.findings, read(meta.findings), env, definitions, programs)
        if meta.findings
        else []
    )
    phrases = _collect_phrases(env, root, phrase_maps, raw_defs, pfiles, programs)
    return Rulebook(
        meta.name, meta.title, root, programs, params, definitions, files, findings, phrases, meta.description
    )


def _plain_name(name: str) -> bool:
    return 0 < len(name) <= 255 and name not in (".", "..") and not any(c in name for c in "/\\\0:")


def _check_counts(pfiles: list[Any], raw_defs: list[Any], params: dict[str, Param], root: Path) -> None:
    n_rules = sum(len(pf.rules) for _, pf, _ in pfiles)
    for what, n in (("规则", n_rules), ("定义", len(raw_defs)), ("参数", len(params))):
        if n > MAX_ITEMS:
            raise RulebookError(
                f"规则库的{what}超过 {MAX_ITEMS} 个(共 {n} 个)", file=str(root / "rulebook.yaml")
            )
    for p in params.values():
        if len(p.entries) > MAX_ITEMS:
            raise RulebookError(f"参数 {p.name} 的取值超过 {MAX_ITEMS} 个", file=p.file)


def _collect_phrases(
    env: T.Env,
    root: Path,
    maps: list[tuple[str, Any, Any]],
    raw_defs: list[tuple[str, str, Definition, Any]],
    pfiles: list[tuple[str, ProgramFile, Any]],
    programs: list[Program],
) -> dict[str, CompiledPhrase]:
    """The words of every condition of a loading rulebook, checked against the whole vocabulary:
    the files' `phrases:` maps, the definitions and their listed conditions; each rule gets its own."""
    words = PhraseCollector(T.Env(fields=env.fields, params=env.params, allow_aggregates=True))
    for name, mapping, data in maps:
        words.add_map(mapping, str(root / name), data)
    for name, key, d, data in raw_defs:
        where, loc = str(root / name), ("definitions", key)
        words.add(key, d.phrase, d.phrase_not, where, f"definitions.{key}", yamlio.line_of(data, loc))
        for i, c in enumerate(d.when if isinstance(d.when, list) else []):
            if isinstance(c, str):
                continue
            line = yamlio.line_of(data, (*loc, "when", i))
            text = E.render(E.parse(c.when))
            words.add(text, c.phrase, c.phrase_not, where, f"definitions.{key}.when[{i}]", line)
    for (name, pf, data), program in zip(pfiles, programs, strict=True):
        for i, (r, compiled) in enumerate(zip(pf.rules, program.rules, strict=True)):
            line = yamlio.line_of(data, ("rules", i))
            compiled.phrase = words.add("", r.phrase, r.phrase_not, str(root / name), f"rules[{r.id}]", line)
    return words.phrases
