"""Risk tiering as a pure function: a questionnaire definition and a set of answers in, score, tier, EU AI Act
category and the reasons out. No database, so the UI, the API, the impact preview and the tests all call the
same code.

A definition is plain data::

    {
      "questions": [
        {"id": "materiality", "text": "...", "kind": "single",
         "options": [{"value": "low", "label": "...", "points": 0}, ...]},
        {"id": "annex_iii_areas", "kind": "multiple", "aggregate": "max", "options": [...]},
      ],
      "tier_thresholds": {"1": 55, "2": 25},          # score >= 55 is Tier 1, >= 25 Tier 2, else Tier 3
      "tier_floors": [                                # answers that force at least a tier, whatever the score
        {"when": [{"question": "prohibited_practices", "not_only": ["none"]}], "tier": 1, "reason": "..."}
      ],
      "eu_ai_act": [                                  # first matching rule wins; otherwise minimal
        {"category": "prohibited", "when": [...], "reason": "..."}, ...
      ]
    }

A condition is ``{"question": id, "any_of": [values]}`` (one of these was answered) or
``{"question": id, "not_only": [values]}`` (something other than these was answered).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TIERS = (1, 2, 3)
EU_CATEGORIES = ("prohibited", "high_risk", "limited", "minimal")
EU_CATEGORY_WORDS = {
    "prohibited": "prohibited practice",
    "high_risk": "high-risk",
    "limited": "limited risk",
    "minimal": "minimal risk",
}


@dataclass(frozen=True)
class Reason:
    """One thing that drove the result: an answer's points, a tier floor, or an EU AI Act rule."""

    kind: str
    text: str
    question: str | None = None
    answer: list[str] | None = None
    points: int = 0


@dataclass(frozen=True)
class AssessmentResult:
    """Score, tier (1 = highest risk), EU AI Act category and the reasons, most important first."""

    score: int
    tier: int
    eu_ai_act_category: str
    reasons: list[Reason] = field(default_factory=list)

    def reasons_as_data(self) -> list[dict[str, Any]]:
        return [asdict(reason) for reason in self.reasons]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def validate_definition(definition: Any) -> list[str]:
    """Problems with a questionnaire definition, as sentences; an empty list means it can be used."""
    if not isinstance(definition, dict):
        return ["The definition must be an object."]
    problems: list[str] = []
    questions = definition.get("questions")
    if not isinstance(questions, list) or not questions:
        return ["The definition needs a non-empty list of questions."]
    options_by_question: dict[str, set[str]] = {}
    for index, question in enumerate(questions):
        where = f"question {index + 1}"
        if not isinstance(question, dict) or not isinstance(question.get("id"), str) or not question["id"]:
            problems.append(f"{where}: needs an id.")
            continue
        qid = question["id"]
        if qid in options_by_question:
            problems.append(f"{where}: id {qid!r} is used twice.")
        if not str(question.get("text", "")).strip():
            problems.append(f"{qid}: needs a text.")
        if question.get("kind", "single") not in {"single", "multiple"}:
            problems.append(f"{qid}: kind must be 'single' or 'multiple'.")
        options = question.get("options")
        if not isinstance(options, list) or len(options) < 2:
            problems.append(f"{qid}: needs at least two options.")
            options_by_question[qid] = set()
            continue
        values: set[str] = set()
        for option in options:
            if not isinstance(option, dict) or not isinstance(option.get("value"), str):
                problems.append(f"{qid}: every option needs a value.")
                continue
            if option["value"] in values:
                problems.append(f"{qid}: option {option['value']!r} is listed twice.")
            values.add(option["value"])
            points = option.get("points", 0)
            if isinstance(points, bool) or not isinstance(points, int) or points < 0:
                problems.append(f"{qid}/{option['value']}: points must be a whole number of at least 0.")
        options_by_question[qid] = values
    thresholds = definition.get("tier_thresholds")
    if not isinstance(thresholds, dict) or set(thresholds) != {"1", "2"}:
        problems.append("tier_thresholds must give the minimum score of tier '1' and tier '2'.")
    elif not all(isinstance(v, int) and not isinstance(v, bool) for v in thresholds.values()):
        problems.append("tier_thresholds must be whole numbers.")
    elif thresholds["1"] <= thresholds["2"]:
        problems.append("The Tier 1 threshold must be above the Tier 2 threshold.")

    def check_conditions(conditions: Any, where: str) -> None:
        if not isinstance(conditions, list) or not conditions:
            problems.append(f"{where}: 'when' needs at least one condition.")
            return
        for condition in conditions:
            qid = condition.get("question") if isinstance(condition, dict) else None
            if qid not in options_by_question:
                problems.append(f"{where}: condition names unknown question {qid!r}.")
                continue
            listed = condition.get("any_of", condition.get("not_only"))
            if not isinstance(listed, list) or not listed:
                problems.append(f"{where}: condition on {qid} needs 'any_of' or 'not_only' values.")
            elif set(listed) - options_by_question[qid]:
                problems.append(f"{where}: {qid} has no option(s) {sorted(set(listed) - options_by_question[qid])}.")

    for index, floor in enumerate(definition.get("tier_floors", [])):
        where = f"tier floor {index + 1}"
        if not isinstance(floor, dict) or floor.get("tier") not in TIERS:
            problems.append(f"{where}: tier must be 1, 2 or 3.")
            continue
        check_conditions(floor.get("when"), where)
    for index, rule in enumerate(definition.get("eu_ai_act", [])):
        where = f"EU AI Act rule {index + 1}"
        if not isinstance(rule, dict) or rule.get("category") not in EU_CATEGORIES:
            problems.append(f"{where}: category must be one of {', '.join(EU_CATEGORIES)}.")
            continue
        check_conditions(rule.get("when"), where)
    return problems


