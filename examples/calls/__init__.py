"""Recorded customer answers for confirmation calls (see ``generator.py``)."""

from examples.calls.generator import CallAnswer as CallAnswer
from examples.calls.generator import generate_answers as generate_answers
from examples.calls.generator import plan_answers as plan_answers
from examples.calls.generator import record_answer as record_answer
