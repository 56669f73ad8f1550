"""Prompt discipline: a rule-based, explainable linter and builder for generation prompts (:mod:`.lint`)."""

from steadymotion.prompt.lint import MAX_PROMPT_CHARS, TARGETS, PromptReport, lint_prompt, negative_prompt_for, prompt_too_long

__all__ = ["MAX_PROMPT_CHARS", "TARGETS", "PromptReport", "lint_prompt", "negative_prompt_for", "prompt_too_long"]
