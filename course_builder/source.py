"""Reading and checking a module's source folder. Every problem is reported with its file and line."""
import os
import re
from dataclasses import dataclass, field

import yaml

MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
QUESTION_TYPES = ("single", "multiple", "truefalse")
_FENCE = re.compile(r"^```question\s*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_ID = re.compile(r"[A-Za-z0-9_-]{1,40}\Z")


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.message}"


class SourceError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class Question:
    id: str
    type: str
    text: str
    options: list  # [{"id", "text", "correct", "feedback"}]
    feedback: dict  # {"correct": str, "incorrect": str}


@dataclass
class Page:
    file: str
    title: str
    parts: list  # ("markdown", text) | ("question", Question)


@dataclass
class Module:
    folder: str
    id: str
    title: dict
    description: dict
    language: str
    competences: list
    pass_mark: float
    move_on: str
    version: str
    pages: list = field(default_factory=list)
    media: list = field(default_factory=list)  # paths relative to the folder

    @property
    def questions(self):
        return [q for p in self.pages for kind, q in p.parts if kind == "question"]


def load(folder: str) -> Module:
    """The module in `folder`, or SourceError listing every problem found."""
    problems: list[Problem] = []
    meta_path = os.path.join(folder, "module.yaml")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = yaml.safe_load(f) or {}
    except FileNotFoundError:
        raise SourceError([Problem("module.yaml", 1, "missing: a module folder starts with module.yaml")])
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SourceError([Problem("module.yaml", mark.line + 1 if mark else 1, f"not valid YAML: {e}")])
    if not isinstance(meta, dict):
        raise SourceError([Problem("module.yaml", 1, "must be a mapping of settings (id: ..., title: ...)")])
    lines = _key_lines(meta_path)

    def bad(key, message):
        problems.append(Problem("module.yaml", lines.get(key, 1), f"{key}: {message}"))

    mid = meta.get("id")
    if not isinstance(mid, str) or not re.match(r"https?://\S+\Z", mid):
        bad("id", "must be an IRI that names the module for good, e.g. https://kurs.helse.example.no/moduler/handhygiene")
    title, description = meta.get("title"), meta.get("description", {})
    for key, value in (("title", title), ("description", description)):
        if not isinstance(value, dict) or not value.get("nb") or not all(isinstance(v, str) for v in value.values()):
            bad(key, "must give the text per language, bokmål first: {nb: ..., en: ...}")
    language = meta.get("language", "nb")
    if language not in ("nb", "nn", "en", "se"):
        bad("language", "must be nb, nn, en or se")
    competences = meta.get("competences", [])
    if not isinstance(competences, list) or not all(isinstance(c, str) and c.strip() for c in competences):
        bad("competences", "must be a list of competence codes, e.g. [HAND]")
    pass_mark = meta.get("pass_mark", 0.8)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, (int, float)) or not 0 <= pass_mark <= 1:
        bad("pass_mark", "must be a number from 0 to 1 (the share of questions answered right), e.g. 0.8")
    move_on = meta.get("move_on", "CompletedAndPassed")
    if move_on not in MOVE_ON:
        bad("move_on", f"must be one of {', '.join(MOVE_ON)}")
    version = str(meta.get("version", "1"))
    unknown = set(meta) - {"id", "title", "description", "language", "competences", "pass_mark", "move_on", "version"}
    for key in sorted(unknown):
        bad(key, "unknown setting")

    pages_dir = os.path.join(folder, "pages")
    names = sorted(n for n in os.listdir(pages_dir) if n.endswith(".md")) if os.path.isdir(pages_dir) else []
    if not names:
        problems.append(Problem("pages/", 1, "no pages: write the content as pages/01-....md, pages/02-....md"))
    module = Module(folder=folder, id=mid, title=title, description=description, language=language,
                    competences=[c.strip() for c in competences] if isinstance(competences, list) else [],
                    pass_mark=float(pass_mark) if isinstance(pass_mark, (int, float)) else 0.8,
                    move_on=move_on, version=version)
    seen_ids: dict[str, str] = {}
    media = set()
    for name in names:
        rel = f"pages/{name}"
        with open(os.path.join(pages_dir, name), encoding="utf-8") as f:
            page = _page(rel, f.read(), problems, seen_ids, folder, media)
        module.pages.append(page)
    if names and not module.questions and move_on in ("Passed", "CompletedAndPassed", "CompletedOrPassed"):
        problems.append(Problem("module.yaml", lines.get("move_on", 1),
                                f"move_on: {move_on} needs questions to pass, and the pages have none"))
    module.media = sorted(media)
    if problems:
        raise SourceError(problems)
    return module


def _key_lines(path) -> dict:
    """Top-level key -> line number in a YAML file (for error messages)."""
    with open(path, encoding="utf-8") as f:
        node = yaml.compose(f)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value}