def validate_answers(definition: dict[str, Any], answers: Any) -> dict[str, str]:
    """Per-question problems with a set of answers; empty when every question has a valid answer."""
    if not isinstance(answers, dict):
        return {"answers": "Give the answers as an object of question id: option value(s)."}
    problems: dict[str, str] = {}
    known = {question["id"] for question in definition["questions"]}
    for extra in sorted(set(answers) - known):
        problems[extra] = "Not a question of this questionnaire."
    for question in definition["questions"]:
        qid = question["id"]
        values = {option["value"] for option in question["options"]}
        answer = answers.get(qid)
        if answer is None or answer == [] or answer == "":
            problems[qid] = "Not answered."
            continue
        multiple = question.get("kind", "single") == "multiple"
        if not multiple and not isinstance(answer, str):
            problems[qid] = "Choose exactly one option."
            continue
        if multiple and not (isinstance(answer, list) and all(isinstance(item, str) for item in answer)):
            problems[qid] = "Give a list of options."
            continue
        chosen = _as_list(answer)
        unknown = sorted(set(chosen) - values)
        if unknown:
            problems[qid] = f"Unknown option(s) {', '.join(unknown)}; choose from {', '.join(sorted(values))}."
        elif multiple and len(set(chosen)) != len(chosen):
            problems[qid] = "An option is chosen twice."
    return problems


def _holds(condition: dict[str, Any], answers: dict[str, Any]) -> bool:
    chosen = set(_as_list(answers.get(condition["question"])))
    if "any_of" in condition:
        return bool(chosen & set(condition["any_of"]))
    return bool(chosen - set(condition["not_only"]))


def _all_hold(conditions: list[dict[str, Any]], answers: dict[str, Any]) -> bool:
    return all(_holds(condition, answers) for condition in conditions)


def score_answers(definition: dict[str, Any], answers: dict[str, Any]) -> AssessmentResult:
    """Score validated answers against a definition (call :func:`validate_answers` first)."""
    answer_reasons: list[Reason] = []
    score = 0
    for question in definition["questions"]:
        chosen = _as_list(answers.get(question["id"]))
        points_by_value = {option["value"]: int(option.get("points", 0)) for option in question["options"]}
        labels = {option["value"]: option.get("label", option["value"]) for option in question["options"]}
        points_each = [points_by_value[value] for value in chosen]
        if question.get("kind", "single") == "multiple" and question.get("aggregate", "max") == "sum":
            points = sum(points_each)
        else:
            points = max(points_each, default=0)
        score += points
        if points > 0:
            answer_reasons.append(
                Reason(
                    kind="answer",
                    text=f"{question['text']}: {', '.join(labels[value] for value in chosen)} (+{points})",
                    question=question["id"],
                    answer=chosen,
                    points=points,
                )
            )
    thresholds = definition["tier_thresholds"]
    tier = 1 if score >= thresholds["1"] else 2 if score >= thresholds["2"] else 3
    reasons = [
        Reason(
            kind="score",
            text=f"Score {score}: Tier {tier} (Tier 1 from {thresholds['1']}, Tier 2 from {thresholds['2']})",
            points=score,
        )
    ]
    for floor in definition.get("tier_floors", []):
        if _all_hold(floor["when"], answers) and floor["tier"] < tier:
            tier = floor["tier"]
            reasons.append(
                Reason(kind="floor", text=f"At least Tier {floor['tier']}: {floor.get('reason', '')}".strip())
            )
    category = "minimal"
    for rule in definition.get("eu_ai_act", []):
        if _all_hold(rule["when"], answers):
            category = rule["category"]
            words = EU_CATEGORY_WORDS[category]
            reasons.append(Reason(kind="eu_ai_act", text=f"EU AI Act {words}: {rule.get('reason', '')}".strip()))
            break
    answer_reasons.sort(key=lambda reason: -reason.points)
    return AssessmentResult(score=score, tier=tier, eu_ai_act_category=category, reasons=reasons + answer_reasons)