def _page(rel, text, problems, seen_ids, folder, media) -> Page:
    lines = text.split("\n")
    parts, buf, title = [], [], None
    i = 0
    while i < len(lines):
        line = lines[i]
        if title is None and line.startswith("# "):
            title = line[2:].strip()
        for m in _IMAGE.finditer(line):
            _media(rel, i + 1, m.group(1), problems, folder, media)
        if _FENCE.match(line):
            start = i + 1
            end = next((j for j in range(start, len(lines)) if lines[j].strip() == "```"), None)
            if end is None:
                problems.append(Problem(rel, i + 1, "question block not closed with ```"))
                break
            if buf:
                parts.append(("markdown", "\n".join(buf)))
                buf = []
            q = _question(rel, start, "\n".join(lines[start:end]), problems, seen_ids)
            if q:
                parts.append(("question", q))
            i = end + 1
            continue
        buf.append(line)
        i += 1
    if buf:
        parts.append(("markdown", "\n".join(buf)))
    if title is None:
        problems.append(Problem(rel, 1, "a page starts with its title as a heading: # Title"))
    return Page(file=rel, title=title or rel, parts=parts)


def _media(rel, line, target, problems, folder, media):
    if re.match(r"[a-z]+:", target):
        problems.append(Problem(rel, line, f"image {target}: put images in media/ and link them as media/<file> "
                                           "(the module must work offline, without outside links)"))
        return
    path = os.path.normpath(target)
    if not path.startswith("media" + os.sep) or not os.path.isfile(os.path.join(folder, path)):
        problems.append(Problem(rel, line, f"image {target}: no such file in the module's media/ folder"))
        return
    media.add(path.replace(os.sep, "/"))


def _question(rel, first_line, body, problems, seen_ids) -> Question | None:
    def bad(offset, message):
        problems.append(Problem(rel, first_line + offset, message))

    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        bad(mark.line + 1 if mark else 1, f"question block is not valid YAML: {getattr(e, 'problem', e)}")
        return None
    if not isinstance(data, dict):
        bad(1, "a question block holds id, type, text and options (see docs/authoring.md)")
        return None
    qid, qtype, text = data.get("id"), data.get("type"), data.get("text")
    ok = True
    if not isinstance(qid, str) or not _ID.match(qid):
        bad(1, "question id: letters, digits, - and _ (at most 40), unique in the module")
        ok = False
    elif qid in seen_ids:
        bad(1, f"question id {qid} is used already in {seen_ids[qid]}")
        ok = False
    else:
        seen_ids[qid] = rel
    if qtype not in QUESTION_TYPES:
        bad(1, f"question {qid}: type must be one of {', '.join(QUESTION_TYPES)}")
        return None
    if not isinstance(text, str) or not text.strip():
        bad(1, f"question {qid}: text (the question itself) is missing")
        ok = False
    feedback = data.get("feedback") or {}
    if not isinstance(feedback, dict) or set(feedback) - {"correct", "incorrect"}:
        bad(1, f"question {qid}: feedback has correct: and incorrect: texts")
        feedback = {}
    if qtype == "truefalse":
        answer = data.get("answer")
        if not isinstance(answer, bool):
            bad(1, f"question {qid}: a truefalse question needs answer: true or answer: false")
            return None
        options = [{"id": "true", "text": "Sant / True", "correct": answer is True, "feedback": ""},
                   {"id": "false", "text": "Usant / False", "correct": answer is False, "feedback": ""}]
    else:
        raw = data.get("options")
        if not isinstance(raw, list) or len(raw) < 2:
            bad(1, f"question {qid}: give at least two options")
            return None
        options = []
        for n, o in enumerate(raw):
            if isinstance(o, str):
                o = {"text": o}
            if not isinstance(o, dict) or not isinstance(o.get("text"), str) or set(o) - {"text", "correct", "feedback"}:
                bad(1, f"question {qid}: option {n + 1} needs text: (and may have correct: true, feedback:)")
                return None
            options.append({"id": chr(ord("a") + n), "text": o["text"], "correct": o.get("correct") is True,
                            "feedback": o.get("feedback", "")})
        right = sum(o["correct"] for o in options)
        if qtype == "single" and right != 1:
            bad(1, f"question {qid}: a single choice question has exactly one option with correct: true ({right} now)")
            ok = False
        if qtype == "multiple" and right < 1:
            bad(1, f"question {qid}: mark the right options with correct: true")
            ok = False
    unknown = set(data) - {"id", "type", "text", "options", "answer", "feedback"}
    if unknown:
        bad(1, f"question {qid}: unknown key(s) {', '.join(sorted(unknown))}")
        ok = False
    return Question(id=qid, type=qtype, text=text.strip(), options=options, feedback=feedback) if ok else None
